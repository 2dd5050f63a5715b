"""The catalog index: every product of a company in a few items, for pages that list, search, filter,
sort and count a catalog in a fixed number of DynamoDB round trips, whatever its size.

DynamoDB cannot search a substring case-insensitively or sort by price cheaply, so the projections
function (``functions/projections``) keeps this read model from the table's stream, and pages do the
rest in memory:

- ``C#{company}`` / ``CATIDX`` (the head): the index's version, each shard's version, the company's
  low-stock default it was counted with, and the counters a page shows without any product: active
  products (in all and per category), the inventory health of active products (healthy, low, out) and
  the valuation of all products (count, units, stock x price; in all and per category).
- ``C#{company}`` / ``CATIDX#{nnn}`` (the shards, 64 unless a rebuild chose more): the compact entries of
  the products whose id hashes to the shard, as one zlib-compressed JSON attribute. A cold container
  reads a 10,000-product index in one BatchGetItem of ~1 MB and decodes it in a few ms; the same
  entries as DynamoDB maps cost botocore and the attribute-value codec several times that (measured in
  ``bench/bench_catalog_index.py``).

A page batches its reads: put :func:`head_key` in the page's first BatchGetItem, ask
:func:`stale_shard_keys` which shards this container must (re)read (none when warm: the per-container
cache is keyed by shard version), read those, and :func:`assemble`. :func:`load` does the same for code
that has nothing to batch. :func:`browse` filters and sorts; every sort order is computed once per
index version, and results are memoised, so a default page never sorts 10,000 entries.

The index lags the table by the stream's delay (typically well under a second): a page must read the
rows it shows fresh (one BatchGetItem of the page's products) and may show a count or an order that is
a moment old. Nothing here is a source of truth; ``distribu projections rebuild`` recomputes it from the
products.
"""

from __future__ import annotations

import json
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable, Mapping

from distribu import keys

HEAD_SK = "CATIDX"
SHARD_PREFIX = "CATIDX#"
DEFAULT_SHARDS = 64
# The company default when a product has no threshold of its own (distribu.companies', held equal by a
# test; not imported, to keep this module's import light).
DEFAULT_LOW_STOCK_THRESHOLD = 5
DESCRIPTION_CHARS = 500  # of the description that the search text holds
SORTS = ("name", "name_desc", "price", "price_desc", "stock", "stock_asc", "newest", "sku")
STOCK_STATES = ("healthy", "low", "out")

# A shard's rows are JSON arrays. A live product:
#   [id, createdAt, version, name, sku, category, price (decimal string), stock, isActive (1/0),
#    lowStockThreshold, description's first 500 characters, lowercased]
# a deleted one (a tombstone, so a late record of it cannot bring it back):
#   [id, createdAt, version, deletedAt]
ID, CREATED_AT, VERSION, NAME, SKU, CATEGORY, PRICE, STOCK, ACTIVE, THRESHOLD, DESCRIPTION = range(11)
DELETED_AT = 3
LIVE_ROW_LENGTH = 11


def is_tombstone(row: list[Any]) -> bool:
    return len(row) != LIVE_ROW_LENGTH


def head_key(company_id: str) -> tuple[str, str]:
    return keys.company(company_id), HEAD_SK


def shard_key(company_id: str, number: int) -> tuple[str, str]:
    return keys.company(company_id), f"{SHARD_PREFIX}{number:03d}"


def shard_number(sort_key: str) -> int:
    return int(sort_key[len(SHARD_PREFIX):])


def shard_of(product_id: str, shard_count: int) -> int:
    """Stable across processes and releases (``hash()`` is salted per process)."""
    return zlib.crc32(product_id.encode()) % shard_count


def encode_rows(rows: Iterable[list[Any]]) -> bytes:
    text = json.dumps(sorted(rows, key=lambda row: row[ID]), separators=(",", ":"), ensure_ascii=False)
    return zlib.compress(text.encode(), 6)


def decode_rows(blob: bytes) -> list[list[Any]]:
    return json.loads(zlib.decompress(blob))


