"""An owner's journey through the settings in a real browser against the local stack: create an API key in
the dashboard, copy it, call the REST API with it, see its last use, revoke it (the API then refuses it), and
find both in the audit log."""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningStack, Shots, unique

OWNER_EMAIL = "owner@demo.test"
OWNER_PASSWORD = "demo-password-1"


def call_api(stack: RunningStack, key: str, path: str) -> tuple[int, Any]:
    request = urllib.request.Request(stack.url + "/api/v1" + path, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_create_an_api_key_call_the_api_with_it_and_revoke_it(page: Page, local_stack: RunningStack,
                                                              shots: Shots) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=local_stack.url)
    page.goto(f"{local_stack.url}/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.locator("header.topbar").get_by_role("link", name="Settings", exact=True).click()
    expect(page.get_by_role("heading", name="Settings")).to_be_visible()
    shots("settings-index")
    page.get_by_role("link", name=re.compile("^API keys")).click()
    expect(page.get_by_role("heading", name="API keys", exact=True)).to_be_visible()
    expect(page.get_by_role("checkbox", name=re.compile("^products:read"))).to_be_checked()
    name = unique("Browser ERP")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_role("checkbox", name=re.compile("^orders:read")).check()
    page.get_by_label("Expires after").fill("2099-12-31")
    shots("create-form")
    page.get_by_role("button", name="Create key").click()

    expect(page.get_by_role("heading", name=f"Key “{name}” created")).to_be_visible()
    key = page.locator("#new-key").inner_text().strip()
    assert re.fullmatch(r"dk_[A-Za-z0-9_-]{43}", key)
    page.get_by_role("button", name="Copy", exact=True).click()
    expect(page.get_by_role("button", name="Copied", exact=True)).to_be_visible()
    assert page.evaluate("navigator.clipboard.readText()") == key
    shots("key-shown-once")

    status, body = call_api(local_stack, key, "/products?limit=2")
    assert status == 200 and len(body["data"]) == 2
    status, body = call_api(local_stack, key, "/customers")
    assert status == 403 and body == {"error": 'Insufficient permissions. This key lacks the "customers:read" scope.'}

    page.get_by_role("button", name="I have copied it, back to API keys").click()
    row = page.locator("tbody tr", has_text=name)
    expect(row).to_contain_text("Active")
    expect(row).to_contain_text("products:read")
    expect(row).not_to_contain_text("Never")  # used a moment ago; it expires in 2099
    assert key not in page.content()
    shots("listed-and-used")

    row.get_by_role("button", name="Revoke…").click()
    expect(page.get_by_role("heading", name=f"Revoke “{name}”?")).to_be_visible()
    shots("revoke-confirmation")
    page.get_by_role("button", name="Revoke the key").click()
    expect(page.get_by_text(re.compile(f"The key “{re.escape(name)}” .* is revoked"))).to_be_visible()
    expect(page.locator("tbody tr", has_text=name)).to_contain_text("Revoked")
    shots("revoked")
    status, body = call_api(local_stack, key, "/products")
    assert status == 401 and body == {"error": "Invalid, expired, or revoked API key."}

    page.locator("header.topbar").get_by_role("link", name="Settings", exact=True).click()
    page.get_by_role("link", name=re.compile("^Audit log")).click()
    page.get_by_label("Entity type").select_option("ApiKey")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text(re.compile(f"revoked the API key “{re.escape(name)}”"))).to_be_visible()
    created = page.locator("ul.audit-entries > li", has_text=f"created the API key “{name}”")
    expect(created).to_be_visible()
    created.get_by_text("Details").click()
    expect(created.locator("pre")).to_contain_text("orders:read")
    shots("audit-log")


def test_company_settings_show_each_problem_in_place_and_deletion_explains_itself(
        page: Page, local_stack: RunningStack, shots: Shots) -> None:
    """Nothing is saved here (the demo company is shared by every browser test): bad input, and the deletion
    page up to its confirmation."""
    page.goto(f"{local_stack.url}/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{local_stack.url}/dashboard/settings/company")
    expect(page.get_by_label("Storefront address (slug)")).to_have_value("demo-distributors")
    expect(page.get_by_text("Changing the slug changes every storefront link")).to_be_visible()
    shots("company-form")
    page.get_by_label("Tax rate (%)").fill("45")
    page.get_by_label("API rate limit per key (requests a minute)").fill("10")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Tax rate must be between 0 and 30 %.")).to_be_visible()
    expect(page.get_by_text("Rate limit must be between 60 and 10,000.")).to_be_visible()
    expect(page.get_by_label("Tax rate (%)")).to_have_value("45")
    shots("company-form-errors")
    page.get_by_role("button", name="Delete Demo Distributors…").click()
    expect(page.get_by_role("heading", name="Delete Demo Distributors")).to_be_visible()
    page.get_by_label(re.compile("Type the company name")).fill("demo distributors")
    page.get_by_role("button", name="Delete Demo Distributors for good").click()
    expect(page.get_by_text("Type the company's name exactly as shown to confirm.")).to_be_visible()
    shots("delete-refused")
    status, _ = call_api(local_stack, local_stack.demo["apiKey"], "/products?limit=1")
    assert status == 200  # still there
