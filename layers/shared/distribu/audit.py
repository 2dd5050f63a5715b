"""Append-only audit log. Entries are transaction items, written with the change they record."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from distribu import clock, dynamo, ids, keys, pagination
from distribu.errors import ValidationError

MAX_DETAILS_BYTES = 8 * 1024
ACTOR_TYPES = ("USER", "CUSTOMER", "SYSTEM", "API_KEY")
# The entity types and actions entries are written with (the audit log's filters offer these).
ENTITY_TYPES = ("ApiKey", "Company", "Customer", "Import", "Order", "Product", "ScheduledReport", "User", "Webhook")
ACTIONS = (
    "ApiKeyCreated", "ApiKeyRevoked", "CompanyCreated", "CompanySettingsUpdated", "CustomerContactCreated",
    "CustomerContactUpdated", "CustomerCreated", "CustomerPasswordChanged", "CustomerStatusChanged",
    "CustomerUpdated", "ImportApplied", "OrderPlaced", "OrderStatusChanged", "PriceOverrideDeleted",
    "PriceOverrideSet", "ProductBulkUpdated", "ProductCreated", "ProductDeleted", "ProductUpdated",
    "ScheduledReportCreated", "ScheduledReportDeleted", "ScheduledReportFailed", "ScheduledReportPaused",
    "ScheduledReportResumed", "ScheduledReportSent", "ScheduledReportUpdated", "TeamInvitationRevoked", "TeamMemberInvited", "TeamMemberJoined", "TeamMemberRemoved", "TeamMemberRoleChanged",
    "UserPasswordChanged", "UserProfileUpdated", "WebhookCreated", "WebhookDeleted", "WebhookDeliveryReplayed",
    "WebhookSecretRotated", "WebhookTestSent", "WebhookUpdated",
)
# Each filter of the audit log has an index, all three sorted like the log ("{createdAt}#{id}"): the log's
# own partition (``C#{company}`` / ``AUDIT#...``) serves the unfiltered view and any date range.
FILTER_INDEXES = {"action": ("GSI2", "ACTION"), "entity_type": ("GSI1", "ENTITY"), "actor_type": ("GSI3", "ACTOR")}
PAGE_SIZE = 50
_NAME = re.compile(r"[A-Z][A-Za-z]{1,60}")


@dataclass(frozen=True)
class Actor:
    type: str
    id: str
    name: str
    on_behalf_of: str | None = None  # an API key's creator

    @classmethod
    def system(cls, name: str = "System") -> "Actor":
        return cls(type="SYSTEM", id="system", name=name)


def _details_json(details: dict[str, Any] | None) -> str:
    text = json.dumps(details or {}, default=str, separators=(",", ":"), sort_keys=True)
    if len(text.encode()) <= MAX_DETAILS_BYTES:
        return text
    summary = {"truncated": True, "keys": sorted((details or {}).keys())}
    return json.dumps(summary, separators=(",", ":"))


def entry(company_id: str, actor: Actor, action: str, entity_type: str, entity_id: str,
          details: dict[str, Any] | None = None, *, at: str | None = None) -> dict[str, Any]:
    """A ``Put`` of one audit entry, for the caller's transaction."""
    timestamp = at or clock.now_iso()
    entry_id = ids.new_id()
    sort = keys.listing_sort(timestamp, entry_id)
    return dynamo.put({
        "PK": keys.company(company_id),
        "SK": keys.audit_sk(timestamp, entry_id),
        "entity": "AUDIT",
        "id": entry_id,
        "createdAt": timestamp,
        "actorType": actor.type,
        "actorId": actor.id,
        "actorName": actor.name,
        "actorOnBehalfOf": actor.on_behalf_of,
        "action": action,
        "entityType": entity_type,
        "entityId": entity_id,
        "details": _details_json(details),
        "GSI1PK": _filter_partition(company_id, "ENTITY", entity_type), "GSI1SK": sort,
        "GSI2PK": _filter_partition(company_id, "ACTION", action), "GSI2SK": sort,
        "GSI3PK": _filter_partition(company_id, "ACTOR", actor.type), "GSI3SK": sort,
    })


