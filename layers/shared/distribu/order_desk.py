"""The orders desk: what staff do with orders in the dashboard. Every verb checks the role table first
(:mod:`distribu.permissions`: ``view`` to read, ``orders`` to place and move), then uses the one order
routine every path shares (:mod:`distribu.orders`), the invoice generator (:mod:`distribu.invoices`) and
the export machinery (:mod:`distribu.exports`).

What each page costs does not grow with the order history:

- the list reads one index partition a page at a time (GSI1 ``C#{company}#ORDER``, or GSI2, one customer's
  orders, when filtered by customer), newest first, with the date range as a key condition on the sort key
  ``{createdAt}#{id}``. Status, total range and the text search cannot use an index: DynamoDB filters what
  the Query reads, and one page reads at most :data:`distribu.pagination.MAX_EXAMINED_PER_PAGE` (1,000)
  index entries, 200 per request; past that it shows what it found with a "Next page" cursor.
- an order's timeline is its own audit entries: the order lists their keys (``auditTrail``, written in the
  same transaction as each entry; at most 4), so it is one batch read with the order's customer.
- the new-order picker searches the catalog index (:mod:`distribu.catalog_index`, the storefront's read
  model, cached per container), then reads only the products it shows, fresh, with the customer's prices.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from distribu import audit_text, catalog_index, clock, customers, dynamo, ids, keys, orders, pagination
from distribu.errors import NotFound, ValidationError
from distribu.permissions import Staff
from distribu.storefront_catalog import Offer

PAGE_SIZE = 25
PICKER_SIZE = 12
CUSTOMER_MATCHES = 8
MAX_QUERY = 100
# The buttons the detail page offers, in this order, when the domain allows the move.
MOVE_ORDER = ("CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED")
MOVE_LABELS = {"CONFIRMED": "Confirm", "SHIPPED": "Mark as shipped", "DELIVERED": "Mark as delivered",
               "CANCELLED": "Cancel order"}
SOURCE_WORDS = {"DASHBOARD": "in the dashboard", "STOREFRONT": "on the storefront", "API": "through the API"}
EXPORT_KINDS = ("orders", "order-items")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# --- the list's filters -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class OrderFilters:
    """The orders page's filters as typed (empty = any). ``since``/``until`` are dates (UTC, both included);
    ``customer`` is a customer's email (or id); ``q`` matches the order number, the PO number and the
    customer's email or name (as they were when the order was placed)."""

    q: str = ""
    status: str = ""
    since: str = ""
    until: str = ""
    min_total: str = ""
    max_total: str = ""
    customer: str = ""

    NAMES = ("q", "status", "since", "until", "min_total", "max_total", "customer")

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "OrderFilters":
        return cls(**{name: " ".join(str(params.get(name) or "").split())[:254] for name in cls.NAMES})

    def params(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in self.NAMES if getattr(self, name)}

    @property
    def active(self) -> bool:
        return bool(self.params())

    def check(self) -> "_Checked":
        """The filters parsed, or a ``ValidationError`` naming each field at fault."""
        problems: list[dict[str, str]] = []
        status = self.status.upper()
        if status and status not in orders.STATUSES:
            problems.append({"field": "status", "message": "Choose one of the listed statuses."})
        bounds: dict[str, str] = {}
        for name, end in (("since", False), ("until", True)):
            value = getattr(self, name)
            if not value:
                continue
            try:
                if not _DATE.fullmatch(value):
                    raise ValueError
                clock.parse_iso(value)
                bounds[name] = value + ("T23:59:59.999Z#~" if end else "T00:00:00.000Z")
            except ValueError:
                problems.append({"field": name, "message": "Enter a date as YYYY-MM-DD."})
        if self.since and self.until and "since" in bounds and "until" in bounds and self.since > self.until:
            problems.append({"field": "until", "message": "The end date is before the start date."})
        totals: dict[str, Decimal] = {}
        for name in ("min_total", "max_total"):
            value = getattr(self, name).replace(",", "").lstrip("$")
            if not value:
                continue
            try:
                amount = Decimal(value)
                if not amount.is_finite() or amount < 0 or amount > Decimal("1e12"):
                    raise InvalidOperation
                totals[name] = amount.quantize(Decimal("0.01"))
            except InvalidOperation:
                problems.append({"field": name, "message": "Enter an amount of 0 or more, like 250 or 99.90."})
        if len(totals) == 2 and totals["min_total"] > totals["max_total"]:
            problems.append({"field": "max_total", "message": "The highest total is below the lowest."})
        customer_email = customer_id = None
        if self.customer:
            if _EMAIL.fullmatch(self.customer):
                customer_email = self.customer.lower()
            elif re.fullmatch(r"[0-9a-hjkmnp-tv-z]{26}", self.customer):
                customer_id = self.customer
            else:
                problems.append({"field": "customer", "message": "Enter the customer's email address."})
        if problems:
            raise ValidationError("Validation failed.", details=problems)
        needle = self.q.lower().lstrip("#").strip()[:MAX_QUERY]
        return _Checked(needle, status, bounds.get("since"), bounds.get("until"), totals.get("min_total"),
                        totals.get("max_total"), customer_email, customer_id)


