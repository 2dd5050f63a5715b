"""Sales rollups: per company, order count and revenue per UTC day and status, and each customer's spend,
kept exact from the orders' stream records so that reports never read orders.

Items (all under ``C#{company}``):

- ``SALES#M#{yyyy-mm}``: the month's orders, per day and status: ``{"14": {"SUBMITTED": [count,
  "revenue"]}}``. A year's sales report reads 12-13 of these (one Query), however many orders there are.
- ``SPEND#M#{yyyy-mm}`` and ``SPEND#D#{yyyy-mm-dd}``: each customer's order count, revenue and last
  order time in the month / day. A customers report reads the months its range covers and the days at
  its edges.
- ``SALES#L#{yyyy-mm-dd}``: the day's ledger, which status each order is counted under. It is what
  makes the rollups idempotent and order-independent: a record counts an order the first time it is
  seen, moves it between statuses only forward along its lifecycle (SUBMITTED < CONFIRMED < SHIPPED <
  DELIVERED, and CANCELLED, which is final too), and changes nothing when it is late or redelivered.

Revenue counts every order, whatever its status (cancelled included, as Distribu documents); an
order's total never changes after it is placed, so a status move moves exactly that amount. Every item
carries a version ``v`` and is written on the version read, in one transaction per batch, so
concurrent projectors cannot lose each other's counts. Days are UTC days (``createdAt[:10]``).

Limits: a day's ledger holds about 10,000 orders (DynamoDB's 400 KB item), a month's spend item about
5,000 customers.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterable

from distribu import clock, dynamo, keys
from distribu.errors import Conflict

Key = tuple[str, str]
# The order lifecycle (distribu.orders.STATUSES, held equal by a test; not imported: orders loads pydantic).
STATUSES = ("SUBMITTED", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED")
RANK = {"SUBMITTED": 0, "CONFIRMED": 1, "SHIPPED": 2, "DELIVERED": 3, "CANCELLED": 3}
CODE = {"SUBMITTED": "S", "CONFIRMED": "C", "SHIPPED": "H", "DELIVERED": "D", "CANCELLED": "X"}
STATUS_OF_CODE = {code: status for status, code in CODE.items()}
ZERO = Decimal("0")


def sales_month_sk(month: str) -> str:
    return f"SALES#M#{month}"


def ledger_sk(day: str) -> str:
    return f"SALES#L#{day}"


def spend_month_sk(month: str) -> str:
    return f"SPEND#M#{month}"


def spend_day_sk(day: str) -> str:
    return f"SPEND#D#{day}"


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


# --- the items, in memory ---------------------------------------------------------------------------------

@dataclass
class SalesMonth:
    """day of month ("01".."31") -> status -> [count, revenue]."""

    month: str
    days: dict[str, dict[str, list[Any]]] = field(default_factory=dict)

    @classmethod
    def from_item(cls, month: str, item: dict[str, Any] | None) -> "SalesMonth":
        days = json.loads(item["days"]) if item and item.get("days") else {}
        return cls(month, {day: {status: [int(n), Decimal(r)] for status, (n, r) in statuses.items()}
                           for day, statuses in days.items()})

    def add(self, day: str, status: str, amount: Decimal, sign: int) -> None:
        statuses = self.days.setdefault(day, {})
        figures = statuses.setdefault(status, [0, ZERO])
        figures[0] += sign
        figures[1] += sign * amount
        if figures[0] == 0 and figures[1] == 0:
            del statuses[status]
        if not statuses:
            del self.days[day]

    def encoded(self) -> str:
        return _dumps({day: {status: [n, str(r)] for status, (n, r) in statuses.items()}
                       for day, statuses in self.days.items()})

    def day(self, day: str) -> tuple[int, Decimal]:
        statuses = self.days.get(day, {})
        return sum(n for n, _ in statuses.values()), sum((r for _, r in statuses.values()), ZERO)

    def total(self) -> tuple[int, Decimal]:
        count, revenue = 0, ZERO
        for day in self.days:
            n, r = self.day(day)
            count, revenue = count + n, revenue + r
        return count, revenue


@dataclass
class Spend:
    """customer id -> [order count, revenue, last order time] over a month or a day."""

    period: str
    customers: dict[str, list[Any]] = field(default_factory=dict)

    @classmethod
    def from_item(cls, period: str, item: dict[str, Any] | None) -> "Spend":
        customers = json.loads(item["customers"]) if item and item.get("customers") else {}
        return cls(period, {cid: [int(n), Decimal(r), last] for cid, (n, r, last) in customers.items()})

    def add(self, customer_id: str, amount: Decimal, at: str) -> None:
        figures = self.customers.setdefault(customer_id, [0, ZERO, at])
        figures[0] += 1
        figures[1] += amount
        figures[2] = max(figures[2], at)

    def encoded(self) -> str:
        return _dumps({cid: [n, str(r), last] for cid, (n, r, last) in self.customers.items()})


@dataclass
class Ledger:
    """order id -> the status it is counted under (one letter)."""

    day: str
    orders: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_item(cls, day: str, item: dict[str, Any] | None) -> "Ledger":
        return cls(day, json.loads(item["orders"]) if item and item.get("orders") else {})

    def encoded(self) -> str:
        return _dumps(self.orders)


@dataclass(frozen=True)
class OrderChange:
    """An order as one stream record shows it (total, customer and createdAt never change)."""

    order_id: str
    status: str
    created_at: str
    total: Decimal
    customer_id: str | None

    @property
    def day(self) -> str:
        return self.created_at[:10]

    @property
    def month(self) -> str:
        return self.created_at[:7]


def order_change(image: dict[str, Any] | None) -> OrderChange | None:
    if not image or image.get("entity") != "ORDER":
        return None
    if image["status"] not in RANK:
        raise ValueError(f"Order {image['id']} has a status the rollups do not know: {image['status']}")
    return OrderChange(image["id"], image["status"], image["createdAt"], dynamo.as_decimal(image["total"]),
                       image.get("customerId"))


# --- the period's items together: load, apply, write ----------------------------------------------------

class Books:
    """The rollup items of some days and months, as read (with their versions), changed in memory, and
    written back on those versions."""

    def __init__(self, company_id: str) -> None:
        self.company_id = company_id
        self.pk = keys.company(company_id)
        self.read_versions: dict[str, int | None] = {}
        self.encoded_as_read: dict[str, str | None] = {}
        self.sales: dict[str, SalesMonth] = {}
        self.spend_months: dict[str, Spend] = {}
        self.spend_days: dict[str, Spend] = {}
        self.ledgers: dict[str, Ledger] = {}

    @staticmethod
    def keys_for(company_id: str, days: Iterable[str]) -> set[Key]:
        pk = keys.company(company_id)
        wanted: set[Key] = set()
        for day in days:
            wanted |= {(pk, ledger_sk(day)), (pk, spend_day_sk(day)), (pk, sales_month_sk(day[:7])),
                       (pk, spend_month_sk(day[:7]))}
        return wanted

    def _remember(self, sort_key: str, item: dict[str, Any] | None, encoded: str | None) -> None:
        self.read_versions[sort_key] = int(item["v"]) if item else None
        self.encoded_as_read[sort_key] = encoded

    def load(self, days: Iterable[str], found: dict[Key, dict[str, Any]]) -> None:
        for day in days:
            month = day[:7]
            if day not in self.ledgers:
                item = found.get((self.pk, ledger_sk(day)))
                self.ledgers[day] = Ledger.from_item(day, item)
                self._remember(ledger_sk(day), item, item.get("orders") if item else None)
                item = found.get((self.pk, spend_day_sk(day)))
                self.spend_days[day] = Spend.from_item(day, item)
                self._remember(spend_day_sk(day), item, item.get("customers") if item else None)
            if month not in self.sales:
                item = found.get((self.pk, sales_month_sk(month)))
                self.sales[month] = SalesMonth.from_item(month, item)
                self._remember(sales_month_sk(month), item, item.get("days") if item else None)
                item = found.get((self.pk, spend_month_sk(month)))
                self.spend_months[month] = Spend.from_item(month, item)
                self._remember(spend_month_sk(month), item, item.get("customers") if item else None)

    def apply(self, change: OrderChange) -> bool:
        """Count the order, or move it to a later status; False when the books already have this state
        or a later one (a late or repeated record)."""
        ledger = self.ledgers[change.day]
        held = STATUS_OF_CODE.get(ledger.orders.get(change.order_id, ""))
        if held is not None and RANK[held] >= RANK[change.status]:
            return False
        sales = self.sales[change.month]
        day_of_month = change.day[8:10]
        if held is None:
            sales.add(day_of_month, change.status, change.total, +1)
            if change.customer_id:
                self.spend_months[change.month].add(change.customer_id, change.total, change.created_at)
                self.spend_days[change.day].add(change.customer_id, change.total, change.created_at)
        else:
            sales.add(day_of_month, held, change.total, -1)
            sales.add(day_of_month, change.status, change.total, +1)
        ledger.orders[change.order_id] = CODE[change.status]
        return True

    def writes(self) -> list[dict[str, Any]]:
        """A Put (or a Delete, for an item left empty) of every item that changed, on its read version."""
        now = clock.now_iso()
        planned: list[tuple[str, str, dict[str, Any], bool]] = []
        for month, sales in self.sales.items():
            planned.append((sales_month_sk(month), sales.encoded(),
                            {"entity": "SALES_MONTH", "month": month, "days": sales.encoded()}, not sales.days))
        for month, spend in self.spend_months.items():
            planned.append((spend_month_sk(month), spend.encoded(),
                            {"entity": "CUSTOMER_SPEND", "period": month, "customers": spend.encoded()},
                            not spend.customers))
        for day, spend in self.spend_days.items():
            planned.append((spend_day_sk(day), spend.encoded(),
                            {"entity": "CUSTOMER_SPEND", "period": day, "customers": spend.encoded()},
                            not spend.customers))
        for day, ledger in self.ledgers.items():
            planned.append((ledger_sk(day), ledger.encoded(),
                            {"entity": "SALES_LEDGER", "day": day, "orders": ledger.encoded()}, not ledger.orders))
        writes = []
        for sort_key, encoded, attributes, empty in planned:
            read_version = self.read_versions[sort_key]
            if encoded == (self.encoded_as_read[sort_key] or "{}"):
                continue
            if empty and read_version is not None:
                writes.append(dynamo.delete(self.pk, sort_key, condition="v = :v", values={":v": read_version}))
                continue
            item = {"PK": self.pk, "SK": sort_key, "companyId": self.company_id, "v": (read_version or 0) + 1,
                    "updatedAt": now, **attributes}
            if read_version is None:
                writes.append(dynamo.put(item, condition="attribute_not_exists(PK)"))
            else:
                writes.append(dynamo.put(item, condition="v = :v", values={":v": read_version}))
        return writes


class SalesProjector:
    """Plans the rollup writes for one company's order records of one batch (the loop that reads,
    plans and writes is :mod:`distribu.projections`)."""

    def __init__(self, company_id: str, changes: list[OrderChange]) -> None:
        self.company_id = company_id
        self.changes = changes

    def wanted(self, reads: Any) -> set[Key]:
        return Books.keys_for(self.company_id, {change.day for change in self.changes})

    def writes(self, reads: Any) -> list[dict[str, Any]]:
        if not self.changes:
            return []
        books = Books(self.company_id)
        books.load({change.day for change in self.changes}, {key: reads.get(key) for key in
                                                             self.wanted(reads) if reads.get(key)})
        for change in self.changes:
            books.apply(change)
        return books.writes()


# --- rebuilding from the orders ---------------------------------------------------------------------------

REBUILD_ATTEMPTS = 5
ORDER_ATTRIBUTES = ("id", "entity", "status", "createdAt", "total", "customerId")


def _orders_between(company_id: str, low: str, high: str) -> Iterable[dict[str, Any]]:
    names = {f"#a{number}": name for number, name in enumerate(ORDER_ATTRIBUTES)}
    return dynamo.query_all({
        "IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk AND GSI1SK BETWEEN :low AND :high",
        "ExpressionAttributeValues": {":pk": {"S": keys.listing(company_id, "ORDER")}, ":low": {"S": low},
                                      ":high": {"S": high}},
        "ProjectionExpression": ", ".join(names), "ExpressionAttributeNames": names,
    })


def _first_order_month(company_id: str) -> str | None:
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), IndexName="GSI1", KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.listing(company_id, "ORDER")}}, ScanIndexForward=True, Limit=1,
        ProjectionExpression="createdAt")
    items = response.get("Items", [])
    return items[0]["createdAt"]["S"][:7] if items else None


def _months_with_rollups(company_id: str) -> set[str]:
    items = dynamo.query_all({"KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
                              "ExpressionAttributeValues": {":pk": {"S": keys.company(company_id)},
                                                            ":prefix": {"S": "SALES#M#"}},
                              "ProjectionExpression": "SK"})
    return {item["SK"][len("SALES#M#"):] for item in items}


def months_between(first: str, last: str) -> list[str]:
    year, month = int(first[:4]), int(first[5:7])
    months = []
    while f"{year:04d}-{month:02d}" <= last:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def days_of_month(month: str) -> list[str]:
    first = date(int(month[:4]), int(month[5:7]), 1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return [(first + timedelta(days=offset)).isoformat() for offset in range((following - first).days)]


def _rebuild_month(company_id: str, month: str) -> tuple[int, int]:
    """One month, in one transaction (at most 31 ledgers, 31 day spends, the month's sales and spend).
    The rollups are read before the orders, and written on the versions read: a change the projector
    applies meanwhile makes this month start again. Returns (orders, items written)."""
    days = days_of_month(month)
    for attempt in range(REBUILD_ATTEMPTS):
        found = dynamo.batch_get(sorted(Books.keys_for(company_id, days)))
        current = Books(company_id)
        current.load(days, found)
        fresh = Books(company_id)
        fresh.load(days, {})
        fresh.read_versions, fresh.encoded_as_read = current.read_versions, current.encoded_as_read
        orders = 0
        for item in _orders_between(company_id, f"{month}-01", f"{month}-99"):  # GSI1SK: "{createdAt}#{id}"
            if item.get("entity") == "ORDER" and item["createdAt"][:7] == month:
                change = order_change({**item, "entity": "ORDER"})
                assert change is not None
                fresh.apply(change)
                orders += 1
        writes = fresh.writes()
        if not writes:
            return orders, 0
        try:
            dynamo.transact(writes)
            return orders, len(writes)
        except dynamo.TransactionCancelled:
            time.sleep(0.05 * (attempt + 1))
    raise Conflict(f"The sales rollups of {month} kept changing during the rebuild; run it again.")


def rebuild(company_id: str) -> dict[str, Any]:
    """Recompute every month's rollups from the orders (months that have orders, and months that have
    rollups but no orders any more), one month per transaction. Rebuilding twice, or rebuilding after
    the stream has already counted everything, changes nothing."""
    first = _first_order_month(company_id)
    months = _months_with_rollups(company_id)
    if first:
        months |= set(months_between(first, clock.now_iso()[:7]))
    orders = written = 0
    for month in sorted(months):
        counted, items = _rebuild_month(company_id, month)
        orders += counted
        written += items
    return {"orders": orders, "months": len(months), "itemsWritten": written}


# --- reading -------------------------------------------------------------------------------------------

def sales_months(company_id: str, first: str | None = None, last: str | None = None) -> dict[str, SalesMonth]:
    """The months from ``first`` to ``last`` (``yyyy-mm``; both None: every month there is), one Query
    (a month item is a few KB, so a decade fits one page)."""
    pk = keys.company(company_id)
    if first is None or last is None:
        condition = "PK = :pk AND begins_with(SK, :low)"
        values = {":pk": {"S": pk}, ":low": {"S": "SALES#M#"}}
    else:
        condition = "PK = :pk AND SK BETWEEN :low AND :high"
        values = {":pk": {"S": pk}, ":low": {"S": sales_month_sk(first)}, ":high": {"S": sales_month_sk(last)}}
    return {item["month"]: SalesMonth.from_item(item["month"], item)
            for item in dynamo.query_all({"KeyConditionExpression": condition, "ExpressionAttributeValues": values})}


def first_order_day(company_id: str) -> str | None:
    """The UTC day of the company's first order, from the rollups (one Query of one item)."""
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :low)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)}, ":low": {"S": "SALES#M#"}}, Limit=1)
    items = response.get("Items", [])
    if not items:
        return None
    month = SalesMonth.from_item(items[0]["month"]["S"], dynamo.from_item(items[0]))
    return f"{month.month}-{min(month.days)}" if month.days else None


