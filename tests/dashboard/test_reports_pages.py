"""The reports page through the real dashboard handler: ranges, the SVG chart, the status breakdown, customer
spend, inventory valuation, the orders export and each table as CSV; every role that may read reports, CSRF,
bad ranges, and another company's figures never shown."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import factories
from tests.dashboard.conftest import signed_in
from tests.web_client import Browser

REPORTS = "/dashboard/reports"


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from distribu import clock

    moments = {"now": datetime(2026, 4, 14, 10, 0, tzinfo=timezone.utc)}
    monkeypatch.setattr(clock, "now", lambda: moments["now"])
    yield moments


@pytest.fixture
def shop(tenant: factories.Tenant, frozen: dict, projections: Any) -> dict[str, Any]:
    """April 2026 so far: three customers' orders on three days (one cancelled, one moved twice), one in
    March; two products in two categories."""
    made = factories.report_shop(tenant)
    place, move = made["place"], made["move"]
    frozen["now"] = datetime(2026, 3, 20, 9, 0, tzinfo=timezone.utc)
    place(0, 4)                                           # 50.00 in March
    frozen["now"] = datetime(2026, 4, 2, 9, 0, tzinfo=timezone.utc)
    place(0, 2)                                           # 25.00
    frozen["now"] = datetime(2026, 4, 10, 9, 0, tzinfo=timezone.utc)
    cancelled = place(1, 3)                               # 37.50, cancelled
    move(cancelled["id"], "CANCELLED")
    frozen["now"] = datetime(2026, 4, 14, 9, 0, tzinfo=timezone.utc)
    moved = place(2, 1)                                   # 12.50
    move(moved["id"], "CONFIRMED")
    move(moved["id"], "SHIPPED")
    factories.product(tenant.company_id, "Drill", price="89.99", stock=3, category="Tools")
    frozen["now"] = datetime(2026, 4, 14, 10, 0, tzinfo=timezone.utc)
    projections.drain()
    return made


def test_the_month_by_default_with_chart_totals_statuses_customers_and_inventory(owner: Browser, shop: dict) -> None:
    page = owner.get(REPORTS)
    assert page.status == 200, page.text
    text = page.text
    assert "Reports April 2026" in text and "Apr 1, 2026 – Apr 14, 2026 (UTC days)" in text
    stats = [" ".join(stat.get_text(" ").split()) for stat in page.soup.select("#sales-title ~ .stats .stat")]
    assert stats == ["Orders 3", "Revenue $75.00", "Average order $25.00"]
    # the chart: one column per day, each with its tooltip; bars only where there were orders
    svg = page.soup.select_one("svg.chart")
    columns = svg.select("g.chart-column")
    assert len(columns) == 14
    assert [column.title.get_text() for column in columns][1] == "Apr 2, 2026: 1 order, $25.00"
    assert columns[13].title.get_text() == "Apr 14, 2026: 1 order, $12.50"
    assert columns[0].title.get_text() == "Apr 1, 2026: 0 orders, $0.00"
    assert len(svg.select("rect.chart-bar")) == 3
    assert svg.select_one("desc").get_text() == "Revenue per day, April 2026: 3 orders, $75.00 in all."
    assert not page.soup.find(attrs={"style": True}) and not page.soup.find("script", src=False)
    customers = [[cell.get_text(" ", strip=True) for cell in row.find_all("td")]
                 for row in page.soup.find("table", attrs={"aria-labelledby": "customers-title"}).tbody.find_all("tr")]
    assert customers == [["Buyer 1", "buyer1@shop.test", "1", "$37.50", "Apr 10, 2026"],
                         ["Buyer 0", "buyer0@shop.test", "1", "$25.00", "Apr 2, 2026"],
                         ["Buyer 2", "buyer2@shop.test", "1", "$12.50", "Apr 14, 2026"]]
    categories = [[cell.get_text(" ", strip=True) for cell in row.find_all("td")]
                  for row in page.soup.find("table", attrs={"aria-labelledby": "categories-title"}).tbody.find_all("tr")]
    assert categories[0] == ["No category", "1", "999,990", "$12,499,875.00"]
    assert categories[1] == ["Tools", "1", "3", "$269.97"]
    assert "This month" in page.soup.select_one('.pills a[aria-current="true"]').get_text()


def test_the_status_breakdown_has_all_five_statuses(owner: Browser, shop: dict) -> None:
    page = owner.get(REPORTS)
    rows = [[cell.get_text(" ", strip=True) for cell in row.find_all("td")]
            for row in page.soup.find("table", attrs={"aria-labelledby": "status-title"}).tbody.find_all("tr")]
    assert rows == [["Submitted", "1", "$25.00"], ["Confirmed", "0", "$0.00"], ["Shipped", "1", "$12.50"],
                    ["Delivered", "0", "$0.00"], ["Cancelled", "1", "$37.50"]]


def test_presets_and_a_from_to_range(owner: Browser, shop: dict) -> None:
    year = owner.get(f"{REPORTS}?preset=year")
    assert year.status == 200 and "Reports 2026" in year.text
    assert len(year.soup.select("g.chart-column")) == 104  # 1 January to 14 April
    assert [" ".join(s.get_text(" ").split()) for s in year.soup.select("#sales-title ~ .stats .stat")][:2] == [
        "Orders 4", "Revenue $125.00"]
    today = owner.get(f"{REPORTS}?preset=today")
    assert "Reports 14 April 2026" in today.text and len(today.soup.select("g.chart-column")) == 1
    custom = owner.get(f"{REPORTS}?from=2026-03-15&to=2026-04-05")
    assert custom.status == 200 and "Reports 15 March – 5 April 2026" in custom.text
    assert custom.value_of("from") == "2026-03-15" and custom.value_of("to") == "2026-04-05"
    assert year.value_of("from") == "2026-01-01" and year.value_of("to") == "2026-04-14"  # the picker starts there
    assert not custom.soup.select('.pills a[aria-current="true"]')
    # links keep the range
    link = custom.soup.find("a", string="Customer spend (CSV)")["href"]
    assert parse_qs(urlsplit(link).query) == {"from": ["2026-03-15"], "to": ["2026-04-05"]}


def test_bad_ranges_show_the_message_under_the_field(owner: Browser, shop: dict) -> None:
    page = owner.get(f"{REPORTS}?from=2026-04-10&to=2026-04-01")
    assert page.status == 400
    assert page.field_error("range-from") == "From must be on or before to."
    assert page.value_of("from") == "2026-04-10" and page.value_of("to") == "2026-04-01"
    assert not page.soup.select("svg.chart")
    page = owner.get(f"{REPORTS}?from=2026-04-31&to=2026-05-01")
    assert page.status == 400 and page.field_error("range-from") == "From must be an ISO 8601 date (YYYY-MM-DD)."
    page = owner.get(f"{REPORTS}?preset=decade")
    assert page.status == 400 and "preset must be one of today, week, month, quarter, year, all" in page.text.lower()
    bad_csv = owner.get(f"{REPORTS}/sales.csv?from=x&to=2026-04-01")
    assert bad_csv.status == 400 and bad_csv.body.decode().startswith("from: ")


def test_each_table_downloads_as_csv(owner: Browser, shop: dict) -> None:
    def download(table: str, query: str = "") -> list[list[str]]:
        response = owner.get(f"{REPORTS}/{table}.csv{query}")
        assert response.status == 200 and response.headers["content-type"].startswith("text/csv")
        assert response.headers["content-disposition"].startswith("attachment; filename=")
        return list(csv.reader(io.StringIO(response.body.decode())))

    sales = download("sales", "?preset=month")
    assert sales[0] == ["date", "orderCount", "revenue"] and len(sales) == 1 + 14 + 1
    assert sales[2] == ["2026-04-02", "1", "25.00"] and sales[-1] == ["total", "3", "75.00"]
    assert download("statuses")[1:] == [["SUBMITTED", "1", "25.00"], ["CONFIRMED", "0", "0.00"],
                                        ["SHIPPED", "1", "12.50"], ["DELIVERED", "0", "0.00"],
                                        ["CANCELLED", "1", "37.50"]]
    customers = download("customers", "?from=2026-03-01&to=2026-04-30")
    assert customers[0] == ["customerId", "email", "name", "orderCount", "revenue", "lastOrderAt"]
    assert [row[1:5] for row in customers[1:]] == [["buyer0@shop.test", "Buyer 0", "2", "75.00"],
                                                   ["buyer1@shop.test", "Buyer 1", "1", "37.50"],
                                                   ["buyer2@shop.test", "Buyer 2", "1", "12.50"]]
    assert download("categories")[1:] == [["(none)", "1", "999990", "12499875.00"], ["Tools", "1", "3", "269.97"]]
    products = download("products")
    assert products[0] == ["productId", "sku", "name", "category", "stock", "price", "value"]
    assert [row[2] for row in products[1:]] == ["Widget", "Drill"]
    assert owner.get(f"{REPORTS}/secrets.csv").status == 404
    response = owner.get(f"{REPORTS}/customers.csv?preset=today")
    assert 'filename="customers-2026-04-14-to-2026-04-14.csv"' in response.headers["content-disposition"]


def test_orders_export_for_the_range_in_both_layouts(owner: Browser, shop: dict, stack: Any) -> None:
    import requests

    page = owner.get(f"{REPORTS}?from=2026-04-01&to=2026-04-10")
    form = page.soup.find("form", action="/dashboard/reports/export")
    hidden = {field["name"]: field["value"] for field in form.find_all("input", type="hidden")}
    assert hidden["from"] == "2026-04-01" and hidden["to"] == "2026-04-10"
    for mode, header, rows in (("summary", "orderId,createdAt,status,total,itemCount", 2),
                               ("line-items", "orderId,createdAt,status,customerEmail,productSku", 2)):
        done = owner.post(f"{REPORTS}/export", {"mode": mode, "from": "2026-04-01", "to": "2026-04-10"})
        assert done.status == 200, done.text
        layout = "line items" if mode == "line-items" else "summary"
        assert f"Your orders export ({layout}, 1–10 April 2026) is ready: {rows} rows." in done.text
        link = done.soup.find("a", string=lambda text: bool(text and text.startswith("Download ")))["href"]
        body = requests.get(link).content.decode()
        lines = body.strip().splitlines()
        assert lines[0].startswith(header) and len(lines) == 1 + rows
        assert all("2026-04-0" in line or "2026-04-10" in line for line in lines[1:])
    refused = owner.post(f"{REPORTS}/export", {"mode": "everything", "preset": "month"})
    assert refused.status == 400 and refused.field_error("export-mode") == "Choose summary or line items."


def test_the_export_needs_the_forms_csrf_token(owner: Browser, shop: dict) -> None:
    owner.get(REPORTS)
    refused = owner.post(f"{REPORTS}/export", {"mode": "summary", "preset": "month"}, csrf=None)
    assert refused.status == 403 and "This form has expired" in refused.text
    refused = owner.post(f"{REPORTS}/export", {"mode": "summary", "preset": "month"}, csrf="forged")
    assert refused.status == 403


@pytest.mark.parametrize("role", ["ADMIN", "MEMBER"])
def test_admins_and_members_read_reports(stack: Any, tenant: factories.Tenant, shop: dict, role: str) -> None:
    factories.staff_member(tenant.company_id, f"{role.lower()}@acme.test", role=role)
    browser = signed_in(stack, f"{role.lower()}@acme.test")
    page = browser.get(REPORTS)
    assert page.status == 200 and "Revenue $75.00" in page.text
    assert browser.get(f"{REPORTS}/customers.csv").status == 200
    assert browser.post(f"{REPORTS}/export", {"mode": "summary", "preset": "month"}).status == 200


def test_signed_out_visitors_are_sent_to_sign_in(client: Browser, shop: dict) -> None:
    for url in (REPORTS, f"{REPORTS}/sales.csv"):
        response = client.get(url)
        assert response.status in (302, 303) and response.location.startswith("/login?next=")


def test_another_companys_figures_are_never_shown(stack: Any, shop: dict, other_tenant: factories.Tenant,
                                                  projections: Any) -> None:
    theirs = factories.report_shop(other_tenant)
    theirs["place"](0, 80)   # 1,000.00 for Globex today
    projections.drain()
    globex = signed_in(stack, factories.owner_email("Globex Wholesale"))
    page = globex.get(REPORTS)
    assert "Revenue $1,000.00" in page.text and "Buyer 1" not in page.text.replace("Buyer 0", "")
    assert "Drill" not in page.text
    rows = list(csv.reader(io.StringIO(globex.get(f"{REPORTS}/customers.csv").body.decode())))
    assert len(rows) == 2 and rows[1][1] == "buyer0@shop.test" and rows[1][4] == "1000.00"
    assert rows[1][0] == theirs["customers"][0]
    acme = signed_in(stack, factories.owner_email("Acme Distributors"))
    assert "Revenue $75.00" in acme.get(REPORTS).text


def test_the_chart_draws_months_past_400_days_and_keeps_bars_thin() -> None:
    from datetime import date, timedelta

    from distribu_dashboard.pages.reports import sales_chart

    first = date(2024, 11, 20)
    daily = [{"date": (first + timedelta(days=n)).isoformat(), "orderCount": 1 if n % 10 == 0 else 0,
              "revenue": 10.0 if n % 10 == 0 else 0.0} for n in range(500)]
    report = {"daily": daily, "range": {"label": "All time"}, "totals": {"orderCount": 50, "revenue": 500.0}}
    chart = sales_chart(report)
    assert chart.title == "Revenue per month" and len(chart.bars) == 18  # Nov 2024 .. Apr 2026
    assert chart.bars[0].title == "Nov 2024: 2 orders, $20.00"
    assert [tick.label for tick in chart.x_ticks] == ["Nov 2024", "Jan 2025", "Jan 2026"]
    week = sales_chart({"daily": daily[:3], "range": {"label": "x"}, "totals": {"orderCount": 1, "revenue": 10.0}})
    assert all(bar.width <= 36 for bar in week.bars) and week.bars[0].height > 0 and week.bars[1].empty
    assert week.y_ticks[-1].label == "$10" and week.y_ticks[0].label == "$0"


def test_products_by_value_page_on_with_the_range_kept(owner: Browser, tenant: factories.Tenant, frozen: dict,
                                                      projections: Any) -> None:
    for number in range(12):
        factories.product(tenant.company_id, f"Item {number:02d}", price=str(number + 1), stock=10)
    projections.drain()
    first = owner.get(f"{REPORTS}?preset=year")
    names = [row.find("td").contents[0].strip() for row in
             first.soup.find("table", attrs={"aria-labelledby": "products-title"}).tbody.find_all("tr")]
    assert names == [f"Item {number:02d}" for number in range(11, 1, -1)]
    link = first.soup.find("a", string=lambda text: bool(text and "Next products" in text))["href"]
    assert link.startswith(f"{REPORTS}?preset=year&cursor=")
    second = owner.get(link)
    names = [row.find("td").contents[0].strip() for row in
             second.soup.find("table", attrs={"aria-labelledby": "products-title"}).tbody.find_all("tr")]
    assert names == ["Item 01", "Item 00"] and "Reports 2026" in second.text
    assert not second.soup.find("a", string=lambda text: bool(text and "Next products" in text))
    stale = owner.get(f"{REPORTS}?cursor=garbage")
    assert stale.status == 200 and "Item 11" in stale.text  # an edited cursor starts again from the top


def test_the_page_leads_to_the_scheduled_reports(owner: Browser, shop: dict) -> None:
    page = owner.get(REPORTS)
    link = page.soup.find("a", string="Scheduled reports")
    assert link and link["href"] == "/dashboard/reports/scheduled"
    assert owner.get(link["href"]).status == 200
