"""Events end to end through the local stack's chain: outbox -> stream -> pipe -> fan-out queue ->
webhook_dispatch -> delivery queue -> a real HTTP receiver on 127.0.0.1 (and the low-stock mailer)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.local_stack_driver import free_port
from tests.webhook_receiver import Receiver

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def local() -> Iterator[Any]:
    from distribu_local.settings import LocalSettings
    from distribu_local.stack import LocalStack
    from tests.conftest import reset_caches

    saved = dict(os.environ)
    os.environ["WEBHOOK_RETRY_BASE_SECONDS"] = "0.2"
    os.environ["WEBHOOK_GIVE_UP_SECONDS"] = "6"
    with tempfile.TemporaryDirectory() as state:
        stack = LocalStack(LocalSettings(http_port=free_port(), aws_port=free_port(), state_dir=Path(state),
                                         poll_interval=0.05, snapshot_interval=3600, log_level="WARNING"),
                           seed=False)
        stack.start()
        try:
            yield stack
        finally:
            stack.stop()
            os.environ.clear()
            os.environ.update(saved)
            reset_caches()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


_counter = iter(range(1000))


@pytest.fixture
def shop(local) -> dict[str, Any]:
    """A fresh company with a customer and three products (stock 10, threshold 5 by default)."""
    from tests.conftest import call_api, make_tenant

    tenant = make_tenant(f"Chain Co {next(_counter)}", rate_limit=100_000)
    customer = call_api("POST", "/api/v1/customers", key=tenant.key, json_body={"email": "b@buyer.test"}).body["data"]
    products = [call_api("POST", "/api/v1/products", key=tenant.key,
                         json_body={"name": f"Part {n}", "sku": f"PART-{n}", "price": 4, "stock": 10}).body["data"]
                for n in range(3)]
    return {"tenant": tenant, "key": tenant.key, "customer": customer["id"], "products": products}


def subscribe(shop, receiver: Receiver, path: str, events: list[str], **extra: Any) -> dict[str, Any]:
    from tests.conftest import call_api

    response = call_api("POST", "/api/v1/webhooks", key=shop["key"],
                        json_body={"url": receiver.url(path), "events": events, **extra})
    assert response.status == 201, response.body
    return response.body["data"]


def place(shop, quantities: list[int], **extra: Any) -> dict[str, Any]:
    from tests.conftest import call_api

    items = [{"productId": product["id"], "quantity": quantity}
             for product, quantity in zip(shop["products"], quantities) if quantity]
    response = call_api("POST", "/api/v1/orders", key=shop["key"], json_body={"customerId": shop["customer"],
                                                                             "items": items, **extra})
    assert response.status == 201, response.body
    return response.body["data"]


def hex_hmac(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def test_order_created_arrives_signed_both_ways(shop, receiver) -> None:
    from tests.conftest import call_api

    hook = subscribe(shop, receiver, "/signed", ["order.created"])
    order = place(shop, [1])
    [delivery] = receiver.wait_for("/signed", 1)
    assert delivery.headers["content-type"] == "application/json"
    assert delivery.headers["x-webhook-event"] == "order.created"
    assert delivery.headers["x-webhook-signature"] == hex_hmac(hook["secret"], delivery.body)
    timestamp = delivery.headers["x-webhook-timestamp"]
    assert abs(int(timestamp) - time.time()) < 60
    assert delivery.headers["x-webhook-signature-v2"] == hex_hmac(hook["secret"], f"{timestamp}.".encode() + delivery.body)
    envelope = json.loads(delivery.body)
    assert envelope["event"] == "order.created" and envelope["timestamp"].endswith("Z")
    assert envelope["data"] == call_api("GET", f"/api/v1/orders/{order['id']}", key=shop["key"]).body["data"]
    time.sleep(0.5)
    assert len(receiver.at("/signed")) == 1


def test_during_rotation_both_secrets_sign(shop, receiver) -> None:
    from tests.conftest import call_api

    hook = subscribe(shop, receiver, "/rotated", ["order.created"])
    rotated = call_api("POST", f"/api/v1/webhooks/{hook['id']}/rotate-secret", key=shop["key"]).body["data"]
    assert rotated["secret"] != hook["secret"] and rotated["secretRotationGraceExpiresAt"]
    place(shop, [1])
    [delivery] = receiver.wait_for("/rotated", 1)
    new, old = delivery.headers["x-webhook-signature"].split(",")
    assert new == hex_hmac(rotated["secret"], delivery.body) and old == hex_hmac(hook["secret"], delivery.body)
    timestamp = delivery.headers["x-webhook-timestamp"].encode()
    v2_new, v2_old = delivery.headers["x-webhook-signature-v2"].split(",")
    assert v2_old == hex_hmac(hook["secret"], timestamp + b"." + delivery.body)
    assert v2_new == hex_hmac(rotated["secret"], timestamp + b"." + delivery.body)


def test_receiver_failing_three_times_gets_it_on_the_fourth_with_the_same_id(shop, receiver) -> None:
    from tests.conftest import call_api

    receiver.answers["/flaky"] = lambda nth: 500 if nth <= 3 else 204
    hook = subscribe(shop, receiver, "/flaky", ["order.created"])
    place(shop, [1])
    deliveries = receiver.wait_for("/flaky", 4)
    assert len({delivery.headers["x-webhook-id"] for delivery in deliveries}) == 1
    assert len({delivery.body for delivery in deliveries}) == 1
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = call_api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", key=shop["key"]).body["data"]
        if log and log[0]["status"] == "SUCCEEDED":
            break
        time.sleep(0.1)
    [entry] = log
    assert entry["status"] == "SUCCEEDED" and entry["event"] == "order.created"
    assert [attempt["statusCode"] for attempt in entry["attempts"]] == [500, 500, 500, 204]
    assert entry["attempts"][0]["responseBody"] == "answer 500 to request 1"
    assert all(attempt["durationMs"] >= 0 for attempt in entry["attempts"])
    assert call_api("GET", f"/api/v1/webhooks/{hook['id']}", key=shop["key"]).body["data"]["isActive"] is True


def test_replay_sends_the_same_delivery_again(shop, receiver) -> None:
    from tests.conftest import call_api

    hook = subscribe(shop, receiver, "/replayed", ["order.created"])
    place(shop, [1])
    [first] = receiver.wait_for("/replayed", 1)
    time.sleep(0.3)
    [entry] = call_api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", key=shop["key"]).body["data"]
    response = call_api("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/{entry['id']}/replay", key=shop["key"])
    assert response.status == 202
    first, second = receiver.wait_for("/replayed", 2)
    assert first.headers["x-webhook-id"] == second.headers["x-webhook-id"] and first.body == second.body


def test_inactive_and_unsubscribed_webhooks_receive_nothing(shop, receiver) -> None:
    subscribe(shop, receiver, "/inactive", ["order.created"], isActive=False)
    subscribe(shop, receiver, "/other-events", ["customer.created"])
    subscribe(shop, receiver, "/control", ["order.created"])
    place(shop, [1])
    receiver.wait_for("/control", 1)
    time.sleep(0.5)
    assert receiver.at("/inactive") == [] and receiver.at("/other-events") == []


def test_dashboard_order_fires_no_order_created(shop, receiver) -> None:
    from distribu import audit, orders

    subscribe(shop, receiver, "/dashboard", ["order.created", "product.updated"])
    request = orders.parse_order_request({"items": [{"productId": shop["products"][0]["id"], "quantity": 1}]},
                                         customer_required=False)
    orders.place_order(shop["tenant"].company_id, request, audit.Actor("USER", "u", "Staff"), source="DASHBOARD")
    from tests.conftest import call_api

    call_api("PATCH", f"/api/v1/products/{shop['products'][1]['id']}", key=shop["key"], json_body={"price": 5})
    deadline = time.monotonic() + 20  # the price change is the marker that events after the order flowed
    while time.monotonic() < deadline and not any(
            json.loads(item.body)["data"].get("price") == 5 for item in receiver.at("/dashboard")):
        time.sleep(0.05)
    time.sleep(0.5)
    events = [json.loads(item.body) for item in receiver.at("/dashboard")]
    assert any(event["event"] == "product.updated" and event["data"]["price"] == 5 for event in events)
    assert "order.created" not in {event["event"] for event in events}


def test_order_taking_three_skus_into_low_stock_sends_one_email_and_three_events(local, shop, receiver) -> None:
    subscribe(shop, receiver, "/low", ["product.low_stock"])
    order = place(shop, [5, 6, 9])
    deliveries = receiver.wait_for("/low", 3)
    assert sorted(json.loads(item.body)["data"]["sku"] for item in deliveries) == ["PART-0", "PART-1", "PART-2"]
    owner = f"owner@{shop['tenant'].slug.replace('-', '')}.test"
    deadline = time.monotonic() + 10
    mails: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not mails:
        mails = [mail for mail in local.mailbox.messages() if order["id"][-8:].upper() in mail["subject"]]
        time.sleep(0.1)
    assert len(mails) == 1, mails
    [mail] = mails
    assert owner in mail["to"]
    for line in ("Part 0 (SKU PART-0): 5 in stock", "Part 1 (SKU PART-1): 4 in stock", "Part 2 (SKU PART-2): 1 in stock"):
        assert line in mail["text"]
    place(shop, [1])  # already low: no crossing, and this order's email lists them again (one email)
    time.sleep(1.0)
    assert len(receiver.at("/low")) == 3


def test_redelivered_order_event_sends_no_second_email(local, shop) -> None:
    from distribu import dynamo, keys, low_stock

    order = place(shop, [6])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mails = [mail for mail in local.mailbox.messages() if order["id"][-8:].upper() in mail["subject"]]
        if mails:
            break
        time.sleep(0.1)
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :e)",
        ExpressionAttributeValues={":pk": {"S": keys.company(shop["tenant"].company_id)}, ":e": {"S": "EVENT#"}})
    [event] = [dynamo.from_item(raw) for raw in response["Items"] if raw["eventType"]["S"] == "order.created"]
    assert low_stock.mail_for_order(event) is False  # the same event again
    assert len([mail for mail in local.mailbox.messages() if order["id"][-8:].upper() in mail["subject"]]) == 1


def test_process_killed_after_commit_still_delivers(local, shop, receiver) -> None:
    """The API process dies right after the order's transaction commits: the outbox item carries the event."""
    subscribe(shop, receiver, "/killed", ["order.created"])
    body = {"customerId": shop["customer"], "items": [{"productId": shop["products"][0]["id"], "quantity": 1}]}
    script = f"""
import json, os, sys
sys.path[:0] = {[str(ROOT / p) for p in ("layers/shared", "functions/api", "local")]!r}
from distribu import dynamo
real = dynamo.transact
def transact_then_die(*args, **kwargs):
    real(*args, **kwargs)
    os._exit(17)  # killed between the commit and anything else
dynamo.transact = transact_then_die
from distribu_api.handler import lambda_handler
from distribu_local.apigateway import LambdaContext, http_api_event
event = http_api_event("POST", "/api/v1/orders", headers={{"authorization": "Bearer {shop['key']}",
                       "content-type": "application/json"}}, body={json.dumps(json.dumps(body))},
                       route_key="POST /api/v1/{{proxy+}}")
lambda_handler(event, LambdaContext())
"""
    completed = subprocess.run([sys.executable, "-c", script], env=dict(os.environ), capture_output=True, text=True,
                               timeout=60)
    assert completed.returncode == 17, completed.stderr[-2000:]
    [delivery] = receiver.wait_for("/killed", 1)
    assert json.loads(delivery.body)["data"]["items"][0]["productId"] == shop["products"][0]["id"]


def test_webhook_failing_for_the_give_up_window_is_disabled_and_owner_emailed(local, shop, receiver) -> None:
    from tests.conftest import call_api

    receiver.answers["/down"] = lambda nth: 503
    hook = subscribe(shop, receiver, "/down", ["order.created"])
    place(shop, [1])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        current = call_api("GET", f"/api/v1/webhooks/{hook['id']}", key=shop["key"]).body["data"]
        if not current["isActive"]:
            break
        time.sleep(0.2)
    assert current["isActive"] is False
    [entry] = call_api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", key=shop["key"]).body["data"]
    assert entry["status"] == "DEAD" and len(entry["attempts"]) >= 2
    assert all(attempt["statusCode"] == 503 for attempt in entry["attempts"])
    owner = f"owner@{shop['tenant'].slug.replace('-', '')}.test"
    mails = [mail for mail in local.mailbox.messages() if "webhook was disabled" in mail["subject"] and owner in mail["to"]]
    assert len(mails) == 1 and hook["id"] in mails[0]["text"]
