"""The webhooks pages through the real dashboard handler: the list, create (the secret shown exactly once),
edit, enable/disable, delete and rotate after a confirmation, the delivery log, replay and the test ping,
all reaching a real receiver on 127.0.0.1 through the real delivery path (queue -> webhook_dispatch).
OWNER and ADMIN only: a MEMBER gets 403 and nothing changes; another company's ids are 404."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any, Iterator

import pytest

from tests import factories
from tests.dashboard.conftest import signed_in
from tests.web_client import Browser, form_fields
from tests.webhook_receiver import Receiver

URL = "/dashboard/settings/webhooks"
SECRET = re.compile(r"whsec_[A-Za-z0-9_-]{32}")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def hex_hmac(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def run_deliveries(stack: Any) -> int:
    """What the delivery queue holds now, handed to the webhook dispatcher as Lambda would (due messages only)."""
    from distribu.aws import client
    from distribu_local.apigateway import LambdaContext
    from distribu_webhook_dispatch.handler import lambda_handler
    from tests.queue_events import sqs_event

    url, bodies = stack.queue_url("WebhookDeliveryQueue"), []
    while True:
        messages = client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            bodies.append(message["Body"])
            client("sqs").delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    if bodies:
        assert lambda_handler(sqs_event(bodies, "WebhookDeliveryQueue"),
                              LambdaContext(function_name="webhook_dispatch")) == {"batchItemFailures": []}
    return len(bodies)


def stored(company_id: str, webhook_id: str) -> dict[str, Any] | None:
    from distribu import dynamo, keys

    return dynamo.get(keys.company(company_id), keys.webhook_sk(webhook_id))


def audit_actions(company_id: str) -> list[str]:
    from distribu import audit

    return [entry["action"] for entry in audit.list_entries(company_id)]


def deliveries(company_id: str, webhook_id: str) -> list[dict[str, Any]]:
    from distribu import webhooks

    return webhooks.list_deliveries(company_id, webhook_id, limit=100, cursor=None).items


def create_through_page(owner: Browser, url: str, events: list[str]) -> tuple[Any, str]:
    owner.get(URL + "/new")
    response = owner.post(URL, [("url", url), *[("events", event) for event in events], ("active", "true")])
    assert response.status == 200, response.text
    [secret] = SECRET.findall(response.html)
    return response, secret


def hook_id_of(company_id: str) -> str:
    from distribu import webhooks

    [hook] = webhooks.list_webhooks(company_id)
    return hook["id"]


# --- list, create, the secret once ------------------------------------------------------------------------

def test_signed_out_visitors_are_sent_to_sign_in(client: Browser) -> None:
    response = client.get(URL)
    assert response.status in (302, 303) and response.location.startswith("/login?next=")


def test_empty_list_then_the_form_with_every_event_as_a_checkbox(owner: Browser) -> None:
    from distribu.outbox import EVENT_TYPES

    listing = owner.get(URL)
    assert listing.status == 200 and "No webhooks yet" in listing.text
    form = owner.get(URL + "/new")
    assert form.status == 200
    boxes = form.soup.select("input[type=checkbox][name=events]")
    assert sorted(box["value"] for box in boxes) == sorted(EVENT_TYPES)
    assert all(form.soup.find("label", attrs={"for": box["id"]}) for box in boxes)
    assert form.soup.find(id="url")["type"] == "url" and form.value_of("active") == "true"


def test_create_shows_the_secret_exactly_once(owner: Browser, tenant) -> None:
    from distribu import webhooks

    created, secret = create_through_page(owner, "https://erp.example.com/hooks", ["order.created", "product.low_stock"])
    assert "Copy this signing secret now. It is shown only this once" in created.text
    hook = webhooks.get_item(tenant.company_id, hook_id_of(tenant.company_id))
    assert hook["secret"] == secret and hook["events"] == ["order.created", "product.low_stock"] and hook["isActive"]
    assert created.soup.find(attrs={"data-copy": "#signing-secret"}) is not None
    for page in (URL, f"{URL}/{hook['id']}", f"{URL}/{hook['id']}/edit", f"{URL}/{hook['id']}/rotate",
                 f"{URL}/{hook['id']}/delete"):
        shown = owner.get(page)
        assert shown.status == 200 and secret not in shown.html and not SECRET.search(shown.html), page
    listing = owner.get(URL)
    assert "https://erp.example.com/hooks" in listing.text and "Active" in listing.text
    assert audit_actions(tenant.company_id)[0] == "WebhookCreated"


def test_create_can_start_disabled(owner: Browser, tenant) -> None:
    owner.get(URL + "/new")
    response = owner.post(URL, [("url", "https://erp.example.com/hooks"), ("events", "order.created")])
    assert response.status == 200
    assert stored(tenant.company_id, hook_id_of(tenant.company_id))["isActive"] is False


@pytest.mark.parametrize("url, events, field, message", [
    ("", [], "url", "Enter the URL that should receive the events."),
    ("", ["order.created"], "url", "Enter the URL that should receive the events."),
    ("https://erp.example.com/x", [], "events", "Choose at least one event."),
    ("ftp://erp.example.com/x", ["order.created"], "url", "The URL must be an http or https URL."),
    ("http://10.0.0.5/hooks", ["order.created"], "url", "The URL must point at a public internet address"),
    ("http://169.254.169.254/latest", ["order.created"], "url", "The URL must point at a public internet address"),
    ("https://erp.example.com/" + "a" * 2048, ["order.created"], "url", "at most 2048 characters"),
    ("https://erp.example.com/x", ["order.exploded"], "events", "Unknown event(s): order.exploded"),
])
def test_bad_input_is_shown_under_its_field_and_creates_nothing(owner: Browser, tenant, url, events, field,
                                                                message) -> None:
    owner.get(URL + "/new")
    response = owner.post(URL, [("url", url), *[("events", event) for event in events], ("active", "true")])
    assert response.status == 400
    assert message in (response.field_error(field) or ""), response.field_error(field)
    assert response.value_of("url") == url
    assert sorted(box["value"] for box in response.soup.select("input[name=events][checked]")) == \
        sorted(event for event in events if event != "order.exploded")
    assert "Please correct" in response.text and not SECRET.search(response.html)
    assert response.soup.find(id=field if field == "url" else "event-order-created") is not None
    from distribu import webhooks

    assert webhooks.list_webhooks(tenant.company_id) == []


def test_loopback_is_allowed_on_the_local_stack_only(owner: Browser, tenant, monkeypatch) -> None:
    from distribu import config, webhooks

    monkeypatch.setenv("DISTRIBU_ENV", "cloud")
    config.get_settings.cache_clear()
    owner.get(URL + "/new")
    for url in ("http://127.0.0.1:8080/x", "http://localhost/x", "http://[::1]/x", "http://2130706433/x"):
        response = owner.post(URL, [("url", url), ("events", "order.created")])
        assert response.status == 400 and "public internet address" in response.field_error("url"), url
    assert webhooks.list_webhooks(tenant.company_id) == []
    monkeypatch.setenv("DISTRIBU_ENV", "local")
    config.get_settings.cache_clear()
    assert owner.post(URL, [("url", "http://127.0.0.1:8080/x"), ("events", "order.created")]).status == 200


def test_the_eleventh_webhook_is_refused_in_place(owner: Browser, tenant) -> None:
    from distribu import webhooks

    for number in range(10):
        factories.webhook(tenant.company_id, f"https://h{number}.example.com/")
    listing = owner.get(URL)
    assert "10 of 10 webhooks" in listing.text and not listing.soup.find("a", string="Add a webhook")
    form = owner.get(URL + "/new")
    assert "Delete one to add another" in form.text
    response = owner.post(URL, [("url", "https://h11.example.com/"), ("events", "order.created")])
    assert response.status == 422 and "A company can have at most 10 webhooks." in response.text
    assert response.value_of("url") == "https://h11.example.com/"
    assert len(webhooks.list_webhooks(tenant.company_id)) == 10


# --- edit, enable/disable, delete ---------------------------------------------------------------------

def test_edit_keeps_what_was_typed_and_saves(owner: Browser, tenant) -> None:
    hook = factories.webhook(tenant.company_id, events=["order.created", "order.shipped"])
    form = owner.get(f"{URL}/{hook['id']}/edit")
    assert form.value_of("url") == hook["url"]
    assert sorted(box["value"] for box in form.soup.select("input[name=events][checked]")) == \
        ["order.created", "order.shipped"]
    fields = form_fields(form.soup.find("form", action=f"{URL}/{hook['id']}/edit"), url="nope")
    refused = owner.post(f"{URL}/{hook['id']}/edit", fields)
    assert refused.status == 400 and refused.field_error("url") == "The URL must be an http or https URL."
    assert refused.value_of("url") == "nope"
    assert stored(tenant.company_id, hook["id"])["url"] == hook["url"]

    saved = owner.post(f"{URL}/{hook['id']}/edit", [("url", "https://new.example.com/in"), ("events", "customer.updated")])
    assert saved.status == 303 and saved.location == f"{URL}/{hook['id']}"
    assert "Webhook saved." in owner.follow(saved).text
    after = stored(tenant.company_id, hook["id"])
    assert (after["url"], after["events"], after["secret"]) == ("https://new.example.com/in", ["customer.updated"],
                                                                hook["secret"])
    assert audit_actions(tenant.company_id)[0] == "WebhookUpdated"
    version = after["version"]
    owner.get(f"{URL}/{hook['id']}/edit")
    unchanged = owner.post(f"{URL}/{hook['id']}/edit", [("url", "https://new.example.com/in"),
                                                        ("events", "customer.updated")])
    assert unchanged.status == 303 and stored(tenant.company_id, hook["id"])["version"] == version


def test_disable_and_enable(owner: Browser, tenant) -> None:
    hook = factories.webhook(tenant.company_id)
    detail = owner.get(f"{URL}/{hook['id']}")
    assert detail.soup.find("form", action=f"{URL}/{hook['id']}/disable") is not None
    disabled = owner.post(f"{URL}/{hook['id']}/disable")
    assert disabled.status == 303 and stored(tenant.company_id, hook["id"])["isActive"] is False
    page = owner.follow(disabled)
    assert "Webhook disabled" in page.text and "Disabled" in page.text
    assert page.soup.find("button", string=re.compile("Send test event")).has_attr("disabled")
    enabled = owner.post(f"{URL}/{hook['id']}/enable")
    assert enabled.status == 303 and stored(tenant.company_id, hook["id"])["isActive"] is True
    assert audit_actions(tenant.company_id)[:2] == ["WebhookUpdated", "WebhookUpdated"]


def test_a_webhook_distribu_disabled_says_why_and_enabling_starts_afresh(owner: Browser, tenant) -> None:
    from distribu import dynamo, keys

    hook = factories.webhook(tenant.company_id)
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(keys.company(tenant.company_id), keys.webhook_sk(hook["id"])),
        UpdateExpression="SET isActive = :f, disabledReason = :r, failingSince = :s",
        ExpressionAttributeValues={":f": {"BOOL": False}, ":r": {"S": "Every delivery failed since 2026-01-01."},
                                   ":s": {"S": "2026-01-01T00:00:00.000Z"}})
    page = owner.get(f"{URL}/{hook['id']}")
    assert "Distribu disabled this webhook: Every delivery failed since 2026-01-01." in page.text
    assert "Disabled by Distribu" in owner.get(URL).text
    owner.post(f"{URL}/{hook['id']}/enable")
    after = stored(tenant.company_id, hook["id"])
    assert after["isActive"] is True and "failingSince" not in after and "disabledReason" not in after


def test_delete_asks_first(owner: Browser, tenant) -> None:
    hook = factories.webhook(tenant.company_id)
    confirm = owner.get(f"{URL}/{hook['id']}/delete")
    assert confirm.status == 200 and "Delete this webhook?" in confirm.text and hook["url"] in confirm.text
    assert stored(tenant.company_id, hook["id"]) is not None
    deleted = owner.post(f"{URL}/{hook['id']}/delete")
    assert deleted.status == 303 and deleted.location == URL
    assert f"Webhook deleted: {hook['url']}" in owner.follow(deleted).text
    assert stored(tenant.company_id, hook["id"]) is None
    assert owner.get(f"{URL}/{hook['id']}").status == 404
    assert audit_actions(tenant.company_id)[0] == "WebhookDeleted"


# --- rotation ---------------------------------------------------------------------------------------------

def test_rotation_shows_the_new_secret_once_and_both_sign_during_the_grace_window(owner: Browser, tenant, stack,
                                                                                   receiver: Receiver) -> None:
    created, old_secret = create_through_page(owner, receiver.url("/rotated"), ["customer.created"])
    hook_id = hook_id_of(tenant.company_id)
    confirm = owner.get(f"{URL}/{hook_id}/rotate")
    assert confirm.status == 200 and "For 24 hours both the new and the current secret sign" in confirm.text
    rotated = owner.post(f"{URL}/{hook_id}/rotate")
    assert rotated.status == 200
    [new_secret] = SECRET.findall(rotated.html)
    item = stored(tenant.company_id, hook_id)
    assert new_secret != old_secret and item["secret"] == new_secret and item["previousSecret"] == old_secret
    grace_end = item["secretRotationGraceExpiresAt"]
    assert "The previous secret keeps signing alongside this one until" in rotated.text
    detail = owner.get(f"{URL}/{hook_id}")
    assert "Secret rotated. Until" in detail.text and new_secret not in detail.html and old_secret not in detail.html
    from distribu.web.templating import datetime_

    assert datetime_(grace_end) in detail.text
    assert "Rotated: the previous one also signs until" in owner.get(URL).text
    assert audit_actions(tenant.company_id)[0] == "WebhookSecretRotated"

    owner.post(f"{URL}/{hook_id}/test")
    run_deliveries(stack)
    [ping] = receiver.wait_for("/rotated", 1)
    signatures = ping.headers["x-webhook-signature"].split(",")
    assert signatures == [hex_hmac(new_secret, ping.body), hex_hmac(old_secret, ping.body)]


# --- the test ping, the delivery log, replay --------------------------------------------------------------

def test_send_test_event_delivers_a_signed_ping_the_receiver_can_verify(owner: Browser, tenant, stack,
                                                                        receiver: Receiver) -> None:
    _, secret = create_through_page(owner, receiver.url("/ping"), ["order.created"])
    hook_id = hook_id_of(tenant.company_id)
    sent = owner.post(f"{URL}/{hook_id}/test")
    assert sent.status == 303 and sent.location == f"{URL}/{hook_id}"
    waiting = owner.follow(sent)
    assert "Test event sent" in waiting.text and "Pending" in waiting.text
    assert waiting.soup.find(id="delivery-log").get("hx-trigger") == "every 2s"  # refreshes itself meanwhile

    assert run_deliveries(stack) == 1
    [ping] = receiver.wait_for("/ping", 1)
    assert ping.headers["x-webhook-event"] == "ping" and ping.headers["content-type"] == "application/json"
    assert ping.headers["x-webhook-signature"] == hex_hmac(secret, ping.body)
    timestamp = ping.headers["x-webhook-timestamp"]
    assert ping.headers["x-webhook-signature-v2"] == hex_hmac(secret, f"{timestamp}.".encode() + ping.body)
    envelope = json.loads(ping.body)
    assert envelope["event"] == "ping" and envelope["timestamp"].endswith("Z")
    assert envelope["data"]["id"] == hook_id and "whsec_" not in ping.body.decode()

    log = owner.get(f"{URL}/{hook_id}")
    row = log.soup.select("#delivery-log tbody tr")[0].get_text(" ")
    assert "ping" in row and "Succeeded" in row and "HTTP 200" in row and "answer 200 to request 1" in row
    assert " ms" in row and log.soup.find(id="delivery-log").get("hx-trigger") is None
    assert audit_actions(tenant.company_id)[0] == "WebhookTestSent"


def test_a_failed_test_event_is_not_retried_and_does_not_count_towards_disabling(owner: Browser, tenant, stack,
                                                                                 receiver: Receiver) -> None:
    receiver.answers["/down"] = lambda _: 503
    hook = factories.webhook(tenant.company_id, receiver.url("/down"))
    owner.get(f"{URL}/{hook['id']}")
    owner.post(f"{URL}/{hook['id']}/test")
    assert run_deliveries(stack) == 1
    assert run_deliveries(stack) == 0  # nothing queued for a retry
    [delivery] = deliveries(tenant.company_id, hook["id"])
    assert (delivery["status"], delivery["attempts"][0]["statusCode"], delivery["nextRetryAt"]) == ("FAILED", 503, None)
    assert "failingSince" not in stored(tenant.company_id, hook["id"])
    row = owner.get(f"{URL}/{hook['id']}").soup.select("#delivery-log tbody tr")[0].get_text(" ")
    assert "Failed" in row and "HTTP 503" in row and "answer 503 to request 1" in row


def test_a_disabled_webhook_sends_no_test_event(owner: Browser, tenant, stack) -> None:
    hook = factories.webhook(tenant.company_id, active=False)
    owner.get(f"{URL}/{hook['id']}")
    refused = owner.post(f"{URL}/{hook['id']}/test")
    assert refused.status == 303
    assert "This webhook is disabled: enable it to send a test event." in owner.follow(refused).text
    assert deliveries(tenant.company_id, hook["id"]) == [] and run_deliveries(stack) == 0


def test_replay_of_a_failed_delivery_reaches_the_loopback_receiver(owner: Browser, tenant, stack,
                                                                   receiver: Receiver) -> None:
    from distribu.aws import client

    failing = {"on": True}
    receiver.answers["/erp"] = lambda _: 500 if failing["on"] else 200
    hook = factories.webhook(tenant.company_id, receiver.url("/erp"), events=["customer.created"])
    factories.customer(tenant.company_id, "new@buyer.test")
    [delivery_id] = factories.fanned_out(tenant.company_id, "customer.created")
    assert run_deliveries(stack) == 1
    [first] = receiver.wait_for("/erp", 1)
    client("sqs").purge_queue(QueueUrl=stack.queue_url("WebhookDeliveryQueue"))  # the retry is not due yet

    log = owner.get(f"{URL}/{hook['id']}")
    row = log.soup.select("#delivery-log tbody tr")[0].get_text(" ")
    assert "customer.created" in row and "Retrying" in row and "HTTP 500" in row and "answer 500 to request 1" in row
    [entry] = deliveries(tenant.company_id, hook["id"])
    assert entry["nextRetryAt"]
    from distribu.web.templating import datetime_

    assert datetime_(entry["nextRetryAt"]) in row

    failing["on"] = False
    replayed = owner.post(f"{URL}/{hook['id']}/deliveries/{delivery_id}/replay")
    assert replayed.status == 303 and "queued again" in owner.follow(replayed).text
    assert run_deliveries(stack) == 1
    first, second = receiver.wait_for("/erp", 2)
    assert second.headers["x-webhook-id"] == first.headers["x-webhook-id"] == delivery_id
    assert second.body == first.body and second.headers["x-webhook-signature"] == hex_hmac(hook["secret"], second.body)
    [entry] = deliveries(tenant.company_id, hook["id"])
    assert (entry["status"], entry["attemptCount"], entry["attempts"][-1]["statusCode"]) == ("SUCCEEDED", 2, 200)
    row = owner.get(f"{URL}/{hook['id']}").soup.select("#delivery-log tbody tr")[0].get_text(" ")
    assert "Succeeded" in row and "HTTP 200" in row
    assert audit_actions(tenant.company_id)[0] == "WebhookDeliveryReplayed"


def test_the_delivery_log_pages_newest_first(owner: Browser, tenant, stack) -> None:
    from distribu import webhooks

    hook = factories.webhook(tenant.company_id)
    for _ in range(webhooks.DELIVERY_PAGE_SIZE + 2):
        webhooks.send_test_event(tenant.company_id, hook["id"], factories.staff_actor())
    first = owner.get(f"{URL}/{hook['id']}")
    assert len(first.soup.select("#delivery-log tbody tr")) == webhooks.DELIVERY_PAGE_SIZE
    more = first.soup.find("a", rel="next")
    second = owner.get(more["href"])
    assert second.status == 200 and len(second.soup.select("#delivery-log tbody tr")) == 2
    assert owner.get(f"{URL}/{hook['id']}?cursor=rubbish").status == 400


# --- refusals: CSRF, roles, other companies ---------------------------------------------------------------

def test_forms_without_a_valid_csrf_token_are_refused_and_change_nothing(owner: Browser, tenant, stack) -> None:
    hook = factories.webhook(tenant.company_id)
    before = stored(tenant.company_id, hook["id"])
    owner.get(URL + "/new")
    for csrf in (None, "forged"):
        assert owner.post(URL, [("url", "https://x.example.com/"), ("events", "order.created")], csrf=csrf).status == 403
        for action in ("edit", "disable", "delete", "rotate", "test"):
            response = owner.post(f"{URL}/{hook['id']}/{action}", [("url", "https://x.example.com/"),
                                                                  ("events", "order.created")], csrf=csrf)
            assert response.status == 403 and "This form has expired" in response.text, action
    assert stored(tenant.company_id, hook["id"]) == before
    assert len(__import__("distribu").webhooks.list_webhooks(tenant.company_id)) == 1
    assert deliveries(tenant.company_id, hook["id"]) == [] and run_deliveries(stack) == 0


def test_a_member_gets_403_everywhere_and_nothing_changes(stack, tenant) -> None:
    from distribu import webhooks

    hook = factories.webhook(tenant.company_id, "http://127.0.0.1:9/member", events=["customer.created"])
    factories.customer(tenant.company_id, "m@buyer.test")
    [delivery_id] = factories.fanned_out(tenant.company_id, "customer.created")
    run_deliveries(stack)  # nothing listens on port 9: a failed delivery to replay
    factories.staff_member(tenant.company_id, "member@acme.test")
    member = signed_in(stack, "member@acme.test")
    before, log_before = stored(tenant.company_id, hook["id"]), deliveries(tenant.company_id, hook["id"])
    actions_before = audit_actions(tenant.company_id)
    for path in (URL, URL + "/new", f"{URL}/{hook['id']}", f"{URL}/{hook['id']}/edit", f"{URL}/{hook['id']}/delete",
                 f"{URL}/{hook['id']}/rotate"):
        response = member.get(path)
        assert response.status == 403, path
        assert "Only owners and admins can manage" in response.text and hook["url"] not in response.text
    posts = [(URL, [("url", "https://x.example.com/"), ("events", "order.created")])] + [
        (f"{URL}/{hook['id']}/{action}", [("url", "https://x.example.com/"), ("events", "order.created")])
        for action in ("edit", "disable", "enable", "delete", "rotate", "test")] + [
        (f"{URL}/{hook['id']}/deliveries/{delivery_id}/replay", [])]
    for path, data in posts:
        response = member.post(path, data)
        assert response.status == 403 and not SECRET.search(response.html), path
    assert stored(tenant.company_id, hook["id"]) == before
    assert len(webhooks.list_webhooks(tenant.company_id)) == 1
    assert deliveries(tenant.company_id, hook["id"]) == log_before and run_deliveries(stack) == 0
    assert audit_actions(tenant.company_id) == actions_before


def test_an_admin_manages_webhooks(stack, tenant) -> None:
    factories.staff_member(tenant.company_id, "admin@acme.test", role="ADMIN")
    admin = signed_in(stack, "admin@acme.test")
    _, secret = create_through_page(admin, "https://erp.example.com/hooks", ["order.created"])
    assert stored(tenant.company_id, hook_id_of(tenant.company_id))["secret"] == secret


def test_a_demoted_admin_cannot_act_on_the_role_the_session_still_says(stack, tenant) -> None:
    """The role is checked again inside each transaction: an admin demoted between reading the page and
    submitting changes nothing."""
    from distribu import webhooks
    from distribu.errors import Forbidden

    factories.staff_member(tenant.company_id, "admin@acme.test", role="ADMIN")
    admin = factories.staff_of(tenant.company_id, "admin@acme.test")
    hook = factories.webhook(tenant.company_id)
    from distribu import dynamo, keys

    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(keys.company(tenant.company_id), keys.member_sk(admin.user_id)),
        UpdateExpression="SET #r = :m", ExpressionAttributeNames={"#r": "role"},
        ExpressionAttributeValues={":m": {"S": "MEMBER"}})
    before = stored(tenant.company_id, hook["id"])
    for attempt in (lambda: webhooks.rotate_for_staff(admin, hook["id"]),
                    lambda: webhooks.set_active_for_staff(admin, hook["id"], False),
                    lambda: webhooks.delete_for_staff(admin, hook["id"]),
                    lambda: webhooks.send_test_event_for_staff(admin, hook["id"]),
                    lambda: webhooks.create_for_staff(admin, url="https://y.example.com/", events=["order.created"])):
        with pytest.raises(Forbidden):
            attempt()
    assert stored(tenant.company_id, hook["id"]) == before and len(webhooks.list_webhooks(tenant.company_id)) == 1


def test_another_companys_webhooks_and_deliveries_are_not_found(owner: Browser, tenant, other_tenant, stack) -> None:
    theirs = factories.webhook(other_tenant.company_id, "http://127.0.0.1:9/globex", events=["customer.created"])
    factories.customer(other_tenant.company_id, "theirs@buyer.test")
    [their_delivery] = factories.fanned_out(other_tenant.company_id, "customer.created")
    run_deliveries(stack)
    ours = factories.webhook(tenant.company_id)
    before, their_log = stored(other_tenant.company_id, theirs["id"]), deliveries(other_tenant.company_id, theirs["id"])
    owner.get(URL)
    for path in (f"{URL}/{theirs['id']}", f"{URL}/{theirs['id']}/edit", f"{URL}/{theirs['id']}/delete",
                 f"{URL}/{theirs['id']}/rotate"):
        response = owner.get(path)
        assert response.status == 404 and theirs["url"] not in response.text, path
    for action in ("edit", "disable", "enable", "delete", "rotate", "test"):
        response = owner.post(f"{URL}/{theirs['id']}/{action}", [("url", "https://x.example.com/"),
                                                                ("events", "order.created")])
        assert response.status == 404, action
    for path in (f"{URL}/{theirs['id']}/deliveries/{their_delivery}/replay",
                 f"{URL}/{ours['id']}/deliveries/{their_delivery}/replay",
                 f"{URL}/{ours['id']}/deliveries/not-a-delivery/replay"):
        assert owner.post(path).status == 404, path
    assert owner.get(f"{URL}/01hzzzzzzzzzzzzzzzzzzzzzzz").status == 404
    assert stored(other_tenant.company_id, theirs["id"]) == before
    assert deliveries(other_tenant.company_id, theirs["id"]) == their_log and run_deliveries(stack) == 0
    assert theirs["url"] not in owner.get(URL).text


def test_the_api_replay_is_audited_too(tenant, stack) -> None:
    from tests.conftest import call_api

    hook = factories.webhook(tenant.company_id, events=["customer.created"])
    factories.customer(tenant.company_id, "api@buyer.test")
    [delivery_id] = factories.fanned_out(tenant.company_id, "customer.created")
    response = call_api("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery_id}/replay", key=tenant.key)
    assert response.status == 202 and response.body["data"]["status"] == "PENDING"
    assert audit_actions(tenant.company_id)[0] == "WebhookDeliveryReplayed"
    call_api("PATCH", f"/api/v1/webhooks/{hook['id']}", key=tenant.key, json_body={"isActive": False})
    refused = call_api("POST", f"/api/v1/webhooks/{hook['id']}/deliveries/{delivery_id}/replay", key=tenant.key)
    assert (refused.status, refused.body) == (422, {"error": "This webhook is disabled: enable it to replay a delivery."})


def test_the_log_stops_refreshing_itself_when_a_pending_delivery_is_not_being_worked(owner: Browser, tenant,
                                                                                    monkeypatch) -> None:
    from datetime import timedelta

    from distribu import clock, webhooks

    hook = factories.webhook(tenant.company_id)
    now = clock.now()
    monkeypatch.setattr(clock, "now", lambda: now - timedelta(minutes=3))
    webhooks.send_test_event(tenant.company_id, hook["id"], factories.staff_actor())
    monkeypatch.undo()
    page = owner.get(f"{URL}/{hook['id']}")
    assert "Pending" in page.text and page.soup.find(id="delivery-log").get("hx-trigger") is None


def test_a_replay_that_could_not_be_queued_leaves_the_log_as_it_was(tenant, stack, monkeypatch) -> None:
    from distribu import webhook_delivery, webhooks

    hook = factories.webhook(tenant.company_id, "http://127.0.0.1:9/down", events=["customer.created"])
    factories.customer(tenant.company_id, "q@buyer.test")
    [delivery_id] = factories.fanned_out(tenant.company_id, "customer.created")
    run_deliveries(stack)
    [before] = deliveries(tenant.company_id, hook["id"])

    def queue_down(messages):
        raise RuntimeError("could not queue 1 deliveries")

    monkeypatch.setattr(webhook_delivery, "enqueue", queue_down)
    with pytest.raises(RuntimeError):
        webhooks.replay_for_staff(factories.staff_of(tenant.company_id), hook["id"], delivery_id)
    [after] = deliveries(tenant.company_id, hook["id"])
    assert (after["status"], after["nextRetryAt"]) == (before["status"], before["nextRetryAt"])
    assert before["status"] == "RETRYING" and before["nextRetryAt"]


def test_the_audit_log_says_what_was_done_in_words(owner: Browser, tenant, stack) -> None:
    from distribu import audit, audit_text

    hook = factories.webhook(tenant.company_id, "http://127.0.0.1:9/words", events=["customer.created"])
    factories.customer(tenant.company_id, "w@buyer.test")
    [delivery_id] = factories.fanned_out(tenant.company_id, "customer.created")
    owner.get(f"{URL}/{hook['id']}")
    owner.post(f"{URL}/{hook['id']}/test")
    owner.post(f"{URL}/{hook['id']}/deliveries/{delivery_id}/replay")
    owner.post(f"{URL}/{hook['id']}/rotate")
    owner.post(f"{URL}/{hook['id']}/delete")
    said = [audit_text.describe(entry) for entry in audit.list_entries(tenant.company_id, limit=4)]
    assert [text.split(" (staff) ", 1)[-1] for text in said] == [
        "deleted the webhook http://127.0.0.1:9/words",
        "rotated the signing secret of the webhook http://127.0.0.1:9/words",
        "replayed a customer.created delivery to the webhook http://127.0.0.1:9/words",
        "sent a test event to the webhook http://127.0.0.1:9/words"], said