@dataclass(frozen=True)
class _Checked:
    q: str
    status: str
    low: str | None
    high: str | None
    min_total: Decimal | None
    max_total: Decimal | None
    customer_email: str | None
    customer_id: str | None


def first_reads(company_id: str, filters: OrderFilters) -> list[tuple[str, str]]:
    """What the orders page adds to its first batch: the customer's email guard when filtering by email
    (it names the customer's id), so the filter costs no round trip of its own."""
    try:
        checked = filters.check()
    except ValidationError:
        return []
    if checked.customer_email:
        return [(keys.company(company_id), keys.email_guard_sk(checked.customer_email))]
    return []


_NO_CUSTOMER = "-"  # a GSI2 partition no order is in: a customer filter that names nobody matches nothing


def _customer_of(company_id: str, checked: _Checked, found: Mapping[tuple[str, str], Any]) -> str | None:
    if checked.customer_id:
        return checked.customer_id
    if checked.customer_email:
        guard_key = (keys.company(company_id), keys.email_guard_sk(checked.customer_email))
        guard = found[guard_key] if guard_key in found else dynamo.get(*guard_key)
        return (guard or {}).get("customerId") or _NO_CUSTOMER
    return None


@dataclass(frozen=True)
class _Plan:
    """Which index partition to read and what DynamoDB filters out of it."""

    index: str
    pk_name: str
    sk_name: str
    partition: str
    between: tuple[str, str] | None
    filter_expression: str | None
    names: dict[str, str] | None
    values: dict[str, Any] | None


def _plan(company_id: str, checked: _Checked, customer_id: str | None) -> _Plan:
    if customer_id:
        index, pk_name, sk_name = "GSI2", "GSI2PK", "GSI2SK"
        partition = keys.customer_orders(company_id, customer_id)
    else:
        index, pk_name, sk_name = "GSI1", "GSI1PK", "GSI1SK"
        partition = keys.listing(company_id, "ORDER")
    between = (checked.low or "0", checked.high or "9999") if (checked.low or checked.high) else None
    conditions, names, values = [], {}, {}
    if checked.status:
        conditions.append("#status = :status")
        names["#status"], values[":status"] = "status", checked.status
    if checked.min_total is not None:
        conditions.append("#total >= :min_total")
        names["#total"], values[":min_total"] = "total", checked.min_total
    if checked.max_total is not None:
        conditions.append("#total <= :max_total")
        names["#total"], values[":max_total"] = "total", checked.max_total
    if checked.q:
        conditions.append("(contains(#search, :q) OR contains(#id, :q))")
        names.update({"#search": "searchText", "#id": "id"})
        values[":q"] = checked.q
    return _Plan(index, pk_name, sk_name, partition, between, " AND ".join(conditions) or None, names or None,
                 values or None)


# --- the list ----------------------------------------------------------------------------------------------

@dataclass
class OrderRow:
    order: dict[str, Any]
    customer: dict[str, Any] | None

    @property
    def code(self) -> str:
        return orders.order_code(self.order["id"])


@dataclass
class OrderList:
    rows: list[OrderRow]
    next_cursor: str | None


