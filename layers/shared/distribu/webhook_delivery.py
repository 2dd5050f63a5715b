"""Getting events to webhooks: fan-out, signed delivery, retries with backoff, giving up, disabling.

Fan-out turns one outbox event into one delivery per active subscribed webhook; each delivery is its
own queue message, so one endpoint's failures never hold up another's. A failed attempt is re-queued
with exponential backoff and full jitter (SQS delays are at most 15 minutes, so a longer wait is taken
in hops) until it lands or 3 days have passed; then the delivery goes to the dead-letter queue, and a
webhook whose every delivery has failed for 3 days is disabled and its owner emailed.

``X-Webhook-Id`` is the delivery's id, derived from the event and the webhook: stable across retries
and replays, so receivers can de-duplicate.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import time
from dataclasses import asdict, dataclass
from typing import Any

from distribu import audit, clock, companies, dynamo, emails, keys, netguard
from distribu.aws import client
from distribu.config import get_settings
from distribu.errors import NotFound
from distribu.serialize import jsonable

DELIVERY_NOT_FOUND = "Delivery not found."
TEST_EVENT = "ping"  # sent on request (the dashboard's "Send test event"), never fanned out
TIMEOUT_SECONDS = 10
MAX_SQS_DELAY = 900
MAX_BACKOFF_SECONDS = 6 * 3600
MAX_LOGGED_ATTEMPTS = 60


@dataclass(frozen=True)
class DeliveryMessage:
    companyId: str
    webhookId: str
    deliveryId: str
    notBefore: float = 0.0
    replay: bool = False

    def body(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def parse(cls, body: str) -> "DeliveryMessage":
        return cls(**json.loads(body))


def delivery_id(event_id: str, webhook_id: str) -> str:
    return hashlib.sha256(f"{event_id}:{webhook_id}".encode()).hexdigest()[:32]


def sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def signature_headers(secrets: list[str], body: bytes, timestamp: str) -> dict[str, str]:
    """Distribu's signature of the raw body, and the timestamped V2; during a rotation both secrets sign
    (values comma-separated, newest first)."""
    return {
        "X-Webhook-Signature": ",".join(sign(secret, body) for secret in secrets),
        "X-Webhook-Timestamp": timestamp,
        "X-Webhook-Signature-V2": ",".join(sign(secret, f"{timestamp}.".encode() + body) for secret in secrets),
    }


def backoff_seconds(failed_attempts: int) -> float:
    """Full jitter: a random wait up to base x 2^(n-1), capped at 6 hours."""
    ceiling = min(get_settings().webhook_retry_base_seconds * 2 ** max(0, failed_attempts - 1), MAX_BACKOFF_SECONDS)
    return random.uniform(ceiling / 2, ceiling)


def enqueue(messages: list[DeliveryMessage]) -> None:
    queue_url = get_settings().webhook_delivery_queue_url
    sqs = client("sqs")
    for start in range(0, len(messages), 10):
        batch = messages[start:start + 10]
        entries = [{"Id": str(index), "MessageBody": message.body(),
                    "DelaySeconds": int(min(MAX_SQS_DELAY, max(0, message.notBefore - time.time())))}
                   for index, message in enumerate(batch)]
        response = sqs.send_message_batch(QueueUrl=queue_url, Entries=entries)
        if response.get("Failed"):
            raise RuntimeError(f"could not queue {len(response['Failed'])} deliveries")


def subscriptions(company_id: str) -> list[dict[str, Any]]:
    """Every webhook of a company, secrets included (at most 10: one Query)."""
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)}, ":prefix": {"S": "WEBHOOK#"}},
        ConsistentRead=True,
    )
    return [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]



def signing_secrets(webhook: dict[str, Any], *, now: str | None = None) -> list[str]:
    """The current secret, plus the previous one while its grace window lasts."""
    found = [webhook["secret"]]
    grace = webhook.get("secretRotationGraceExpiresAt")
    if webhook.get("previousSecret") and grace and grace > (now or clock.now_iso()):
        found.append(webhook["previousSecret"])
    return found


def delivery_to_api(item: dict[str, Any]) -> dict[str, Any]:
    return jsonable({
        "id": item["id"], "webhookId": item["webhookId"], "eventId": item["eventId"], "event": item["event"],
        "status": item["status"], "attemptCount": len(item.get("attempts", [])),
        "attempts": item.get("attempts", []), "nextRetryAt": item.get("nextRetryAt"),
        "deliveredAt": item.get("deliveredAt"), "createdAt": item["createdAt"], "updatedAt": item["updatedAt"],
    })


def get_delivery(company_id: str, webhook_id: str, delivery_id: str) -> dict[str, Any]:
    item = dynamo.get(keys.company(company_id), keys.delivery_sk(delivery_id))
    if not item or item.get("entity") != "DELIVERY" or item.get("webhookId") != webhook_id:
        raise NotFound(DELIVERY_NOT_FOUND)
    return item


# --- fan-out ------------------------------------------------------------------------------------------

def receives(hook: dict[str, Any], event_item: dict[str, Any]) -> bool:
    """Whether a webhook gets this event: it is active, subscribed to the event's type, and the event
    occurred at or after the webhook was created (as Stripe does). Fan-out runs whenever the stream gets
    to an event, possibly well after it occurred; what decides is when the event occurred (its
    ``createdAt``, stamped with the change that caused it), never when it happens to be fanned out, so a
    new webhook is never sent events older than itself. Both are ISO 8601 UTC with milliseconds, so they
    compare as strings; an event in the very millisecond the webhook was created is delivered."""
    return (bool(hook.get("isActive")) and event_item["eventType"] in hook.get("events", [])
            and event_item["createdAt"] >= hook["createdAt"])


def fan_out(event_item: dict[str, Any]) -> int:
    """One delivery per webhook that :func:`receives` the event. Safe to run again for the same event."""
    company_id, event_id, event_type = event_item["companyId"], event_item["id"], event_item["eventType"]
    messages = []
    now = clock.now_iso()
    for hook in subscriptions(company_id):
        if not receives(hook, event_item):
            continue
        identifier = delivery_id(event_id, hook["id"])
        item = {"PK": keys.company(company_id), "SK": keys.delivery_sk(identifier), "entity": "DELIVERY",
                "GSI1PK": keys.webhook_deliveries(company_id, hook["id"]),
                "GSI1SK": keys.listing_sort(now, identifier), "id": identifier, "webhookId": hook["id"],
                "companyId": company_id, "eventId": event_id, "event": event_type, "body": event_item["envelope"],
                "status": "PENDING", "attempts": [], "createdAt": now, "updatedAt": now}
        table = dynamo.dynamodb()
        try:
            table.put_item(TableName=dynamo.table_name(), Item=dynamo.to_item(item),
                                ConditionExpression="attribute_not_exists(PK)")
        except table.exceptions.ConditionalCheckFailedException:
            pass  # a redelivered event: the delivery exists; queue it again, delivery is idempotent
        messages.append(DeliveryMessage(company_id, hook["id"], identifier))
    if messages:
        enqueue(messages)
    return len(messages)


# --- delivery -----------------------------------------------------------------------------------------

def _record_attempt(company_id: str, delivery_id_: str, attempt: dict[str, Any], status: str,
                    extra: dict[str, Any]) -> None:
    names = {"#status": "status"}
    values: dict[str, Any] = {":attempt": [attempt], ":status": status, ":now": clock.now_iso(), ":empty": []}
    sets = ["attempts = list_append(if_not_exists(attempts, :empty), :attempt)", "#status = :status",
            "updatedAt = :now"]
    for index, (name, value) in enumerate(extra.items()):
        names[f"#x{index}"] = name
        values[f":x{index}"] = value
        sets.append(f"#x{index} = :x{index}")
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company_id), keys.delivery_sk(delivery_id_)),
        UpdateExpression="SET " + ", ".join(sets), ExpressionAttributeNames=names,
        ExpressionAttributeValues={name: dynamo.to_attr(value) for name, value in values.items()},
    )


def deliver(message: DeliveryMessage) -> str:
    """One attempt at one delivery. Returns what happened (for logs); raises only on infrastructure errors."""
    settings = get_settings()
    if message.notBefore > time.time() + 1:
        enqueue([message])  # not due yet: the previous hop of a long backoff
        return "waiting"
    pk = keys.company(message.companyId)
    found = dynamo.batch_get([(pk, keys.delivery_sk(message.deliveryId)), (pk, keys.webhook_sk(message.webhookId))])
    delivery = found.get((pk, keys.delivery_sk(message.deliveryId)))
    if not delivery:
        return "gone"
    if delivery["status"] in ("SUCCEEDED", "DEAD", "SKIPPED", "FAILED") and not message.replay:
        return "already-" + delivery["status"].lower()
    hook = found.get((pk, keys.webhook_sk(message.webhookId)))
    if not hook or not hook.get("isActive"):
        _record_attempt(message.companyId, message.deliveryId,
                        {"attempt": len(delivery.get("attempts", [])) + 1, "at": clock.now_iso(),
                         "statusCode": None, "error": "Webhook deleted or inactive: not sent", "durationMs": 0,
                         "responseBody": ""}, "SKIPPED", {})
        return "skipped"

    body = delivery["body"].encode()
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "User-Agent": "Distribu-Webhooks/1.0",
               "X-Webhook-Event": delivery["event"], "X-Webhook-Id": delivery["id"],
               **signature_headers(signing_secrets(hook), body, timestamp)}
    result = netguard.post(hook["url"], body, headers, timeout=TIMEOUT_SECONDS, allow_loopback=settings.is_local)
    attempt_number = len(delivery.get("attempts", [])) + 1
    attempt = {"attempt": attempt_number, "at": clock.now_iso(), "statusCode": result.status, "error": result.error,
               "durationMs": result.duration_ms, "responseBody": result.body}
    if result.ok:
        _record_attempt(message.companyId, message.deliveryId, attempt, "SUCCEEDED",
                        {"deliveredAt": attempt["at"], "nextRetryAt": None})
        if hook.get("failingSince"):
            _clear_failing(message.companyId, message.webhookId)
        return "delivered"
    if delivery.get("test"):  # a test event is tried once: no retry, and no count towards disabling
        _record_attempt(message.companyId, message.deliveryId, attempt, "FAILED", {"nextRetryAt": None})
        return "failed"

    failing_since = _mark_failing(message.companyId, message.webhookId, attempt["at"])
    age = time.time() - clock.parse_iso(delivery["createdAt"]).timestamp()
    failed_for = time.time() - clock.parse_iso(failing_since).timestamp()
    wait = backoff_seconds(attempt_number)
    if age + wait >= settings.webhook_give_up_seconds:
        _record_attempt(message.companyId, message.deliveryId, attempt, "DEAD", {"nextRetryAt": None})
        client("sqs").send_message(QueueUrl=settings.webhook_dead_letter_queue_url,
                                   MessageBody=DeliveryMessage(message.companyId, message.webhookId,
                                                               message.deliveryId).body())
        first_attempt_at = (delivery.get("attempts") or [attempt])[0]["at"]
        if failing_since <= first_attempt_at:  # nothing reached this webhook during this delivery's whole life
            _disable(message.companyId, hook, failing_since)
        return "dead"
    if failed_for >= settings.webhook_give_up_seconds:
        _disable(message.companyId, hook, failing_since)
    next_at = time.time() + wait
    _record_attempt(message.companyId, message.deliveryId, attempt, "RETRYING",
                    {"nextRetryAt": clock.from_timestamp(next_at)})
    enqueue([DeliveryMessage(message.companyId, message.webhookId, message.deliveryId, notBefore=next_at)])
    return "retrying"


def _mark_failing(company_id: str, webhook_id: str, attempt_at: str) -> str:
    """When this webhook's current run of failures began: the time of its first failed attempt, the same
    stamp as that attempt's, so "the run began at or before this delivery's first attempt" holds exactly
    when no attempt in between got through (a clock read here instead would be a few ms late)."""
    response = dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company_id), keys.webhook_sk(webhook_id)),
        UpdateExpression="SET failingSince = if_not_exists(failingSince, :now)",
        ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeValues={":now": {"S": attempt_at}}, ReturnValues="ALL_NEW",
    )
    return str(response["Attributes"]["failingSince"]["S"])


def _clear_failing(company_id: str, webhook_id: str) -> None:
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company_id), keys.webhook_sk(webhook_id)),
        UpdateExpression="REMOVE failingSince", ConditionExpression="attribute_exists(PK)")


def _disable(company_id: str, hook: dict[str, Any], failing_since: str) -> None:
    """Switch the webhook off (once: the condition makes concurrent failures race harmlessly) and tell the owner."""
    reason = f"Every delivery failed since {failing_since}."
    try:
        dynamo.transact([
            dynamo.update(keys.company(company_id), keys.webhook_sk(hook["id"]),
                          "SET isActive = :false, disabledReason = :reason, updatedAt = :now",
                          condition="isActive = :true",
                          values={":false": False, ":true": True, ":reason": reason, ":now": clock.now_iso()}),
            audit.entry(company_id, audit.Actor.system("Webhook delivery"), "WebhookUpdated", "Webhook", hook["id"],
                        {"before": {"isActive": True}, "after": {"isActive": False}, "reason": reason}),
        ])
    except dynamo.TransactionCancelled:
        return  # already disabled
    owners = companies.staff_emails(company_id, roles=("OWNER",))
    if owners:
        emails.send(owners, "A webhook was disabled after 3 days of failed deliveries",
                    f"Distribu disabled the webhook {hook['url']} (id {hook['id']}).\n\n{reason}\n"
                    "Fix the endpoint, then re-enable the webhook and replay the failed deliveries.")
