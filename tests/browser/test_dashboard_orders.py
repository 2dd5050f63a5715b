"""Staff journeys through the dashboard's orders, in a real browser against the local stack's demo company."""

from __future__ import annotations

import re
import time
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningStack, Shots, unique

OWNER_EMAIL, OWNER_PASSWORD = "owner@demo.test", "demo-password-1"


def readme_copy(shot: Path, target: Path) -> None:
    """The README's screenshot of an order page, in 128 colours (a third of the size, looks the same). Tests
    never write into the repository: a person copies it to docs/screenshots/ after looking at it."""
    from PIL import Image

    Image.open(shot).convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def staff_sign_in(page: Page, stack: RunningStack) -> None:
    page.goto(f"{stack.url}/login")
    page.get_by_label("Email").fill(OWNER_EMAIL)
    page.get_by_label("Password").fill(OWNER_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Orders", exact=True)).to_be_visible()


def search_picker(page: Page, text: str, name: str) -> None:
    """Type into the picker's search (htmx swaps the rows in as you type), retried until the catalog index
    has caught up with a product just created."""
    deadline = time.monotonic() + 15
    search = page.get_by_label("Search active, in-stock products")
    while True:
        search.fill(text)
        try:
            expect(page.locator("#picker .product-row", has_text=name)).to_be_visible(timeout=1500)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            search.fill("")


def test_place_an_order_for_a_customer_at_its_price_ship_it_and_download_the_invoice(
        page: Page, local_stack: RunningStack, shots: Shots) -> None:
    product = local_stack.api("POST", "/products", {"name": unique("Gate Valve"), "sku": unique("VLV"),
                                                     "category": "Plumbing", "price": 24.0, "stock": 50})["data"]
    email = f"{unique('harbour')}@buyers.test"
    customer = local_stack.api("POST", "/customers", {"email": email, "name": "Harbour Fittings"})["data"]
    local_stack.api("PUT", f"/customers/{customer['id']}/prices/{product['id']}", {"price": 19.5})

    staff_sign_in(page, local_stack)
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("heading", name="Orders")).to_be_visible()
    shots("orders-list")
    page.get_by_role("button", name="New order").click()  # a link styled as a button
    page.get_by_label("Find a customer").fill(email)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("button", name="Order for Harbour Fittings").click()
    expect(page.get_by_text("Prices are now this customer's.")).to_be_visible()
    search_picker(page, product["sku"], product["name"])
    row = page.locator("#picker .product-row", has_text=product["name"])
    expect(row.locator(".price")).to_contain_text("$19.50")  # the customer's price...
    expect(row.locator(".price .was")).to_have_text("$24.00")  # ...beside the catalog's, struck
    shots("picker-customer-price")
    row.get_by_label(re.compile("Quantity of .* to add")).fill("3")
    row.get_by_role("button", name=re.compile("Add")).click()
    lines = page.locator("#lines")
    expect(lines).to_contain_text(product["name"])
    expect(lines).to_contain_text("$58.50")  # 3 x 19.50
    lines.get_by_label("PO number").fill("PO-BROWSER-DASH")
    shots("order-ready")
    lines.get_by_role("button", name="Place order").click()
    expect(page.get_by_text(re.compile(r"Order #\w{8} is placed: \$58\.50 before tax\."))).to_be_visible()
    expect(page.get_by_role("cell", name="$19.50")).to_be_visible()
    expect(page.get_by_text("Harbour Fittings").first).to_be_visible()
    shots("order-placed")

    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_text(re.compile(r"is now Confirmed\."))).to_be_visible()
    page.get_by_role("button", name="Mark as shipped").click()
    expect(page.get_by_text(re.compile(r"is now Shipped\."))).to_be_visible()
    expect(page.locator("h1 .badge")).to_have_text("Shipped")
    expect(page.get_by_role("button", name="Mark as delivered")).to_be_visible()
    expect(page.get_by_role("button", name="Confirm")).to_have_count(0)
    expect(page.locator("ol.timeline li")).to_have_count(3)
    shot = shots("order-shipped")
    readme_copy(shot, shot.with_name("readme-dashboard-order.png"))  # docs/screenshots/ takes a copy by hand

    with page.expect_download() as download:
        page.get_by_role("button", name="Download invoice (PDF)").click()  # a link styled as a button
    assert re.fullmatch(r"invoice-\w{8}\.pdf", download.value.suggested_filename)
    assert download.value.path().read_bytes().startswith(b"%PDF")
    assert local_stack.api("GET", f"/products/{product['id']}")["data"]["stock"] == 47

    page.get_by_role("link", name="Orders", exact=True).first.click()
    page.get_by_label("Search").fill("PO-BROWSER-DASH")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("table.orders-table tbody tr")).to_have_count(1)
    expect(page.locator("table.orders-table .badge")).to_have_text("Shipped")
    shots("orders-filtered")
