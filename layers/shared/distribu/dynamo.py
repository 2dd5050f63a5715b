"""Thin helpers over the low-level DynamoDB client: (de)serialisation and transactions.

Every write that must happen together goes through :func:`transact`, which turns a cancelled
transaction into the reasons per item (with the item's current values when asked), so callers can
answer with the documented message without an extra read.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any, Iterable, Iterator, Mapping

from distribu.attribute_values import deserialize, serialize
from distribu.aws import dynamodb
from distribu.config import get_settings

Item = dict[str, Any]


def table_name() -> str:
    return get_settings().table_name


def to_attr(value: Any) -> dict[str, Any]:
    return serialize(value)


def to_item(values: Mapping[str, Any]) -> dict[str, Any]:
    """Serialise a plain dict, dropping ``None`` (absent attributes, never NULL)."""
    return {key: serialize(value) for key, value in values.items() if value is not None}


def from_item(raw: Mapping[str, Any] | None) -> Item | None:
    if raw is None:
        return None
    return {key: deserialize(value) for key, value in raw.items()}


def key(pk: str, sk: str) -> dict[str, Any]:
    return {"PK": {"S": pk}, "SK": {"S": sk}}


def get(pk: str, sk: str, *, consistent: bool = True) -> Item | None:
    response = dynamodb().get_item(TableName=table_name(), Key=key(pk, sk), ConsistentRead=consistent)
    return from_item(response.get("Item"))


def get_record(pk: str, sk: str, entity: str, not_found: str) -> Item:
    """A record of one kind, or the documented 404 (another company's record is just as missing)."""
    from distribu.errors import NotFound

    item = get(pk, sk)
    if not item or item.get("entity") != entity:
        raise NotFound(not_found)
    return item


def batch_get(keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Item]:
    """Consistent batch read of up to 100 keys, retrying unprocessed keys."""
    wanted = list(dict.fromkeys(keys))
    found: dict[tuple[str, str], Item] = {}
    if not wanted:
        return found
    pending: dict[str, Any] = {
        table_name(): {"Keys": [key(pk, sk) for pk, sk in wanted], "ConsistentRead": True}
    }
    attempt = 0
    while pending:
        response = dynamodb().batch_get_item(RequestItems=pending)
        for raw in response.get("Responses", {}).get(table_name(), []):
            item = from_item(raw)
            assert item is not None
            found[(item["PK"], item["SK"])] = item
        pending = response.get("UnprocessedKeys") or {}
        if pending:
            attempt += 1
            time.sleep(min(0.05 * 2**attempt, 1.0) * random.random())
    return found


# --- many items -------------------------------------------------------------------------------------


def query_all(request: Mapping[str, Any]) -> Iterator[Item]:
    """Every item a Query matches, page after page (``request``: the Query's parameters; the table is
    filled in). A generator, so a caller that stops early reads no further page."""
    page_request: dict[str, Any] = {"TableName": table_name(), **request}
    client = dynamodb()
    while True:
        response = client.query(**page_request)
        for raw in response.get("Items", []):
            yield {name: deserialize(value) for name, value in raw.items()}
        if not response.get("LastEvaluatedKey"):
            return
        page_request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def query_prefix(pk: str, prefix: str, *, projection: str | None = None) -> list[Item]:
    """Every item of partition ``pk`` whose sort key starts with ``prefix``."""
    request: dict[str, Any] = {"KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
                               "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": prefix}}}
    if projection:
        request["ProjectionExpression"] = projection
    return list(query_all(request))


def delete_keys(item_keys: Iterable[tuple[str, str]]) -> int:
    """Delete these items, 25 to a ``BatchWriteItem``, retrying what comes back unprocessed; returns how
    many. The keys may come from a generator: they are taken 25 at a time."""
    keys_left, deleted = iter(item_keys), 0
    while batch := list(islice(keys_left, 25)):
        pending: dict[str, Any] = {table_name(): [{"DeleteRequest": {"Key": key(pk, sk)}} for pk, sk in batch]}
        attempt = 0
        while pending:
            pending = dynamodb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            if pending:
                attempt += 1
                time.sleep(min(0.05 * 2**attempt, 1.0) * random.random())
        deleted += len(batch)
    return deleted


