"""Transactional outbox: an event exists if and only if the write that caused it committed.

The event item is a ``Put`` in the same transaction as the change; the table's stream carries it
on (an EventBridge Pipe in the cloud, the local stack's pump locally) to the fan-out queue.
"""

from __future__ import annotations

import json
import time
from typing import Any

from distribu import clock, dynamo, ids, keys

EVENT_TYPES = (
    "order.created", "order.status_changed", "order.shipped", "order.cancelled",
    "customer.created", "customer.updated", "product.updated", "product.low_stock",
    "return.created", "return.approved", "refund.processed",
)
RETENTION_SECONDS = 7 * 24 * 3600


def event(company_id: str, event_type: str, data: dict[str, Any], *, at: str | None = None) -> dict[str, Any]:
    """A ``Put`` of one outbox event. ``data`` is the resource exactly as the API returns it."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    timestamp = at or clock.now_iso()
    event_id = ids.new_id()
    envelope = {"event": event_type, "timestamp": timestamp, "data": data}
    return dynamo.put({
        "PK": keys.company(company_id),
        "SK": keys.event_sk(timestamp, event_id),
        "entity": "EVENT",
        "id": event_id,
        "companyId": company_id,
        "eventType": event_type,
        "createdAt": timestamp,
        "envelope": json.dumps(envelope, separators=(",", ":"), default=str),
        "expiresAt": int(time.time()) + RETENTION_SECONDS,
    })
