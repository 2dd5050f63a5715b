"""Invoice PDFs: one generator for the storefront and the dashboard (product spec 4, last bullet).

Everything an invoice says is decided here, in Decimal (never float): its number and file name from
the order id, the tax rate (:func:`tax_rate_for`), the tax rounded half-up to cents, the dollar
formatting. Drawing is :mod:`distribu.invoice_pdf`'s job; it is imported only inside
:func:`render_invoice`, because reportlab (~90 ms) and Pillow, which reportlab imports, must stay out
of every other code path and every cold start.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from distribu import clock, dynamo, keys, orders
from distribu.companies import Company
from distribu.errors import NotFound

CENTS = Decimal("0.01")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --- numbers, names, money --------------------------------------------------------------------------

def _code(order_id: str) -> str:
    return order_id[-8:].upper()


def invoice_number(order_id: str) -> str:
    """``INV-`` and the order id's last 8 characters, uppercased: stable for the order's life."""
    return f"INV-{_code(order_id)}"


def invoice_filename(order_id: str) -> str:
    """``invoice-{same 8}.pdf``, the name the browser saves the download under."""
    return f"invoice-{_code(order_id)}.pdf"


def to_decimal(value: Any) -> Decimal:
    """Money or a rate as Decimal. ``to_api`` hands money over as JSON numbers (8.5); ``str`` of a float is
    its shortest round-tripping form, so ``8.5`` becomes exactly ``Decimal("8.5")``, never 8.4999..."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"not an amount: {value!r}")
    if isinstance(value, Decimal):
        return value
    return Decimal(str(value))


def money(amount: Decimal) -> str:
    """``Decimal("1234.5")`` -> ``$1,234.50`` (the pages' money filter writes the same)."""
    cents = amount.quantize(CENTS, rounding=ROUND_HALF_UP)
    return f"{'-' if cents < 0 else ''}${abs(cents):,.2f}"


def percent(rate: Decimal) -> str:
    """A tax rate fraction as the invoice shows it: ``0.0825`` -> ``8.25%``, ``0.07`` -> ``7%``."""
    shown = (rate * 100).normalize()
    return f"{shown:f}%"


def tax_on(subtotal: Decimal, rate: Decimal) -> Decimal:
    """Tax = subtotal x rate, rounded half-up to cents (``$10.05 x 5%`` = 0.5025 -> ``$0.50``;
    ``$10.10 x 5%`` = 0.505 -> ``$0.51``)."""
    return (subtotal * rate).quantize(CENTS, rounding=ROUND_HALF_UP)


def invoice_date(created_at: str) -> str:
    """The order's creation date in UTC, spelled without locale: ``Mar 1, 2026``."""
    moment = clock.parse_iso(created_at).astimezone(timezone.utc)
    return f"{_MONTHS[moment.month - 1]} {moment.day}, {moment.year}"


def tax_rate_for(order: dict[str, Any], customer: dict[str, Any] | None, company_tax_rate: Decimal) -> Decimal:
    """The rate an order is taxed at, first found wins: the order's own ``taxRate`` (frozen when it was
    placed, so a later settings change never alters an invoice), else the customer's
    ``taxRateOverride``, else the company's ``taxRate``. A zero is a rate (a tax-exempt customer), not
    a missing one."""
    if order.get("taxRate") is not None:
        return to_decimal(order["taxRate"])
    if customer is not None and customer.get("taxRateOverride") is not None:
        return to_decimal(customer["taxRateOverride"])
    return to_decimal(company_tax_rate)


# --- the invoice, decided ---------------------------------------------------------------------------

@dataclass(frozen=True)
class InvoiceLine:
    sku: str
    product: str
    quantity: int
    unit_price: str
    line_total: str


@dataclass(frozen=True)
class Invoice:
    """Every word and figure of one invoice, formatted; the PDF module only lays them out."""

    company_name: str
    number: str
    date: str
    order_id: str
    po_number: str | None
    status: str
    bill_to: list[str]
    ship_to: list[str]
    lines: list[InvoiceLine]
    subtotal: str
    tax_label: str
    tax: str
    total: str
    notes: str | None