def search_orders(staff: Staff, filters: OrderFilters, *, cursor: str | None = None,
                  first_batch: Mapping[tuple[str, str], Any] | None = None, limit: int | None = None) -> OrderList:
    """One page of the company's orders matching ``filters``, newest first, with each order's customer.

    Round trips: the Query (one when unfiltered or when the page fills at once; at most 5 for a sparse
    filter) and one batch read of the page's customers. The email filter's lookup comes in ``first_batch``.
    """
    staff.require("view")
    checked = filters.check()
    company_id = staff.company_id
    customer_id = _customer_of(company_id, checked, first_batch or {})
    plan = _plan(company_id, checked, customer_id)
    spec = pagination.IndexQuery(
        index=plan.index, pk_name=plan.pk_name, sk_name=plan.sk_name, partition=plan.partition,
        sk_between=plan.between, filter_expression=plan.filter_expression, names=plan.names, values=plan.values,
        start_key=lambda sort_key: {plan.pk_name: plan.partition, plan.sk_name: sort_key,
                                    "PK": keys.company(company_id),
                                    "SK": keys.order_sk(keys.id_from_listing_sort(sort_key))})
    page = pagination.query_page(spec, limit=limit or PAGE_SIZE, cursor=cursor)
    pk = keys.company(company_id)
    wanted = list(dict.fromkeys((pk, keys.customer_sk(item["customerId"])) for item in page.items
                                if item.get("customerId")))
    people = dynamo.batch_get(wanted) if wanted else {}
    rows = []
    for item in page.items:
        person = people.get((pk, keys.customer_sk(item["customerId"]))) if item.get("customerId") else None
        view = {**orders.to_api(item), "source": item.get("source")}
        rows.append(OrderRow(view, _person(person)))
    return OrderList(rows, page.next_cursor)


