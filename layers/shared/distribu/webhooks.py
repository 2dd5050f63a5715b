"""Webhook subscriptions and their delivery log.

A company has at most 10 webhooks: a counter on the company item, changed in the same transaction as
the webhook itself, guards the cap with a condition rather than a read. The signing secret is stored
(it must sign every delivery) but returned only by create and rotate.
"""

from __future__ import annotations

import base64
import secrets
from datetime import timedelta
from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema, field_validator

from distribu import audit, clock, dynamo, ids, keys, netguard, webhook_delivery
from distribu.config import get_settings
from distribu.errors import BusinessRuleViolation, Conflict, NotFound
from distribu.idempotency import AlsoWrite, extra_items
from distribu.outbox import EVENT_TYPES
from distribu.pagination import IndexQuery, Page, query_page
from distribu.serialize import jsonable
from distribu.validation import PartialUpdate

MAX_WEBHOOKS = 10
NOT_FOUND = "Webhook not found."
CAP_REACHED = f"A company can have at most {MAX_WEBHOOKS} webhooks."
ROTATION_GRACE = timedelta(hours=24)

Url = Annotated[str, Field(min_length=1, max_length=2048, json_schema_extra={
    "format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://\\S+$",
    "description": "http or https, to a publicly routable host (private, loopback, link-local, shared and "
                   "metadata addresses are refused)."})]
Events = Annotated[list[str], WithJsonSchema({
    "type": "array", "minItems": 1, "items": {"type": "string", "enum": list(EVENT_TYPES)},
    "description": "The events to receive (repeats are ignored)."})]


def new_secret() -> str:
    return "whsec_" + base64.urlsafe_b64encode(secrets.token_bytes(24)).decode().rstrip("=")


def _check_url(url: str) -> str:
    """At creation and on every change: an http(s) URL whose host, however written, may be reached."""
    if not url.lower().startswith(("http://", "https://")) or " " in url:
        raise ValueError("must be an http or https URL")
    try:
        host = netguard.parse_host(url)
    except ValueError:
        raise ValueError("must be an http or https URL with a valid host (and port)") from None
    if not netguard.host_allowed(host, allow_loopback=get_settings().is_local):
        raise ValueError("must point at a public internet address (not a private, loopback, link-local, "
                         "shared or metadata one)")
    return url


def _check_events(events: list[str]) -> list[str]:
    unknown = [event for event in events if event not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"Unknown event(s): {', '.join(unknown)}. Valid events: {', '.join(EVENT_TYPES)}")
    if not events:
        raise ValueError("at least one event is required")
    return list(dict.fromkeys(events))


