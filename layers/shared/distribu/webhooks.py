"""Webhook subscriptions and their delivery log.

A company has at most 10 webhooks: a counter on the company item, changed in the same transaction as
the webhook itself, guards the cap with a condition rather than a read. The signing secret is stored
(it must sign every delivery) but returned only by create and rotate.

The API (an API key with ``webhooks:*`` scopes) and the dashboard (OWNER and ADMIN, see
:mod:`distribu.permissions`) call the same verbs; the dashboard's ``*_for_staff`` wrappers check the role
first and again inside the verb's transaction (a demotion a moment ago is no window to act in). Replaying a
delivery and sending a test ``ping`` are audited, and both go out through the real delivery path (the
delivery queue, :func:`distribu.webhook_delivery.deliver`): signed as every delivery is, logged, retried.
A test event is tried once and never retried; a failure of it does not count towards disabling the webhook.
"""

from __future__ import annotations

import base64
import json
import secrets
from datetime import timedelta
from typing import Annotated, Any, Optional

from pydantic import BaseModel, ConfigDict, Field, StrictBool, WithJsonSchema, field_validator

from distribu import audit, clock, dynamo, ids, keys, netguard, validation, webhook_delivery
from distribu.config import get_settings
from distribu.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound, ValidationError
from distribu.idempotency import AlsoWrite, extra_items
from distribu.outbox import EVENT_TYPES
from distribu.pagination import IndexQuery, Page, query_page
from distribu.permissions import Staff
from distribu.serialize import jsonable
from distribu.validation import PartialUpdate

MAX_WEBHOOKS = 10
NOT_FOUND = "Webhook not found."
CAP_REACHED = f"A company can have at most {MAX_WEBHOOKS} webhooks."
ROTATION_GRACE = timedelta(hours=24)
BUSY = "The webhook is being changed by someone else; try again."
ROLE_CHANGED = "Your role in this company has just changed. Reload the page and try again."
INACTIVE_NO_TEST = "This webhook is disabled: enable it to send a test event."
INACTIVE_NO_REPLAY = "This webhook is disabled: enable it to replay a delivery."
TEST_EVENT = webhook_delivery.TEST_EVENT

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