def spend_between(company_id: str, sort_key_low: str, sort_key_high: str) -> list[Spend]:
    """Spend items whose sort keys lie in a range (months ``SPEND#M#...`` or days ``SPEND#D#...``)."""
    items = dynamo.query_all({"KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high",
                              "ExpressionAttributeValues": {":pk": {"S": keys.company(company_id)},
                                                            ":low": {"S": sort_key_low},
                                                            ":high": {"S": sort_key_high}}})
    return [Spend.from_item(item["period"], item) for item in items]


@dataclass(frozen=True)
class SalesSummary:
    """For the dashboard home: today's and this month's orders (UTC), every status counted."""

    today_orders: int
    today_revenue: Decimal
    month_orders: int
    month_revenue: Decimal


def sales_summary_key(company_id: str, today: date | None = None) -> Key:
    """The one item :func:`summarize` needs (so a page can put it in its own BatchGetItem)."""
    day = today or clock.now().date()
    return keys.company(company_id), sales_month_sk(day.isoformat()[:7])


def summarize(item: dict[str, Any] | None, today: date | None = None) -> SalesSummary:
    day = today or clock.now().date()
    month = SalesMonth.from_item(day.isoformat()[:7], item)
    today_orders, today_revenue = month.day(day.isoformat()[8:10])
    month_orders, month_revenue = month.total()
    return SalesSummary(today_orders, today_revenue, month_orders, month_revenue)