# --- what the head says ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Health:
    """Active products only: healthy (stock > threshold), low (0 < stock <= threshold), out (stock 0)."""

    healthy: int = 0
    low: int = 0
    out: int = 0


@dataclass(frozen=True)
class Totals:
    product_count: int = 0
    units: int = 0
    value: Decimal = Decimal("0")


@dataclass(frozen=True)
class Valuation:
    """Every product, active or not: count, units in stock and stock x catalog price."""

    totals: Totals = field(default_factory=Totals)
    by_category: dict[str | None, Totals] = field(default_factory=dict)


@dataclass(frozen=True)
class Summary:
    """The head alone: enough for a dashboard panel or a count, without reading any shard."""

    version: int
    shard_count: int
    shard_versions: tuple[int, ...]
    default_threshold: int
    active_count: int
    active_by_category: dict[str | None, int]
    health: Health
    valuation: Valuation
    updated_at: str | None


def empty_summary(default_threshold: int = DEFAULT_LOW_STOCK_THRESHOLD) -> Summary:
    return Summary(0, DEFAULT_SHARDS, (0,) * DEFAULT_SHARDS, default_threshold, 0, {}, Health(), Valuation(), None)


def summary(head_item: Mapping[str, Any] | None) -> Summary:
    """Parse a head item (as ``dynamo.get``/``batch_get`` return it); ``None`` is an empty index."""
    if not head_item:
        return empty_summary()
    active_by_category: dict[str | None, int] = {}
    by_category: dict[str | None, Totals] = {}
    for category, active, count, units, value in json.loads(head_item.get("categories") or "[]"):
        if active:
            active_by_category[category] = int(active)
        if count:
            by_category[category] = Totals(int(count), int(units), Decimal(value))
    versions = tuple(int(version) for version in head_item.get("sv") or ())
    return Summary(
        version=int(head_item.get("v", 0)),
        shard_count=int(head_item.get("shards", DEFAULT_SHARDS)),
        shard_versions=versions,
        default_threshold=int(head_item.get("threshold", DEFAULT_LOW_STOCK_THRESHOLD)),
        active_count=int(head_item.get("active", 0)),
        active_by_category=active_by_category,
        health=Health(int(head_item.get("healthy", 0)), int(head_item.get("low", 0)), int(head_item.get("out", 0))),
        valuation=Valuation(Totals(int(head_item.get("productCount", 0)), int(head_item.get("units", 0)),
                                   Decimal(head_item.get("value", 0))), by_category),
        updated_at=head_item.get("updatedAt"),
    )


# --- entries and the index ------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Entry:
    id: str
    name: str
    sku: str | None
    category: str | None
    price: Decimal
    stock: int
    is_active: bool
    low_stock_threshold: int | None
    created_at: str
    search: str  # lowercased name, SKU, category and the description's first 500 characters
    version: int = 0


def entry_from_row(row: list[Any]) -> Entry:
    name, sku, category = row[NAME], row[SKU], row[CATEGORY]
    search = f"{name}\n{sku or ''}\n{category or ''}".lower() + "\n" + (row[DESCRIPTION] or "")
    return Entry(row[ID], name, sku, category, Decimal(row[PRICE]), row[STOCK], bool(row[ACTIVE]), row[THRESHOLD],
                 row[CREATED_AT], search, row[VERSION])


def stock_state_of(entry: Entry, default_threshold: int) -> str:
    """'out' at 0, 'low' at or below its threshold (its own, else the company default), else 'healthy'."""
    if entry.stock <= 0:
        return "out"
    threshold = entry.low_stock_threshold if entry.low_stock_threshold is not None else default_threshold
    return "low" if entry.stock <= threshold else "healthy"


def _name_key(entry: Entry) -> tuple[Any, ...]:
    return (entry.category is None, (entry.category or "").lower(), entry.name.lower(), entry.id)


def _then_name(entry: Entry) -> tuple[str, str]:
    return entry.name.lower(), entry.id