def _filter_partition(company_id: str, kind: str, value: str) -> str:
    return keys.listing(company_id, f"AUDIT#{kind}#{value}")


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Only the fields that changed, as ``{"before": {...}, "after": {...}}``."""
    changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
    return {"before": {name: before.get(name) for name in changed},
            "after": {name: after.get(name) for name in changed}}


# What an entry in words needs (distribu.audit_text): a page showing recent activity reads only these.
DESCRIBED = ("createdAt", "actorType", "actorName", "action", "entityType", "entityId", "details")


def list_entries(company_id: str, limit: int = 50, *, only: Iterable[str] = ()) -> list[dict[str, Any]]:
    """The newest ``limit`` entries, whole or with ``only`` the named attributes."""
    request: dict[str, Any] = {
        "TableName": dynamo.table_name(),
        "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
        "ExpressionAttributeValues": {":pk": {"S": keys.company(company_id)}, ":prefix": {"S": "AUDIT#"}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if only:
        names = {f"#a{index}": name for index, name in enumerate(only)}
        request |= {"ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names}
    response = dynamo.dynamodb().query(**request)
    entries = [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]
    for item in entries:
        item["details"] = json.loads(item.get("details") or "{}")
    return entries


# --- reading the log: newest first, filtered, a page at a time ------------------------------------------

@dataclass(frozen=True)
class Filters:
    """What the audit log page filters on; empty strings mean "any". Dates are ``YYYY-MM-DD`` (UTC), both
    days included."""

    actor_type: str = ""
    entity_type: str = ""
    action: str = ""
    since: str = ""
    until: str = ""

    def check(self) -> "Filters":
        problems = []
        if self.actor_type and self.actor_type not in ACTOR_TYPES:
            problems.append({"field": "actor_type", "message": "Choose one of the listed actor types."})
        # Any PascalCase name is a valid filter (an action added later is still found); the page lists the known.
        if self.entity_type and not _NAME.fullmatch(self.entity_type):
            problems.append({"field": "entity_type", "message": "Choose one of the listed entity types."})
        if self.action and not _NAME.fullmatch(self.action):
            problems.append({"field": "action", "message": "Choose one of the listed actions."})
        days = {}
        for name in ("since", "until"):
            value = getattr(self, name)
            if value:
                try:
                    days[name] = clock.parse_iso(value).date().isoformat()
                    if len(value) != 10:
                        raise ValueError
                except ValueError:
                    problems.append({"field": name, "message": "Enter a date as YYYY-MM-DD."})
        if not problems and self.since and self.until and self.since > self.until:
            problems.append({"field": "until", "message": "The end date is before the start date."})
        if problems:
            raise ValidationError("Validation failed.", details=problems)
        return self

    @property
    def active(self) -> bool:
        return any((self.actor_type, self.entity_type, self.action, self.since, self.until))


def _sort_range(filters: Filters) -> tuple[str, str]:
    low = filters.since + "T00:00:00.000Z" if filters.since else "0"
    high = filters.until + "T23:59:59.999Z#~" if filters.until else "~"
    return low, high


def search(company_id: str, filters: Filters, *, cursor: str | None = None, limit: int = PAGE_SIZE,
           ) -> pagination.Page:
    """One page of the company's audit entries matching ``filters``, newest first, and the cursor of the next.

    Never reads the whole log: the most selective filter picks its index (action, then entity type, then
    actor type; without any, the log's own partition), the date range is a key condition on the sort key,
    and the other filters are applied by DynamoDB to what that reads (a long stretch of non-matching
    entries returns a short page with a cursor, see :data:`distribu.pagination.MAX_EXAMINED_PER_PAGE`).
    """
    filters = filters.check()
    low, high = _sort_range(filters)
    chosen = next((name for name in ("action", "entity_type", "actor_type") if getattr(filters, name)), None)
    conditions, names, values = [], {}, {}
    for name, attribute in (("action", "action"), ("entity_type", "entityType"), ("actor_type", "actorType")):
        if getattr(filters, name) and name != chosen:
            conditions.append(f"#{attribute} = :{attribute}")
            names[f"#{attribute}"] = attribute
            values[f":{attribute}"] = getattr(filters, name)
    partition_key = keys.company(company_id)
    if chosen:
        index, kind = FILTER_INDEXES[chosen]
        spec = pagination.IndexQuery(
            index=index, pk_name=f"{index}PK", sk_name=f"{index}SK",
            partition=_filter_partition(company_id, kind, getattr(filters, chosen)),
            start_key=lambda sort, index=index, kind=kind: {
                f"{index}PK": _filter_partition(company_id, kind, getattr(filters, chosen)), f"{index}SK": sort,
                "PK": partition_key, "SK": "AUDIT#" + sort},
            sk_between=(low, high) if (filters.since or filters.until) else None,
            filter_expression=" AND ".join(conditions) or None, names=names or None, values=values or None)
        page = pagination.query_page(spec, limit=limit, cursor=cursor)
    else:
        page = _log_page(company_id, low, high, limit=limit, cursor=cursor)
    for item in page.items:
        item["details"] = _parsed(item.get("details"))
    return page


def _log_page(company_id: str, low: str, high: str, *, limit: int, cursor: str | None) -> pagination.Page:
    """The log's own partition, newest first: one Query of ``limit + 1`` entries."""
    request: dict[str, Any] = {
        "TableName": dynamo.table_name(), "KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": {"S": keys.company(company_id)}, ":low": {"S": "AUDIT#" + low},
                                      ":high": {"S": "AUDIT#" + high}},
        "ScanIndexForward": False, "Limit": limit + 1}
    if cursor:
        request["ExclusiveStartKey"] = dynamo.key(keys.company(company_id),
                                                  "AUDIT#" + pagination.decode_cursor(cursor))
    response = dynamo.dynamodb().query(**request)
    items = [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]
    if len(items) > limit:
        items = items[:limit]
        return pagination.Page(items, pagination.encode_cursor(items[-1]["SK"][len("AUDIT#"):]))
    if response.get("LastEvaluatedKey") and items:  # a 1 MB page (large details) ended before the limit
        return pagination.Page(items, pagination.encode_cursor(items[-1]["SK"][len("AUDIT#"):]))
    return pagination.Page(items, None)


def every_entry(company_id: str, filters: Filters, *, page_size: int = 500) -> Iterator[dict[str, Any]]:
    """Every matching entry, newest first, a page at a time (for the CSV export: never all in memory)."""
    cursor = None
    while True:
        page = search(company_id, filters, cursor=cursor, limit=page_size)
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def _parsed(details: Any) -> dict[str, Any]:
    if isinstance(details, dict):
        return details
    try:
        parsed = json.loads(details or "{}")
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {"value": parsed}
