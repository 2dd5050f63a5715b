"""Per-customer price overrides: one custom price per (customer, product); the catalog is unchanged."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict

from distribu import audit, clock, dynamo, keys
from distribu.errors import NotFound
from distribu.serialize import jsonable
from distribu.validation import Money

OVERRIDE_NOT_FOUND = "Price override not found."


class PriceOverrideSet(BaseModel):
    """Body of ``PUT /api/v1/customers/{id}/prices/{productId}``."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    price: Money


def _percent_difference(custom: Decimal, catalog: Decimal) -> float | None:
    if catalog == 0:
        return None
    return float(((custom - catalog) / catalog * 100).quantize(Decimal("0.1")))


def to_api(item: dict[str, Any], product: dict[str, Any] | None) -> dict[str, Any]:
    catalog_price = product["price"] if product else None
    return jsonable({
        "productId": item["productId"], "customerId": item["customerId"], "price": item["price"],
        "productName": product.get("name") if product else None, "productSku": product.get("sku") if product else None,
        "catalogPrice": catalog_price,
        "differencePercent": _percent_difference(item["price"], catalog_price) if catalog_price is not None else None,
        "createdAt": item["createdAt"], "updatedAt": item["updatedAt"],
    })


def set_override(company_id: str, customer_id: str, product_id: str, price: Decimal, actor: audit.Actor) -> dict[str, Any]:
    """Upsert; customer and product must both exist at the moment of the write (condition checks)."""
    pk = keys.company(company_id)
    override_key, product_key = (pk, keys.price_override_sk(customer_id, product_id)), (pk, keys.product_sk(product_id))
    found = dynamo.batch_get([override_key, product_key])  # the old price (for the audit) and the product (for the answer)
    existing = found.get(override_key)
    now = clock.now_iso()
    item = {
        "PK": pk, "SK": keys.price_override_sk(customer_id, product_id), "entity": "PRICE_OVERRIDE",
        "GSI1PK": keys.overrides_of_product(company_id, product_id), "GSI1SK": customer_id,
        "customerId": customer_id, "productId": product_id, "price": price,
        "createdAt": existing["createdAt"] if existing else now, "updatedAt": now,
    }
    try:
        dynamo.transact([
            dynamo.condition_check(pk, keys.customer_sk(customer_id), "attribute_exists(PK)"),
            dynamo.condition_check(pk, keys.product_sk(product_id), "attribute_exists(PK)"),
            dynamo.put(item),
            audit.entry(company_id, actor, "PriceOverrideSet", "Customer", customer_id,
                        {"productId": product_id, "before": existing["price"] if existing else None, "after": price},
                        at=now),
        ])
    except dynamo.TransactionCancelled as cancelled:
        if 0 in cancelled.failed_indexes():
            raise NotFound("Customer not found.") from None
        raise NotFound("Product not found.") from None
    return to_api(item, found.get(product_key))


def delete_override(company_id: str, customer_id: str, product_id: str, actor: audit.Actor) -> None:
    pk = keys.company(company_id)
    try:
        dynamo.transact([
            dynamo.delete(pk, keys.price_override_sk(customer_id, product_id), condition="attribute_exists(PK)"),
            audit.entry(company_id, actor, "PriceOverrideDeleted", "Customer", customer_id, {"productId": product_id}),
        ])
    except dynamo.TransactionCancelled:
        raise NotFound(OVERRIDE_NOT_FOUND) from None


def list_overrides(company_id: str, customer_id: str) -> list[dict[str, Any]]:
    """Every override of one customer, with the product's name, SKU and catalog price."""
    pk = keys.company(company_id)
    items = dynamo.query_prefix(pk, keys.price_overrides_prefix(customer_id))
    products: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(items), 100):
        products.update(dynamo.batch_get((pk, keys.product_sk(item["productId"])) for item in items[start:start + 100]))
    return [to_api(item, products[(pk, keys.product_sk(item["productId"]))]) for item in items
            if (pk, keys.product_sk(item["productId"])) in products]


def override_keys(company_id: str, customer_id: str, product_ids: list[str]) -> list[tuple[str, str]]:
    return [(keys.company(company_id), keys.price_override_sk(customer_id, product_id)) for product_id in product_ids]


def delete_overrides_of_product(company_id: str, product_id: str) -> None:
    """A deleted product's custom prices go with it (found through the product's side of the index)."""
    overrides = dynamo.query_all({
        "IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk", "ProjectionExpression": "PK, SK",
        "ExpressionAttributeValues": {":pk": {"S": keys.overrides_of_product(company_id, product_id)}}})
    dynamo.delete_keys([(item["PK"], item["SK"]) for item in overrides])
