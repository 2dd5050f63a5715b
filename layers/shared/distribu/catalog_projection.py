"""Keeps the catalog index (:mod:`distribu.catalog_index`) up to date from product and company changes,
and rebuilds it from the products.

Stream records come late, twice, or in any order (SQS standard queues reorder and redeliver), so a
record never adds a delta: it offers the product as it was at one version, and the index takes it only
if that version is newer than the one it holds. Versions order by ``(createdAt, version)``: every write
to a product increments ``version`` (order decrements included) and ``createdAt`` never changes, so a
product created again under the same id is newer than everything its predecessor was. A removal leaves
a tombstone at the removed version, so an older record arriving after the delete cannot bring the
product back; tombstones go after 15 days (longer than SQS keeps a message).

Counters live in the head and are adjusted from the entry that was replaced to the one that replaces
it, in the same transaction as the shard, conditioned on the versions read: two projectors racing on
one company cannot both win, the loser reads again. When the company's low-stock default changes, the
health counts are recomputed from every entry.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Iterable

from distribu import clock, dynamo, keys
from distribu.catalog_index import (ACTIVE, CATEGORY, CREATED_AT, DEFAULT_LOW_STOCK_THRESHOLD, DEFAULT_SHARDS,
                                    DELETED_AT, DESCRIPTION_CHARS, ID, PRICE, STOCK, THRESHOLD, VERSION, decode_rows,
                                    encode_rows, head_key, is_tombstone, shard_key, shard_number, shard_of)
from distribu.errors import Conflict, NotFound

Key = tuple[str, str]
TOMBSTONE_SECONDS = 15 * 24 * 3600
MAX_SHARD_BYTES = 350_000  # DynamoDB's item limit is 400 KB
REBUILD_TARGET_SHARD_BYTES = 120_000  # a rebuild spreads the index over more shards past this


class ShardFull(Exception):
    """A shard would pass DynamoDB's item size; a rebuild spreads the index over more shards."""


# --- rows from product images ---------------------------------------------------------------------------

def row_from_product(item: dict[str, Any]) -> list[Any]:
    threshold = item.get("lowStockThreshold")
    return [
        item["id"], item["createdAt"], int(item.get("version", 0)), item["name"], item.get("sku"),
        item.get("category"), str(dynamo.as_decimal(item["price"])), int(item["stock"]),
        1 if item.get("isActive", True) else 0, int(threshold) if threshold is not None else None,
        (item.get("description") or "")[:DESCRIPTION_CHARS].lower(),
    ]


def tombstone(product_id: str, created_at: str, version: int, deleted_at: str) -> list[Any]:
    return [product_id, created_at, version, deleted_at]


def _order(row: list[Any]) -> tuple[str, int]:
    return row[CREATED_AT], int(row[VERSION])


def supersedes(offered: list[Any], held: list[Any] | None) -> bool:
    """Is ``offered`` a later state of the product than ``held``? At the same version a tombstone wins
    (a removal carries the version it removed)."""
    if held is None:
        return True
    if _order(offered) != _order(held):
        return _order(offered) > _order(held)
    return is_tombstone(offered) and not is_tombstone(held)


@dataclass(frozen=True)
class ProductChange:
    """One product's state as a stream record offers it: a live row, or a tombstone for a removal."""

    product_id: str
    row: list[Any]