def sales_summary(company_id: str, today: date | None = None) -> SalesSummary:
    """Today's and this month's order count and revenue: one GetItem of this month's rollup."""
    day = today or clock.now().date()
    return summarize(dynamo.get(*sales_summary_key(company_id, day), consistent=False), day)


# --- each customer's lifetime totals (the customer detail page's stats) -------------------------------------
#
# ``SPEND#C#{customer}``: the customer's order count, revenue and last order time over its whole history,
# so the detail page reads one item whatever the number of orders. It counts an order the first time the
# day's ledger (above) has not seen it, and it is written in the same transaction as that ledger: the
# :class:`CustomerLifetimeProjector` runs beside the :class:`SalesProjector` in one unit of work
# (:func:`distribu.projections.project`), so a late, repeated or concurrent record never counts twice (a
# projector that raced us fails on the ledger's version and plans again from what it then reads). Revenue
# counts every order, cancelled included, as the spend items above do: the detail page and the customers
# report agree.

def customer_lifetime_sk(customer_id: str) -> str:
    return f"SPEND#C#{customer_id}"


def customer_lifetime_key(company_id: str, customer_id: str) -> Key:
    """The one item :func:`lifetime_of` needs (so a page can put it in its own BatchGetItem)."""
    return keys.company(company_id), customer_lifetime_sk(customer_id)