# --- transactions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CancellationReason:
    code: str
    item: Item | None


class TransactionCancelled(Exception):
    """A condition in the transaction failed; ``reasons`` line up with the transaction's items."""

    def __init__(self, reasons: list[CancellationReason]) -> None:
        super().__init__(", ".join(reason.code for reason in reasons))
        self.reasons = reasons

    def failed_indexes(self) -> list[int]:
        return [index for index, reason in enumerate(self.reasons) if reason.code == "ConditionalCheckFailed"]


def put(item: Mapping[str, Any], *, condition: str | None = None, names: dict[str, str] | None = None,
        values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``Put`` element for :func:`transact`."""
    body: dict[str, Any] = {"TableName": table_name(), "Item": to_item(item)}
    _add_condition(body, condition, names, values)
    return {"Put": body}


def put_if_version(item: Mapping[str, Any], version: int) -> dict[str, Any]:
    """A ``Put`` that replaces a record only while it is still at ``version`` (optimistic concurrency;
    a record that is gone has no version, so the condition fails for it too)."""
    return put(item, condition="version = :version", values={":version": version})


def update(pk: str, sk: str, expression: str, *, condition: str | None = None,
           names: dict[str, str] | None = None, values: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"TableName": table_name(), "Key": key(pk, sk), "UpdateExpression": expression}
    _add_condition(body, condition, names, values)
    return {"Update": body}


def delete(pk: str, sk: str, *, condition: str | None = None, names: dict[str, str] | None = None,
           values: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"TableName": table_name(), "Key": key(pk, sk)}
    _add_condition(body, condition, names, values)
    return {"Delete": body}


def condition_check(pk: str, sk: str, condition: str, *, names: dict[str, str] | None = None,
                    values: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"TableName": table_name(), "Key": key(pk, sk)}
    _add_condition(body, condition, names, values)
    return {"ConditionCheck": body}


def _add_condition(body: dict[str, Any], condition: str | None, names: dict[str, str] | None,
                   values: dict[str, Any] | None) -> None:
    if condition:
        body["ConditionExpression"] = condition
        body["ReturnValuesOnConditionCheckFailure"] = "ALL_OLD"
    if names:
        body["ExpressionAttributeNames"] = names
    if values:
        body["ExpressionAttributeValues"] = {name: to_attr(value) for name, value in values.items()}


MAX_TRANSACTION_ITEMS = 100


def transact(items: list[dict[str, Any]], *, client_token: str | None = None, attempts: int = 5) -> None:
    """Write all items or none. Retries transaction conflicts; raises :class:`TransactionCancelled`."""
    client = dynamodb()
    request: dict[str, Any] = {"TransactItems": items}
    if client_token:
        request["ClientRequestToken"] = client_token
    for attempt in range(attempts):
        try:
            client.transact_write_items(**request)
            return
        except client.exceptions.TransactionCanceledException as error:
            reasons = [
                CancellationReason(code=reason.get("Code", "None"), item=from_item(reason.get("Item")))
                for reason in error.response.get("CancellationReasons", [])
            ]
            retryable = any(reason.code in ("TransactionConflict", "ThrottlingError") for reason in reasons)
            failed = any(reason.code == "ConditionalCheckFailed" for reason in reasons)
            if failed or not retryable or attempt == attempts - 1:
                raise TransactionCancelled(reasons) from error
        except client.exceptions.TransactionInProgressException:
            if attempt == attempts - 1:
                raise
        time.sleep(min(0.02 * 2**attempt, 0.5) * (0.5 + random.random()))


def as_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
