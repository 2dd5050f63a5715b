"""Inventory: what staff do to the catalog (the dashboard's verbs, each checking the role table), and the
bulk stock adjustment that the dashboard and the API share.

The single-product verbs are :mod:`distribu.catalog`'s (the API's own), wrapped so that the staff member's
role is checked on every call, whatever page or request it comes from: the role table lets OWNER, ADMIN and
MEMBER all create, edit, (de)activate and delete products and adjust stock (``catalog``), and nobody else.

Bulk stock (:func:`adjust_stock_in_bulk`): **Set** gives every selected product the same stock; **Delta**
adds (or subtracts) the same amount to each; a result below 0 is clamped to 0. Each product changed gets
exactly what a one-product stock change gets: its new version (optimistic concurrency, so a concurrent
order is never overwritten: the row is read again and recomputed), a ``product.updated`` event in the
outbox, and the stream's ``product.low_stock`` when it crosses its threshold. The whole operation writes
one ``ProductBulkUpdated`` audit entry listing every row's before and after.

Round trips: one ``BatchGetItem`` of all rows (at most 100; with the API's idempotency key the rows'
progress item joins it, so exactly 100 rows then take two), then one ``TransactWriteItems`` per chunk of
at most :data:`CHUNK_PRODUCTS` products (a product and its event are two of a transaction's 100 items).
Up to 48 rows is a single transaction: all or nothing. Larger bulks commit chunk by chunk; the audit
entry (and the API's idempotency record) go with the last chunk. A chunk whose product changed since it
was read is read again and retried on its own.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from distribu import audit, catalog, clock, dynamo, ids, keys, outbox, validation
from distribu.catalog import MAX_STOCK
from distribu.errors import Conflict, NotFound, ValidationError
from distribu.idempotency import AlsoWrite, extra_items
from distribu.permissions import Staff

MAX_ROWS = 100
# Per transaction: each product is its Put and its outbox event; the last chunk also carries the audit
# entry and (API) the idempotency record: 48 x 2 + 2 <= 100. Earlier chunks use the same size.
CHUNK_PRODUCTS = 48
MODES = ("set", "delta")
NOT_FOUND = catalog.NOT_FOUND


# --- the single-product verbs, for staff ------------------------------------------------------------------

def add_product(staff: Staff, data: catalog.ProductCreate) -> dict[str, Any]:
    """A new product (any role of the team)."""
    staff.require("catalog")
    return catalog.create_product(staff.company_id, data, staff.actor())


def product_of(staff: Staff, product_id: str) -> dict[str, Any]:
    """One product of the staff member's company (another company's is "Product not found.")."""
    staff.require("view")
    return catalog.get_product(staff.company_id, product_id)


def edit_product(staff: Staff, product_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Change any fields (already validated by :class:`catalog.ProductUpdate`): one ``ProductUpdated``."""
    staff.require("catalog")
    return catalog.update_product(staff.company_id, product_id, changes, staff.actor())


def set_active(staff: Staff, product_id: str, active: bool) -> dict[str, Any]:
    """Activate (sold on the storefront again) or deactivate (hidden from it at once, kept here)."""
    staff.require("catalog")
    return catalog.update_product(staff.company_id, product_id, {"isActive": active}, staff.actor())


def remove_product(staff: Staff, product_id: str) -> dict[str, Any]:
    """Delete a product (and its customers' custom prices); returns what it was."""
    staff.require("catalog")
    product = catalog.get_product(staff.company_id, product_id)
    catalog.delete_product(staff.company_id, product_id, staff.actor())
    return product


# --- bulk stock -------------------------------------------------------------------------------------------

StockDelta = Annotated[StrictInt, Field(ge=-MAX_STOCK, le=MAX_STOCK)]


class StockRow(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)

    productId: Annotated[str, Field(min_length=1, max_length=64)]
    value: StockDelta = Field(description="With `set`, the new stock (0 or more); with `delta`, the amount "
                                          "to add (negative to subtract).")