def _person(item: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not item or item.get("entity") != "CUSTOMER":
        return None
    return {"id": item["id"], "email": item.get("email"), "name": item.get("name"), "status": item.get("status")}


def export_orders(staff: Staff, filters: OrderFilters, kind: str, *,
                  first_batch: Mapping[tuple[str, str], Any] | None = None) -> dict[str, Any]:
    """The filtered orders as one of the two CSV layouts (``orders``: one row per order; ``order-items``: one
    row per line), streamed into S3 a page at a time by :mod:`distribu.exports`; answers its download link."""
    staff.require("view")
    if kind not in EXPORT_KINDS:
        raise ValidationError("Validation failed.", details=[{"field": "kind", "message": "Choose a layout."}])
    checked = filters.check()
    customer_id = _customer_of(staff.company_id, checked, first_batch or {})
    plan = _plan(staff.company_id, checked, customer_id)
    names = {"#pk": plan.pk_name, **(plan.names or {})}
    values: dict[str, Any] = {":pk": plan.partition, **(plan.values or {})}
    condition = "#pk = :pk"
    if plan.between:
        names["#sk"] = plan.sk_name
        values[":low"], values[":high"] = plan.between
        condition += " AND #sk BETWEEN :low AND :high"
    query: dict[str, Any] = {
        "TableName": dynamo.table_name(), "IndexName": plan.index, "ScanIndexForward": True,
        "KeyConditionExpression": condition, "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {name: dynamo.to_attr(value) for name, value in values.items()},
    }
    if plan.filter_expression:
        query["FilterExpression"] = plan.filter_expression
    from distribu import exports  # S3 and the CSV writer load only when someone exports

    return exports.export(staff.company_id, kind, query=query)


# --- one order ---------------------------------------------------------------------------------------------

def order_key(company_id: str, order_id: str) -> tuple[str, str]:
    return keys.company(company_id), keys.order_sk(order_id)


@dataclass
class TimelineEntry:
    when: str
    text: str
    status: str | None  # the status the order reached


@dataclass
class OrderDetail:
    order: dict[str, Any]
    source: str | None
    customer: dict[str, Any] | None
    timeline: list[TimelineEntry]
    moves: list[tuple[str, str]]  # (status, button label), the moves the domain allows from here

    @property
    def code(self) -> str:
        return orders.order_code(self.order["id"])


def _timeline_text(entry: Mapping[str, Any], details: Mapping[str, Any]) -> tuple[str, str | None]:
    who = audit_text.actor_label(entry)
    if entry.get("action") == "OrderPlaced":
        where = SOURCE_WORDS.get(str(details.get("source")), "")
        return f"{who} placed the order {where}".strip(), "SUBMITTED"
    if entry.get("action") == "OrderStatusChanged":
        before, after = str(details.get("from", "")), str(details.get("to", ""))
        return f"{who} moved it from {before.title()} to {after.title()}", after or None
    return audit_text.describe({**entry, "details": details}), None


def order_detail(staff: Staff, order_id: str, *, first_batch: Mapping[tuple[str, str], Any] | None = None
                 ) -> OrderDetail:
    """The order, its customer, its timeline (its own audit entries, oldest first) and the moves the order's
    lifecycle allows from its status. Another company's order is ``NotFound``, like a missing one."""
    staff.require("view")
    pk, sk = order_key(staff.company_id, order_id)
    batch = first_batch or {}
    item = batch[(pk, sk)] if (pk, sk) in batch else dynamo.get(pk, sk)
    if not item or item.get("entity") != "ORDER" or item.get("companyId", staff.company_id) != staff.company_id:
        raise NotFound(orders.NOT_FOUND)
    wanted = [(pk, trail) for trail in item.get("auditTrail") or [] if str(trail).startswith("AUDIT#")]
    if item.get("customerId"):
        wanted.append((pk, keys.customer_sk(item["customerId"])))
    found = dynamo.batch_get(wanted) if wanted else {}
    timeline = []
    for key in wanted:
        entry = found.get(key)
        if not entry or entry.get("entity") != "AUDIT":
            continue
        try:
            details = json.loads(entry.get("details") or "{}")
        except ValueError:
            details = {}
        text, status = _timeline_text(entry, details if isinstance(details, dict) else {})
        timeline.append(TimelineEntry(entry["createdAt"], text, status))
    if not timeline:  # an order placed before orders listed their audit entries
        timeline.append(TimelineEntry(item["createdAt"], "Placed", "SUBMITTED"))
    timeline.sort(key=lambda entry: entry.when)
    customer = _person(found.get((pk, keys.customer_sk(item["customerId"])))) if item.get("customerId") else None
    allowed = orders.MOVES.get(item["status"], set())
    return OrderDetail(order=orders.to_api(item), source=item.get("source"), customer=customer, timeline=timeline,
                       moves=[(status, MOVE_LABELS[status]) for status in MOVE_ORDER if status in allowed])


def move_order(staff: Staff, order_id: str, status: str) -> dict[str, Any]:
    """Move an order along its lifecycle (SUBMITTED -> CONFIRMED | CANCELLED, CONFIRMED -> SHIPPED |
    CANCELLED, SHIPPED -> DELIVERED); any other move is a ``BusinessRuleViolation`` and changes nothing."""
    staff.require("orders")
    if status not in orders.STATUSES:
        raise ValidationError("Invalid order status.")
    return orders.change_status(staff.company_id, order_id, status, staff.actor())


def invoice(staff: Staff, order_id: str) -> tuple[str, bytes]:
    """``(file name, PDF)``: the storefront's generator, for any order of the company."""
    staff.require("view")
    if not ids.could_exist(order_id):
        raise NotFound(orders.NOT_FOUND)
    from distribu import invoices  # reportlab (and Pillow) load only when a PDF is asked for

    return invoices.invoice_for(staff.company_id, order_id)


# --- a new order -------------------------------------------------------------------------------------------

@dataclass
class Draft:
    """A new order being put together on the page (kept in the form between submissions)."""

    customer_id: str | None = None
    lines: dict[str, int] = field(default_factory=dict)
    address_id: str | None = None
    po_number: str = ""
    notes: str = ""
    q: str = ""
    customer_q: str = ""
    errors: dict[str, str] = field(default_factory=dict)


def _id_or_none(value: Any) -> str | None:
    text = str(value or "").strip()
    return text if text and ids.could_exist(text) and len(text) <= ids.MAX_ID_LENGTH else None


def read_draft(values: Mapping[str, Any], line_ids: list[str]) -> Draft:
    """The draft a submitted form describes: ``customer``, ``address_id``, ``line`` (product ids, in order) with
    ``qty_{id}``, ``po_number``, ``notes``, ``q`` (product search), ``customer_q`` (customer search). A
    quantity that is not a whole number of at least 1 is kept out and named in ``errors``."""
    draft = Draft(customer_id=_id_or_none(values.get("customer")), address_id=_id_or_none(values.get("address_id")),
                  po_number=str(values.get("po_number") or "").strip(), notes=str(values.get("notes") or "").strip(),
                  q=" ".join(str(values.get("q") or "").split())[:MAX_QUERY],
                  customer_q=" ".join(str(values.get("customer_q") or "").split())[:MAX_QUERY])
    for product_id in line_ids:
        product_id = _id_or_none(product_id)
        if not product_id or product_id in draft.lines:
            continue
        quantity = parse_quantity(values.get(f"qty_{product_id}"))
        if quantity is None:
            draft.errors[f"qty_{product_id}"] = "Enter a whole number of at least 1."
            draft.lines[product_id] = 1
        else:
            draft.lines[product_id] = quantity
    return draft


def parse_quantity(value: Any) -> int | None:
    text = str(value or "").strip()
    if not re.fullmatch(r"\d{1,7}", text) or not 1 <= int(text) <= orders.MAX_QUANTITY:
        return None
    return int(text)


@dataclass
class DraftLine:
    offer: Offer | None  # None: the product is no longer sold
    product_id: str
    quantity: int

    @property
    def total(self) -> Decimal:
        return self.offer.price * self.quantity if self.offer else Decimal("0")


@dataclass
class DraftView:
    """Everything the new-order page shows: the picker, the lines, the customer and its addresses."""

    draft: Draft
    picker: list[Offer]
    matching: int
    lines: list[DraftLine]
    customer: dict[str, Any] | None
    addresses: list[dict[str, Any]]
    customer_matches: list[dict[str, Any]]
    notices: list[str]

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0"))


def picker_reads(company_id: str) -> list[tuple[str, str]]:
    """What the new-order page adds to its first batch: the catalog index's head."""
    return [catalog_index.head_key(company_id)]


def _index(company_id: str, first_batch: Mapping[tuple[str, str], Any]) -> catalog_index.CatalogIndex:
    head_key = catalog_index.head_key(company_id)
    if head_key not in first_batch:
        return catalog_index.load(company_id)
    head = first_batch.get(head_key)
    stale = catalog_index.stale_shard_keys(company_id, head)
    shards: dict[tuple[str, str], Any] = {}
    for start in range(0, len(stale), 100):
        shards.update(dynamo.batch_get(stale[start:start + 100]))
    return catalog_index.assemble(company_id, head, shards)


def _offer(product: Mapping[str, Any], override: Mapping[str, Any] | None, default_threshold: int) -> Offer:
    catalog_price = dynamo.as_decimal(product["price"])
    threshold = product.get("lowStockThreshold")
    return Offer(id=product["id"], name=product["name"], sku=product.get("sku"), category=product.get("category"),
                 description=product.get("description"), unit=product.get("unit") or "each",
                 image_url=product.get("imageUrl"),
                 price=dynamo.as_decimal(override["price"]) if override else catalog_price,
                 catalog_price=catalog_price, stock=int(product["stock"]),
                 threshold=int(threshold) if threshold is not None else default_threshold)


def prepare(staff: Staff, draft: Draft, *, default_threshold: int,
            first_batch: Mapping[tuple[str, str], Any] | None = None, cap: bool = True,
            search_customers: bool = True) -> DraftView:
    """The new-order page for ``draft``: the picker's first :data:`PICKER_SIZE` active in-stock products
    matching ``draft.q`` (from the catalog index, no catalog read), then ONE batch read of the products shown
    and in the lines, with the customer's price overrides, the customer and its address book. With ``cap``,
    a line asking for more than is in stock is lowered to the stock (and said so); a line whose product is
    no longer sold is dropped (and said so)."""
    staff.require("orders")
    company_id, pk = staff.company_id, keys.company(staff.company_id)
    index = _index(company_id, first_batch or {})
    matches = [entry for entry in catalog_index.browse(index, q=draft.q or None, active=True) if entry.stock > 0]
    shown_ids = [entry.id for entry in matches[:PICKER_SIZE]]
    product_ids = list(dict.fromkeys(shown_ids + list(draft.lines)))
    customer_id = draft.customer_id
    wanted = [(pk, keys.product_sk(product_id)) for product_id in product_ids]
    if customer_id:
        wanted += [(pk, keys.price_override_sk(customer_id, product_id)) for product_id in product_ids]
        wanted += [(pk, keys.customer_sk(customer_id)), (pk, keys.address_book_sk(customer_id))]
    found: dict[tuple[str, str], Any] = {}
    for start in range(0, len(wanted), 100):
        found.update(dynamo.batch_get(wanted[start:start + 100]))
    notices: list[str] = []
    customer = _person(found.get((pk, keys.customer_sk(customer_id)))) if customer_id else None
    if customer_id and customer is None:
        notices.append("That customer was not found; the order is for no customer.")
        draft.customer_id = customer_id = None
    offers: dict[str, Offer] = {}
    for product_id in product_ids:
        product = found.get((pk, keys.product_sk(product_id)))
        if product and product.get("entity") == "PRODUCT" and product.get("isActive", True):
            override = found.get((pk, keys.price_override_sk(customer_id, product_id))) if customer_id else None
            offers[product_id] = _offer(product, override, default_threshold)
    lines = []
    for product_id, quantity in list(draft.lines.items()):
        offer = offers.get(product_id)
        if cap and offer is None:
            notices.append("A product in the order is no longer sold and was taken out.")
            del draft.lines[product_id]
            continue
        if cap and offer is not None and offer.stock <= 0:
            notices.append(f"{offer.name} is out of stock and was taken out.")
            del draft.lines[product_id]
            continue
        if cap and offer is not None and quantity > offer.stock:
            notices.append(f"Only {offer.stock:,} of {offer.name} in stock: its quantity is now {offer.stock:,}.")
            quantity = draft.lines[product_id] = offer.stock
        lines.append(DraftLine(offer, product_id, quantity))
    picker = [offers[product_id] for product_id in shown_ids if product_id in offers and offers[product_id].stock > 0]
    from distribu import addresses

    book = addresses.addresses_in(found.get((pk, keys.address_book_sk(customer_id)))) if customer_id else []
    if customer_id and book and not any(entry["id"] == draft.address_id for entry in book):
        draft.address_id = book[0]["id"]  # the default address comes first
    if not customer_id:
        draft.address_id = None
    matches_found: list[dict[str, Any]] = []
    if search_customers and draft.customer_q and not customer_id:
        result = customers.list_customers(company_id, limit=CUSTOMER_MATCHES, cursor=None, search=draft.customer_q)
        matches_found = result.items
    return DraftView(draft=draft, picker=picker, matching=len(matches), lines=lines, customer=customer,
                     addresses=book, customer_matches=matches_found, notices=notices)


def add_line(draft: Draft, product_id: str, quantity: int | None) -> str | None:
    """Add ``quantity`` of a product to the draft (to its line when it has one); a problem in words, or None.
    The page then caps the line at the product's stock (:func:`prepare`)."""
    product_id = _id_or_none(product_id) or ""
    if not product_id:
        return "Choose a product from the list."
    if quantity is None:
        return "Enter a whole number of at least 1."
    if product_id not in draft.lines and len(draft.lines) >= orders.MAX_DISTINCT_PRODUCTS:
        return f"An order can hold at most {orders.MAX_DISTINCT_PRODUCTS} different products."
    draft.lines[product_id] = min(orders.MAX_QUANTITY, draft.lines.get(product_id, 0) + quantity)
    return None


def place(staff: Staff, draft: Draft) -> dict[str, Any]:
    """Place the draft through the one order routine (:func:`distribu.orders.place_order`) with
    ``source="DASHBOARD"``: prices are the customer's (override, else catalog), stock drops atomically with
    the order's write, a shortfall (``Not enough stock for X. Only Y available.``) changes nothing, and no
    ``order.created`` event is sent (product spec, section 4). The shipping address is a copy of the chosen
    address of the customer's book."""
    staff.require("orders")
    problems = [{"field": name, "message": message} for name, message in draft.errors.items()]
    if not draft.lines:
        problems.append({"field": "lines", "message": "Add at least one product to the order."})
    if len(draft.po_number) > 100:
        problems.append({"field": "po_number", "message": "Use at most 100 characters."})
    if len(draft.notes) > 2000:
        problems.append({"field": "notes", "message": "Use at most 2000 characters."})
    if problems:
        raise ValidationError("Validation failed.", details=problems)
    shipping = None
    if draft.customer_id and draft.address_id:
        from distribu import addresses

        try:
            shipping = addresses.snapshot(addresses.get_address(staff.company_id, draft.customer_id, draft.address_id))
        except NotFound:
            raise ValidationError("Validation failed.", details=[{
                "field": "address_id", "message": "That address is no longer in the customer's address book."}]) from None
    request = orders.OrderRequest(
        lines=[orders.Line(product_id, quantity) for product_id, quantity in draft.lines.items()],
        customer_id=draft.customer_id, po_number=draft.po_number or None, notes=draft.notes or None,
        shipping_address=shipping)
    return orders.place_order(staff.company_id, request, staff.actor(), source="DASHBOARD",
                              created_by_id=staff.user_id)