class WebhookCreate(BaseModel):
    """Body of ``POST /api/v1/webhooks``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    url: Url
    events: Events
    isActive: StrictBool = True

    _url = field_validator("url")(_check_url)
    _events = field_validator("events")(_check_events)


class WebhookUpdate(PartialUpdate):
    """Body of ``PATCH /api/v1/webhooks/{id}``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)
    REQUIRED = ('url', 'events', 'isActive')

    url: Optional[Url] = None
    events: Optional[Events] = None
    isActive: Optional[StrictBool] = None

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _check_url(value)

    @field_validator("events")
    @classmethod
    def _events(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else _check_events(value)



def to_api(item: dict[str, Any]) -> dict[str, Any]:
    return jsonable({
        "id": item["id"], "url": item["url"], "events": list(item["events"]), "isActive": bool(item["isActive"]),
        "secretRotationGraceExpiresAt": item.get("secretRotationGraceExpiresAt"),
        "createdAt": item["createdAt"], "updatedAt": item["updatedAt"],
    })


def _counter(company_id: str, delta: int) -> dict[str, Any]:
    if delta > 0:
        return dynamo.update(keys.company(company_id), keys.COMPANY_SK,
                             "SET webhookCount = if_not_exists(webhookCount, :zero) + :one",
                             condition="attribute_exists(PK) AND (attribute_not_exists(webhookCount) OR webhookCount < :max)",
                             values={":zero": 0, ":one": 1, ":max": MAX_WEBHOOKS})
    return dynamo.update(keys.company(company_id), keys.COMPANY_SK, "SET webhookCount = webhookCount - :one",
                         condition="webhookCount > :zero", values={":one": 1, ":zero": 0})


def create_webhook(company_id: str, data: WebhookCreate, actor: audit.Actor, *,
                   also_write: AlsoWrite | None = None) -> dict[str, Any]:
    """Returns the webhook with its ``secret`` - the only time the secret is shown."""
    webhook_id = ids.new_id()
    now = clock.now_iso()
    item = {"PK": keys.company(company_id), "SK": keys.webhook_sk(webhook_id), "entity": "WEBHOOK",
            "id": webhook_id, "companyId": company_id, "url": data.url, "events": data.events,
            "isActive": data.isActive, "secret": new_secret(), "createdAt": now, "updatedAt": now, "version": 1}
    view = {**to_api(item), "secret": item["secret"]}
    try:
        dynamo.transact([
            _counter(company_id, +1),
            dynamo.put(item, condition="attribute_not_exists(PK)"),
            audit.entry(company_id, actor, "WebhookCreated", "Webhook", webhook_id,
                        {"url": data.url, "events": data.events, "isActive": data.isActive}, at=now),
            *extra_items(also_write, view),
        ])
    except dynamo.TransactionCancelled as cancelled:
        if 0 in cancelled.failed_indexes():
            raise BusinessRuleViolation(CAP_REACHED) from None
        raise
    return view


def get_item(company_id: str, webhook_id: str) -> dict[str, Any]:
    return dynamo.get_record(keys.company(company_id), keys.webhook_sk(webhook_id), "WEBHOOK", NOT_FOUND)


def list_webhooks(company_id: str) -> list[dict[str, Any]]:
    return sorted((to_api(item) for item in webhook_delivery.subscriptions(company_id)),
                  key=lambda hook: hook["createdAt"], reverse=True)


def update_webhook(company_id: str, webhook_id: str, changes: dict[str, Any], actor: audit.Actor, *,
                   also_write: AlsoWrite | None = None) -> dict[str, Any]:
    current = get_item(company_id, webhook_id)
    updated = {**current, **changes, "updatedAt": clock.now_iso(), "version": int(current.get("version", 0)) + 1}
    if changes.get("isActive"):
        updated.pop("failingSince", None)  # re-enabled: the failure clock starts afresh
        updated.pop("disabledReason", None)
    view = to_api(updated)
    try:
        dynamo.transact([
            dynamo.put_if_version(updated, int(current.get("version", 0))),
            audit.entry(company_id, actor, "WebhookUpdated", "Webhook", webhook_id,
                        audit.diff(to_api(current), view)),
            *extra_items(also_write, view),
        ])
    except dynamo.TransactionCancelled:
        raise Conflict("The webhook is being changed by someone else; try again.") from None
    return view


def delete_webhook(company_id: str, webhook_id: str, actor: audit.Actor) -> None:
    get_item(company_id, webhook_id)
    try:
        dynamo.transact([
            dynamo.delete(keys.company(company_id), keys.webhook_sk(webhook_id), condition="attribute_exists(PK)"),
            _counter(company_id, -1),
            audit.entry(company_id, actor, "WebhookDeleted", "Webhook", webhook_id),
        ])
    except dynamo.TransactionCancelled:
        raise NotFound(NOT_FOUND) from None


def rotate_secret(company_id: str, webhook_id: str, actor: audit.Actor, *,
                  also_write: AlsoWrite | None = None) -> dict[str, Any]:
    """A new secret now; the old one keeps signing (alongside) for 24 hours."""
    current = get_item(company_id, webhook_id)
    now = clock.now()
    updated = {**current, "secret": new_secret(), "previousSecret": current["secret"],
               "secretRotationGraceExpiresAt": clock.iso(now + ROTATION_GRACE), "updatedAt": clock.iso(now),
               "version": int(current.get("version", 0)) + 1}
    view = {**to_api(updated), "secret": updated["secret"]}
    try:
        dynamo.transact([
            dynamo.put_if_version(updated, int(current.get("version", 0))),
            audit.entry(company_id, actor, "WebhookSecretRotated", "Webhook", webhook_id,
                        {"graceExpiresAt": updated["secretRotationGraceExpiresAt"]}),
            *extra_items(also_write, view),
        ])
    except dynamo.TransactionCancelled:  # changed (or deleted) since it was read: a 409, never a 500
        raise Conflict("The webhook is being changed by someone else; try again.") from None
    return view


# --- the delivery log -------------------------------------------------------------------------------

def list_deliveries(company_id: str, webhook_id: str, *, limit: int, cursor: str | None) -> Page:
    get_item(company_id, webhook_id)
    partition = keys.webhook_deliveries(company_id, webhook_id)
    spec = IndexQuery(index="GSI1", pk_name="GSI1PK", sk_name="GSI1SK", partition=partition,
                      start_key=lambda sort_key: {"GSI1PK": partition, "GSI1SK": sort_key,
                                                  "PK": keys.company(company_id),
                                                  "SK": keys.delivery_sk(keys.id_from_listing_sort(sort_key))})
    page = query_page(spec, limit=limit, cursor=cursor)
    page.items = [webhook_delivery.delivery_to_api(item) for item in page.items]
    return page