class BulkStockChange(BaseModel):
    """Body of ``POST /api/v1/products/stock``: one mode for every row, each row its own value."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    mode: Literal["set", "delta"] = Field(description="`set`: stock becomes `value`; `delta`: stock changes "
                                                      "by `value`, a result below 0 is clamped to 0.")
    items: Annotated[list[StockRow], Field(min_length=1, max_length=MAX_ROWS)] = Field(
        description=f"1-{MAX_ROWS} rows, each product at most once.")

    @field_validator("items")
    @classmethod
    def _once_each(cls, rows: list[StockRow]) -> list[StockRow]:
        seen: set[str] = set()
        for row in rows:
            if row.productId in seen:
                raise ValueError(f"lists product {row.productId} more than once")
            seen.add(row.productId)
        return rows

    def model_post_init(self, _: Any) -> None:
        if self.mode == "set":
            for position, row in enumerate(self.items):
                if row.value < 0:
                    raise ValidationError("Validation failed.", details=[
                        {"field": f"items.{position}.value", "message": "must be 0 or more with mode set"}])


@dataclass(frozen=True)
class RowResult:
    product_id: str
    result: str  # "updated" | "unchanged" | "not_found"
    stock_before: int | None = None
    stock: int | None = None
    clamped: bool = False
    product: dict[str, Any] | None = None

    def to_api(self) -> dict[str, Any]:
        body: dict[str, Any] = {"productId": self.product_id, "result": self.result}
        if self.result == "not_found":
            body["error"] = NOT_FOUND
        else:
            body.update({"previousStock": self.stock_before, "stock": self.stock, "clamped": self.clamped})
        return body


@dataclass
class BulkResult:
    mode: str
    rows: list[RowResult] = field(default_factory=list)

    def count(self, result: str) -> int:
        return sum(1 for row in self.rows if row.result == result)

    def to_api(self) -> dict[str, Any]:
        return {"mode": self.mode, "updated": self.count("updated"), "unchanged": self.count("unchanged"),
                "notFound": self.count("not_found"), "items": [row.to_api() for row in self.rows]}


def target_stock(mode: str, current: int, value: int) -> tuple[int, bool]:
    """The new stock and whether it was clamped: Set gives ``value``, Delta adds it; never below 0 (nor
    above the largest stock a product can hold)."""
    wanted = value if mode == "set" else current + value
    clamped = max(0, min(MAX_STOCK, wanted))
    return clamped, clamped != wanted


def _plan(mode: str, item: dict[str, Any], value: int, now: str) -> tuple[RowResult, list[dict[str, Any]]]:
    """One row against the product as read: its result and its writes (none when nothing changes)."""
    before = int(item["stock"])
    after, clamped = target_stock(mode, before, value)
    product_id = item["id"]
    if after == before:
        return RowResult(product_id, "unchanged", before, before, clamped, catalog.to_api(item)), []
    version = int(item.get("version", 0))
    fields = {name: item.get(name) for name in catalog.PRODUCT_FIELDS}
    new_item = catalog.build_item(item["companyId"], product_id, {**fields, "stock": after}, item["createdAt"], now,
                                  version + 1)
    view = catalog.to_api(new_item)
    writes = [dynamo.put_if_version(new_item, version), outbox.event(item["companyId"], "product.updated", view, at=now)]
    return RowResult(product_id, "updated", before, after, clamped, view), writes


def adjust_stock_in_bulk(company_id: str, change: BulkStockChange, actor: audit.Actor, *,
                         also_write: AlsoWrite | None = None, resume_key: str | None = None,
                         refuse_missing: bool = False, attempts: int = 4) -> BulkResult:
    """Set or Delta on up to 100 products (see the module's docstring for the rules and the round trips).
    Rows name products of ``company_id`` only: another company's product is "not_found", like a missing one;
    with ``refuse_missing`` any such row is "Product not found." (404) and nothing is written.
    ``also_write`` (the API's idempotency record) is given the whole result and rides with the last chunk.

    ``resume_key`` (the API's idempotency key and request fingerprint) makes a bulk of several chunks exactly
    once: every chunk but the last records the rows it committed in a progress item, in its own
    transaction, on the progress it read; a retry of a request that failed half-way (its idempotency lock
    released) reads that item with the products and applies only the rows not yet applied, so a Delta never
    lands twice. Without it, a failure after a committed chunk still writes the audit entry of what was
    committed (marked incomplete) before the error goes on."""
    if not change.items:
        raise ValidationError("Validation failed.", details=[{"field": "items", "message": "select at least one product"}])
    pk = keys.company(company_id)
    operation_id = ids.new_id()
    values = {row.productId: row.value for row in change.items}
    order = list(values)
    progress_key = (pk, PROGRESS_PREFIX + resume_key) if resume_key else None
    wanted = [(pk, keys.product_sk(product_id)) for product_id in order] + ([progress_key] if progress_key else [])
    found: dict[tuple[str, str], Any] = {}
    for start in range(0, len(wanted), 100):  # 100 rows and a progress item: two reads
        found.update(dynamo.batch_get(wanted[start:start + 100]))
    progress = found.get(progress_key) if progress_key else None
    progress_version = int(progress["v"]) if progress else 0
    results: dict[str, RowResult] = {row.product_id: row for row in _saved_rows(progress)}
    pending: list[tuple[str, dict[str, Any]]] = []
    for product_id in order:
        item = found.get((pk, keys.product_sk(product_id)))
        if product_id in results:
            continue  # applied by an earlier attempt of this same request
        if not item or item.get("entity") != "PRODUCT":
            results[product_id] = RowResult(product_id, "not_found")
        else:
            pending.append((product_id, item))
    if refuse_missing and any(row.result == "not_found" for row in results.values()):
        raise NotFound(NOT_FOUND)

    chunks = [pending[start:start + CHUNK_PRODUCTS] for start in range(0, len(pending), CHUNK_PRODUCTS)] or [[]]
    committed = False
    try:
        for number, chunk in enumerate(chunks):
            last = number == len(chunks) - 1
            for attempt in range(attempts):
                now = clock.now_iso()
                writes: list[dict[str, Any]] = []
                product_puts: set[int] = set()
                chunk_results: dict[str, RowResult] = {}
                for product_id, item in chunk:
                    row, row_writes = _plan(change.mode, item, values[product_id], now)
                    chunk_results[product_id] = row
                    if row_writes:
                        product_puts.add(len(writes))
                    writes += row_writes
                if last:
                    done = {**results, **chunk_results}
                    result = BulkResult(change.mode, [done[product_id] for product_id in order])
                    if result.count("updated"):
                        writes.append(audit.entry(company_id, actor, "ProductBulkUpdated", "Product", operation_id,
                                                  _audit_details(result, values), at=now))
                    writes += extra_items(also_write, result.to_api())
                elif progress_key and product_puts:
                    writes.append(_progress_put(progress_key, progress_version, {**results, **chunk_results}))
                if not writes:
                    results.update(chunk_results)
                    break
                try:
                    dynamo.transact(writes)
                    results.update(chunk_results)
                    committed = committed or bool(product_puts)
                    if not last and progress_key and product_puts:
                        progress_version += 1
                    break
                except dynamo.TransactionCancelled as cancelled:
                    failed = set(cancelled.failed_indexes())
                    if not failed or not failed <= product_puts or attempt == attempts - 1:
                        raise Conflict(catalog.IN_FLIGHT_ELSEWHERE) from None
                    # Some products changed since they were read (an order, another edit): read the chunk again.
                    chunk = _reread(company_id, chunk, results)
    except Exception:
        if committed and not progress_key:
            _audit_incomplete(company_id, actor, operation_id, change.mode, results, values)
        raise
    return BulkResult(change.mode, [results[product_id] for product_id in order])


PROGRESS_PREFIX = "BULKSTOCK#"
PROGRESS_SECONDS = 24 * 3600  # as long as an idempotency key is kept


def _saved_rows(progress: dict[str, Any] | None) -> list[RowResult]:
    if not progress:
        return []
    return [RowResult(row["productId"], row["result"], row.get("previousStock"), row.get("stock"),
                      bool(row.get("clamped"))) for row in json.loads(progress["rows"])]


def _progress_put(key: tuple[str, str], read_version: int, rows: dict[str, RowResult]) -> dict[str, Any]:
    item = {"PK": key[0], "SK": key[1], "entity": "BULKSTOCK", "v": read_version + 1,
            "rows": json.dumps([row.to_api() for row in rows.values() if row.result != "not_found"],
                               separators=(",", ":")),
            "expiresAt": int(time.time()) + PROGRESS_SECONDS}
    if read_version == 0:
        return dynamo.put(item, condition="attribute_not_exists(PK)")
    return dynamo.put(item, condition="v = :v", values={":v": read_version})


def _audit_incomplete(company_id: str, actor: audit.Actor, operation_id: str, mode: str,
                      results: dict[str, RowResult], values: dict[str, int]) -> None:
    """A bulk that failed after some chunks committed (no idempotency key to finish it): the audit log still
    says what changed."""
    partial = BulkResult(mode, list(results.values()))
    details = {**_audit_details(partial, values), "incomplete": True}
    put = audit.entry(company_id, actor, "ProductBulkUpdated", "Product", operation_id, details)["Put"]
    dynamo.dynamodb().put_item(TableName=put["TableName"], Item=put["Item"])


def _reread(company_id: str, chunk: list[tuple[str, dict[str, Any]]],
            results: dict[str, RowResult]) -> list[tuple[str, dict[str, Any]]]:
    pk = keys.company(company_id)
    found = dynamo.batch_get([(pk, keys.product_sk(product_id)) for product_id, _ in chunk])
    fresh = []
    for product_id, _ in chunk:
        item = found.get((pk, keys.product_sk(product_id)))
        if not item or item.get("entity") != "PRODUCT":
            results[product_id] = RowResult(product_id, "not_found")  # deleted meanwhile
        else:
            fresh.append((product_id, item))
    return fresh


def _audit_details(result: BulkResult, values: dict[str, int]) -> dict[str, Any]:
    """Every changed row's stock before and after (100 rows fit the audit log's 8 KB), and the value when
    every row had the same (the dashboard's case)."""
    same = set(values.values())
    return {"mode": result.mode, "count": result.count("updated"), **({"value": same.pop()} if len(same) == 1 else {}),
            "products": [{"id": row.product_id, "before": row.stock_before, "after": row.stock}
                         for row in result.rows if row.result == "updated"]}


def bulk_adjust_stock(staff: Staff, product_ids: list[str], mode: str, value: int) -> BulkResult:
    """The dashboard's bulk action: the same mode and value for every selected product (any role). The
    selection comes from the staff member's own list, so a product that is not theirs (or no longer exists)
    refuses the whole action: 404, nothing written."""
    staff.require("catalog")
    change = validation.parse(BulkStockChange, {"mode": mode, "items": [{"productId": product_id, "value": value}
                                                                        for product_id in dict.fromkeys(product_ids)]})
    return adjust_stock_in_bulk(staff.company_id, change, staff.actor(), refuse_missing=True)