def _guarded(items: list[dict[str, Any]], checks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The verb's transaction items, then the caller's ``checks`` (conditions that must hold as it commits)."""
    return items + checks


def _raise_if_check_failed(cancelled: dynamo.TransactionCancelled, own_items: int) -> None:
    if any(index >= own_items for index in cancelled.failed_indexes()):
        raise Forbidden(ROLE_CHANGED) from None


def create_webhook(company_id: str, data: WebhookCreate, actor: audit.Actor, *,
                   also_write: AlsoWrite | None = None, checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Returns the webhook with its ``secret`` - the only time the secret is shown."""
    webhook_id = ids.new_id()
    now = clock.now_iso()
    item = {"PK": keys.company(company_id), "SK": keys.webhook_sk(webhook_id), "entity": "WEBHOOK",
            "id": webhook_id, "companyId": company_id, "url": data.url, "events": data.events,
            "isActive": data.isActive, "secret": new_secret(), "createdAt": now, "updatedAt": now, "version": 1}
    view = {**to_api(item), "secret": item["secret"]}
    own = [
        _counter(company_id, +1),
        dynamo.put(item, condition="attribute_not_exists(PK)"),
        audit.entry(company_id, actor, "WebhookCreated", "Webhook", webhook_id,
                    {"url": data.url, "events": data.events, "isActive": data.isActive}, at=now),
        *extra_items(also_write, view),
    ]
    try:
        dynamo.transact(_guarded(own, checks or []))
    except dynamo.TransactionCancelled as cancelled:
        _raise_if_check_failed(cancelled, len(own))
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
                   also_write: AlsoWrite | None = None, checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    current = get_item(company_id, webhook_id)
    updated = {**current, **changes, "updatedAt": clock.now_iso(), "version": int(current.get("version", 0)) + 1}
    if changes.get("isActive"):
        updated.pop("failingSince", None)  # re-enabled: the failure clock starts afresh
        updated.pop("disabledReason", None)
    view = to_api(updated)
    details = {**audit.diff(to_api(current), view), "url": updated["url"]}
    own = [
        dynamo.put_if_version(updated, int(current.get("version", 0))),
        audit.entry(company_id, actor, "WebhookUpdated", "Webhook", webhook_id, details),
        *extra_items(also_write, view),
    ]
    try:
        dynamo.transact(_guarded(own, checks or []))
    except dynamo.TransactionCancelled as cancelled:
        _raise_if_check_failed(cancelled, len(own))
        raise Conflict(BUSY) from None
    return view


def delete_webhook(company_id: str, webhook_id: str, actor: audit.Actor, *,
                   checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The webhook goes at once (deliveries queued for it are skipped, not sent); its delivery log is no
    longer reachable. Returns the webhook as it was."""
    current = get_item(company_id, webhook_id)
    own = [
        dynamo.delete(keys.company(company_id), keys.webhook_sk(webhook_id), condition="attribute_exists(PK)"),
        _counter(company_id, -1),
        audit.entry(company_id, actor, "WebhookDeleted", "Webhook", webhook_id,
                    {"url": current["url"], "events": list(current["events"])}),
    ]
    try:
        dynamo.transact(_guarded(own, checks or []))
    except dynamo.TransactionCancelled as cancelled:
        _raise_if_check_failed(cancelled, len(own))
        raise NotFound(NOT_FOUND) from None
    return to_api(current)


def rotate_secret(company_id: str, webhook_id: str, actor: audit.Actor, *,
                  also_write: AlsoWrite | None = None, checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """A new secret now; the old one keeps signing (alongside) for 24 hours. Rotating again during a grace
    window retires the secret that was already on its way out: the one being replaced signs alongside."""
    current = get_item(company_id, webhook_id)
    now = clock.now()
    updated = {**current, "secret": new_secret(), "previousSecret": current["secret"],
               "secretRotationGraceExpiresAt": clock.iso(now + ROTATION_GRACE), "updatedAt": clock.iso(now),
               "version": int(current.get("version", 0)) + 1}
    view = {**to_api(updated), "secret": updated["secret"]}
    own = [
        dynamo.put_if_version(updated, int(current.get("version", 0))),
        audit.entry(company_id, actor, "WebhookSecretRotated", "Webhook", webhook_id,
                    {"graceExpiresAt": updated["secretRotationGraceExpiresAt"], "url": current["url"]}),
        *extra_items(also_write, view),
    ]
    try:
        dynamo.transact(_guarded(own, checks or []))
    except dynamo.TransactionCancelled as cancelled:  # changed (or deleted) since it was read: a 409, never a 500
        _raise_if_check_failed(cancelled, len(own))
        raise Conflict(BUSY) from None
    return view


# --- the delivery log, replays and test events ------------------------------------------------------------

def list_deliveries(company_id: str, webhook_id: str, *, limit: int, cursor: str | None, checked: bool = False) -> Page:
    """The delivery log, newest first. ``checked``: the caller has just read the webhook (no second read)."""
    if not checked:
        get_item(company_id, webhook_id)
    partition = keys.webhook_deliveries(company_id, webhook_id)
    spec = IndexQuery(index="GSI1", pk_name="GSI1PK", sk_name="GSI1SK", partition=partition,
                      start_key=lambda sort_key: {"GSI1PK": partition, "GSI1SK": sort_key,
                                                  "PK": keys.company(company_id),
                                                  "SK": keys.delivery_sk(keys.id_from_listing_sort(sort_key))})
    page = query_page(spec, limit=limit, cursor=cursor)
    page.items = [webhook_delivery.delivery_to_api(item) for item in page.items]
    return page


def _active_check(company_id: str, webhook_id: str) -> dict[str, Any]:
    return dynamo.condition_check(keys.company(company_id), keys.webhook_sk(webhook_id), "isActive = :true",
                                  values={":true": True})


def replay_delivery(company_id: str, webhook_id: str, delivery_id: str, actor: audit.Actor, *,
                    checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Send a delivery again now, whatever its status: the same event, body and ``X-Webhook-Id``, a new
    attempt through the delivery queue (signed with the secrets of today, logged, retried on failure like
    any delivery). Audited. A disabled webhook sends nothing: enable it first (422)."""
    hook = get_item(company_id, webhook_id)
    item = webhook_delivery.get_delivery(company_id, webhook_id, delivery_id)
    if not hook.get("isActive"):
        raise BusinessRuleViolation(INACTIVE_NO_REPLAY)
    now = clock.now_iso()
    own = [
        dynamo.update(keys.company(company_id), keys.delivery_sk(delivery_id),
                      "SET #status = :pending, updatedAt = :now, nextRetryAt = :none",
                      condition="attribute_exists(PK)", names={"#status": "status"},
                      values={":pending": "PENDING", ":now": now, ":none": None}),
        _active_check(company_id, webhook_id),
        audit.entry(company_id, actor, "WebhookDeliveryReplayed", "Webhook", webhook_id,
                    {"url": hook["url"], "deliveryId": delivery_id, "event": item["event"],
                     "previousStatus": item["status"]}, at=now),
    ]
    try:
        dynamo.transact(_guarded(own, checks or []))
    except dynamo.TransactionCancelled as cancelled:
        _raise_if_check_failed(cancelled, len(own))
        if 1 in cancelled.failed_indexes():
            raise BusinessRuleViolation(INACTIVE_NO_REPLAY) from None
        raise NotFound(webhook_delivery.DELIVERY_NOT_FOUND) from None
    # Queued only once the log says PENDING: a fast worker's answer can then never be overwritten by it.
    try:
        webhook_delivery.enqueue([webhook_delivery.DeliveryMessage(company_id, webhook_id, delivery_id, replay=True)])
    except Exception:  # not queued: the log must not say PENDING for good (the audit entry stays: it was tried)
        dynamo.dynamodb().update_item(
            TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company_id), keys.delivery_sk(delivery_id)),
            UpdateExpression="SET #status = :before, nextRetryAt = :next", ConditionExpression="#status = :pending",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":before": {"S": item["status"]}, ":pending": {"S": "PENDING"},
                                       ":next": dynamo.to_attr(item.get("nextRetryAt"))})
        raise
    return webhook_delivery.delivery_to_api({**item, "status": "PENDING", "nextRetryAt": None, "updatedAt": now})


