"""CSV exports: products, customers, orders (summary) and order line items, streamed to S3.

Records are read a page at a time (one Query of up to 1 MB) and written straight into a multipart
upload, so neither the catalog nor the file is ever held in memory. The answer is a presigned
download link. Products and customers are written in the import's own format, so an exported file
imports back with every row unchanged.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterator, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from distribu import clock, csvformat, dynamo, ids, keys, orders, s3files
from distribu.config import get_settings

KINDS = ("products", "customers", "orders", "order-items")
SCOPES = {"products": "products:read", "customers": "customers:read", "orders": "orders:read",
          "order-items": "orders:read"}
HEADERS = {"products": csvformat.PRODUCT_EXPORT_HEADER, "customers": csvformat.CUSTOMER_EXPORT_HEADER,
           "orders": csvformat.ORDER_EXPORT_HEADER, "order-items": csvformat.ORDER_ITEMS_EXPORT_HEADER}
LINK_SECONDS = 60 * 60
CUSTOMER_CACHE = 50_000
CENTS = Decimal("0.01")


class ExportRequest(BaseModel):
    """Body of ``POST /api/v1/exports``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    kind: Literal["products", "customers", "orders", "order-items"]
    since: Optional[str] = Field(default=None, description="Orders only: ISO 8601 date or datetime, inclusive.")
    until: Optional[str] = Field(default=None, description="Orders only: ISO 8601 date or datetime, inclusive.")


def _exports_of(company_id: str) -> str:
    return f"exports/{company_id}/"


def export_key(company_id: str, kind: str, export_id: str) -> str:
    """Outside ``imports/``: writing an export notifies nobody."""
    return f"{_exports_of(company_id)}{kind}/{export_id}.csv"


def company_files(company_id: str) -> list[tuple[str, str]]:
    """(bucket, key prefix) of the company's exports."""
    return [(get_settings().imports_bucket, _exports_of(company_id))]


def _partition(company_id: str, prefix: str, entity: str) -> Iterator[dict[str, Any]]:
    """Every record of one kind in the company's partition, oldest first (ids sort by creation)."""
    for item in dynamo.query_all({
        "ConsistentRead": True,
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": keys.company(company_id)}, ":prefix": {"S": prefix}},
    }):
        if item.get("entity") == entity:
            yield item


def _orders(company_id: str, since: str | None, until: str | None,
            query: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """The company's orders oldest first, within ``since``/``until`` (as ``GET /orders`` reads them), or as
    ``query`` reads them: a Query request of the company's own order partitions built by the domain (the
    dashboard's filtered orders, :func:`distribu.order_desk.export_query`)."""
    if query is not None:
        for item in dynamo.query_all(query):
            if item.get("entity") == "ORDER":
                yield item
        return
    low, high = orders._bound(since, "since", end=False), orders._bound(until, "until", end=True)
    request: dict[str, Any] = {
        "IndexName": "GSI1", "ScanIndexForward": True,
        "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": keys.listing(company_id, "ORDER")}},
    }
    if low or high:
        request["KeyConditionExpression"] += " AND GSI1SK BETWEEN :low AND :high"
        request["ExpressionAttributeValues"].update({":low": {"S": low or "0"},
                                                     ":high": {"S": (high or "9999") + "#~"}})
    for item in dynamo.query_all(request):
        if item.get("entity") == "ORDER":
            yield item


class _Customers:
    """Email and name of the customers orders name: one batch read per page of new ones, kept a while."""

    def __init__(self, company_id: str) -> None:
        self.pk = keys.company(company_id)
        self.known: dict[str, tuple[str, str]] = {}

    def load(self, customer_ids: list[str]) -> None:
        missing = list(dict.fromkeys(cid for cid in customer_ids if cid and cid not in self.known))
        if len(self.known) + len(missing) > CUSTOMER_CACHE:
            self.known.clear()
        for start in range(0, len(missing), 100):
            chunk = missing[start:start + 100]
            found = dynamo.batch_get([(self.pk, keys.customer_sk(cid)) for cid in chunk])
            for cid in chunk:
                item = found.get((self.pk, keys.customer_sk(cid))) or {}
                self.known[cid] = (item.get("email") or "", item.get("name") or "")

    def of(self, customer_id: str | None) -> tuple[str, str]:
        return self.known.get(customer_id or "", ("", ""))


