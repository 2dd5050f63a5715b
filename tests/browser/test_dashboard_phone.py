"""The dashboard's busiest pages on a phone (390 px wide) and on a desktop, in a real browser against the local
stack's demo company: nothing widens the page, and a screenshot of each at both widths to look at. Also a
MEMBER's top bar, which offers only what their role may open."""

from __future__ import annotations

import re
import time
from typing import Any, Callable

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningStack, Shots, sign_in_staff, unique

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def page_width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def assert_fits(page: Page, width: int) -> None:
    """Nothing on the page is wider than the window (a table scrolls inside its own box)."""
    assert page_width(page) <= width, f"the page is {page_width(page)} px wide in a {width} px window"


def open_orders(page: Page, stack: RunningStack) -> None:
    page.goto(f"{stack.url}/dashboard/orders")
    expect(page.get_by_role("heading", name="Orders", exact=True)).to_be_visible()
    expect(page.locator(".export-form button").first).to_be_visible()


def open_reports(page: Page, stack: RunningStack) -> None:
    """The rollups follow the table's stream: the demo's orders reach the chart within moments of the start."""
    deadline = time.monotonic() + 20
    while True:
        page.goto(f"{stack.url}/dashboard/reports")
        if page.locator("svg.chart rect.chart-bar").count() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(500)
    expect(page.locator("svg.chart rect.chart-bar").first).to_be_attached()


def open_inventory(page: Page, stack: RunningStack) -> None:
    page.goto(f"{stack.url}/dashboard/inventory")
    expect(page.get_by_role("heading", name="Inventory", exact=True)).to_be_visible()
    expect(page.locator("table.inventory tbody tr").first).to_be_visible()


def open_customer(page: Page, stack: RunningStack) -> None:
    page.goto(f"{stack.url}/dashboard/customers?q=northwind")
    page.get_by_role("link", name="Northwind Traders").click()
    expect(page.get_by_role("heading", name=re.compile("Northwind Traders"))).to_be_visible()
    expect(page.locator("#pricing")).to_be_visible()
    expect(page.get_by_role("navigation", name="Breadcrumb").get_by_role("link")).to_have_text(["Customers"])


def open_api_keys(page: Page, stack: RunningStack) -> None:
    """A page deeper in an area, for its breadcrumb ("Settings /")."""
    page.goto(f"{stack.url}/dashboard/settings/api-keys")
    expect(page.get_by_role("navigation", name="Breadcrumb")).to_have_text(re.compile(r"^\s*Settings\s*$"))


PAGES: dict[str, Callable[[Page, RunningStack], None]] = {
    "orders-list": open_orders, "reports": open_reports, "inventory-list": open_inventory,
    "customer-detail": open_customer, "api-keys": open_api_keys,
}


@pytest.mark.parametrize("name", list(PAGES))
def test_the_page_fits_a_phone_and_a_desktop(name: str, page: Page, local_stack: RunningStack,
                                             shots: Shots) -> None:
    sign_in_staff(page, local_stack)
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        PAGES[name](page, local_stack)
        page.wait_for_load_state("networkidle")
        assert_fits(page, viewport["width"])
        shots(f"{name}-{label}")


def test_the_phone_layouts_hold_their_pieces(page: Page, local_stack: RunningStack, shots: Shots) -> None:
    """What the visual review found, held: on a phone the orders' export buttons stack inside the page, the
    inventory's product names keep a readable width, the chart's labels do not overlap, and the custom price
    form's button sits level with its inputs."""
    sign_in_staff(page, local_stack)
    page.set_viewport_size(PHONE)

    open_orders(page, local_stack)
    for button in page.locator(".export-form button").all():
        box: Any = button.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    shots("orders-export")

    open_inventory(page, local_stack)
    name_cell: Any = page.locator("table.inventory tbody tr td.name").first.bounding_box()
    assert name_cell["width"] >= 140, name_cell  # a product's name reads on a line or two, not letter by letter
    shots("inventory")

    open_reports(page, local_stack)
    for preset in ("month", "year", "all"):
        page.goto(f"{local_stack.url}/dashboard/reports?preset={preset}")
        expect(page.locator("svg.chart")).to_be_visible()
        x_labels = [box for box in (label.bounding_box() for label in
                                    page.locator("svg.chart g.chart-x text.chart-label").all()) if box]
        y_labels = [box for box in (label.bounding_box() for label in
                                    page.locator("svg.chart g.chart-grid text.chart-label").all()) if box]
        assert x_labels and y_labels, preset
        x_labels.sort(key=lambda box: box["x"])
        for left, right in zip(x_labels, x_labels[1:]):
            assert left["x"] + left["width"] + 4 <= right["x"], (preset, left, right)  # the dates never overlap
        assert min(box["height"] for box in x_labels + y_labels) >= 9, preset  # readable, not shrunk
        assert min(box["x"] for box in x_labels + y_labels) >= 0, preset  # none cut off at the left
        shots(f"reports-chart-{preset}")

    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        page.set_viewport_size(viewport)
        open_customer(page, local_stack)
        form = page.locator("form.price-add")
        form.scroll_into_view_if_needed()
        button: Any = form.get_by_role("button", name="Add price").bounding_box()
        field: Any = form.get_by_label("Custom price").bounding_box()
        if label == "phone":  # one column: the button under the inputs, on their left edge
            assert abs(button["x"] - field["x"]) <= 1 and button["y"] >= field["y"] + field["height"], (button, field)
        else:  # one row: the button level with the inputs, as tall as they are
            assert abs(button["y"] - field["y"]) <= 1 and abs(button["height"] - field["height"]) <= 1, (button, field)
        shots(f"customer-price-form-{label}")


def test_a_members_top_bar_offers_their_profile_not_settings(page: Page, browser: Any, local_stack: RunningStack,
                                                            shots: Shots) -> None:
    email = f"{unique('member')}@demo.test"
    sign_in_staff(page, local_stack)
    page.goto(f"{local_stack.url}/dashboard/settings/team")
    page.get_by_label("Email").fill(email)
    page.locator("form", has=page.get_by_label("Email")).get_by_role("button").click()
    expect(page.get_by_text(email).first).to_be_visible()
    link = local_stack.link_in_mail(email, r"http://[^\s\"]+/invite/[\w-]+")

    member = browser.new_context(viewport=DESKTOP).new_page()
    try:
        member.goto(link)
        member.get_by_label("Your name").fill("Max Member")
        member.get_by_label("Choose a password").fill("member-password-1")
        member.get_by_role("button", name="Create account and join").click()
        nav = member.get_by_role("navigation", name="Dashboard").locator("ul.desk-nav")
        expect(nav.get_by_role("link", name="Profile")).to_be_visible()
        expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
        member_shots = Shots(member, shots.folder.name)
        member_shots.count = shots.count
        for label, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            member.set_viewport_size(viewport)
            member.goto(f"{local_stack.url}/dashboard")
            nav.get_by_role("link", name="Profile").click()
            expect(member.get_by_role("heading", name="Your profile")).to_be_visible()
            expect(nav.get_by_role("link", name="Profile")).to_have_attribute("aria-current", "page")
            assert_fits(member, viewport["width"])
            member_shots(f"member-profile-{label}")
        member.get_by_role("link", name="The team").click()
        expect(member.get_by_role("heading", name="Team", exact=True)).to_be_visible()
        member_shots("member-team-phone")
    finally:
        member.context.close()
