"""The demo company's owner adds a webhook to a receiver on 127.0.0.1, sends it a test event and sees it in the
delivery log (which refreshes itself while the delivery is pending), in a real browser against the local
stack: the page, the delivery queue, the dispatcher and a real HTTP POST."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningStack, Shots, unique
from tests.webhook_receiver import Receiver

OWNER_EMAIL, OWNER_PASSWORD = "owner@demo.test", "demo-password-1"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def sign_in_as_owner(page: Page, stack: RunningStack) -> None:
    page.goto(f"{stack.url}/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Settings")).to_be_visible()


def test_add_a_webhook_send_a_test_event_and_see_it_in_the_delivery_log(page: Page, local_stack: RunningStack,
                                                                          shots: Shots, receiver: Receiver) -> None:
    path = "/" + unique("browser-hook")
    sign_in_as_owner(page, local_stack)
    page.goto(f"{local_stack.url}/dashboard/settings/webhooks")
    expect(page.get_by_role("heading", name="Webhooks", exact=True)).to_be_visible()
    shots("webhooks-list")

    page.get_by_role("button", name="Add a webhook").first.click()
    page.get_by_role("button", name="Add webhook").click()  # nothing filled in: each message under its field
    expect(page.locator("#url-error")).to_have_text("Enter the URL that should receive the events.")
    expect(page.locator("#events-error")).to_have_text("Choose at least one event.")
    shots("form-errors")

    page.get_by_label("Endpoint URL").fill(receiver.url(path))
    page.get_by_role("checkbox", name=re.compile(r"order\.created")).check()
    page.get_by_role("checkbox", name=re.compile(r"order\.shipped")).check()
    shots("form-filled")
    page.get_by_role("button", name="Add webhook").click()
    expect(page.get_by_role("heading", name="Webhook added")).to_be_visible()
    secret = page.locator("#signing-secret").inner_text().strip()
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{32}", secret)
    shots("secret-shown-once")

    page.get_by_role("button", name="I have copied it, go to the webhook").click()
    expect(page.locator("h1")).to_have_text(receiver.url(path))
    assert secret not in page.content()
    page.get_by_role("button", name="Send test event").click()
    expect(page.get_by_text("Test event sent")).to_be_visible()
    shots("test-event-sent")

    row = page.locator("#delivery-log tbody tr").first
    expect(row).to_contain_text("ping", timeout=20_000)
    expect(row).to_contain_text("Succeeded", timeout=20_000)  # the log refreshes itself: no reload
    expect(row).to_contain_text("HTTP 200")
    [ping] = receiver.wait_for(path, 1)
    assert ping.headers["x-webhook-event"] == "ping"
    assert ping.headers["x-webhook-signature"] == hmac.new(secret.encode(), ping.body, hashlib.sha256).hexdigest()
    assert json.loads(ping.body)["event"] == "ping"
    row.locator("summary").click()
    expect(row).to_contain_text("answer 200 to request 1")
    shots("delivery-log")

    receiver.answers[path] = lambda nth: 500 if nth == 2 else 200  # the second test event fails
    page.get_by_role("button", name="Send test event").click()
    failed = page.locator("#delivery-log tbody tr").first
    expect(failed).to_contain_text("Failed", timeout=20_000)
    expect(failed).to_contain_text("HTTP 500")
    shots("test-event-failed")
    failed.get_by_role("button", name=re.compile("^Replay")).click()
    expect(page.get_by_text("queued again")).to_be_visible()
    replayed = page.locator("#delivery-log tbody tr").first
    expect(replayed).to_contain_text("Succeeded", timeout=20_000)
    expect(replayed.locator("td").nth(3)).to_have_text("2")  # two attempts: the failure, then the replay
    replayed.locator("summary").click()
    expect(replayed).to_contain_text("answer 500 to request 2")
    expect(replayed).to_contain_text("answer 200 to request 3")
    first, second, third = receiver.wait_for(path, 3)
    assert second.headers["x-webhook-id"] == third.headers["x-webhook-id"] != first.headers["x-webhook-id"]
    shots("replayed")

    page.get_by_role("button", name="Rotate secret").click()  # a link to the confirmation, styled as a button
    expect(page.get_by_role("heading", name="Rotate the signing secret?")).to_be_visible()
    page.get_by_role("button", name="Rotate secret").click()
    expect(page.get_by_role("heading", name="New signing secret")).to_be_visible()
    new_secret = page.locator("#signing-secret").inner_text().strip()
    assert new_secret != secret
    page.get_by_role("button", name="I have copied it, go to the webhook").click()
    expect(page.get_by_text(re.compile(r"Secret rotated\. Until .* UTC every delivery is signed with both"))).to_be_visible()
    shots("rotated")

    page.get_by_role("link", name="Webhooks", exact=True).click()
    listed = page.locator("tr", has_text=receiver.url(path))
    expect(listed).to_contain_text("Active")
    expect(listed).to_contain_text("Rotated: the previous one also signs until")
    shots("list-with-the-webhook")
