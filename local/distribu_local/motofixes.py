"""Targeted fixes to moto 5.2.5's DynamoDB for a long-running local stack.

``TransactWriteItems``: moto deep-copies the whole table once per item of every transaction, to roll
back on failure. That copy includes the stream's shard with every record ever written, so
transactions slow down as the stack lives on (~160/s on a 10-item table, ~16/s at 1,000 items). And a
rollback swaps in the copied table, whose shard is a different object: every open shard iterator (the
pipe pump's) then reads a dead shard, and no event after the first failed transaction would reach the
queues. The fix keeps the table object and rolls back in place: the touched items are saved before the
transaction (deep copies, as updates change items in place), and the shard is cut back to its length
before the transaction. Same results, cost proportional to the transaction, not to the table.

``Query``: moto answers every Query by sorting every item of the table by key (``Table.all_items``), then
walking the queried partition (or, for an index, every item) comparing each sort key with the key condition
through its typed values. A page's Query of 10 audit entries took ~0.5 s once the stack held 20,000 items,
and grew with every company's data. The fix hands moto's own Query its candidates: a base-table Query the
queried partition cut to the run of items whose string sort key meets the key condition (the same
comparison on plain strings) and their neighbours; an index Query the items whose string index hash key
matches; both presorted by plain values. moto still applies every condition and sorts, so the results,
their order and the pages are the same, at a cost proportional to the partition.

Shard iterators: moto keeps every iterator it ever handed out; a pump polling five times a second
would collect them forever. :func:`prune_shard_iterators` forgets old ones.
"""

from __future__ import annotations

import copy
import inspect
import threading
from decimal import Decimal
from typing import Any

_MISSING = object()
_original_transact: Any = None
_original_copy_module: Any = None
_original_query: Any = None
_original_all_items: Any = None
_query_candidates = threading.local()  # (table, items) while that table answers a Query on this thread


class _TableKeepingCopy:
    """Stands in for the ``copy`` module inside ``moto.dynamodb.models``: a table "copy" is the table."""

    def __getattr__(self, name: str) -> Any:
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        from moto.dynamodb.models.table import Table

        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def _key_of(table: Any, operation: str, request: dict[str, Any]) -> tuple[Any, Any] | None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    try:
        source = request["Item"] if operation == "Put" else request["Key"]
        hash_value = DynamoType(source[table.hash_key_attr])
        range_value = DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
        hash((hash_value, range_value))
    except Exception:  # malformed: moto rejects it before changing anything
        return None
    return hash_value, range_value


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> Any:
    saved: list[tuple[Any, Any, Any, Any]] = []
    shards: dict[int, tuple[Any, int]] = {}
    seen: set[tuple[int, Any, Any]] = set()
    for entry in transact_items if isinstance(transact_items, list) else []:
        if not isinstance(entry, dict) or len(entry) != 1:
            continue
        (operation, request), = entry.items()
        table = self.tables.get(request.get("TableName")) if isinstance(request, dict) else None
        if table is None:
            continue
        if table.stream_shard is not None and id(table) not in shards:
            shards[id(table)] = (table.stream_shard, len(table.stream_shard.items))
        key = _key_of(table, operation, request)
        if key is None or (id(table), *key) in seen:
            continue
        seen.add((id(table), *key))
        try:
            current = table.get_item(*key)
        except Exception:
            continue
        saved.append((table, *key, copy.deepcopy(current) if current is not None else _MISSING))
    try:
        return _original_transact(self, transact_items)
    except BaseException:
        for table, hash_value, range_value, item in reversed(saved):
            if range_value is None:
                if item is _MISSING:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
            elif item is _MISSING:
                partition = table.items.get(hash_value)
                if partition is not None:
                    partition.pop(range_value, None)
            else:
                table.items[hash_value][range_value] = item
        for shard, length in shards.values():
            del shard.items[length:]
        raise


def _all_items(self: Any) -> Any:
    scoped = getattr(_query_candidates, "scope", None)
    if scoped is not None and scoped[0] is self:
        return scoped[1]
    return _original_all_items(self)


def _ordered(value: Any) -> tuple[int, Any]:
    """A DynamoType as a plain value that sorts as moto sorts it (strings, numbers; anything else ties)."""
    if value is None:
        return (0, "")
    if value.type == "S":
        return (1, value.value)
    if value.type == "N":
        return (2, Decimal(value.value))
    return (3, "")


def _presorted(items: list[Any], attributes: list[str]) -> list[Any]:
    """``items`` in the order the Query sorts its matches into, by plain values: moto's own sort (which stays
    the judge of the order) then finds them in order, at one comparison an item."""
    try:
        return sorted(items, key=lambda item: tuple(_ordered(item.attrs.get(name)) for name in attributes))
    except (TypeError, ArithmeticError):
        return items


