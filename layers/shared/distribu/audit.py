"""Append-only audit log. Entries are transaction items, written with the change they record."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from distribu import clock, dynamo, ids, keys

MAX_DETAILS_BYTES = 8 * 1024
ACTOR_TYPES = ("USER", "CUSTOMER", "SYSTEM", "API_KEY")


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
    })


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Only the fields that changed, as ``{"before": {...}, "after": {...}}``."""
    changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
    return {"before": {name: before.get(name) for name in changed},
            "after": {name: after.get(name) for name in changed}}


def list_entries(company_id: str, limit: int = 50) -> list[dict[str, Any]]:
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(),
        KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)}, ":prefix": {"S": "AUDIT#"}},
        ScanIndexForward=False,
        Limit=limit,
    )
    entries = [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]
    for item in entries:
        item["details"] = json.loads(item.get("details") or "{}")
    return entries
