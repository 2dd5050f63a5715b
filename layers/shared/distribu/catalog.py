"""Products: the one catalog behind the dashboard, the storefront and the API."""

from __future__ import annotations

from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from distribu import audit, clock, dynamo, ids, keys, outbox
from distribu.idempotency import AlsoWrite, extra_items
from distribu.errors import Conflict
from distribu.pagination import IndexQuery, Page, query_page
from distribu.serialize import jsonable
from distribu.validation import BlankIsNone, HttpUrlText, Money, PartialUpdate

UNITS = ("each", "case", "pallet", "box", "bag", "roll", "sheet", "lb", "oz", "kg", "L", "mL")
MAX_STOCK = 1_000_000_000
SKU_TAKEN = "A product with this SKU already exists."
IN_FLIGHT_ELSEWHERE = "The product is being changed by someone else; try again."
NOT_FOUND = "Product not found."

Name = Annotated[str, Field(min_length=1, max_length=200)]
Sku = Annotated[Optional[Annotated[str, Field(max_length=100)]], BlankIsNone]
Description = Annotated[Optional[Annotated[str, Field(max_length=2000)]], BlankIsNone]
Category = Annotated[Optional[Annotated[str, Field(max_length=100)]], BlankIsNone]
Unit = Annotated[str, Field(min_length=1, max_length=50)]
Stock = Annotated[StrictInt, Field(ge=0, le=MAX_STOCK)]
ImageUrl = Annotated[Optional[str], BlankIsNone, HttpUrlText]
Threshold = Optional[Annotated[StrictInt, Field(ge=0, le=MAX_STOCK)]]


class ProductCreate(BaseModel):
    """Body of ``POST /api/v1/products``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    name: Name
    sku: Sku = None
    description: Description = None
    category: Category = None
    unit: Unit = "each"
    price: Money
    stock: Stock
    imageUrl: ImageUrl = None
    isActive: StrictBool = True
    lowStockThreshold: Threshold = Field(default=None, description="Overrides the company default (5).")


class ProductUpdate(PartialUpdate):
    """Body of ``PATCH /api/v1/products/{id}``: any subset of the fields; ``null`` clears optional ones."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)
    REQUIRED = ('name', 'unit', 'price', 'stock', 'isActive')

    name: Optional[Name] = None
    sku: Sku = None
    description: Description = None
    category: Category = None
    unit: Optional[Unit] = None
    price: Optional[Money] = None
    stock: Optional[Stock] = None
    imageUrl: ImageUrl = None
    isActive: Optional[StrictBool] = None
    lowStockThreshold: Threshold = None



PRODUCT_FIELDS = ("name", "sku", "description", "category", "unit", "price", "stock", "imageUrl", "isActive",
                  "lowStockThreshold")


def to_api(item: dict[str, Any]) -> dict[str, Any]:
    """The product exactly as the API (and every event about it) shows it."""
    return jsonable({
        "id": item["id"], "name": item["name"], "sku": item.get("sku"), "description": item.get("description"),
        "category": item.get("category"), "unit": item.get("unit", "each"), "price": item["price"],
        "stock": int(item["stock"]), "imageUrl": item.get("imageUrl"), "isActive": bool(item.get("isActive", True)),
        "lowStockThreshold": int(item["lowStockThreshold"]) if item.get("lowStockThreshold") is not None else None,
        "createdAt": item["createdAt"], "updatedAt": item["updatedAt"],
    })


def _search_text(fields: dict[str, Any]) -> str:
    return "\n".join(str(fields.get(name) or "") for name in ("name", "sku", "category")).lower()


def build_item(company_id: str, product_id: str, fields: dict[str, Any], created_at: str, updated_at: str,
          version: int) -> dict[str, Any]:
    return {
        "PK": keys.company(company_id), "SK": keys.product_sk(product_id), "entity": "PRODUCT",
        "GSI1PK": keys.listing(company_id, "PRODUCT"), "GSI1SK": keys.listing_sort(created_at, product_id),
        "id": product_id, "companyId": company_id, **{name: fields.get(name) for name in PRODUCT_FIELDS},
        "searchText": _search_text(fields), "createdAt": created_at, "updatedAt": updated_at, "version": version,
    }


def _sku_guard(company_id: str, sku: str, product_id: str) -> dict[str, Any]:
    return dynamo.put({"PK": keys.company(company_id), "SK": keys.sku_guard_sk(sku), "entity": "SKU",
                       "productId": product_id, "sku": sku}, condition="attribute_not_exists(PK)")


def create_product(company_id: str, data: ProductCreate, actor: audit.Actor, *,
                   also_write: AlsoWrite | None = None) -> dict[str, Any]:
    """Product + SKU guard + audit + ``product.updated`` event, in one transaction."""
    product_id = ids.new_id()
    now = clock.now_iso()
    fields = data.model_dump()
    item = build_item(company_id, product_id, fields, now, now, 1)
    view = to_api(item)
    writes = [dynamo.put(item, condition="attribute_not_exists(PK)")]
    if data.sku:
        writes.append(_sku_guard(company_id, data.sku, product_id))
    writes += [
        audit.entry(company_id, actor, "ProductCreated", "Product", product_id, {"after": view}, at=now),
        outbox.event(company_id, "product.updated", view, at=now),
        *extra_items(also_write, view),
    ]
    try:
        dynamo.transact(writes)
    except dynamo.TransactionCancelled as cancelled:
        if 1 in cancelled.failed_indexes() and data.sku:
            raise Conflict(SKU_TAKEN) from None
        raise Conflict(IN_FLIGHT_ELSEWHERE) from None
    return view