@dataclass
class CustomerLifetime:
    customer_id: str
    orders: int = 0
    spent: Decimal = ZERO
    last_order_at: str | None = None

    @property
    def average(self) -> Decimal:
        return (self.spent / self.orders).quantize(Decimal("0.01")) if self.orders else ZERO

    def add(self, amount: Decimal, at: str) -> None:
        self.orders += 1
        self.spent += amount
        self.last_order_at = max(self.last_order_at or at, at)

    def attributes(self) -> dict[str, Any]:
        return {"entity": "CUSTOMER_LIFETIME", "customerId": self.customer_id, "orders": self.orders,
                "spent": str(self.spent), "lastOrderAt": self.last_order_at}


def lifetime_of(customer_id: str, item: dict[str, Any] | None) -> CustomerLifetime:
    """The customer's lifetime totals from its item (none yet: zeros)."""
    if not item:
        return CustomerLifetime(customer_id)
    return CustomerLifetime(customer_id, int(item.get("orders", 0)), Decimal(str(item.get("spent", "0"))),
                            item.get("lastOrderAt"))


def customer_lifetime(company_id: str, customer_id: str) -> CustomerLifetime:
    """One GetItem."""
    return lifetime_of(customer_id, dynamo.get(*customer_lifetime_key(company_id, customer_id)))


