"""Reports: sales over time, customer spend and inventory valuation, read from the read models only.

The interface (used by the API, the dashboard and the scheduled reports)::

    resolve_range(preset, from_, to, today=None) -> ReportRange       # 400 naming the field if bad
    sales_report(company_id, report_range) -> dict                      # issue 13 item 1, the "data" object
    customer_spend_report(company_id, report_range) -> dict             # item 2, the "data" object
    inventory_report(company_id, limit=50, cursor=None) -> dict         # item 3: {"data", "pagination"}
    sales_csv(report) / statuses_csv(report)  -> str       # a sales report's daily figures / status breakdown
    customers_csv(report) -> str                           # a customer spend report's rows
    categories_csv(inventory) / inventory_csv(company_id)  # category subtotals / every product by value
    rebuild(company_id) -> dict                            # the rollups recomputed (``distribu reports rebuild``)

Rules:

- A range is whole UTC days. Presets: ``today``; ``week`` (Monday to today); ``month`` (the 1st to
  today, the default); ``quarter`` (the quarter's first day to today); ``year`` (1 January to today);
  ``all`` (the first order's day to today; today alone when there is no order). ``from`` and ``to``
  (ISO 8601 dates; a datetime counts as its UTC day) override the preset when both are given; each is
  checked whenever it is given. ``from`` after ``to``, or a range longer than ``MAX_DAYS``, is refused.
- Revenue counts every order in the range, whatever its status, cancelled included (as Distribu
  documents). Money is rounded to 2 decimals and given as a JSON number.
- The customers report counts orders placed for a customer (a dashboard order for no customer counts in
  the sales report only).
- Inventory: every product, active and inactive, valued at stock x catalog price.

What each report reads (never an order, never a product one by one):

- sales: the ``SALES#M#{month}`` items of the range's months (:mod:`distribu.rollups`), by key: one
  BatchGetItem for up to 100 months (``all``: one Query of every month there is).
- customers: the ``SPEND#M#{month}`` items of the months the range covers whole and the ``SPEND#D#{day}``
  items of the days at its ragged edges (at most 60), by key: one BatchGetItem per 100 (a year: one);
  ``all``: one Query of every month; then the customers' own items (one BatchGetItem per 100 customers)
  for their email and name.
- inventory: the catalog index (:mod:`distribu.catalog_index`): its head holds the totals and the
  per-category subtotals; its shards (a fixed number of items, cached per container) the products.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from dataclasses import dataclass
from datetime import date, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Iterable

from distribu import clock, keys
from distribu.errors import ValidationError, validation_failed

PRESETS = ("today", "week", "month", "quarter", "year", "all")
DEFAULT_PRESET = "month"
CUSTOM = "custom"  # the preset a range given by from/to reports
STATUSES = ("SUBMITTED", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED")
MAX_DAYS = 3_660  # a from/to range: ten years of daily figures at most
CENTS = Decimal("0.01")
ZERO = Decimal("0")
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
               "October", "November", "December")


def money(value: Decimal) -> float:
    """A JSON number with (at most) 2 decimals."""
    return float(Decimal(value).quantize(CENTS, rounding=ROUND_HALF_UP))


# --- the range ------------------------------------------------------------------------------------------

def _long(day: date) -> str:
    return f"{day.day} {MONTH_NAMES[day.month - 1]} {day.year}"


def span_label(first: date, last: date) -> str:
    """"14 April 2026", "1–14 April 2026", "30 March – 14 April 2026", "1 December 2025 – 14 April 2026"."""
    if first == last:
        return _long(first)
    if (first.year, first.month) == (last.year, last.month):
        return f"{first.day}–{last.day} {MONTH_NAMES[last.month - 1]} {last.year}"
    if first.year == last.year:
        return f"{first.day} {MONTH_NAMES[first.month - 1]} – {_long(last)}"
    return f"{_long(first)} – {_long(last)}"


@dataclass(frozen=True)
class ReportRange:
    """Whole UTC days from ``first`` to ``last``. For ``all``, ``first`` is None until a report finds the
    first order's day (:meth:`bounded`)."""

    preset: str
    first: date | None
    last: date

    @property
    def label(self) -> str:
        first = self.first or self.last
        if self.preset == "today":
            return _long(self.last)
        if self.preset == "week":
            return f"Week of {_long(first)}"
        if self.preset == "month":
            return f"{MONTH_NAMES[self.last.month - 1]} {self.last.year}"
        if self.preset == "quarter":
            return f"Q{(self.last.month - 1) // 3 + 1} {self.last.year}"
        if self.preset == "year":
            return str(self.last.year)
        if self.preset == "all":
            return "All time"
        return span_label(first, self.last)

    def bounded(self, first_order_day: date | None) -> "ReportRange":
        """``all`` made concrete: from the first order's day (or today when there is none)."""
        if self.first is not None:
            return self
        return ReportRange(self.preset, min(first_order_day or self.last, self.last), self.last)

    def days(self) -> list[date]:
        first = self.first or self.last
        return [first + timedelta(days=offset) for offset in range((self.last - first).days + 1)]

    def to_api(self) -> dict[str, Any]:
        first = self.first or self.last
        return {"from": f"{first.isoformat()}T00:00:00.000Z", "to": f"{self.last.isoformat()}T23:59:59.999Z",
                "preset": self.preset, "label": self.label}

    def query(self) -> dict[str, str]:
        """The query parameters that give this range back (for links)."""
        if self.preset == CUSTOM and self.first is not None:
            return {"from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"preset": self.preset}


EARLIEST, LATEST = date(1900, 1, 1), date(2999, 12, 31)  # what a report's dates may be


def _parse_day(field: str, value: str) -> date:
    text = value.strip()
    try:
        day = date.fromisoformat(text) if len(text) == 10 else clock.parse_iso(text).astimezone(timezone.utc).date()
    except (ValueError, OverflowError):
        raise validation_failed(field, f"{field} must be an ISO 8601 date (YYYY-MM-DD).") from None
    if not EARLIEST <= day <= LATEST:
        raise validation_failed(field, f"{field} must be between {EARLIEST.isoformat()} and {LATEST.isoformat()}.")
    return day


def resolve_range(preset: str | None = None, from_: str | None = None, to: str | None = None,
                  today: date | None = None) -> ReportRange:
    """The range a report covers (see the module's rules). Raises :class:`ValidationError` naming the field
    (``preset``, ``from`` or ``to``)."""
    today = today or clock.now().date()
    first_given = _parse_day("from", from_) if from_ not in (None, "") else None
    last_given = _parse_day("to", to) if to not in (None, "") else None
    if first_given is not None and last_given is not None:
        if first_given > last_given:
            raise validation_failed("from", "from must be on or before to.")
        if (last_given - first_given).days + 1 > MAX_DAYS:
            raise validation_failed("to", f"A range covers at most {MAX_DAYS:,} days.")
        return ReportRange(CUSTOM, first_given, last_given)
    name = (preset or DEFAULT_PRESET).strip().lower()
    if name not in PRESETS:
        raise validation_failed("preset", f"preset must be one of {', '.join(PRESETS)}.")
    if name == "today":
        return ReportRange(name, today, today)
    if name == "week":
        return ReportRange(name, today - timedelta(days=today.weekday()), today)
    if name == "month":
        return ReportRange(name, today.replace(day=1), today)
    if name == "quarter":
        return ReportRange(name, date(today.year, (today.month - 1) // 3 * 3 + 1, 1), today)
    if name == "year":
        return ReportRange(name, date(today.year, 1, 1), today)
    return ReportRange(name, None, today)


# --- sales ---------------------------------------------------------------------------------------------

def _read(company_id: str, sort_keys: list[str]) -> dict[str, dict[str, Any]]:
    """Items of the company's partition by sort key: one BatchGetItem per 100 (a read by key costs the same
    however many other items the partition holds; a Query would too on DynamoDB, but not on moto)."""
    from distribu import dynamo

    pk = keys.company(company_id)
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(sort_keys), 100):
        found.update({sort_key: item for (_, sort_key), item in
                      dynamo.batch_get([(pk, sort_key) for sort_key in sort_keys[start:start + 100]]).items()})
    return found


def sales_report(company_id: str, report_range: ReportRange) -> dict[str, Any]:
    """Orders and revenue per day and per status over the range: the months' rollup items, read by key (one
    BatchGetItem for up to 100 months); ``all`` Queries every month there is instead."""
    from distribu import rollups

    if report_range.first is None:
        months = rollups.sales_months(company_id)
        days_with_orders = [f"{month}-{day}" for month, found in months.items() for day in found.days]
        report_range = report_range.bounded(date.fromisoformat(min(days_with_orders)) if days_with_orders else None)
    else:
        wanted = rollups.months_between(report_range.first.isoformat()[:7], report_range.last.isoformat()[:7])
        found = _read(company_id, [rollups.sales_month_sk(month) for month in wanted])
        months = {month: rollups.SalesMonth.from_item(month, found.get(rollups.sales_month_sk(month)))
                  for month in wanted}
    by_status = {status: [0, ZERO] for status in STATUSES}
    daily = []
    for day in report_range.days():
        text = day.isoformat()
        found = months.get(text[:7])
        statuses = found.days.get(text[8:10], {}) if found else {}
        count, revenue = 0, ZERO
        for status, (n, r) in statuses.items():
            figures = by_status.setdefault(status, [0, ZERO])
            figures[0] += n
            figures[1] += r
            count, revenue = count + n, revenue + r
        daily.append({"date": text, "orderCount": count, "revenue": money(revenue)})
    order_count = sum(figures[0] for figures in by_status.values())
    revenue = sum((figures[1] for figures in by_status.values()), ZERO)
    return {
        "range": report_range.to_api(),
        "totals": {"orderCount": order_count, "revenue": money(revenue),
                   "averageOrderValue": money(revenue / order_count) if order_count else 0.0},
        "daily": daily,
        "byStatus": [{"status": status, "orderCount": by_status[status][0], "revenue": money(by_status[status][1])}
                     for status in STATUSES],
    }


# --- customer spend -------------------------------------------------------------------------------------

def _month_end(first_of_month: date) -> date:
    following = date(first_of_month.year + first_of_month.month // 12, first_of_month.month % 12 + 1, 1)
    return following - timedelta(days=1)


def spend_plan(first: date, last: date) -> tuple[tuple[str, str] | None, list[tuple[date, date]]]:
    """Which spend items cover ``first``..``last``: the whole months (first and last ``yyyy-mm``, or None)
    and the stretches of days at the edges (at most two)."""
    whole_first = first if first.day == 1 else _month_end(first) + timedelta(days=1)
    whole_last = last if last == _month_end(last.replace(day=1)) else last.replace(day=1) - timedelta(days=1)
    if whole_first > whole_last:  # no whole month inside: days only
        return None, [(first, last)]
    stretches = []
    if first < whole_first:
        stretches.append((first, whole_first - timedelta(days=1)))
    if whole_last < last:
        stretches.append((whole_last + timedelta(days=1), last))
    return (whole_first.isoformat()[:7], whole_last.isoformat()[:7]), stretches


def _spend(company_id: str, report_range: ReportRange) -> list[Any]:
    from distribu import rollups

    if report_range.first is None:
        return rollups.spend_between(company_id, "SPEND#M#", "SPEND#M#~")
    months, stretches = spend_plan(report_range.first, report_range.last)
    wanted = [rollups.spend_month_sk(month) for month in (rollups.months_between(*months) if months else [])]
    for low, high in stretches:
        wanted += [rollups.spend_day_sk((low + timedelta(days=offset)).isoformat())
                   for offset in range((high - low).days + 1)]
    found = _read(company_id, wanted)
    return [rollups.Spend.from_item(found[sort_key]["period"], found[sort_key]) for sort_key in wanted
            if sort_key in found]


def customer_spend_report(company_id: str, report_range: ReportRange) -> dict[str, Any]:
    """Each customer with orders in the range: order count, revenue, last order time; highest revenue
    first, ties by email."""
    from distribu import dynamo

    figures: dict[str, list[Any]] = {}
    for spend in _spend(company_id, report_range):
        for customer_id, (count, revenue, last) in spend.customers.items():
            held = figures.setdefault(customer_id, [0, ZERO, last])
            held[0] += count
            held[1] += revenue
            held[2] = max(held[2], last)
    if report_range.first is None:
        report_range = report_range.bounded(_first_order_day(company_id))
    wanted = [(keys.company(company_id), keys.customer_sk(customer_id)) for customer_id in figures]
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for start in range(0, len(wanted), 100):
        found.update(dynamo.batch_get(wanted[start:start + 100]))
    rows = []
    for customer_id, (count, revenue, last) in figures.items():
        item = found.get((keys.company(company_id), keys.customer_sk(customer_id))) or {}
        rows.append({"customerId": customer_id, "email": item.get("email", ""), "name": item.get("name"),
                     "orderCount": count, "revenue": revenue, "lastOrderAt": last})
    rows.sort(key=lambda row: (-row["revenue"], row["email"], row["customerId"]))
    for row in rows:
        row["revenue"] = money(row["revenue"])
    return {
        "range": report_range.to_api(),
        "totals": {"customerCount": len(rows), "orderCount": sum(figures[c][0] for c in figures),
                   "revenue": money(sum((figures[c][1] for c in figures), ZERO))},
        "customers": rows,
    }


def _first_order_day(company_id: str) -> date | None:
    from distribu import rollups

    found = rollups.first_order_day(company_id)
    return date.fromisoformat(found) if found else None


# --- inventory valuation --------------------------------------------------------------------------------

def _value_order(entry: Any) -> tuple[Any, ...]:
    return (-(entry.price * entry.stock), entry.name.lower(), entry.id)


def _encode_cursor(entry: Any) -> str:
    text = json.dumps([str(entry.price * entry.stock), entry.name.lower(), entry.id], separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[Any, ...]:
    try:
        if len(cursor) > 2000:
            raise ValueError
        value, name, product_id = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        if not (isinstance(value, str) and isinstance(name, str) and isinstance(product_id, str)):
            raise ValueError
        return (-Decimal(value), name, product_id)
    except (ValueError, TypeError, ArithmeticError, RecursionError):
        raise ValidationError("Validation failed.", details=[{"field": "cursor", "message": "Invalid cursor."}]) from None


def _product_row(entry: Any) -> dict[str, Any]:
    return {"productId": entry.id, "name": entry.name, "sku": entry.sku, "category": entry.category,
            "stock": entry.stock, "price": money(entry.price), "value": money(entry.price * entry.stock)}


def _categories(valuation: Any) -> list[dict[str, Any]]:
    ordered = sorted(valuation.by_category.items(),
                     key=lambda pair: (-pair[1].value, pair[0] is None, (pair[0] or "").lower()))
    return [{"category": category, "productCount": totals.product_count, "units": totals.units,
             "value": money(totals.value)} for category, totals in ordered]


def _by_value(index: Any) -> list[Any]:
    return index.remember(("reports:value",), lambda: sorted(index.entries, key=_value_order))


def inventory_report(company_id: str, limit: int = 50, cursor: str | None = None) -> dict[str, Any]:
    """Stock x catalog price of every product (active and inactive): totals, per-category subtotals (by
    value, highest first; ``null`` for products without one) and a page of products, highest value
    first (ties by name, then id)."""
    from bisect import bisect_right

    from distribu import catalog_index, pagination

    limit = pagination.clamp_limit(limit)
    after = _decode_cursor(cursor) if cursor else None
    index = catalog_index.load(company_id)
    ordered = _by_value(index)
    start = bisect_right([_value_order(entry) for entry in ordered], after) if after is not None else 0
    page = ordered[start:start + limit]
    more = start + limit < len(ordered)
    totals = index.valuation.totals
    return {
        "data": {
            "asOf": index.updated_at or clock.now_iso(),
            "totals": {"productCount": totals.product_count, "units": totals.units, "value": money(totals.value)},
            "byCategory": _categories(index.valuation),
            "products": [_product_row(entry) for entry in page],
        },
        "pagination": {"hasMore": more, "nextCursor": _encode_cursor(page[-1]) if more and page else None},
    }


# --- CSV -----------------------------------------------------------------------------------------------

def _csv(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    from distribu.csvformat import neutralise

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(list(header))
    for row in rows:
        writer.writerow(["" if cell is None else neutralise(cell) if isinstance(cell, str) else f"{cell:.2f}"
                         if isinstance(cell, float) else str(cell) for cell in row])
    return out.getvalue()


SALES_CSV_HEADER = ("date", "orderCount", "revenue")
CUSTOMERS_CSV_HEADER = ("customerId", "email", "name", "orderCount", "revenue", "lastOrderAt")
INVENTORY_CSV_HEADER = ("productId", "sku", "name", "category", "stock", "price", "value")
CATEGORIES_CSV_HEADER = ("category", "productCount", "units", "value")


def sales_csv(report: dict[str, Any]) -> str:
    """The daily figures of a :func:`sales_report`, one row per day, then a total row."""
    return _csv(SALES_CSV_HEADER, [*([day["date"], day["orderCount"], float(day["revenue"])] for day in report["daily"]),
                                   ["total", report["totals"]["orderCount"], float(report["totals"]["revenue"])]])


STATUSES_CSV_HEADER = ("status", "orderCount", "revenue")


def statuses_csv(report: dict[str, Any]) -> str:
    """The status breakdown of a :func:`sales_report`."""
    return _csv(STATUSES_CSV_HEADER, ([row["status"], row["orderCount"], float(row["revenue"])]
                                      for row in report["byStatus"]))


def customers_csv(report: dict[str, Any]) -> str:
    return _csv(CUSTOMERS_CSV_HEADER, ([row["customerId"], row["email"], row["name"], row["orderCount"],
                                        float(row["revenue"]), row["lastOrderAt"]] for row in report["customers"]))


def inventory_csv(company_id: str) -> str:
    """Every product, highest value first (the whole list, not a page)."""
    from distribu import catalog_index

    ordered = _by_value(catalog_index.load(company_id))
    return _csv(INVENTORY_CSV_HEADER, ([entry.id, entry.sku, entry.name, entry.category, entry.stock,
                                        float(money(entry.price)), float(money(entry.price * entry.stock))]
                                       for entry in ordered))


def categories_csv(report: dict[str, Any]) -> str:
    """The per-category subtotals of an :func:`inventory_report` (``(none)`` for no category)."""
    return _csv(CATEGORIES_CSV_HEADER, ([row["category"] if row["category"] is not None else "(none)",
                                         row["productCount"], row["units"], float(row["value"])]
                                        for row in report["data"]["byCategory"]))


def rebuild(company_id: str) -> dict[str, Any]:
    """Recompute what the reports read (the sales and spend rollups, and the catalog index with its
    valuation) from the orders and the products; safe while the stream's projector runs."""
    from distribu import projections

    return projections.rebuild(company_id)