def _paged(items: Iterator[dict[str, Any]], size: int = 100) -> Iterator[list[dict[str, Any]]]:
    page: list[dict[str, Any]] = []
    for item in items:
        page.append(item)
        if len(page) == size:
            yield page
            page = []
    if page:
        yield page


def _order_rows(company_id: str, kind: str, since: str | None, until: str | None,
                query: dict[str, Any] | None = None) -> Iterator[list[str]]:
    people = _Customers(company_id)
    for page in _paged(_orders(company_id, since, until, query)):
        people.load([order.get("customerId") for order in page])
        for order in page:
            email, name = people.of(order.get("customerId"))
            if kind == "orders":
                address = order.get("shippingAddress") or {}
                yield [order["id"], order["createdAt"], order["status"], csvformat.money_cell(order["total"]),
                       str(len(order.get("items") or [])), csvformat.text_cell(email), csvformat.text_cell(name),
                       csvformat.text_cell(order.get("poNumber")),
                       csvformat.text_cell(order.get("notes")), csvformat.text_cell(address.get("city")),
                       csvformat.text_cell(address.get("region")), csvformat.text_cell(address.get("country"))]
                continue
            for line in order.get("items") or []:
                unit_price = dynamo.as_decimal(line["unitPrice"])
                line_total = (unit_price * int(line["quantity"])).quantize(CENTS, rounding=ROUND_HALF_UP)
                yield [order["id"], order["createdAt"], order["status"], csvformat.text_cell(email),
                       csvformat.text_cell(line.get("productSku")), csvformat.text_cell(line.get("productName")),
                       str(int(line["quantity"])), csvformat.money_cell(unit_price), csvformat.money_cell(line_total)]


def rows(company_id: str, kind: str, *, since: str | None = None, until: str | None = None,
         query: dict[str, Any] | None = None) -> Iterator[list[str]]:
    """The export's data rows (no header), streamed. ``query``: orders only, see :func:`_orders`."""
    if kind == "products":
        return (csvformat.product_row(item) for item in _partition(company_id, "PRODUCT#", "PRODUCT"))
    if kind == "customers":
        return (csvformat.customer_row(item) for item in _partition(company_id, "CUSTOMER#", "CUSTOMER"))
    return _order_rows(company_id, kind, since, until, query)


def export(company_id: str, kind: str, *, since: str | None = None, until: str | None = None,
           query: dict[str, Any] | None = None) -> dict[str, Any]:
    """Write the export to S3 and answer with a link to download it (valid one hour). ``query`` (orders
    only): which orders, as a Query request the domain built for the company (filtered exports)."""
    if kind not in KINDS:
        raise ValueError(kind)
    if kind in ("products", "customers"):
        since = until = None
    else:  # a bad date is a 400 before anything is written
        orders._bound(since, "since", end=False)
        orders._bound(until, "until", end=True)
    export_id = ids.new_id()
    now = clock.now()
    file_name = f"{kind}-{now.strftime('%Y-%m-%d')}.csv"
    bucket, key = get_settings().imports_bucket, export_key(company_id, kind, export_id)
    with s3files.csv_upload(bucket, key, content_disposition=f'attachment; filename="{file_name}"') as upload:
        upload.write(HEADERS[kind])
        for row in rows(company_id, kind, since=since, until=until, query=query):
            upload.write(row)
    return {
        "id": export_id, "kind": kind, "rows": upload.rows - 1, "fileName": file_name,
        "url": s3files.download_url(bucket, key, file_name=file_name, expires_in=LINK_SECONDS),
        "expiresAt": clock.iso(now + timedelta(seconds=LINK_SECONDS)), "createdAt": clock.iso(now),
    }