def _partition_candidates(table: Any, arguments: dict[str, Any]) -> list[Any]:
    """A base-table Query's candidates in key order: the partition's items whose string sort key meets the
    key condition (the same comparison moto makes next, on plain strings; a key condition is a range, so they
    are a run in key order) and the item just outside the run at either end: moto's walk reads those too, and
    whether one follows decides whether a full page has a LastEvaluatedKey."""
    from moto.dynamodb.comparisons import get_comparison_func

    items = list((table.items.get(arguments["hash_key"]) or {}).values())
    comparison, bounds = arguments.get("range_comparison"), arguments.get("range_objs") or []
    compare = get_comparison_func(comparison) if comparison else None
    conditions = arguments.get("range_key_conditions") or []
    on_the_sort_key = len(conditions) <= 1 and all(name == table.range_key_attr for name, *_ in conditions)
    if compare is None or not bounds or not on_the_sort_key or any(bound.type != "S" for bound in bounds) \
            or any(item.range_key is None or item.range_key.type != "S" for item in items):
        return _presorted(items, [table.range_key_attr])
    plain = [bound.value for bound in bounds]
    matches, others = [], []
    for item in items:
        (matches if compare(item.range_key.value, *plain) else others).append(item)
    if not matches:
        return []
    low, high = min(item.range_key.value for item in matches), max(item.range_key.value for item in matches)
    before = max((item for item in others if item.range_key.value < low), key=lambda item: item.range_key.value,
                 default=None)
    after = min((item for item in others if item.range_key.value > high), key=lambda item: item.range_key.value,
                default=None)
    return _presorted(matches + [item for item in (before, after) if item is not None], [table.range_key_attr])


def _index_candidates(table: Any, arguments: dict[str, Any]) -> list[Any]:
    """An index Query's candidates: the items whose string index keys equal the Query's (moto checks them
    again), sorted by the index's keys then the table's."""
    items = [item for partition in list(table.items.values()) for item in partition.values()]
    for name, expected in arguments.get("hash_key_conditions") or []:
        if expected.type == "S":
            items = [item for item in items if (value := item.attrs.get(name)) is None or value.type != "S"
                     or value.value == expected.value]
    index = next((index for index in table.all_indexes() if index.name == arguments["index_name"]), None)
    if index is None:
        return items
    attributes = ([key["AttributeName"] for key in index.schema if key["KeyType"] == "HASH"]
                  + [key["AttributeName"] for key in index.schema if key["KeyType"] == "RANGE"]
                  + [table.hash_key_attr, table.range_key_attr])
    return _presorted(items, attributes)


def _query(self: Any, *args: Any, **kwargs: Any) -> Any:
    arguments = inspect.signature(_original_query).bind(self, *args, **kwargs).arguments
    if not self.range_key_attr:
        return _original_query(self, *args, **kwargs)
    if arguments.get("index_name") is None:
        if arguments.get("hash_key") is None:
            return _original_query(self, *args, **kwargs)
        candidates = _partition_candidates(self, arguments)
    else:
        candidates = _index_candidates(self, arguments)
    previous = getattr(_query_candidates, "scope", None)
    _query_candidates.scope = (self, candidates)
    try:
        return _original_query(self, *args, **kwargs)
    finally:
        _query_candidates.scope = previous


def install() -> bool:
    """Idempotent: True if this call installed the fixes (and so should uninstall them)."""
    global _original_transact, _original_copy_module, _original_query, _original_all_items
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    if _original_transact is not None:
        return False
    _original_transact = models.DynamoDBBackend.transact_write_items
    _original_copy_module = models.copy
    _original_query, _original_all_items = Table.query, Table.all_items
    models.copy = _TableKeepingCopy()  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    Table.query, Table.all_items = _query, _all_items  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    global _original_transact, _original_copy_module, _original_query, _original_all_items
    import moto.dynamodb.models as models
    from moto.dynamodb.models.table import Table

    if _original_transact is None:
        return
    models.DynamoDBBackend.transact_write_items = _original_transact  # type: ignore[method-assign]
    models.copy = _original_copy_module
    Table.query, Table.all_items = _original_query, _original_all_items  # type: ignore[method-assign]
    _original_transact = _original_copy_module = _original_query = _original_all_items = None


def prune_shard_iterators(keep: set[str], previous: set[str]) -> set[str]:
    """Forget iterators that already existed at the previous call (so every iterator lives at least one
    interval, like AWS's 15 minutes), except those in ``keep``. Call under the moto lock; returns the
    iterators that exist now, to pass as ``previous`` next time."""
    from moto.dynamodbstreams.models import dynamodbstreams_backends

    current: set[str] = set()
    for account in list(dynamodbstreams_backends.values()):
        for backend in list(account.values()):
            iterators = backend.shard_iterators
            for arn in [arn for arn in iterators if arn in previous and arn not in keep]:
                del iterators[arn]
            current.update(iterators)
    return current