def _lifetime_write(pk: str, company_id: str, lifetime: CustomerLifetime, read_version: int | None,
                    now: str) -> dict[str, Any]:
    sort_key = customer_lifetime_sk(lifetime.customer_id)
    if not lifetime.orders:
        return dynamo.delete(pk, sort_key, condition="v = :v", values={":v": read_version})
    item = {"PK": pk, "SK": sort_key, "companyId": company_id, "v": (read_version or 0) + 1, "updatedAt": now,
            **lifetime.attributes()}
    if read_version is None:
        return dynamo.put(item, condition="attribute_not_exists(PK)")
    return dynamo.put(item, condition="v = :v", values={":v": read_version})


class CustomerLifetimeProjector:
    """Plans the lifetime writes for one company's order records of one batch. Must run in the same unit
    of work as the :class:`SalesProjector` of the same records: their day ledgers, as read, say which
    orders are new, and the sales projector's conditional ledger writes are what make this one exact."""

    def __init__(self, company_id: str, changes: list[OrderChange]) -> None:
        self.company_id = company_id
        self.changes = [change for change in changes if change.customer_id]

    def wanted(self, reads: Any) -> set[Key]:
        pk = keys.company(self.company_id)
        return ({(pk, ledger_sk(change.day)) for change in self.changes}
                | {(pk, customer_lifetime_sk(str(change.customer_id))) for change in self.changes})

    def writes(self, reads: Any) -> list[dict[str, Any]]:
        pk = keys.company(self.company_id)
        lifetimes: dict[str, CustomerLifetime] = {}
        counted: set[str] = set()
        for change in self.changes:
            ledger = Ledger.from_item(change.day, reads.get((pk, ledger_sk(change.day))))
            if change.order_id in ledger.orders or change.order_id in counted:
                continue  # counted already (a status move, a late or a repeated record)
            counted.add(change.order_id)
            customer_id = str(change.customer_id)
            if customer_id not in lifetimes:
                lifetimes[customer_id] = lifetime_of(customer_id, reads.get((pk, customer_lifetime_sk(customer_id))))
            lifetimes[customer_id].add(change.total, change.created_at)
        now = clock.now_iso()
        writes = []
        for customer_id, lifetime in lifetimes.items():
            item = reads.get((pk, customer_lifetime_sk(customer_id)))
            writes.append(_lifetime_write(pk, self.company_id, lifetime, int(item["v"]) if item else None, now))
        return writes