_SORT_KEYS: dict[str, Callable[[Entry], tuple[Any, ...]]] = {
    "name": _name_key,
    "price": lambda entry: (entry.price, *_then_name(entry)),
    "price_desc": lambda entry: (-entry.price, *_then_name(entry)),
    "stock": lambda entry: (-entry.stock, *_then_name(entry)),
    "stock_asc": lambda entry: (entry.stock, *_then_name(entry)),
    "sku": lambda entry: (entry.sku is None, (entry.sku or "").lower(), *_then_name(entry)),
}
MEMOISED_RESULTS = 64


class CatalogIndex:
    """One company's catalog as of one head version. Immutable for its users; it memoises sort orders
    and browse results internally (safely across threads)."""

    def __init__(self, company_id: str, entries: tuple[Entry, ...], head: Summary) -> None:
        self.company_id = company_id
        self.entries = entries
        self.version = head.version
        self.active_count = head.active_count
        self.active_by_category = head.active_by_category
        self.health = head.health
        self.valuation = head.valuation
        self.default_threshold = head.default_threshold
        self.updated_at = head.updated_at
        self._lock = threading.Lock()
        self._orders: dict[str, tuple[Entry, ...]] = {}
        self._results: OrderedDict[tuple[Any, ...], list[Entry]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.entries)

    def ordered(self, sort: str) -> tuple[Entry, ...]:
        """Every entry in ``sort`` order, computed once per index."""
        found = self._orders.get(sort)
        if found is not None:
            return found
        if sort == "name_desc":
            result = tuple(reversed(self.ordered("name")))
        elif sort == "newest":
            # created_at descending, ties by name then id (ascending): two stable sorts.
            by_name = sorted(self.entries, key=_then_name)
            result = tuple(sorted(by_name, key=lambda entry: entry.created_at, reverse=True))
        elif sort in _SORT_KEYS:
            result = tuple(sorted(self.entries, key=_SORT_KEYS[sort]))
        else:
            raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
        with self._lock:
            self._orders[sort] = result
        return result

    def take_orders_from(self, previous: "CatalogIndex") -> None:
        """Same entries as ``previous`` (only the head's counters moved): keep its sort orders."""
        if previous.entries is self.entries:
            self._orders = dict(previous._orders)

    def remember(self, key: tuple[Any, ...], compute: Callable[[], list[Entry]]) -> list[Entry]:
        with self._lock:
            found = self._results.get(key)
            if found is not None:
                self._results.move_to_end(key)
                return found
        result = compute()
        with self._lock:
            self._results[key] = result
            while len(self._results) > MEMOISED_RESULTS:
                self._results.popitem(last=False)
        return result


def browse(index: CatalogIndex, *, q: str | None = None, category: str | None = None, active: bool | None = None,
           stock_state: str | None = None, sort: str = "name") -> list[Entry]:
    """The entries that match, in ``sort`` order. Treat the list as read-only: it is shared.

    ``q``: case-insensitive substring of the search text (name, SKU, category, description's first
    500 characters); blank means no search. ``category``: exact. ``active``: True/False/None (all).
    ``stock_state``: 'healthy', 'low' or 'out', by each product's threshold (or the company default).
    Sorts: 'name' (category then name, case-insensitive, products without a category last),
    'name_desc' (its reverse), 'price', 'price_desc', 'stock' (most first), 'stock_asc', 'newest',
    'sku' (products without one last); ties by name then id.
    """
    if sort not in SORTS:
        raise ValueError(f"unknown sort {sort!r}; one of {', '.join(SORTS)}")
    if stock_state is not None and stock_state not in STOCK_STATES:
        raise ValueError(f"unknown stock state {stock_state!r}; one of {', '.join(STOCK_STATES)}")
    needle = (q or "").strip().lower() or None
    key = (needle, category, active, stock_state, sort)

    def compute() -> list[Entry]:
        ordered = index.ordered(sort)
        if needle is None and category is None and active is None and stock_state is None:
            return list(ordered)
        default = index.default_threshold
        return [entry for entry in ordered
                if (active is None or entry.is_active == active)
                and (category is None or entry.category == category)
                and (needle is None or needle in entry.search)
                and (stock_state is None or stock_state_of(entry, default) == stock_state)]

    return index.remember(key, compute)



