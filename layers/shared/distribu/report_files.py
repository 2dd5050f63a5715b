"""The files scheduled reports attach: a report as CSV or PDF.

A report is laid out as a :class:`Report` (title, key figures, tables), whatever its kind. The CSV is the
file the reports page downloads for the same report (:func:`distribu.reports.sales_csv`, ``customers_csv``,
``inventory_csv``), and for the orders export exactly the export's own layout and cells
(:mod:`distribu.exports`); the PDF is all of the report (:mod:`distribu.report_pdf`, imported only when a
PDF is asked for: reportlab costs a cold start).

The figures come from :mod:`distribu.reports` (sales and customer spend from the rollups, inventory
valuation from the catalog index), the same code the API and the reports page use, so an emailed report
and the page for the same days agree.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from distribu import clock

MAX_ATTACHMENT_BYTES = 7 * 1024 * 1024  # SES takes 10 MB per message; base64 makes 7 MB into ~9.4 MB
MAX_PDF_ROWS = 5000


class ReportTooLarge(Exception):
    pass


@dataclass
class Table:
    title: str
    columns: list[str]
    rows: list[list[str]]
    numeric: frozenset[int] = frozenset()
    widths: list[float] | None = None  # relative
    footer: list[str] | None = None  # a totals row
    note: str = ""


@dataclass
class Report:
    title: str
    company_name: str
    period_label: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    csv_header: list[str] | None = None
    csv_rows: Iterable[list[str]] | None = None
    csv_text: str | None = None  # the reports page's own CSV download, when there is one


@dataclass
class Document:
    filename: str
    content: bytes
    content_type: str
    period_label: str
    summary: str


def money(value: Any) -> str:
    """``$1,234.50``."""
    return f"${Decimal(str(value or 0)).quantize(Decimal('0.01')):,.2f}"


def number(value: Any) -> str:
    return f"{int(value or 0):,}"


def day_label(day: date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def period_label(first: date, last: date) -> str:
    """"3 Dec 2026", "26 Nov – 2 Dec 2026", "15 Nov 2026 – 14 Jan 2027"."""
    if first == last:
        return day_label(first)
    if first.year == last.year:
        return f"{first.day} {first.strftime('%b')} – {day_label(last)}"
    return f"{day_label(first)} – {day_label(last)}"


# --- the reports ---------------------------------------------------------------------------------------

def _range(first: date, last: date) -> Any:
    from distribu import reports

    return reports.resolve_range(from_=first.isoformat(), to=last.isoformat())


def _sales(company_id: str, first: date, last: date) -> dict[str, Any]:
    from distribu import reports

    return reports.sales_report(company_id, _range(first, last))


def _customer_spend(company_id: str, first: date, last: date) -> dict[str, Any]:
    from distribu import reports

    return reports.customer_spend_report(company_id, _range(first, last))


def _inventory(company_id: str, *, all_products: bool) -> dict[str, Any]:
    """The valuation with its products, every page of them for a PDF (up to :data:`MAX_PDF_ROWS`)."""
    from distribu import reports

    answer = reports.inventory_report(company_id, limit=100)
    data = answer["data"]
    products = list(data["products"])
    while all_products and answer["pagination"]["hasMore"] and len(products) < MAX_PDF_ROWS:
        answer = reports.inventory_report(company_id, limit=100, cursor=answer["pagination"]["nextCursor"])
        products += answer["data"]["products"]
    return {**data, "products": products[:MAX_PDF_ROWS]}


def sales_report(company_name: str, title: str, label: str, data: dict[str, Any]) -> Report:
    totals = data["totals"]
    daily = [[row["date"], number(row["orderCount"]), money(row["revenue"])] for row in data["daily"]]
    statuses = [[str(row["status"]).title(), number(row["orderCount"]), money(row["revenue"])]
                for row in data["byStatus"]]
    report = Report(title, company_name, label, facts=[
        ("Orders", number(totals["orderCount"])), ("Revenue", money(totals["revenue"])),
        ("Average order value", money(totals["averageOrderValue"]))])
    report.tables = [
        Table("By status", ["Status", "Orders", "Revenue"], statuses, frozenset({1, 2}), [2, 1, 1]),
        Table("By day", ["Date", "Orders", "Revenue"], daily, frozenset({1, 2}), [2, 1, 1],
              footer=["Total", number(totals["orderCount"]), money(totals["revenue"])],
              note="Revenue counts every order placed in the period, cancelled ones included."),
    ]
    return report


def customer_spend_report(company_name: str, title: str, label: str, data: dict[str, Any]) -> Report:
    totals = data["totals"]
    rows = [[row.get("name") or "", row.get("email") or "", number(row["orderCount"]), money(row["revenue"]),
             str(row.get("lastOrderAt") or "")[:10]] for row in data["customers"]]
    report = Report(title, company_name, label, facts=[
        ("Customers who ordered", number(totals["customerCount"])), ("Orders", number(totals["orderCount"])),
        ("Revenue", money(totals["revenue"]))])
    report.tables = [Table("Customers, highest spend first", ["Customer", "Email", "Orders", "Revenue", "Last order"],
                           rows, frozenset({2, 3}), [3, 3.4, 1, 1.4, 1.4],
                           footer=["Total", "", number(totals["orderCount"]), money(totals["revenue"]), ""])]
    return report


def inventory_report(company_name: str, title: str, label: str, data: dict[str, Any]) -> Report:
    totals = data["totals"]
    categories = [[row.get("category") or "(no category)", number(row["productCount"]), number(row["units"]),
                   money(row["value"])] for row in data["byCategory"]]
    products = [[row.get("sku") or "", row.get("name") or "", row.get("category") or "", number(row["stock"]),
                 money(row["price"]), money(row["value"])] for row in data["products"]]
    report = Report(title, company_name, label, facts=[
        ("Products", number(totals["productCount"])), ("Units in stock", number(totals["units"])),
        ("Stock value", money(totals["value"]))])
    report.tables = [
        Table("By category", ["Category", "Products", "Units", "Value"], categories, frozenset({1, 2, 3}),
              [3, 1, 1, 1.4], footer=["Total", number(totals["productCount"]), number(totals["units"]),
                                      money(totals["value"])]),
        Table("Products, highest value first", ["SKU", "Product", "Category", "Stock", "Price", "Value"], products,
              frozenset({3, 4, 5}), [1.4, 3, 1.6, 1, 1.1, 1.3],
              note="Value is stock × catalog price, active and inactive products alike."),
    ]
    return report


def orders_export_report(company_id: str, company_name: str, title: str, label: str, mode: str,
                         first: date, last: date, *, for_pdf: bool) -> Report:
    from distribu import exports

    kind = "order-items" if mode == "line-items" else "orders"
    header = list(exports.HEADERS[kind])
    rows = list(exports.rows(company_id, kind, since=first.isoformat(), until=last.isoformat()))
    report = Report(title, company_name, label, csv_header=header, csv_rows=rows)
    if kind == "orders":
        order_count = len(rows)
        revenue = sum((Decimal(row[3] or "0") for row in rows), Decimal("0"))
        report.facts = [("Orders", number(order_count)), ("Total", money(revenue))]
        if for_pdf:
            report.tables = [Table("Orders", ["Order", "Date", "Status", "Customer", "Items", "Total"],
                                   [[row[0][-8:].upper(), row[1][:10], row[2].title(), row[5] or row[6], row[4],
                                     money(row[3])] for row in rows[:MAX_PDF_ROWS]],
                                   frozenset({4, 5}), [1.1, 1.1, 1.1, 3.2, 0.7, 1.2],
                                   footer=["Total", "", "", "", "", money(revenue)],
                                   note=_cut_note(len(rows)))]
    else:
        line_total = sum((Decimal(row[8] or "0") for row in rows), Decimal("0"))
        report.facts = [("Orders", number(len({row[0] for row in rows}))), ("Lines", number(len(rows))),
                        ("Total", money(line_total))]
        if for_pdf:
            report.tables = [Table("Order lines", ["Order", "Date", "Customer", "SKU", "Product", "Qty", "Unit",
                                                   "Line total"],
                                   [[row[0][-8:].upper(), row[1][:10], row[3], row[4], row[5], row[6], money(row[7]),
                                     money(row[8])] for row in rows[:MAX_PDF_ROWS]],
                                   frozenset({5, 6, 7}), [1, 1, 2.2, 1.2, 2.4, 0.6, 1, 1.1],
                                   footer=["Total", "", "", "", "", "", "", money(line_total)],
                                   note=_cut_note(len(rows)))]
    return report


def _cut_note(count: int) -> str:
    if count > MAX_PDF_ROWS:
        return f"The first {MAX_PDF_ROWS:,} of {count:,} rows; the CSV format holds them all."
    return ""


def csv_bytes(report: Report) -> bytes:
    if report.csv_text is not None:
        return report.csv_text.encode("utf-8")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(report.csv_header or [])
    for row in report.csv_rows or []:
        writer.writerow(row)
    return buffer.getvalue().encode("utf-8")


def build(schedule: Any, company: Any, due_at: str) -> Document:
    """The file of ``schedule``'s report due at ``due_at``: name, bytes, type, and a few lines for the email."""
    from distribu import scheduled_reports

    first, last = scheduled_reports.period(schedule.cadence, due_at)
    kind = schedule.report_type
    from distribu import reports

    if kind == "INVENTORY_VALUATION":
        label = f"as of {clock.parse_iso(due_at).strftime('%-d %b %Y, %H:%M UTC')}"
        data = _inventory(company.id, all_products=schedule.format == "pdf")
        report = inventory_report(company.name, schedule.title, label, data)
        if schedule.format == "csv":
            report.csv_text = reports.inventory_csv(company.id)
        stem = f"inventory-valuation-{clock.parse_iso(due_at).date().isoformat()}"
    else:
        label = period_label(first, last)
        span = first.isoformat() if first == last else f"{first.isoformat()}-to-{last.isoformat()}"
        if kind == "SALES":
            data = _sales(company.id, first, last)
            report = sales_report(company.name, schedule.title, label, data)
            report.csv_text = reports.sales_csv(data)
            stem = f"sales-{span}"
        elif kind == "CUSTOMER_SPEND":
            data = _customer_spend(company.id, first, last)
            report = customer_spend_report(company.name, schedule.title, label, data)
            report.csv_text = reports.customers_csv(data)
            stem = f"customer-spend-{span}"
        else:
            report = orders_export_report(company.id, company.name, schedule.title, label, schedule.mode, first,
                                          last, for_pdf=schedule.format == "pdf")
            stem = ("order-items-" if schedule.mode == "line-items" else "orders-") + span
    if schedule.format == "pdf":
        from distribu import report_pdf

        content, content_type = report_pdf.render(report), "application/pdf"
    else:
        content, content_type = csv_bytes(report), "text/csv"
    if len(content) > MAX_ATTACHMENT_BYTES:
        raise ReportTooLarge(f"The report file is {len(content) / 1048576:.1f} MB, more than the "
                             f"{MAX_ATTACHMENT_BYTES // 1048576} MB an email can carry. Choose a shorter cadence "
                             "or download it from the reports page.")
    summary = "\n".join(f"{name}: {value}" for name, value in report.facts)
    return Document(f"{company.slug}-{stem}.{schedule.format}", content, content_type, label, summary)