def send_test_event(company_id: str, webhook_id: str, actor: audit.Actor, *,
                    checks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Deliver a ``ping`` event to one webhook, whatever events it subscribes to: the envelope of every
    event (``{"event": "ping", "timestamp", "data"}``, ``data`` being the webhook as the API shows it, never
    its secret), signed and sent like every delivery, logged in its delivery log. Tried once (a test is
    not retried, and its failure does not count towards disabling the webhook). Audited. A disabled
    webhook sends nothing (422). Returns the delivery, PENDING until the attempt is made."""
    hook = get_item(company_id, webhook_id)
    if not hook.get("isActive"):
        raise BusinessRuleViolation(INACTIVE_NO_TEST)
    now = clock.now_iso()
    event_id = ids.new_id()
    identifier = webhook_delivery.delivery_id(event_id, webhook_id)
    envelope = {"event": TEST_EVENT, "timestamp": now, "data": to_api(hook)}
    item = {"PK": keys.company(company_id), "SK": keys.delivery_sk(identifier), "entity": "DELIVERY",
            "GSI1PK": keys.webhook_deliveries(company_id, webhook_id), "GSI1SK": keys.listing_sort(now, identifier),
            "id": identifier, "webhookId": webhook_id, "companyId": company_id, "eventId": event_id,
            "event": TEST_EVENT, "test": True, "body": json.dumps(envelope, separators=(",", ":"), default=str),
            "status": "PENDING", "attempts": [], "createdAt": now, "updatedAt": now}
    own = [
        dynamo.put(item, condition="attribute_not_exists(PK)"),
        _active_check(company_id, webhook_id),
        audit.entry(company_id, actor, "WebhookTestSent", "Webhook", webhook_id,
                    {"url": hook["url"], "deliveryId": identifier, "event": TEST_EVENT}, at=now),
    ]
    try:
        dynamo.transact(_guarded(own, checks or []))
    except dynamo.TransactionCancelled as cancelled:
        _raise_if_check_failed(cancelled, len(own))
        if 1 in cancelled.failed_indexes():
            raise BusinessRuleViolation(INACTIVE_NO_TEST) from None
        raise
    webhook_delivery.enqueue([webhook_delivery.DeliveryMessage(company_id, webhook_id, identifier)])
    return webhook_delivery.delivery_to_api(item)


# --- the dashboard: the same verbs, for a signed-in staff member (OWNER and ADMIN) --------------------------

DELIVERY_PAGE_SIZE = 20


def _role_still(staff: Staff) -> list[dict[str, Any]]:
    """A condition on the actor's own membership: the role the session says, still held as the write commits."""
    return [dynamo.condition_check(keys.company(staff.company_id), keys.member_sk(staff.user_id), "#role = :role",
                                   names={"#role": "role"}, values={":role": staff.role})]


def _our_id(value: str, message: str = NOT_FOUND) -> str:
    """Ids come from URLs: one that cannot exist is not found, without a read."""
    if not value or len(value) > 64 or not value.isalnum():
        raise NotFound(message)
    return value


def staff_view(item: dict[str, Any], *, now: str | None = None) -> dict[str, Any]:
    """The webhook as the API shows it, plus what its owners need to see: whether the previous secret still
    signs (the grace window), and why Distribu disabled it, if it did."""
    grace = item.get("secretRotationGraceExpiresAt")
    return {**to_api(item), "graceActive": bool(item.get("previousSecret") and grace and grace > (now or clock.now_iso())),
            "disabledReason": item.get("disabledReason"), "failingSince": item.get("failingSince")}


def list_for_staff(staff: Staff) -> list[dict[str, Any]]:
    """Every webhook of the staff member's company, newest first (at most 10: one Query)."""
    staff.require("settings")
    now = clock.now_iso()
    return sorted((staff_view(item, now=now) for item in webhook_delivery.subscriptions(staff.company_id)),
                  key=lambda hook: hook["createdAt"], reverse=True)


def get_for_staff(staff: Staff, webhook_id: str) -> dict[str, Any]:
    staff.require("settings")
    return staff_view(get_item(staff.company_id, _our_id(webhook_id)))


def _form_problems(error: ValidationError, *, url: str, events: list[str]) -> ValidationError:
    """Pydantic's messages, said for a form: an empty URL and no event chosen read as what to do."""
    details = []
    for detail in error.extra.get("details") or []:
        field = detail.get("field")
        if field == "url" and not url.strip():
            detail = {"field": "url", "message": "Enter the URL that should receive the events."}
        elif field == "events" and not events:
            detail = {"field": "events", "message": "Choose at least one event."}
        elif field == "url":
            detail = {"field": "url", "message": "The URL " + detail["message"]}
        details.append(detail)
    return ValidationError("Validation failed.", details=details)


def create_for_staff(staff: Staff, *, url: str, events: list[str], active: bool = True) -> dict[str, Any]:
    """:func:`create_webhook` for the dashboard (OWNER and ADMIN): the URL under the same SSRF guard as the
    API's. The answer holds the secret, the only time it is shown."""
    staff.require("settings")
    try:
        data = validation.parse(WebhookCreate, {"url": url, "events": events, "isActive": active})
    except ValidationError as error:
        raise _form_problems(error, url=url, events=events) from None
    return create_webhook(staff.company_id, data, staff.actor(), checks=_role_still(staff))


def update_for_staff(staff: Staff, webhook_id: str, *, url: str, events: list[str]) -> dict[str, Any]:
    """:func:`update_webhook` with a new URL and events; saving what is already there changes nothing."""
    staff.require("settings")
    current = get_item(staff.company_id, _our_id(webhook_id))
    try:
        changes = validation.parse(WebhookUpdate, {"url": url, "events": events}).changes()
    except ValidationError as error:
        raise _form_problems(error, url=url, events=events) from None
    if changes["url"] == current["url"] and list(changes["events"]) == list(current["events"]):
        return staff_view(current)
    view = update_webhook(staff.company_id, webhook_id, changes, staff.actor(), checks=_role_still(staff))
    return {**staff_view(current), **view}


def set_active_for_staff(staff: Staff, webhook_id: str, active: bool) -> dict[str, Any]:
    """Enable or disable: a disabled webhook receives nothing (its queued deliveries are skipped). Enabling
    one Distribu disabled after 3 days of failures starts its failure clock afresh."""
    staff.require("settings")
    current = get_item(staff.company_id, _our_id(webhook_id))
    if bool(current.get("isActive")) == active:
        return staff_view(current)
    view = update_webhook(staff.company_id, webhook_id, {"isActive": active}, staff.actor(),
                          checks=_role_still(staff))
    return {**staff_view(current), **view, **({"disabledReason": None, "failingSince": None} if active else {})}


def delete_for_staff(staff: Staff, webhook_id: str) -> dict[str, Any]:
    staff.require("settings")
    return delete_webhook(staff.company_id, _our_id(webhook_id), staff.actor(), checks=_role_still(staff))


def rotate_for_staff(staff: Staff, webhook_id: str) -> dict[str, Any]:
    """:func:`rotate_secret`: the new secret is in the answer, once; both sign until the grace window ends."""
    staff.require("settings")
    return rotate_secret(staff.company_id, _our_id(webhook_id), staff.actor(), checks=_role_still(staff))


def with_log_for_staff(staff: Staff, webhook_id: str, *, cursor: str | None = None,
                       limit: int = DELIVERY_PAGE_SIZE) -> tuple[dict[str, Any], Page]:
    """The webhook and a page of its delivery log (newest first): two round trips, whatever the log's size."""
    staff.require("settings")
    hook = staff_view(get_item(staff.company_id, _our_id(webhook_id)))
    return hook, list_deliveries(staff.company_id, webhook_id, limit=limit, cursor=cursor or None, checked=True)


def replay_for_staff(staff: Staff, webhook_id: str, delivery_id: str) -> dict[str, Any]:
    staff.require("settings")
    return replay_delivery(staff.company_id, _our_id(webhook_id),
                           _our_id(delivery_id, webhook_delivery.DELIVERY_NOT_FOUND), staff.actor(),
                           checks=_role_still(staff))


def send_test_event_for_staff(staff: Staff, webhook_id: str) -> dict[str, Any]:
    staff.require("settings")
    return send_test_event(staff.company_id, _our_id(webhook_id), staff.actor(), checks=_role_still(staff))