# --- the per-container cache ----------------------------------------------------------------------------

MAX_CACHED_ENTRIES = 60_000  # across companies; the least recently used company goes first


@dataclass
class _CompanyCache:
    shard_count: int
    shards: dict[int, tuple[int, tuple[Entry, ...]]] = field(default_factory=dict)
    index: CatalogIndex | None = None
    index_shards: tuple[int, ...] = ()

    def size(self) -> int:
        return sum(len(entries) for _, entries in self.shards.values())


_lock = threading.Lock()
_cache: OrderedDict[str, _CompanyCache] = OrderedDict()


def forget_cache() -> None:
    """Drop every cached index (tests and benchmarks measure cold containers with it)."""
    with _lock:
        _cache.clear()


def stale_shard_keys(company_id: str, head_item: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """The shards this container must (re)read for the index ``head_item`` describes: none when the
    cache already holds every shard at (at least) the head's version, all non-empty ones when cold."""
    head = summary(head_item)
    with _lock:
        cached = _cache.get(company_id)
        known = cached.shards if cached and cached.shard_count == head.shard_count else {}
        return [shard_key(company_id, number) for number, version in enumerate(head.shard_versions)
                if version > 0 and known.get(number, (-1,))[0] < version]


def assemble(company_id: str, head_item: Mapping[str, Any] | None,
             shard_items: Mapping[tuple[str, str], Mapping[str, Any]]) -> CatalogIndex:
    """The index from its head and the shards :func:`stale_shard_keys` asked for (others come from the
    cache, which this updates). A shard newer than the head (written after the head was read) is used
    as it is; one that is missing counts as empty and is asked for again next time."""
    head = summary(head_item)
    decoded: dict[int, tuple[int, tuple[Entry, ...]]] = {}
    for (_, sort_key), item in shard_items.items():
        if not item or not sort_key.startswith(SHARD_PREFIX):
            continue
        rows = decode_rows(bytes(item["e"])) if item.get("e") else []
        decoded[shard_number(sort_key)] = (int(item.get("v", 0)), tuple(
            entry_from_row(row) for row in rows if not is_tombstone(row)))
    with _lock:
        cached = _cache.get(company_id)
        if cached is None or cached.shard_count != head.shard_count:
            cached = _cache[company_id] = _CompanyCache(head.shard_count)
        _cache.move_to_end(company_id)
        for number, (version, entries) in decoded.items():
            if number < head.shard_count and version >= cached.shards.get(number, (-1,))[0]:
                cached.shards[number] = (version, entries)
        used = tuple(cached.shards.get(number, (0,))[0] for number in range(head.shard_count))
        previous = cached.index
        if previous is not None and previous.version == head.version and cached.index_shards == used:
            return previous
        if previous is not None and cached.index_shards == used:
            entries = previous.entries
        else:
            entries = tuple(entry for number in sorted(cached.shards) for entry in cached.shards[number][1])
        index = CatalogIndex(company_id, entries, head)
        if previous is not None:
            index.take_orders_from(previous)
        cached.index, cached.index_shards = index, used
        _evict()
        return index


def _evict() -> None:
    total = sum(company.size() for company in _cache.values())
    while total > MAX_CACHED_ENTRIES and len(_cache) > 1:
        _, dropped = _cache.popitem(last=False)
        total -= dropped.size()


def load(company_id: str) -> CatalogIndex:
    """Head, then the stale shards (none when warm): one or two round trips."""
    from distribu import dynamo

    head = dynamo.get(*head_key(company_id))
    stale = stale_shard_keys(company_id, head)
    found: dict[tuple[str, str], Any] = {}
    for start in range(0, len(stale), 100):
        found.update(dynamo.batch_get(stale[start:start + 100]))
    return assemble(company_id, head, found)
