"""The reports page in a real browser against the local stack: the chart drawn, a preset switched, a CSV
downloaded (the demo company's orders, placed at start)."""

from __future__ import annotations

import csv
import io
import re
import time
from datetime import datetime, timezone
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningStack, Shots, sign_in_staff


def wait_for_revenue(page: Page, stack: RunningStack) -> None:
    """The rollups follow the table's stream: the demo's orders appear within moments of the start."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        page.goto(f"{stack.url}/dashboard/reports")
        if page.locator("svg.chart rect.chart-bar").count():
            return
        time.sleep(0.5)
    raise AssertionError("no bar in the chart: the demo orders never reached the rollups")


def test_reports_chart_preset_and_csv_download(page: Page, local_stack: RunningStack, shots: Shots) -> None:
    sign_in_staff(page, local_stack)
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Reports"))).to_be_visible()
    wait_for_revenue(page, local_stack)
    chart = page.locator("svg.chart")
    expect(chart).to_be_visible()
    box: Any = chart.bounding_box()
    assert box and box["width"] > 600 and box["height"] > 120  # drawn at size, not collapsed by the CSP
    columns = chart.locator("g.chart-column")
    assert columns.count() >= 1
    expect(page.locator(".pills a[aria-current='true']")).to_have_text("This month")
    today_bar = chart.locator("g.chart-column:not(.is-empty)").last
    title = today_bar.locator("title").text_content() or ""
    assert re.fullmatch(r"\w{3} \d{1,2}, \d{4}: \d+ orders?, \$[\d,]+\.\d\d", title), title
    today_bar.hover()
    shots("month-with-chart")

    page.get_by_role("link", name="This year").click()
    expect(page.locator(".pills a[aria-current='true']")).to_have_text("This year")
    expect(page).to_have_url(re.compile(r"preset=year"))
    # one column per day from 1 January to today (UTC)
    assert page.locator("svg.chart g.chart-column").count() == datetime.now(timezone.utc).timetuple().tm_yday
    expect(page.get_by_role("heading", name=re.compile(r"^Reports \d{4}$"))).to_be_visible()
    shots("year")

    with page.expect_download() as waiting:
        page.get_by_role("link", name="Customer spend (CSV)").click()
    download = waiting.value
    assert re.fullmatch(r"customers-\d{4}-01-01-to-\d{4}-\d\d-\d\d\.csv", download.suggested_filename)
    rows = list(csv.reader(io.StringIO(open(download.path(), encoding="utf-8").read())))
    assert rows[0] == ["customerId", "email", "name", "orderCount", "revenue", "lastOrderAt"]
    assert any(row[1] == "buyer@northwind.test" for row in rows[1:])

    page.get_by_label("Layout").select_option("line-items")
    page.get_by_role("button", name="Export orders").click()
    expect(page.get_by_text(re.compile(r"Your orders export \(line items, \d{4}\) is ready: \d+ rows"))).to_be_visible()
    shots("export-ready")
