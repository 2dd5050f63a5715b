"""The demo owner runs the inventory in a real browser against the local stack: adds a product and finds it on
the storefront, then selects rows and adjusts their stock in bulk."""

from __future__ import annotations

import re
import time
from typing import Any, Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningStack, Shots, unique

OWNER = ("owner@demo.test", "demo-password-1")
BUYER = ("buyer@northwind.test", "demo-buyer-1")


def staff_sign_in(page: Page, stack: RunningStack) -> None:
    page.goto(f"{stack.url}/login")
    page.get_by_label("Email").fill(OWNER[0])
    page.get_by_label("Password").fill(OWNER[1])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Inventory")).to_be_visible()


def until(check: Callable[[], bool], reload: Callable[[], Any], seconds: float = 15) -> None:
    """The list and the storefront read the catalog index, which follows the table's stream: a new product
    shows within a moment. Reload until it does."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "the catalog index did not catch up"
        time.sleep(0.3)
        reload()


def test_add_a_product_and_see_it_on_the_storefront(page: Page, local_stack: RunningStack, shots: Shots) -> None:
    name, sku = unique("Browser Anchor"), unique("BRA")
    staff_sign_in(page, local_stack)
    page.get_by_role("link", name="Inventory").click()
    expect(page.get_by_role("heading", name="Inventory")).to_be_visible()
    shots("inventory")
    page.get_by_role("button", name="Add product").click()  # a link that looks like a button
    expect(page.get_by_role("heading", name="Add product")).to_be_visible()
    page.get_by_role("button", name="Add product").click()  # empty: every required field says what it needs
    expect(page.locator("#name-error")).to_have_text("String should have at least 1 character.")
    expect(page.locator("#price-error")).to_have_text("This field is required.")
    shots("add-errors")
    page.get_by_label("Name", exact=True).fill(name)
    page.get_by_label("SKU").fill(sku)
    page.get_by_label("Category").fill("Fasteners")
    page.get_by_label("Description").fill("Zinc plated anchor for concrete.")
    page.get_by_label("Price ($)").fill("2.40")
    page.get_by_label("Unit").select_option("box")
    page.get_by_label("Stock", exact=True).fill("3")
    page.get_by_label("Low-stock threshold").fill("10")
    shots("add-filled")
    page.get_by_role("button", name="Add product").click()
    expect(page.get_by_text(f"Added {name}. It is on the storefront now.")).to_be_visible()
    expect(page.get_by_role("link", name="Upload or change image")).to_be_visible()
    shots("added-edit-page")

    page.goto(f"{local_stack.url}/dashboard/inventory?q={sku}")
    until(lambda: page.get_by_role("link", name=name).count() > 0, page.reload)
    stock_cell = page.locator("table.inventory tbody tr", has_text=name).locator("td").nth(6)
    expect(stock_cell).to_have_class(re.compile("cell-low"))  # 3 <= its threshold of 10
    shots("in-the-list")

    buyer = page.context.browser.new_page()
    buyer.goto(f"{local_stack.url}/store/demo-distributors/login")
    buyer.get_by_label("Email").fill(BUYER[0])
    buyer.get_by_label("Password").fill(BUYER[1])
    buyer.get_by_role("button", name="Sign in").click()
    buyer.goto(f"{local_stack.url}/store/demo-distributors/catalog?q={sku}")
    until(lambda: buyer.locator(".product-row", has_text=name).count() > 0, buyer.reload)
    row = buyer.locator(".product-row", has_text=name)
    expect(row).to_contain_text("$2.40")
    expect(row).to_contain_text("Only 3 left")
    Shots(buyer, "test_add_a_product_and_see_it_on_the_storefront-buyer")("storefront")
    buyer.close()


def test_select_rows_and_adjust_their_stock_in_bulk(page: Page, local_stack: RunningStack, shots: Shots) -> None:
    tag = unique("Bulk")
    made = [local_stack.api("POST", "/products", {"name": f"{tag} {letter}", "sku": f"{tag}-{letter}",
                                                   "category": "Bulk test", "price": 1.5, "stock": stock})["data"]
            for letter, stock in (("A", 30), ("B", 4), ("C", 12))]
    staff_sign_in(page, local_stack)
    page.goto(f"{local_stack.url}/dashboard/inventory?q={tag}&sort=sku")
    until(lambda: page.locator("table.inventory tbody tr").count() == 3, page.reload)
    shots("three-rows")
    page.get_by_label(f"Select {tag} A").check()
    page.get_by_label(f"Select {tag} B").check()
    page.get_by_label("Action").select_option("delta")
    page.get_by_label("Amount").fill("-10")
    shots("selected")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("Stock changed by -10 for 2 products. 1 would have gone below 0 and is now 0.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"q=" + re.escape(tag)))
    shots("delta-applied")
    stocks = {product["sku"]: local_stack.api("GET", f"/products/{product['id']}")["data"]["stock"] for product in made}
    assert stocks == {f"{tag}-A": 20, f"{tag}-B": 0, f"{tag}-C": 12}

    page.get_by_label("Select every product on this page").check()  # select all (distribu.js)
    expect(page.get_by_label(f"Select {tag} C")).to_be_checked()
    page.get_by_label("Action").select_option("set")
    page.get_by_label("Amount").fill("100")
    page.get_by_role("button", name="Apply to selected").click()
    expect(page.get_by_text("Stock set to 100 for 3 products.")).to_be_visible()
    until(lambda: page.locator("td.cell-out, td.cell-low").count() == 0, page.reload)
    shots("set-applied")
    page.set_viewport_size({"width": 1366, "height": 860})
    page.goto(f"{local_stack.url}/dashboard/inventory?category=Electrical")  # the demo's: out and low stock
    shots.folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots.folder / "readme-dashboard-inventory.png"))  # docs/screenshots/ takes a copy
