"""The reports page: sales over time (an SVG chart), the status breakdown, customer spend, inventory
valuation with category subtotals, the orders export for the range, and each table as CSV.

Every figure comes from :mod:`distribu.reports` (the rollups and the catalog index, never the orders); the
page only chooses the range from its query (``preset``, or ``from`` and ``to``) and lays the figures out.
OWNER, ADMIN and MEMBER may read reports (the role table's ``view``).
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu import reports
from distribu.errors import NotFound, ValidationError
from distribu.web import charts
from distribu.web.page import Form
from distribu.web.templating import money
from distribu_dashboard.desk import DeskPage, open_desk

REPORTS_URL = "/dashboard/reports"
PRESET_CHOICES = (("today", "Today"), ("week", "This week"), ("month", "This month"), ("quarter", "This quarter"),
                  ("year", "This year"), ("all", "All time"))
EXPORT_MODES = (("summary", "Summary: one row per order"), ("line-items", "Line items: one row per order line"))
EXPORT_KINDS = {"summary": "orders", "line-items": "order-items"}
CUSTOMER_ROWS = 25   # the customer table shows the top ones; the CSV has them all
PRODUCT_ROWS = 10    # the valuation's products, a page at a time
DAILY_BARS_UP_TO = 400  # longer ranges chart one bar per month
CSV_TABLES = ("sales", "statuses", "customers", "categories", "products")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _range_form(request: Request) -> Form:
    params = request.query_params
    return Form({"preset": params.get("preset", ""), "from": params.get("from", ""), "to": params.get("to", "")},
                prefix="range-")


def _resolve(form: Form) -> reports.ReportRange:
    return reports.resolve_range(form.text("preset") or None, form.text("from") or None, form.text("to") or None)


def _short(day: date) -> str:
    return f"{MONTHS[day.month - 1]} {day.day}, {day.year}"


def sales_chart(sales: dict[str, Any]) -> charts.BarChart:
    """Revenue per day (per month past ``DAILY_BARS_UP_TO`` days); each bar's tooltip gives the day's (or
    month's) orders and revenue."""
    daily = sales["daily"]
    if len(daily) > DAILY_BARS_UP_TO:
        months: dict[str, list[Any]] = {}
        for day in daily:
            figures = months.setdefault(day["date"][:7], [0, 0.0])
            figures[0] += day["orderCount"]
            figures[1] += day["revenue"]
        keys = list(months)
        values = [round(months[key][1], 2) for key in keys]
        titles = [f"{MONTHS[int(key[5:7]) - 1]} {key[:4]}: {months[key][0]:,} order{'s' if months[key][0] != 1 else ''}, "
                  f"{money(months[key][1])}" for key in keys]
        labels = [f"{MONTHS[int(key[5:7]) - 1]} {key[:4]}" if int(key[5:7]) == 1 or index == 0 else None
                  for index, key in enumerate(keys)]
        unit = "month"
    else:
        days = [date.fromisoformat(day["date"]) for day in daily]
        values = [day["revenue"] for day in daily]
        titles = [f"{_short(when)}: {day['orderCount']:,} order{'s' if day['orderCount'] != 1 else ''}, "
                  f"{money(day['revenue'])}" for when, day in zip(days, daily)]
        labels = _day_labels(days)
        unit = "day"
    description = (f"Revenue per {unit}, {sales['range']['label']}: {sales['totals']['orderCount']:,} orders, "
                   f"{money(sales['totals']['revenue'])} in all.")
    return charts.bar_chart(values, titles, labels, y_label=lambda value: money(value).replace(".00", ""),
                            title=f"Revenue per {unit}", description=description)


def _day_labels(days: list[date]) -> list[str | None]:
    """At most ~8 labels: every day for a week, the 1st and 15th for a month or two, month starts beyond."""
    count = len(days)
    if count <= 8:
        return [f"{MONTHS[day.month - 1]} {day.day}" for day in days]
    if count <= 62:
        step = max(1, count // 7)
        return [f"{MONTHS[day.month - 1]} {day.day}" if index % step == 0 else None for index, day in enumerate(days)]
    every = 1 if count <= 190 else 2 if count <= 400 else 3
    return [f"{MONTHS[day.month - 1]}" + (f" {day.year}" if day.month == 1 or index == 0 else "")
            if (day.day == 1 and (day.month - 1) % every == 0) or index == 0 else None
            for index, day in enumerate(days)]


def _links(report_range: reports.ReportRange) -> dict[str, str]:
    query = urlencode(report_range.query())
    return {table: f"{REPORTS_URL}/{table}.csv?{query}" for table in CSV_TABLES}


def _render(page: DeskPage, form: Form, *, status: int = 200, export_form: Form | None = None,
            export: dict[str, Any] | None = None) -> Response:
    staff = page.require_staff()
    staff.require("view")
    context: dict[str, Any] = {"form": form, "presets": PRESET_CHOICES, "export_modes": EXPORT_MODES,
                               "export_form": export_form or Form({"mode": "summary"}, prefix="export-"),
                               "export": export, "customer_rows": CUSTOMER_ROWS}
    try:
        report_range = _resolve(form)
    except ValidationError as error:
        form.take(error, fields=("preset", "from", "to"))
        return page.render("reports/index.html", status=400, report=None, **context)
    sales = reports.sales_report(staff.company_id, report_range)
    if not form.text("from") and not form.text("to"):  # the picker starts from the range shown
        form.values.update({"from": sales["range"]["from"][:10], "to": sales["range"]["to"][:10]})
    spend = reports.customer_spend_report(staff.company_id, report_range)
    cursor = page.request.query_params.get("cursor") or None
    try:
        inventory = reports.inventory_report(staff.company_id, PRODUCT_ROWS, cursor)
    except ValidationError:
        inventory = reports.inventory_report(staff.company_id, PRODUCT_ROWS, None)  # a stale or edited cursor
        cursor = None
    return page.render("reports/index.html", status=status, report=True, range=sales["range"],
                       range_query=report_range.query(), current_preset=report_range.preset, sales=sales,
                       chart=sales_chart(sales), spend=spend, inventory=inventory, csv=_links(report_range),
                       cursor=cursor, pages_url=f"{REPORTS_URL}?{urlencode(report_range.query())}", **context)


async def reports_page(request: Request) -> Response:
    page, _ = open_desk(request)
    return _render(page, _range_form(request))


async def export_orders(request: Request) -> Response:
    """POST ``mode`` (summary or line-items) with the range: the orders export (distribu.exports) of the
    range's orders, written to S3; the page shows its download link (valid one hour)."""
    from distribu import exports

    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("view")
    submitted = await page.form()
    form = Form({name: submitted.get(name) for name in ("preset", "from", "to")}, prefix="range-")
    export_form = Form({"mode": submitted.text("mode")}, prefix="export-")
    mode = submitted.text("mode")
    if mode not in EXPORT_KINDS:
        export_form.error("mode", "Choose summary or line items.")
        return _render(page, form, status=400, export_form=export_form)
    try:
        report_range = _resolve(form)
    except ValidationError:
        return _render(page, form, status=400, export_form=export_form)
    if report_range.first is None:
        since, until = None, report_range.to_api()["to"]
    else:
        since, until = report_range.to_api()["from"], report_range.to_api()["to"]
    made = exports.export(staff.company_id, EXPORT_KINDS[mode], since=since, until=until)
    return _render(page, form, export_form=export_form, export={**made, "mode": mode})


async def table_csv(request: Request) -> Response:
    """One table of the page as CSV, for the range in the query."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("view")
    table = request.path_params["table"]
    if table not in CSV_TABLES:
        raise NotFound("There is no such report table.")
    form = _range_form(request)
    try:
        report_range = _resolve(form)
    except ValidationError as error:
        detail = (error.extra.get("details") or [{}])[0]
        return page.finish(Response(f"{detail.get('field', 'range')}: {detail.get('message', error.message)}\n",
                                    status_code=400, media_type="text/plain; charset=utf-8"))
    if table == "sales":
        body = reports.sales_csv(reports.sales_report(staff.company_id, report_range))
    elif table == "statuses":
        body = reports.statuses_csv(reports.sales_report(staff.company_id, report_range))
    elif table == "customers":
        body = reports.customers_csv(reports.customer_spend_report(staff.company_id, report_range))
    elif table == "categories":
        body = reports.categories_csv(reports.inventory_report(staff.company_id, 1))
    else:
        body = reports.inventory_csv(staff.company_id)
    stamp = report_range.to_api()
    span = "" if table in ("categories", "products") else f"-{stamp['from'][:10]}-to-{stamp['to'][:10]}"
    name = f"{'inventory' if table == 'products' else table}{span}.csv"
    return page.finish(Response(body, media_type="text/csv; charset=utf-8",
                                headers={"content-disposition": f'attachment; filename="{name}"'}))


routes = [
    Route(REPORTS_URL, reports_page, methods=["GET"]),
    Route(REPORTS_URL + "/export", export_orders, methods=["POST"]),
    Route(REPORTS_URL + "/{table}.csv", table_csv, methods=["GET"]),
]
