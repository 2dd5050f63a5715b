"""Targeted fixes to moto 5.2.5's DynamoDB for a long-running local stack.

``TransactWriteItems``: moto deep-copies the whole table once per item of every transaction, to roll
back on failure. That copy includes the stream's shard with every record ever written, so
transactions slow down as the stack lives on (~160/s on a 10-item table, ~16/s at 1,000 items). And a
rollback swaps in the copied table, whose shard is a different object: every open shard iterator (the
pipe pump's) then reads a dead shard, and no event after the first failed transaction would reach the
queues. The fix keeps the table object and rolls back in place: the touched items are saved before the
transaction (deep copies, as updates change items in place), and the shard is cut back to its length
before the transaction. Same results, cost proportional to the transaction, not to the table.

Shard iterators: moto keeps every iterator it ever handed out; a pump polling five times a second
would collect them forever. :func:`prune_shard_iterators` forgets old ones.
"""

from __future__ import annotations

import copy
from typing import Any

_MISSING = object()
_original_transact: Any = None
_original_copy_module: Any = None


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


def install() -> bool:
    """Idempotent: True if this call installed the fixes (and so should uninstall them)."""
    global _original_transact, _original_copy_module
    import moto.dynamodb.models as models

    if _original_transact is not None:
        return False
    _original_transact = models.DynamoDBBackend.transact_write_items
    _original_copy_module = models.copy
    models.copy = _TableKeepingCopy()  # type: ignore[assignment]
    models.DynamoDBBackend.transact_write_items = _transact_write_items  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    global _original_transact, _original_copy_module
    import moto.dynamodb.models as models

    if _original_transact is None:
        return
    models.DynamoDBBackend.transact_write_items = _original_transact  # type: ignore[method-assign]
    models.copy = _original_copy_module
    _original_transact = _original_copy_module = None


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