def get_item(company_id: str, product_id: str) -> dict[str, Any]:
    return dynamo.get_record(keys.company(company_id), keys.product_sk(product_id), "PRODUCT", NOT_FOUND)


def get_product(company_id: str, product_id: str) -> dict[str, Any]:
    return to_api(get_item(company_id, product_id))


def update_product(company_id: str, product_id: str, changes: dict[str, Any], actor: audit.Actor, *,
                   action: str = "ProductUpdated", also_write: AlsoWrite | None = None,
                   attempts: int = 4, expect: dict[str, Any] | None = None,
                   changed_message: str = IN_FLIGHT_ELSEWHERE) -> dict[str, Any]:
    """Apply ``changes`` (already validated) with optimistic concurrency on the product's version.

    A concurrent order that moved stock in between makes the write retry on fresh data, so nobody's
    change is lost. SKU changes move the uniqueness guard in the same transaction. ``expect``: fields
    that must still hold these values when the write commits (else ``Conflict(changed_message)`` and
    nothing is written); the image page uses it so two replacements of one image cannot both win.
    A hosted image the change replaces or clears is deleted once the write has committed.
    """
    for _ in range(attempts):
        current = get_item(company_id, product_id)
        fields = {name: current.get(name) for name in PRODUCT_FIELDS}
        if expect and any(fields.get(name) != value for name, value in expect.items()):
            raise Conflict(changed_message)
        updated = {**fields, **changes}
        if updated == fields:
            return to_api(current)
        now = clock.now_iso()
        version = int(current.get("version", 0))
        item = build_item(company_id, product_id, updated, current["createdAt"], now, version + 1)
        before, after = to_api(current), to_api(item)
        writes = [dynamo.put_if_version(item, version)]
        old_sku, new_sku = fields.get("sku"), updated.get("sku")
        guard_moves = (old_sku or "").lower() != (new_sku or "").lower()
        if guard_moves and old_sku:
            writes.append(dynamo.delete(keys.company(company_id), keys.sku_guard_sk(old_sku)))
        if guard_moves and new_sku:
            writes.append(_sku_guard(company_id, new_sku, product_id))
        elif not guard_moves and new_sku and new_sku != old_sku:  # same SKU, new casing: refresh the guard
            writes.append(dynamo.put({"PK": keys.company(company_id), "SK": keys.sku_guard_sk(new_sku),
                                      "entity": "SKU", "productId": product_id, "sku": new_sku}))
        writes += [
            audit.entry(company_id, actor, action, "Product", product_id,
                        {**audit.diff(before, after), "name": after["name"]}, at=now),  # the name: for the log
            outbox.event(company_id, "product.updated", after, at=now),
            *extra_items(also_write, after),
        ]
        try:
            dynamo.transact(writes)
        except dynamo.TransactionCancelled as cancelled:
            failed = cancelled.failed_indexes()
            if any(writes[index].get("Put", {}).get("Item", {}).get("entity", {}).get("S") == "SKU" for index in failed):
                raise Conflict(SKU_TAKEN) from None
            if failed != [0]:
                raise Conflict(IN_FLIGHT_ELSEWHERE) from None
            # The product changed (or vanished) since we read it: read again.
            continue
        if fields.get("imageUrl") != updated.get("imageUrl"):
            from distribu import product_images

            product_images.forget(company_id, product_id, fields.get("imageUrl"))
        return after
    raise Conflict(IN_FLIGHT_ELSEWHERE)


def delete_product(company_id: str, product_id: str, actor: audit.Actor) -> None:
    for _ in range(4):
        current = get_item(company_id, product_id)
        writes = [dynamo.delete(keys.company(company_id), keys.product_sk(product_id),
                                condition="version = :version", values={":version": int(current.get("version", 0))})]
        if current.get("sku"):
            writes.append(dynamo.delete(keys.company(company_id), keys.sku_guard_sk(current["sku"])))
        writes.append(audit.entry(company_id, actor, "ProductDeleted", "Product", product_id,
                                  {"before": to_api(current)}))
        try:
            dynamo.transact(writes)
        except dynamo.TransactionCancelled:
            continue
        _delete_price_overrides(company_id, product_id)
        if current.get("imageUrl"):
            from distribu import product_images

            product_images.forget(company_id, product_id, current["imageUrl"])
        return
    raise Conflict(IN_FLIGHT_ELSEWHERE)


def _delete_price_overrides(company_id: str, product_id: str) -> None:
    """Customers' custom prices for a deleted product go with it."""
    from distribu import pricing

    pricing.delete_overrides_of_product(company_id, product_id)


def list_products(company_id: str, *, limit: int, cursor: str | None, category: str | None = None,
                  search: str | None = None, active: bool | None = None) -> Page:
    filters, names, values = [], {}, {}
    if category:
        filters.append("#category = :category")
        names["#category"] = "category"
        values[":category"] = category
    if search and search.strip():
        filters.append("contains(searchText, :search)")
        values[":search"] = search.strip().lower()
    if active is not None:
        filters.append("isActive = :active")
        values[":active"] = active
    spec = IndexQuery(
        index="GSI1", pk_name="GSI1PK", sk_name="GSI1SK", partition=keys.listing(company_id, "PRODUCT"),
        start_key=lambda sort_key: {
            "GSI1PK": keys.listing(company_id, "PRODUCT"), "GSI1SK": sort_key, "PK": keys.company(company_id),
            "SK": keys.product_sk(keys.id_from_listing_sort(sort_key)),
        },
        filter_expression=" AND ".join(filters) or None, names=names or None, values=values or None,
    )
    page = query_page(spec, limit=limit, cursor=cursor)
    page.items = [to_api(item) for item in page.items]
    return page