def rebuild_customer_lifetimes(company_id: str, *, attempts: int = REBUILD_ATTEMPTS) -> dict[str, Any]:
    """Every customer's lifetime totals summed from the month spend items (rebuild those first:
    :func:`rebuild`). The lifetime items are read before the months and written on the versions read, so
    an order the projector counts meanwhile makes the rebuild start again. Rebuilding twice changes
    nothing."""
    pk = keys.company(company_id)
    for attempt in range(attempts):
        stored = {item["customerId"]: item for item in dynamo.query_all({
            "KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)",
            "ExpressionAttributeValues": {":pk": {"S": pk}, ":prefix": {"S": "SPEND#C#"}}})}
        computed: dict[str, CustomerLifetime] = {}
        for month in spend_between(company_id, "SPEND#M#", "SPEND#M#~"):
            for customer_id, (count, revenue, last) in month.customers.items():
                lifetime = computed.setdefault(customer_id, CustomerLifetime(customer_id))
                lifetime.orders += count
                lifetime.spent += revenue
                lifetime.last_order_at = max(lifetime.last_order_at or last, last)
        now = clock.now_iso()
        writes = []
        for customer_id in sorted(set(stored) | set(computed)):
            lifetime = computed.get(customer_id, CustomerLifetime(customer_id))
            item = stored.get(customer_id)
            if lifetime == lifetime_of(customer_id, item):
                continue
            writes.append(_lifetime_write(pk, company_id, lifetime, int(item["v"]) if item else None, now))
        try:
            for start in range(0, len(writes), dynamo.MAX_TRANSACTION_ITEMS):
                dynamo.transact(writes[start:start + dynamo.MAX_TRANSACTION_ITEMS])
        except dynamo.TransactionCancelled:
            time.sleep(0.05 * (attempt + 1))
            continue
        return {"customers": len(computed), "itemsWritten": len(writes)}
    raise Conflict("The customers' lifetime totals kept changing during the rebuild; run it again.")