def product_change(event_name: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> ProductChange | None:
    if event_name == "REMOVE":
        if not old or old.get("entity") != "PRODUCT":
            return None
        return ProductChange(old["id"], tombstone(old["id"], old["createdAt"], int(old.get("version", 0)),
                                                  clock.now_iso()))
    if not new or new.get("entity") != "PRODUCT":
        return None
    return ProductChange(new["id"], row_from_product(new))


# --- the head's counters --------------------------------------------------------------------------------

@dataclass
class Counters:
    """The head's aggregates, adjusted row by row (``add`` with sign -1 takes a row out)."""

    default_threshold: int
    active: int = 0
    healthy: int = 0
    low: int = 0
    out: int = 0
    product_count: int = 0
    units: int = 0
    value: Decimal = Decimal("0")
    # category -> [active, productCount, units, value]
    categories: dict[str | None, list[Any]] = field(default_factory=dict)

    def add(self, row: list[Any] | None, sign: int = 1) -> None:
        if row is None or is_tombstone(row):
            return
        stock, value = int(row[STOCK]), int(row[STOCK]) * Decimal(row[PRICE])
        category = self.categories.setdefault(row[CATEGORY], [0, 0, 0, Decimal("0")])
        self.product_count += sign
        self.units += sign * stock
        self.value += sign * value
        category[1] += sign
        category[2] += sign * stock
        category[3] += sign * value
        if row[ACTIVE]:
            self.active += sign
            category[0] += sign
            threshold = row[THRESHOLD] if row[THRESHOLD] is not None else self.default_threshold
            if stock <= 0:
                self.out += sign
            elif stock <= threshold:
                self.low += sign
            else:
                self.healthy += sign
        if not any(category[:3]) and not category[3]:
            del self.categories[row[CATEGORY]]

    @classmethod
    def from_head(cls, head: dict[str, Any] | None, default_threshold: int) -> "Counters":
        if not head:
            return cls(default_threshold)
        counters = cls(int(head.get("threshold", default_threshold)), int(head.get("active", 0)),
                       int(head.get("healthy", 0)), int(head.get("low", 0)), int(head.get("out", 0)),
                       int(head.get("productCount", 0)), int(head.get("units", 0)),
                       dynamo.as_decimal(head.get("value", 0)))
        for category, active, count, units, value in json.loads(head.get("categories") or "[]"):
            counters.categories[category] = [int(active), int(count), int(units), Decimal(value)]
        return counters

    @classmethod
    def of_rows(cls, rows: Iterable[list[Any]], default_threshold: int) -> "Counters":
        counters = cls(default_threshold)
        for row in rows:
            counters.add(row)
        return counters

    def attributes(self) -> dict[str, Any]:
        categories = sorted(self.categories.items(), key=lambda pair: (pair[0] is None, pair[0] or ""))
        return {
            "threshold": self.default_threshold, "active": self.active, "healthy": self.healthy, "low": self.low,
            "out": self.out, "productCount": self.product_count, "units": self.units, "value": self.value,
            "categories": json.dumps([[name, active, count, units, str(value)]
                                      for name, (active, count, units, value) in categories], separators=(",", ":")),
        }


def _head_item(company_id: str, version: int, shard_versions: list[int], counters: Counters,
               now: str) -> dict[str, Any]:
    pk, sk = head_key(company_id)
    return {"PK": pk, "SK": sk, "entity": "CATALOG_INDEX", "companyId": company_id, "v": version,
            "shards": len(shard_versions), "sv": shard_versions, "updatedAt": now, **counters.attributes()}


def _shard_item(company_id: str, number: int, version: int, rows: list[list[Any]], now: str) -> dict[str, Any]:
    blob = encode_rows(rows)
    if len(blob) > MAX_SHARD_BYTES:
        raise ShardFull(f"Catalog index shard {number} of company {company_id} would hold {len(blob)} bytes; "
                        "run `distribu projections rebuild` to spread the index over more shards.")
    pk, sk = shard_key(company_id, number)
    return {"PK": pk, "SK": sk, "entity": "CATALOG_SHARD", "companyId": company_id, "v": version,
            "n": len(rows), "e": blob, "updatedAt": now}


def _put_on_version(item: dict[str, Any], read_version: int | None) -> dict[str, Any]:
    """A Put that succeeds only over the version that was read (or where nothing was)."""
    if read_version is None:
        return dynamo.put(item, condition="attribute_not_exists(PK)")
    return dynamo.put(item, condition="v = :v", values={":v": read_version})


def _prune(rows: dict[str, list[Any]], now_seconds: float) -> None:
    cutoff = clock.from_timestamp(now_seconds - TOMBSTONE_SECONDS)
    for product_id in [pid for pid, row in rows.items() if is_tombstone(row) and row[DELETED_AT] < cutoff]:
        del rows[product_id]


def company_default_threshold(company_item: dict[str, Any] | None) -> int:
    return int((company_item or {}).get("lowStockThreshold", DEFAULT_LOW_STOCK_THRESHOLD))


# --- applying changes: one company's records of one batch ----------------------------------------------

_known_shard_counts: dict[str, int] = {}


class CatalogProjector:
    """Plans the writes for one company's product changes (and a possible change of its low-stock
    default) from the items read: see :mod:`distribu.projections` for the read-plan-write loop."""

    def __init__(self, company_id: str, changes: list[ProductChange], *, company_changed: bool = False) -> None:
        self.company_id = company_id
        self.changes = changes
        self.company_changed = company_changed

    def _company_key(self) -> Key:
        return keys.company(self.company_id), keys.COMPANY_SK

    def wanted(self, reads: Any) -> set[Key]:
        if not self.changes and not self.company_changed:
            return set()
        head_k = head_key(self.company_id)
        want = {head_k}
        if self.company_changed:
            want.add(self._company_key())
        if not reads.has(head_k):  # first round: guess the shard count (64 unless a rebuild chose more)
            count = _known_shard_counts.get(self.company_id, DEFAULT_SHARDS)
            return want | {shard_key(self.company_id, shard_of(change.product_id, count)) for change in self.changes}
        head = reads.get(head_k)
        if head is None:  # a new index: its counters start from every shard there is (normally none)
            return want | {self._company_key()} | {shard_key(self.company_id, n) for n in range(DEFAULT_SHARDS)}
        count = int(head["shards"])
        _known_shard_counts[self.company_id] = count
        want |= {shard_key(self.company_id, shard_of(change.product_id, count)) for change in self.changes}
        if self.company_changed and reads.has(self._company_key()):
            default = company_default_threshold(reads.get(self._company_key()))
            if default != int(head.get("threshold", DEFAULT_LOW_STOCK_THRESHOLD)):
                want |= {shard_key(self.company_id, n) for n in range(count)}
        return want

    def writes(self, reads: Any) -> list[dict[str, Any]]:
        if not self.changes and not self.company_changed:
            return []
        now = clock.now_iso()
        head_k = head_key(self.company_id)
        head = reads.get(head_k)
        count = int(head["shards"]) if head else DEFAULT_SHARDS
        shard_versions = [int(version) for version in head["sv"]] if head else [0] * count
        if head:
            default = int(head.get("threshold", DEFAULT_LOW_STOCK_THRESHOLD))
            if self.company_changed and reads.has(self._company_key()):
                default = company_default_threshold(reads.get(self._company_key()))
        else:
            default = company_default_threshold(reads.get(self._company_key()))

        # Every shard that was read, decoded; "recount" when all of them were (a new index, a new default).
        shards: dict[int, tuple[int | None, dict[str, list[Any]]]] = {}
        for number in range(count):
            key = shard_key(self.company_id, number)
            if reads.has(key):
                item = reads.get(key)
                rows = {row[ID]: row for row in decode_rows(bytes(item["e"]))} if item and item.get("e") else {}
                shards[number] = (int(item["v"]) if item else None, rows)
        recount = len(shards) == count and (head is None or default != int(head.get("threshold", default)))
        counters = Counters.from_head(head, default)

        changed: set[int] = set()
        for change in self.changes:
            number = shard_of(change.product_id, count)
            rows = shards[number][1]
            held = rows.get(change.product_id)
            if not supersedes(change.row, held):
                continue  # a late or repeated record: the index already holds this version or a newer one
            counters.add(held, -1)
            counters.add(change.row, +1)
            rows[change.product_id] = change.row
            changed.add(number)
        if recount:
            counters = Counters.of_rows((row for _, rows in shards.values() for row in rows.values()), default)
        if head is None and not self.changes:
            return []  # no index yet: nothing to recount (a rebuild or the first product makes one)
        if head is not None and not changed and not recount:
            return []
        counters.default_threshold = default

        writes = []
        now_seconds = time.time()
        for number in sorted(changed):
            read_version, rows = shards[number]
            _prune(rows, now_seconds)
            new_version = max(read_version or 0, shard_versions[number]) + 1
            writes.append(_put_on_version(
                _shard_item(self.company_id, number, new_version, list(rows.values()), now), read_version))
            shard_versions[number] = new_version
        head_version = int(head["v"]) if head else None
        writes.append(_put_on_version(
            _head_item(self.company_id, (head_version or 0) + 1, shard_versions, counters, now), head_version))
        return writes


# --- rebuilding from the products ---------------------------------------------------------------------

REBUILD_ATTEMPTS = 5
RECENT_SECONDS = 60  # entries created this close to the scan are kept even if the scan missed them (GSI lag)
PRODUCT_ATTRIBUTES = ("id", "entity", "createdAt", "version", "name", "sku", "category", "price", "stock",
                      "isActive", "lowStockThreshold", "description")


def _scan_products(company_id: str) -> Iterable[dict[str, Any]]:
    """Every product of the company, from its GSI1 listing (pages of up to 1 MB)."""
    names = {f"#a{number}": name for number, name in enumerate(PRODUCT_ATTRIBUTES)}
    listed = dynamo.query_all({
        "IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": keys.listing(company_id, "PRODUCT")}},
        "ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names,
    })
    return (item for item in listed if item.get("entity") == "PRODUCT")


