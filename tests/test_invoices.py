"""Invoice PDFs through the real domain function against moto: orders placed by the order routine,
read back by ``invoices.invoice_for``, and the PDF's text read with pypdf."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from decimal import Decimal
from typing import Any, Iterator

import pytest
from pypdf import PdfReader

from distribu import audit, catalog, customers, dynamo, invoices, keys, orders
from distribu.errors import NotFound
from tests.conftest import Tenant, make_tenant

ADDRESS = {"name": "Jane Doe", "company": "Initech", "line1": "1 Main St", "line2": "Suite 5", "city": "Springfield",
           "region": "IL", "postalCode": "62701", "country": "US", "phone": "+1 555 0100"}
HEADER = "SKU Product Qty Unit price Line total"

# --- data, made through the domain's own verbs ---------------------------------------------------------

STAFF = audit.Actor("USER", "tests", "Test staff")


def product(tenant: Tenant, name: str, sku: str, price: str, stock: int = 1000) -> str:
    data = catalog.ProductCreate(name=name, sku=sku, price=Decimal(price), stock=stock)
    return catalog.create_product(tenant.company_id, data, STAFF)["id"]


def customer(tenant: Tenant, email: str = "purchasing@initech.test", name: str | None = "Initech",
             **fields: Any) -> str:
    return customers.create_customer(tenant.company_id, customers.CustomerCreate(email=email, name=name, **fields),
                                     STAFF)["id"]


def place(tenant: Tenant, customer_id: str | None, lines: list[tuple[str, int]], *, source: str = "STOREFRONT",
          **extras: Any) -> dict[str, Any]:
    request = orders.OrderRequest(lines=[orders.Line(product_id, quantity) for product_id, quantity in lines],
                                  customer_id=customer_id, **extras)
    return orders.place_order(tenant.company_id, request, STAFF, source=source)


def set_company_tax_rate(tenant: Tenant, rate: str) -> None:
    """No settings verb exists yet (the dashboard's settings page will add one): write the attribute."""
    dynamo.dynamodb().update_item(TableName=dynamo.table_name(),
                                  Key=dynamo.key(keys.company(tenant.company_id), keys.COMPANY_SK),
                                  UpdateExpression="SET taxRate = :rate",
                                  ExpressionAttributeValues={":rate": {"N": rate}})


# --- reading the PDF -----------------------------------------------------------------------------------

def pages(pdf: bytes) -> list[str]:
    """Each page's text with its whitespace collapsed (table cells come out one per line)."""
    assert pdf.startswith(b"%PDF-")
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def text_of(pdf: bytes) -> str:
    return " ".join(pages(pdf))


def invoice_date_of(order: dict[str, Any]) -> str:
    from datetime import datetime, timezone

    moment = datetime.strptime(order["createdAt"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return f"{moment:%b} {moment.day}, {moment:%Y}"


# --- numbers, money and the tax rule -----------------------------------------------------------------------

def test_number_and_file_name_come_from_the_last_8_characters_of_the_order_id() -> None:
    assert invoices.invoice_number("01jq3x7k2m9p4r6t8vab12cd34") == "INV-AB12CD34"
    assert invoices.invoice_filename("01jq3x7k2m9p4r6t8vab12cd34") == "invoice-AB12CD34.pdf"


def test_money_is_decimal_and_dollar_formatted() -> None:
    assert invoices.money(Decimal("1234.5")) == "$1,234.50"
    assert invoices.money(Decimal("0")) == "$0.00"
    assert invoices.money(Decimal("1234567.891")) == "$1,234,567.89"
    assert invoices.to_decimal(8.5) == Decimal("8.5")
    assert invoices.to_decimal(0.1) + invoices.to_decimal(0.2) == Decimal("0.3")  # float would give 0.30000000000000004
    with pytest.raises(ValueError):
        invoices.to_decimal(True)


def test_tax_rounds_half_up_to_cents() -> None:
    assert invoices.tax_on(Decimal("10.10"), Decimal("0.05")) == Decimal("0.51")  # 0.505: banker's rounding says 0.50
    assert invoices.tax_on(Decimal("10.30"), Decimal("0.05")) == Decimal("0.52")  # 0.515
    assert invoices.tax_on(Decimal("10.05"), Decimal("0.05")) == Decimal("0.50")  # 0.5025
    assert invoices.percent(Decimal("0.0825")) == "8.25%" and invoices.percent(Decimal("0.07")) == "7%"
    assert invoices.percent(Decimal("0")) == "0%" and invoices.percent(Decimal("0.1")) == "10%"


def test_the_orders_frozen_rate_wins_then_the_customers_override_then_the_companys_rate() -> None:
    company_rate = Decimal("0.0825")
    assert invoices.tax_rate_for({"taxRate": Decimal("0.06")}, {"taxRateOverride": Decimal("0.05")},
                                 company_rate) == Decimal("0.06")
    assert invoices.tax_rate_for({"taxRate": None}, {"taxRateOverride": 0.05}, company_rate) == Decimal("0.05")
    assert invoices.tax_rate_for({}, {"taxRateOverride": Decimal("0")}, company_rate) == Decimal("0")  # tax-exempt
    assert invoices.tax_rate_for({}, {"taxRateOverride": None}, company_rate) == company_rate
    assert invoices.tax_rate_for({}, None, company_rate) == company_rate


# --- the invoice of a real order ----------------------------------------------------------------------------

@pytest.fixture
def shop(tenant: Tenant) -> dict[str, Any]:
    set_company_tax_rate(tenant, "0.0825")
    return {"customer": customer(tenant),
            "bolt": product(tenant, "Hex Bolt M8 x 40", "HB-M8-40", "8.50"),
            "pump": product(tenant, "Pallet Pump", "PP-2000", "1250.00")}


def test_storefront_invoice_shows_every_part_of_the_order(tenant: Tenant, shop: dict[str, Any]) -> None:
    order = place(tenant, shop["customer"], [(shop["bolt"], 3), (shop["pump"], 2)], po_number="PO-4471",
                  notes="Deliver to the back door & ring twice.", shipping_address=ADDRESS)

    filename, pdf = invoices.invoice_for(tenant.company_id, order["id"], customer_id=shop["customer"])

    code = order["id"][-8:].upper()
    assert filename == f"invoice-{code}.pdf"
    text = text_of(pdf)
    for expected in ["Acme Distributors", "INVOICE", f"INV-{code}",
                     "BILL TO Initech purchasing@initech.test",
                     "SHIP TO Jane Doe Initech 1 Main St Suite 5 Springfield, IL 62701 US +1 555 0100",
                     f"Invoice date {invoice_date_of(order)}", "PO # PO-4471", "Order status Submitted",
                     HEADER,
                     "HB-M8-40 Hex Bolt M8 x 40 3 $8.50 $25.50",
                     "PP-2000 Pallet Pump 2 $1,250.00 $2,500.00",
                     "Subtotal $2,525.50", "Tax (8.25%) $208.35", "Total $2,733.85",  # 2525.50 x 0.0825 = 208.35375
                     "NOTES Deliver to the back door & ring twice.", "Page 1 of 1"]:
        assert expected in text, expected


def test_dashboard_invoice_of_an_order_for_no_customer_says_so(tenant: Tenant, shop: dict[str, Any]) -> None:
    order = place(tenant, None, [(shop["bolt"], 2)], source="DASHBOARD")

    filename, pdf = invoices.invoice_for(tenant.company_id, order["id"])

    text = text_of(pdf)
    assert filename == invoices.invoice_filename(order["id"])
    assert "BILL TO No customer account (order placed by staff for no customer)" in text
    assert "SHIP TO No shipping address given" in text and "PO # —" in text
    assert "Subtotal $17.00" in text and "Tax (8.25%) $1.40" in text and "Total $18.40" in text  # 1.4025
    assert "NOTES" not in text


def test_dashboard_invoice_of_a_customers_order_bills_that_customer(tenant: Tenant, shop: dict[str, Any]) -> None:
    unnamed = customer(tenant, email="ap@globex.test", name=None)
    order = place(tenant, unnamed, [(shop["bolt"], 1)], source="DASHBOARD")

    _, pdf = invoices.invoice_for(tenant.company_id, order["id"])

    assert "BILL TO ap@globex.test SHIP TO" in text_of(pdf)  # no name: the email alone, once


def test_a_customers_tax_override_replaces_the_company_rate(tenant: Tenant, shop: dict[str, Any]) -> None:
    reduced = customer(tenant, email="reduced@example.test", name="Reduced", taxRateOverride=Decimal("0.05"))
    exempt = customer(tenant, email="exempt@example.test", name="Exempt", taxRateOverride=Decimal("0"))

    reduced_order = place(tenant, reduced, [(shop["pump"], 1)])
    exempt_order = place(tenant, exempt, [(shop["pump"], 1)])

    reduced_text = text_of(invoices.invoice_for(tenant.company_id, reduced_order["id"], customer_id=reduced)[1])
    exempt_text = text_of(invoices.invoice_for(tenant.company_id, exempt_order["id"])[1])
    assert "Tax (5%) $62.50" in reduced_text and "Total $1,312.50" in reduced_text
    assert "Tax (0%) $0.00" in exempt_text and "Total $1,250.00" in exempt_text


def test_a_rate_frozen_on_the_order_wins_over_todays_settings(tenant: Tenant, shop: dict[str, Any]) -> None:
    order = place(tenant, shop["customer"], [(shop["pump"], 1)])
    # Placement will freeze the rate on the order (orders.py is changing to do so); until then, store it.
    dynamo.dynamodb().update_item(TableName=dynamo.table_name(),
                                  Key=dynamo.key(keys.company(tenant.company_id), keys.order_sk(order["id"])),
                                  UpdateExpression="SET taxRate = :rate", ExpressionAttributeValues={":rate": {"N": "0.06"}})
    set_company_tax_rate(tenant, "0.2")

    text = text_of(invoices.invoice_for(tenant.company_id, order["id"])[1])

    assert "Tax (6%) $75.00" in text and "Total $1,325.00" in text


def test_tax_is_rounded_half_up(tenant: Tenant) -> None:
    set_company_tax_rate(tenant, "0.05")
    dime = product(tenant, "Spacer", "SP-1", "10.10")
    order = place(tenant, None, [(dime, 1)], source="DASHBOARD")

    text = text_of(invoices.invoice_for(tenant.company_id, order["id"])[1])

    assert "Tax (5%) $0.51" in text and "Total $10.61" in text  # 0.505 -> 0.51, not the banker's 0.50


def test_an_order_of_95_long_lines_runs_over_pages_and_repeats_the_header_on_each(tenant: Tenant) -> None:
    names = [f"Stainless steel hex head cap screw, fully threaded, grade A2-70, size M{n} x {n + 10}, box of 100"
             for n in range(orders.MAX_DISTINCT_PRODUCTS)]
    lines = [(product(tenant, name, f"SS-{n:03d}", "2.25"), n + 1) for n, name in enumerate(names)]
    order = place(tenant, None, lines, source="DASHBOARD")

    each_page = pages(invoices.invoice_for(tenant.company_id, order["id"])[1])

    count = len(each_page)
    assert count >= 3
    for number, page in enumerate(each_page, start=1):
        assert page.count(HEADER) == 1, number
        assert f"Page {number} of {count}" in page
    text = " ".join(each_page)
    for n, name in enumerate(names):
        assert f"SS-{n:03d} {name} {n + 1} $2.25 {invoices.money(Decimal('2.25') * (n + 1))}" in text
    assert f"Subtotal {invoices.money(Decimal('2.25') * sum(range(1, 96)))}" in each_page[-1]


def test_greek_cyrillic_and_cjk_names_render_and_an_unknown_script_shows_a_replacement(tenant: Tenant) -> None:
    names = ["ボルト M8", "Βίδα", "Гайка", "螺丝 M6", "볼트", "Nuts & Bolts <M8>"]
    lines = [(product(tenant, name, f"INT-{n}", "1.00"), 1) for n, name in enumerate(names)]
    lines.append((product(tenant, "สกรู M4", "TH-1", "1.00"), 1))  # Thai: in neither vendored font
    buyer = customer(tenant, email="tokyo@example.test", name="東京商事")
    order = place(tenant, buyer, lines, shipping_address={**ADDRESS, "name": "Ιωάννης", "city": "Москва"})

    pdf = invoices.invoice_for(tenant.company_id, order["id"], customer_id=buyer)[1]

    text = text_of(pdf)
    for n, name in enumerate(names):
        assert f"INT-{n} {name} 1 $1.00" in text, name
    assert "BILL TO 東京商事" in text and "Ιωάννης" in text and "Москва" in text
    assert "TH-1 \ufffd\ufffd\ufffd\ufffd M4" in text and "\x00" not in text  # a visible gap, never a silent one
    fonts = {}
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            fonts[font["/BaseFont"].split("+")[-1]] = "/FontFile2" in font["/FontDescriptor"]
    assert fonts == {"DejaVuSans": True, "DejaVuSans-Bold": True, "DroidSansFallback": True}  # all embedded


def test_the_longest_name_and_sku_the_catalog_allows_wrap_inside_their_cells(tenant: Tenant) -> None:
    sku, name = "X" * 100, "Wide " * 39 + "Last"  # 100 and 199 characters
    order = place(tenant, None, [(product(tenant, name, sku, "3.00"), 7)], source="DASHBOARD")

    text = text_of(invoices.invoice_for(tenant.company_id, order["id"])[1])

    assert sku in text.replace(" ", "") and name in text and "7 $3.00 $21.00" in text


# --- who may see it ------------------------------------------------------------------------------------------

def test_another_accounts_order_is_not_found_on_the_storefront(tenant: Tenant, shop: dict[str, Any]) -> None:
    other = customer(tenant, email="other@example.test", name="Other")
    theirs = place(tenant, other, [(shop["bolt"], 1)])
    staffs = place(tenant, None, [(shop["bolt"], 1)], source="DASHBOARD")

    for order_id in (theirs["id"], staffs["id"], "01jq3x7k2m9p4r6t8vmissing0"):
        with pytest.raises(NotFound) as refused:
            invoices.invoice_for(tenant.company_id, order_id, customer_id=shop["customer"])
        assert str(refused.value) == "Order not found."
    assert invoices.invoice_for(tenant.company_id, theirs["id"], customer_id=other)[1].startswith(b"%PDF-")


def test_another_companys_order_is_not_found(tenant: Tenant, shop: dict[str, Any]) -> None:
    order = place(tenant, shop["customer"], [(shop["bolt"], 1)])
    other_company = make_tenant("Globex Wholesale")

    with pytest.raises(NotFound, match="Order not found."):
        invoices.invoice_for(other_company.company_id, order["id"])
    with pytest.raises(NotFound, match="Order not found."):
        invoices.invoice_for(other_company.company_id, order["id"], customer_id=shop["customer"])


# --- round trips, lazy loading, threads ----------------------------------------------------------------------

@pytest.fixture
def round_trips(stack: Any) -> Iterator[list[str]]:
    """The operation name of every request the domain's DynamoDB client sends."""
    client = dynamo.dynamodb()
    sent: list[str] = []

    def count(model: Any, **_: Any) -> None:
        sent.append(model.name)

    client.meta.events.register("before-call.dynamodb", count, unique_id="invoice-round-trips")
    yield sent
    client.meta.events.unregister("before-call.dynamodb", unique_id="invoice-round-trips")


def test_round_trips_do_not_grow_with_the_order(tenant: Tenant, shop: dict[str, Any], round_trips: list[str]) -> None:
    small = place(tenant, shop["customer"], [(shop["bolt"], 1)])
    large = place(tenant, shop["customer"], [(product(tenant, f"Part {n}", f"P-{n}", "1.00"), 1) for n in range(60)])
    for_nobody = place(tenant, None, [(shop["bolt"], 1)], source="DASHBOARD")

    def trips(order_id: str, customer_id: str | None = None) -> list[str]:
        round_trips.clear()
        invoices.invoice_for(tenant.company_id, order_id, customer_id=customer_id)
        return list(round_trips)

    assert trips(small["id"], shop["customer"]) == trips(large["id"], shop["customer"]) == ["BatchGetItem"]
    assert trips(small["id"]) == trips(large["id"]) == ["BatchGetItem", "GetItem"]
    assert trips(for_nobody["id"]) == ["BatchGetItem"]


def _plain_order(lines: int = 3) -> dict[str, Any]:
    return {"id": "01jq3x7k2m9p4r6t8vab12cd34", "status": "CONFIRMED", "poNumber": None, "notes": None,
            "total": 2.25 * lines, "createdAt": "2026-03-01T12:00:00.000Z", "customerId": None,
            "shippingAddress": None,
            "items": [{"quantity": 1, "unitPrice": 2.25, "productName": f"Part {n}", "productSku": f"P-{n}"}
                      for n in range(lines)]}


def run_python(code: str) -> str:
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert completed.returncode == 0, completed.stderr
    return completed.stdout.strip().splitlines()[-1]


def test_importing_invoices_loads_neither_reportlab_nor_pillow_until_a_pdf_is_rendered() -> None:
    code = ("import sys; from decimal import Decimal; import distribu.invoices as invoices\n"
            "heavy = lambda: sorted({m.split('.')[0] for m in sys.modules} & {'reportlab', 'PIL'})\n"
            "before = heavy()\n"
            f"pdf = invoices.render_invoice(company_name='Acme', order={_plain_order()!r}, bill_to=None,"
            " tax_rate=Decimal('0.07'))\n"
            "print(before, heavy(), pdf[:5])")
    assert run_python(code) == "[] ['PIL', 'reportlab'] b'%PDF-'"


def test_the_first_invoices_of_a_container_render_safely_on_many_threads_at_once() -> None:
    """Font registration happens on the first invoice; 8 threads racing it in a fresh interpreter (and
    one CJK name each, so the fallback font's lazy registration races too) all get a whole PDF."""
    order = _plain_order()
    order["items"][0]["productName"] = "ボルト"
    code = ("import io, threading; from concurrent.futures import ThreadPoolExecutor; from decimal import Decimal\n"
            "from pypdf import PdfReader; import distribu.invoices as invoices\n"
            "barrier = threading.Barrier(8)\n"
            "def render(n):\n"
            "    barrier.wait()\n"
            f"    pdf = invoices.render_invoice(company_name=f'Company {{n}}', order={order!r}, bill_to=None,"
            " tax_rate=Decimal('0.07'))\n"
            "    return ' '.join(PdfReader(io.BytesIO(pdf)).pages[0].extract_text().split())\n"
            "with ThreadPoolExecutor(8) as pool: texts = list(pool.map(render, range(8)))\n"
            "print(all(f'Company {n} INVOICE' in text and 'P-0 ボルト 1 $2.25 $2.25' in text and 'Total $7.22' in text"
            " for n, text in enumerate(texts)))")
    assert run_python(code) == "True"
