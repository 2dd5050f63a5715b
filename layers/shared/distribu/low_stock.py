"""Low stock: ``0 < stock <= threshold`` (per product, else the company default of 5).

Two consumers: the ``product.low_stock`` event, decided from the stream's old and new images so that
concurrent orders can neither double-fire nor miss it (each stream record sees exactly one change),
and the one-email-per-order alert to every OWNER and ADMIN.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from distribu import clock, companies, dynamo, emails, keys, outbox
from distribu.companies import DEFAULT_LOW_STOCK_THRESHOLD


def threshold(product: dict[str, Any], company_default: int) -> int:
    own = product.get("lowStockThreshold")
    return int(own) if own is not None else company_default


def default_threshold(company: dict[str, Any] | None) -> int:
    return int((company or {}).get("lowStockThreshold", DEFAULT_LOW_STOCK_THRESHOLD))


def company_default(company_id: str) -> int:
    return default_threshold(dynamo.get(keys.company(company_id), keys.COMPANY_SK, consistent=False))


def crossed_into_low_stock(old: dict[str, Any], new: dict[str, Any], default: int) -> bool:
    """From above its threshold to at or below it, in this one change."""
    return int(old["stock"]) > threshold(old, default) and int(new["stock"]) <= threshold(new, default)


def emit_low_stock_event(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Write ``product.low_stock`` to the outbox if this change crossed the threshold; at most once per change
    (the event's id is derived from the product's version, and the write is conditional)."""
    if old.get("entity") != "PRODUCT" or "stock" not in old or "stock" not in new:
        return False
    company_id = new["companyId"]
    if int(new["stock"]) >= int(old["stock"]) and new.get("lowStockThreshold") == old.get("lowStockThreshold"):
        return False  # most product changes (prices, restocks) cannot cross: no company read for them
    own = [product.get("lowStockThreshold") for product in (old, new)]
    default = DEFAULT_LOW_STOCK_THRESHOLD if None not in own else company_default(company_id)
    if not crossed_into_low_stock(old, new, default):
        return False
    from distribu import catalog  # only on a crossing: keeps pydantic off the dispatcher's cold start

    event_id = hashlib.sha256(f"low-stock:{new['id']}:{new.get('version')}".encode()).hexdigest()[:26]
    put = outbox.event(company_id, "product.low_stock", catalog.to_api(new), at=new.get("updatedAt"))
    item = put["Put"]["Item"]
    item["id"] = {"S": event_id}
    item["SK"] = {"S": keys.event_sk(new.get("updatedAt") or clock.now_iso(), event_id)}
    table = dynamo.dynamodb()
    try:
        table.put_item(TableName=dynamo.table_name(), Item=item, ConditionExpression="attribute_not_exists(PK)")
    except table.exceptions.ConditionalCheckFailedException:
        return False  # this change was already judged (a redelivered stream record)
    return True


def products_now_low(company_id: str, product_ids: list[str]) -> list[dict[str, Any]]:
    """The ordered products that are at or below their threshold now: current stock and the company's
    default threshold in one batch read (an order has at most 95 products, so they fit beside the company)."""
    return _company_and_low(company_id, product_ids)[1]


def _company_and_low(company_id: str, product_ids: list[str]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    pk = keys.company(company_id)
    found = dynamo.batch_get([(pk, keys.COMPANY_SK)]
                             + [(pk, keys.product_sk(product_id)) for product_id in dict.fromkeys(product_ids)])
    company = found.pop((pk, keys.COMPANY_SK), None)
    default = default_threshold(company)
    low = [item for item in found.values() if int(item["stock"]) <= threshold(item, default)]
    return company, sorted(low, key=lambda item: (item["name"], item["id"]))


def mail_for_order(event_item: dict[str, Any]) -> bool:
    """One email per order listing every ordered product now at or below its threshold. Sent at most once
    per event: a marker is written first, conditionally, and removed again if sending fails."""
    company_id = event_item["companyId"]
    order = json.loads(event_item["envelope"])["data"]
    company, low = _company_and_low(company_id, [line["productId"] for line in order["items"]])
    if not low:
        return False
    recipients = companies.staff_emails(company_id)
    if not recipients:
        return False
    marker = dynamo.key(keys.company(company_id), keys.low_stock_mail_sk(event_item["id"]))
    table = dynamo.dynamodb()
    try:
        table.put_item(TableName=dynamo.table_name(),
                       Item={**marker, "entity": {"S": "LOWSTOCKMAIL"}, "orderId": {"S": order["id"]},
                             "expiresAt": {"N": str(int(clock.now().timestamp()) + 30 * 24 * 3600)}},
                       ConditionExpression="attribute_not_exists(PK)")
    except table.exceptions.ConditionalCheckFailedException:
        return False
    reference = order["id"][-8:].upper()
    lines = [f"- {item['name']} (SKU {item.get('sku') or '-'}): {int(item['stock'])} in stock" for item in low]
    text = (f"Order {reference} left {len(low)} product{'s' if len(low) != 1 else ''} at or below "
            "the low-stock threshold:\n\n" + "\n".join(lines) + "\n\nRestock them in Inventory.")
    try:
        sender = companies.Company.from_item(company).email_sender_name if company else None  # company settings
        emails.send(recipients, f"Low stock after order {reference}", text, sender_name=sender)
    except Exception:
        table.delete_item(TableName=dynamo.table_name(), Key=marker)
        raise
    return True