def _read_all(keys_wanted: list[Key]) -> dict[Key, dict[str, Any]]:
    found: dict[Key, dict[str, Any]] = {}
    for start in range(0, len(keys_wanted), 100):
        found.update(dynamo.batch_get(keys_wanted[start:start + 100]))
    return found


def _spread(rows: dict[str, list[Any]], count: int) -> dict[int, dict[str, list[Any]]]:
    shards: dict[int, dict[str, list[Any]]] = {number: {} for number in range(count)}
    for product_id, row in rows.items():
        shards[shard_of(product_id, count)][product_id] = row
    return shards


def _transactions(writes: list[dict[str, Any]], sizes: list[int]) -> list[list[dict[str, Any]]]:
    """Chunks of at most 100 items and ~3.5 MB, in order (the head, last, goes in the last chunk)."""
    chunks: list[list[dict[str, Any]]] = [[]]
    total = 0
    for write, size in zip(writes, sizes):
        if chunks[-1] and (len(chunks[-1]) == dynamo.MAX_TRANSACTION_ITEMS or total + size > 3_500_000):
            chunks.append([])
            total = 0
        chunks[-1].append(write)
        total += size
    return chunks


def rebuild(company_id: str) -> dict[str, Any]:
    """Recompute the index from the products and write it over the current one.

    Safe beside a running projector: the current head and shards are read before the products, and
    every write is conditioned on the versions read, so a change applied meanwhile makes the rebuild
    start again. Merging keeps the newer of what the scan found and what the index holds (a tombstone
    from a delete that happened during the scan stays), and keeps entries created during the scan that
    the products' listing (GSI1, eventually consistent) had not shown yet. A catalog too big for one
    transaction (about 100,000 products) is written in several, shards first and the head last.
    """
    for attempt in range(REBUILD_ATTEMPTS):
        head_k, company_k = head_key(company_id), (keys.company(company_id), keys.COMPANY_SK)
        first = dynamo.batch_get([head_k, company_k])
        if company_k not in first:
            raise NotFound("Company not found.")
        head = first.get(head_k)
        count = int(head["shards"]) if head else DEFAULT_SHARDS
        held_by_shard: dict[int, tuple[int, dict[str, list[Any]]]] = {}
        for (_, sort_key), item in _read_all([shard_key(company_id, n) for n in range(count)]).items():
            rows = decode_rows(bytes(item["e"])) if item.get("e") else []
            held_by_shard[shard_number(sort_key)] = (int(item["v"]), {row[ID]: row for row in rows})
        held = {pid: row for _, rows in held_by_shard.values() for pid, row in rows.items()}
        scan_started = time.time()
        scanned = {item["id"]: row_from_product(item) for item in _scan_products(company_id)}

        recent = clock.from_timestamp(scan_started - RECENT_SECONDS)
        merged: dict[str, list[Any]] = {}
        for product_id in scanned.keys() | held.keys():
            found, kept = scanned.get(product_id), held.get(product_id)
            if found is not None:
                merged[product_id] = kept if kept is not None and supersedes(kept, found) else found
            elif kept is not None and (is_tombstone(kept) or kept[CREATED_AT] >= recent):
                merged[product_id] = kept  # a delete seen by the stream, or a product too new for GSI1
        _prune(merged, time.time())

        spread = _spread(merged, count)
        while count < 1024 and max(len(encode_rows(rows.values())) for rows in spread.values()) > \
                REBUILD_TARGET_SHARD_BYTES:
            count *= 2
            spread = _spread(merged, count)

        now = clock.now_iso()
        head_versions = [int(version) for version in head["sv"]] if head else []
        shard_versions, writes, sizes = [], [], []
        for number in range(count):
            read_version, rows = held_by_shard.get(number, (None, {}))
            if spread[number] == rows:
                shard_versions.append(read_version or 0)
                continue
            version = max(read_version or 0, head_versions[number] if number < len(head_versions) else 0) + 1
            item = _shard_item(company_id, number, version, list(spread[number].values()), now)
            writes.append(_put_on_version(item, read_version))
            sizes.append(len(item["e"]) + 200)
            shard_versions.append(version)
        counters = Counters.of_rows(merged.values(), company_default_threshold(first[company_k]))
        head_version = int(head["v"]) if head else None
        writes.append(_put_on_version(_head_item(company_id, (head_version or 0) + 1, shard_versions, counters, now),
                                      head_version))
        sizes.append(2_000)
        try:
            for chunk in _transactions(writes, sizes):
                dynamo.transact(chunk)
        except dynamo.TransactionCancelled:
            time.sleep(0.05 * (attempt + 1))
            continue
        _known_shard_counts[company_id] = count
        return {"products": sum(1 for row in merged.values() if not is_tombstone(row)),
                "activeProducts": counters.active, "shards": count, "shardsWritten": len(writes) - 1}
    raise Conflict("The catalog index kept changing during the rebuild; run it again.")
