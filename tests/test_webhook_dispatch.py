"""The webhook dispatcher's handler on what its queues hand it: an order's event fans out to one delivery
per subscribed webhook, and the deliveries of one batch are made at the same time (a slow endpoint
holds up no other)."""

from __future__ import annotations

import json
import threading
from typing import Any

from distribu_local.apigateway import LambdaContext
from tests.conftest import Tenant, call_api
from tests.queue_events import event_record, order_created_record, place_order, product, sqs_event
from tests.webhook_receiver import Receiver


def dispatch(event: dict[str, Any]) -> dict[str, Any]:
    from distribu_webhook_dispatch.handler import lambda_handler

    return lambda_handler(event, LambdaContext(function_name="webhook_dispatch"))


def queued_deliveries(stack: Any) -> list[str]:
    from distribu.aws import client

    url, bodies = stack.queue_url("WebhookDeliveryQueue"), []
    while True:
        messages = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        bodies += [message["Body"] for message in messages]


def test_one_batch_of_deliveries_is_made_at_the_same_time(stack, tenant: Tenant) -> None:
    hooks = 3
    together = threading.Barrier(hooks)

    def answer_once_all_arrived(_: int) -> int:
        try:
            together.wait(timeout=10)  # made one after another, the first would wait here alone and fail
        except threading.BrokenBarrierError:
            return 503
        return 200

    receiver, webhook_ids = Receiver(), []
    try:
        for number in range(hooks):
            receiver.answers[f"/hook-{number}"] = answer_once_all_arrived
            created = call_api("POST", "/api/v1/webhooks", key=tenant.key,
                               json_body={"url": receiver.url(f"/hook-{number}"), "events": ["order.created"]})
            assert created.status == 201, created.body
            webhook_ids.append(created.body["data"]["id"])
        order_id = place_order(tenant, {product(tenant, "HOOKED", stock=5): 1})

        assert dispatch(sqs_event([order_created_record(tenant, order_id)])) == {"batchItemFailures": []}
        deliveries = queued_deliveries(stack)
        assert len(deliveries) == hooks

        assert dispatch(sqs_event(deliveries, "WebhookDeliveryQueue")) == {"batchItemFailures": []}
        assert sorted(item.path for item in receiver.received) == [f"/hook-{n}" for n in range(hooks)]
        assert {json.loads(item.body)["data"]["id"] for item in receiver.received} == {order_id}
        for webhook_id in webhook_ids:
            [delivery] = call_api("GET", f"/api/v1/webhooks/{webhook_id}/deliveries", key=tenant.key).body["data"]
            assert (delivery["status"], delivery["attempts"][0]["statusCode"]) == ("SUCCEEDED", 200), delivery
    finally:
        receiver.close()


def test_a_delivery_that_never_got_through_disables_its_webhook_however_the_clock_ticks(
        stack, tenant: Tenant, monkeypatch) -> None:
    """The give-up rule compares when the webhook's failures began with the delivery's first attempt. On a
    loaded machine the clock moves between stamping the attempt and marking the failure; every read of
    it here is 5 ms after the last, so a comparison that read the clock twice would never disable."""
    import itertools
    from datetime import datetime, timedelta, timezone

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from distribu import clock, companies
    from tests.conftest import reset_caches

    receiver = Receiver()
    try:
        receiver.answers["/down"] = lambda _: 503
        hook = call_api("POST", "/api/v1/webhooks", key=tenant.key,
                        json_body={"url": receiver.url("/down"), "events": ["order.created"]}).body["data"]
        order_id = place_order(tenant, {product(tenant, "DOWN", stock=5): 1})
        dispatch(sqs_event([order_created_record(tenant, order_id)]))
        [delivery] = queued_deliveries(stack)

        monkeypatch.setenv("WEBHOOK_GIVE_UP_SECONDS", "0")  # this first attempt is the last one
        reset_caches(clients=False)
        start, ticks = datetime.now(timezone.utc), itertools.count()
        monkeypatch.setattr(clock, "now", lambda: start + timedelta(milliseconds=5 * next(ticks)))
        assert dispatch(sqs_event([delivery], "WebhookDeliveryQueue")) == {"batchItemFailures": []}
    finally:
        receiver.close()

    monkeypatch.undo()
    reset_caches(clients=False)
    current = call_api("GET", f"/api/v1/webhooks/{hook['id']}", key=tenant.key).body["data"]
    assert current["isActive"] is False
    [entry] = call_api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", key=tenant.key).body["data"]
    assert (entry["status"], entry["attempts"][0]["statusCode"]) == ("DEAD", 503)
    owners = companies.staff_emails(tenant.company_id, roles=("OWNER",))
    disabled_mails = [mail for mail in ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
                      if "webhook was disabled" in mail.subject and hook["id"] in mail.body]
    assert len(disabled_mails) == 1 and set(disabled_mails[0].destinations["ToAddresses"]) == set(owners)


def test_a_webhook_gets_only_events_that_occurred_after_it_was_created(stack, tenant: Tenant) -> None:
    """Fan-out may reach an event late (the stream, the pipe and the queue all lag): an event that occurred
    before the webhook existed is not sent to it, however late it is fanned out; a later one is."""
    receiver = Receiver()
    try:
        before = call_api("POST", "/api/v1/customers", key=tenant.key, json_body={"email": "early@shop.test"})
        assert before.status == 201, before.body
        created = call_api("POST", "/api/v1/webhooks", key=tenant.key,
                           json_body={"url": receiver.url("/customers"), "events": ["customer.created"]})
        assert created.status == 201, created.body
        after = call_api("POST", "/api/v1/customers", key=tenant.key, json_body={"email": "late@shop.test"})
        assert after.status == 201, after.body

        late_fan_out = event_record(tenant, "customer.created", before.body["data"]["id"])
        assert dispatch(sqs_event([late_fan_out])) == {"batchItemFailures": []}
        assert queued_deliveries(stack) == []

        assert dispatch(sqs_event([event_record(tenant, "customer.created", after.body["data"]["id"])])) == {
            "batchItemFailures": []}
        [delivery] = queued_deliveries(stack)
        assert json.loads(delivery)["webhookId"] == created.body["data"]["id"]
    finally:
        receiver.close()
