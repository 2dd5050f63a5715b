"""Staff and their customers in a real browser against the local stack: the customers list and a customer's
page, and blocking a customer signs its buyer out of the storefront at once."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningStack, Shots, sign_in_staff, unique

BUYER_PASSWORD = "buyer-password-1"


def test_the_customers_list_and_a_customers_page(page: Page, local_stack: RunningStack, shots: Shots) -> None:
    sign_in_staff(page, local_stack)
    page.get_by_role("link", name="Customers").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Add customer"))).to_have_count(0)
    expect(page.locator("a[href=\"/dashboard/customers/import\"]")).to_have_text("Import CSV")
    expect(page.locator("a[href=\"/dashboard/customers/export\"]")).to_have_text("Export CSV")
    shots("customers-list")
    page.get_by_label("Search email or name").fill("northwind")
    page.get_by_role("button", name="Filter").click()
    page.get_by_role("link", name="Northwind Traders").click()
    expect(page.get_by_role("heading", name=re.compile("Northwind Traders"))).to_be_visible()
    expect(page.locator(".stat", has_text="Total orders")).to_contain_text("3")
    expect(page.locator("#pricing tbody tr").first).to_contain_text("%")
    expect(page.locator("#contacts")).to_contain_text("nancy@northwind.test")
    expect(page.locator("#orders tbody tr")).to_have_count(3)
    shots("customer-page")


def test_blocking_a_customer_ends_its_storefront_session(page: Page, browser: Any, local_stack: RunningStack,
                                                         shots: Shots) -> None:
    store = f"{local_stack.url}/store/{local_stack.demo['slug']}"
    email = f"{unique('blocked-buyer')}@buyers.test"
    buyer = browser.new_context(viewport={"width": 1366, "height": 900}).new_page()
    try:
        buyer.goto(f"{store}/register")
        buyer.get_by_label("Business or contact name").fill("Soon Blocked Ltd")
        buyer.get_by_label("Email").fill(email)
        buyer.get_by_label("Password").fill(BUYER_PASSWORD)
        buyer.get_by_role("button", name="Create account").click()
        expect(buyer.get_by_role("heading", name="Catalog")).to_be_visible()
        buyer.screenshot(path=str(shots.folder / "00-buyer-signed-in.png"), full_page=True)

        sign_in_staff(page, local_stack)
        page.goto(f"{local_stack.url}/dashboard/customers?q={email}")
        page.get_by_role("link", name="Soon Blocked Ltd").click()
        expect(page.locator("h1")).to_contain_text("Active")
        shots("customer-active")
        page.once("dialog", lambda dialog: dialog.accept())
        page.get_by_role("button", name="Block customer").click()
        expect(page.get_by_text(re.compile(rf"{re.escape(email)} is blocked: they and their contacts were signed out"))).to_be_visible()
        expect(page.locator("h1")).to_contain_text("Blocked")
        expect(page.get_by_role("button", name="Activate customer")).to_be_visible()
        shots("customer-blocked")

        buyer.reload()  # the buyer's next page
        expect(buyer.get_by_role("heading", name="Sign in")).to_be_visible()
        assert "/login" in buyer.url
        buyer.screenshot(path=str(shots.folder / "98-buyer-signed-out.png"), full_page=True)
        buyer.get_by_label("Email").fill(email)
        buyer.get_by_label("Password").fill(BUYER_PASSWORD)
        buyer.get_by_role("button", name="Sign in").click()
        expect(buyer.get_by_text("Your account has been suspended. Please contact the store for details.")).to_be_visible()
        buyer.screenshot(path=str(shots.folder / "99-buyer-suspended.png"), full_page=True)

        page.get_by_role("button", name="Activate customer").click()
        expect(page.get_by_text(re.compile("is active again"))).to_be_visible()
        shots("customer-active-again")
    finally:
        buyer.context.close()