def _bill_to(bill_to: dict[str, Any] | None) -> list[str]:
    if bill_to is None:
        return ["No customer account", "(order placed by staff for no customer)"]
    name, email = (bill_to.get("name") or "").strip(), (bill_to.get("email") or "").strip()
    return [text for text in (name or email, email if name else "") if text] or ["Customer account"]


def _ship_to(address: dict[str, Any] | None) -> list[str]:
    if not address:
        return ["No shipping address given"]
    from distribu import addresses

    return addresses.lines(address)


def build_invoice(*, company_name: str, order: dict[str, Any], bill_to: dict[str, Any] | None,
                  tax_rate: Decimal) -> Invoice:
    """Decide the invoice: subtotal is the order's own frozen total; tax is subtotal x rate, half-up."""
    subtotal = to_decimal(order["total"]).quantize(CENTS, rounding=ROUND_HALF_UP)
    rate = to_decimal(tax_rate)
    tax = tax_on(subtotal, rate)
    lines = []
    for line in order["items"]:
        unit_price = to_decimal(line["unitPrice"])
        quantity = int(line["quantity"])
        lines.append(InvoiceLine(sku=line.get("productSku") or "", product=line.get("productName") or "",
                                 quantity=quantity, unit_price=money(unit_price),
                                 line_total=money(unit_price * quantity)))
    return Invoice(
        company_name=company_name, number=invoice_number(order["id"]), date=invoice_date(order["createdAt"]),
        order_id=order["id"], po_number=order.get("poNumber") or None,
        status=str(order["status"]).capitalize(), bill_to=_bill_to(bill_to),
        ship_to=_ship_to(order.get("shippingAddress")), lines=lines, subtotal=money(subtotal),
        tax_label=f"Tax ({percent(rate)})", tax=money(tax), total=money(subtotal + tax),
        notes=order.get("notes") or None,
    )


def render_invoice(*, company_name: str, order: dict[str, Any], bill_to: dict[str, Any] | None,
                   tax_rate: Decimal) -> bytes:
    """The invoice PDF of ``order`` (as ``orders.to_api`` shows it); ``bill_to`` is the customer's
    ``{"name", "email"}``, ``None`` for a dashboard order placed for no customer."""
    invoice = build_invoice(company_name=company_name, order=order, bill_to=bill_to, tax_rate=tax_rate)
    from distribu import invoice_pdf  # reportlab and Pillow load here, on the first PDF only

    return invoice_pdf.render(invoice)


# --- one order's invoice, read and drawn --------------------------------------------------------------

def invoice_for(company_id: str, order_id: str, *, customer_id: str | None = None) -> tuple[str, bytes]:
    """``(file name, PDF)`` of one order of the company. With ``customer_id`` (the storefront) an order that
    is not that customer's is ``NotFound("Order not found.")``, exactly like a missing one.

    DynamoDB round trips, whatever the order's size: storefront 1 (one BatchGetItem of order, customer
    and company); dashboard 1 (order and company) plus 1 GetItem of the order's customer when it has one.
    """
    pk = keys.company(company_id)
    order_key, company_key = (pk, keys.order_sk(order_id)), (pk, keys.COMPANY_SK)
    wanted = [order_key, company_key]
    if customer_id:
        wanted.append((pk, keys.customer_sk(customer_id)))
    found = dynamo.batch_get(wanted)

    order = found.get(order_key)
    if not order or order.get("entity") != "ORDER" or (customer_id and order.get("customerId") != customer_id):
        raise NotFound(orders.NOT_FOUND)
    company_item = found.get(company_key)
    if not company_item:
        raise NotFound("Company not found.")
    company = Company.from_item(company_item)

    customer = None
    if order.get("customerId"):
        customer_key = (pk, keys.customer_sk(order["customerId"]))
        customer = found[customer_key] if customer_key in found else dynamo.get(*customer_key)
        if customer and customer.get("entity") != "CUSTOMER":
            customer = None
    bill_to = None
    if order.get("customerId"):
        bill_to = {"name": customer.get("name"), "email": customer.get("email")} if customer \
            else {"name": f"Customer {order['customerId'][-8:].upper()}", "email": None}

    pdf = render_invoice(company_name=company.name, order=orders.to_api(order), bill_to=bill_to,
                         tax_rate=tax_rate_for(order, customer, company.tax_rate))
    return invoice_filename(order_id), pdf
