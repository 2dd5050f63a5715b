"""Cursor pagination over one partition of an index, newest first.

The cursor carries only the sort key of the last record returned; the partition is rebuilt from the
caller's company, so a cursor can never reach into another tenant's data.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

from distribu.aws import dynamodb
from distribu.dynamo import Item, from_item, table_name, to_attr
from distribu.errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
# A filtered page reads at most this many index entries before returning what it has (with a cursor).
MAX_EXAMINED_PER_PAGE = 1000


def clamp_limit(raw: str | int | None) -> int:
    """Documented clamping: below 1 -> 1, above 100 -> 100, non-numeric -> 50. Never an error."""
    if raw is None:
        return DEFAULT_LIMIT
    try:
        value = int(str(raw).strip())
    except ValueError:
        return DEFAULT_LIMIT
    return max(1, min(MAX_LIMIT, value))


def encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"k": sort_key}).encode()).decode().rstrip("=")


# Every listing sorts on "{createdAt}#{id}" (keys.listing_sort): a cursor holding anything else is not ours,
# and DynamoDB would answer a start key of the wrong shape or size with an error, not an empty page.
_SORT_KEY = re.compile(r"[0-9TZ:.+-]{1,40}#[0-9A-Za-z_-]{1,64}")
MAX_CURSOR_LENGTH = 200


def decode_cursor(cursor: str) -> str:
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError
        padded = cursor + "=" * (-len(cursor) % 4)
        sort_key = json.loads(base64.urlsafe_b64decode(padded.encode()))["k"]
        if not isinstance(sort_key, str) or not _SORT_KEY.fullmatch(sort_key):
            raise ValueError
        return sort_key
    except (ValueError, KeyError, TypeError, RecursionError):  # binascii.Error and JSONDecodeError are ValueErrors
        raise ValidationError("Validation failed.", details=[{"field": "cursor", "message": "Invalid cursor."}])


@dataclass
class Page:
    items: list[Item]
    next_cursor: str | None

    @property
    def has_more(self) -> bool:
        return self.next_cursor is not None


@dataclass(frozen=True)
class IndexQuery:
    """Query one partition of a GSI (or the table when ``index`` is None), newest first."""

    index: str | None
    pk_name: str
    sk_name: str
    partition: str
    start_key: Callable[[str], dict[str, str]]  # sort key value -> the full ExclusiveStartKey
    sk_prefix: str | None = None
    sk_between: tuple[str, str] | None = None
    filter_expression: str | None = None
    names: dict[str, str] | None = None
    values: dict[str, Any] | None = None


def query_page(spec: IndexQuery, *, limit: int, cursor: str | None) -> Page:
    """One page: ``limit`` records (fewer only on the last page or after a long filtered stretch).

    Unfiltered pages cost exactly one Query (``Limit=limit+1`` tells whether more exist).
    """
    names = {"#pk": spec.pk_name, **(spec.names or {})}
    values: dict[str, Any] = {":pk": spec.partition, **(spec.values or {})}
    key_condition = "#pk = :pk"
    if spec.sk_prefix:
        names["#sk"] = spec.sk_name
        values[":skp"] = spec.sk_prefix
        key_condition += " AND begins_with(#sk, :skp)"
    elif spec.sk_between:
        names["#sk"] = spec.sk_name
        values[":sklo"], values[":skhi"] = spec.sk_between
        key_condition += " AND #sk BETWEEN :sklo AND :skhi"
    request: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": key_condition,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {name: to_attr(value) for name, value in values.items()},
        "ScanIndexForward": False,
    }
    if spec.index:
        request["IndexName"] = spec.index
    if spec.filter_expression:
        request["FilterExpression"] = spec.filter_expression
    start = {name: {"S": value} for name, value in spec.start_key(decode_cursor(cursor)).items()} if cursor else None

    collected: list[Item] = []
    examined = 0
    while True:
        wanted = limit + 1 - len(collected)
        request["Limit"] = wanted if not spec.filter_expression else max(wanted, min(200, MAX_LIMIT * 2))
        if start:
            request["ExclusiveStartKey"] = start
        else:
            request.pop("ExclusiveStartKey", None)
        response = dynamodb().query(**request)
        examined += response.get("ScannedCount", 0)
        for raw in response.get("Items", []):
            item = from_item(raw)
            assert item is not None
            collected.append(item)
        start = response.get("LastEvaluatedKey")
        if len(collected) > limit:
            page_items = collected[:limit]
            return Page(page_items, encode_cursor(page_items[-1][spec.sk_name]))
        if not start:
            return Page(collected, None)
        if examined >= MAX_EXAMINED_PER_PAGE:
            # Long filtered stretch: hand back what we have and where to go on from.
            resume = start[spec.sk_name]["S"]
            return Page(collected, encode_cursor(resume))
