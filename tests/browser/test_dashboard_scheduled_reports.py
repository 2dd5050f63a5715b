"""Scheduled reports in a real browser: the form shows only the fields its choices use, a bad recipient is
named under its field with what was typed kept, then the schedule is listed, paused and resumed."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningStack, Shots, sign_in_staff


def test_schedule_a_report_pause_and_resume(page: Page, local_stack: RunningStack, shots: Shots) -> None:
    sign_in_staff(page, local_stack)

    page.goto(local_stack.url + "/dashboard/reports/scheduled")
    expect(page.get_by_role("heading", name="Scheduled reports")).to_be_visible()
    shots("empty-list")
    page.get_by_role("button", name="New scheduled report").click()
    expect(page.get_by_role("heading", name="New scheduled report")).to_be_visible()
    # Weekly by default: the day of the week shows, the day of the month and the orders layout do not.
    expect(page.get_by_label("Day of the week")).to_be_visible()
    expect(page.get_by_label("Day of the month")).to_be_hidden()
    expect(page.get_by_label("Orders export layout")).to_be_hidden()
    shots("new-form")
    page.get_by_label("Report", exact=True).select_option("ORDERS_EXPORT")
    expect(page.get_by_label("Orders export layout")).to_be_visible()
    page.get_by_label("Orders export layout").select_option("line-items")
    page.get_by_label("How often").select_option("MONTHLY")
    expect(page.get_by_label("Day of the month")).to_be_visible()
    expect(page.get_by_label("Day of the week")).to_be_hidden()
    page.get_by_label("Day of the month").select_option("1")
    page.get_by_label("At", exact=True).select_option("6")
    page.get_by_label("Recipients").fill("warehouse@demo.test\nnot an address")
    page.get_by_role("button", name="Schedule report").click()
    expect(page.locator("#recipients-error")).to_have_text('Not a valid email address: "not an address".')
    expect(page.get_by_label("Recipients")).to_have_value("warehouse@demo.test\nnot an address")
    expect(page.get_by_label("Day of the month")).to_be_visible()  # the form comes back as it was sent
    shots("recipient-error")

    page.get_by_label("Recipients").fill("warehouse@demo.test, books@accountant.test")
    page.get_by_label("Name", exact=False).fill("Order lines for the warehouse")
    page.get_by_role("button", name="Schedule report").click()
    page.wait_for_url("**/dashboard/reports/scheduled")
    expect(page.get_by_role("status")).to_contain_text("Scheduled: Order lines for the warehouse, next sent")
    row = page.get_by_role("row").filter(has_text="Order lines for the warehouse")
    expect(row).to_contain_text("Monthly on day 1 at 06:00 UTC")
    expect(row).to_contain_text("warehouse@demo.test and 1 more")
    shots("listed")

    row.get_by_role("button", name="Pause").click()
    expect(page.get_by_role("status")).to_contain_text("Paused: Order lines for the warehouse.")
    expect(page.get_by_role("row").filter(has_text="Order lines for the warehouse")).to_contain_text("Paused")
    shots("paused")
    page.get_by_role("row").filter(has_text="Order lines for the warehouse").get_by_role("button", name="Resume").click()
    expect(page.get_by_role("status")).to_contain_text("Resumed: Order lines for the warehouse, next sent")

    page.get_by_role("link", name="Order lines for the warehouse").click()
    expect(page.get_by_label("Orders export layout")).to_have_value("line-items")
    expect(page.get_by_text("Not sent yet.")).to_be_visible()
    shots("edit")
