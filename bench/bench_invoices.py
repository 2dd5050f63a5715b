"""Invoice PDFs: what the first and later invoices of a container cost, and invoice_for's round trips.

Each cold figure comes from a fresh interpreter, as a ratio to a baseline measured in that same
interpreter: a plain reportlab canvas page with one line of text (warm), the least a PDF can cost.
The figures are the median over BENCH_INVOICE_RUNS interpreters (default 7); milliseconds are printed
beside them for reference only (the machine is shared). Round trips are exact.
"""

from __future__ import annotations

import compileall
import io
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from typing import Any, Callable

from common import ROOT, RoundTrips, median, moto_stack, report

RUNS = int(os.environ.get("BENCH_INVOICE_RUNS", "7"))
WARM_REPEATS = 15


def sample_order(lines: int, name: str = "Stainless hex bolt M8 x 40, zinc plated, box of 100") -> dict[str, Any]:
    """An order as ``orders.to_api`` shows it, without a table behind it (the PDF is all that is timed)."""
    return {"id": "01jq3x7k2m9p4r6t8vab12cd34", "status": "CONFIRMED", "poNumber": "PO-4471", "notes": "Dock B.",
            "total": 2.25 * sum(range(1, lines + 1)), "createdAt": "2026-03-01T12:00:00.000Z", "customerId": "c-1",
            "shippingAddress": {"name": "Jane Doe", "company": "Initech", "line1": "1 Main St", "city": "Springfield",
                                "region": "IL", "postalCode": "62701", "country": "US"},
            "items": [{"quantity": n, "unitPrice": 2.25, "productName": f"{name} #{n}", "productSku": f"SS-{n:03d}"}
                      for n in range(1, lines + 1)]}


def probe() -> None:
    """One fresh interpreter's figures, in seconds, printed as JSON."""
    def timed(call: Callable[[], Any]) -> float:
        started = time.perf_counter()
        call()
        return time.perf_counter() - started

    from distribu import invoices  # the domain module alone: no reportlab yet

    assert "reportlab" not in sys.modules
    figures: dict[str, float] = {}
    figures["import"] = timed(lambda: __import__("distribu.invoice_pdf"))

    from reportlab.pdfgen.canvas import Canvas

    def one_line_page() -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer)
        canvas.drawString(72, 720, "Invoice INV-AB12CD34")
        canvas.showPage()
        canvas.save()
        return buffer.getvalue()

    figures["baseline_first"] = timed(one_line_page)

    def invoice(order: dict[str, Any]) -> Callable[[], bytes]:
        return lambda: invoices.render_invoice(company_name="Bench Supply", order=order,
                                               bill_to={"name": "Initech", "email": "ap@initech.test"},
                                               tax_rate=Decimal("0.0825"))

    fifty, cjk = sample_order(50), sample_order(50)
    cjk["items"][0]["productName"] = "ステンレス六角ボルト M8 x 40"
    figures["first"] = timed(invoice(fifty))
    figures["warm"] = median([timed(invoice(fifty)) for _ in range(WARM_REPEATS)])
    figures["cjk_first"] = timed(invoice(cjk))
    figures["cjk_warm"] = median([timed(invoice(cjk)) for _ in range(WARM_REPEATS)])
    figures["baseline"] = median([timed(one_line_page) for _ in range(WARM_REPEATS)])
    print(json.dumps(figures))


def fresh_interpreter() -> dict[str, float]:
    completed = subprocess.run([sys.executable, __file__, "--probe"], capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    return json.loads(completed.stdout.strip().splitlines()[-1])


def round_trips_and_sizes() -> list[tuple[str, str]]:
    from distribu import audit, catalog, companies, customers, invoices, orders
    from pypdf import PdfReader

    with moto_stack():
        company = companies.create_company("Bench Supply", "owner@bench.test", "bench-password-1")
        actor = audit.Actor("SYSTEM", "bench", "bench")
        buyer = customers.create_customer(company.id, customers.CustomerCreate(email="ap@initech.test", name="Initech"),
                                          actor)["id"]
        products = [catalog.create_product(company.id, catalog.ProductCreate(
            name=f"Stainless hex bolt M8 x 40, zinc plated, box of 100 #{n}", sku=f"SS-{n:03d}", price=Decimal("2.25"),
            stock=10_000), actor)["id"] for n in range(orders.MAX_DISTINCT_PRODUCTS)]

        def place(count: int, customer_id: str | None) -> str:
            request = orders.OrderRequest(lines=[orders.Line(product_id, n + 1)
                                                 for n, product_id in enumerate(products[:count])],
                                          customer_id=customer_id)
            return orders.place_order(company.id, request, actor, source="STOREFRONT" if customer_id else "DASHBOARD")["id"]

        small, fifty, full, nobodys = place(5, buyer), place(50, buyer), place(95, buyer), place(50, None)
        trips = RoundTrips()

        def count(order_id: str, customer_id: str | None = None) -> int:
            return trips.measure(lambda: invoices.invoice_for(company.id, order_id, customer_id=customer_id))

        def pdf(order_id: str) -> bytes:
            return invoices.invoice_for(company.id, order_id)[1]

        return [
            ("invoice_for, storefront, 5 / 50 / 95 lines",
             f"{count(small, buyer)} / {count(fifty, buyer)} / {count(full, buyer)} round trips (1 BatchGetItem)"),
            ("invoice_for, dashboard, 5 / 50 / 95 lines",
             f"{count(small)} / {count(fifty)} / {count(full)} round trips (BatchGetItem + the customer's GetItem)"),
            ("invoice_for, dashboard, order for no customer", f"{count(nobodys)} round trip"),
            ("PDF of 50 lines / 95 lines",
             f"{len(pdf(fifty)) / 1024:.0f} KB, {len(PdfReader(io.BytesIO(pdf(fifty))).pages)} pages / "
             f"{len(pdf(full)) / 1024:.0f} KB, {len(PdfReader(io.BytesIO(pdf(full))).pages)} pages"),
        ]


def main() -> None:
    compileall.compile_dir(str(ROOT / "layers/shared"), quiet=1)
    runs = [fresh_interpreter() for _ in range(RUNS)]

    def ratio(name: str) -> str:
        ratios = [run[name] / run["baseline"] for run in runs]
        return f"{median(ratios):.0f}x  ({median([run[name] for run in runs]) * 1000:.1f} ms)"

    baseline_ms = median([run["baseline"] for run in runs]) * 1000
    rows = [
        ("baseline: one-line reportlab canvas page, warm", f"1x  ({baseline_ms:.2f} ms)"),
        ("import reportlab + layout (first PDF of a container)", ratio("import")),
        ("first invoice, 50 lines (registers DejaVu x2)", ratio("first")),
        ("warm invoice, 50 lines", ratio("warm")),
        ("first invoice with a CJK name (registers Droid)", ratio("cjk_first")),
        ("warm invoice with a CJK name, 50 lines", ratio("cjk_warm")),
    ]
    report(f"Invoice PDF, fresh interpreters: median of {RUNS}, as ratios to the baseline", rows)
    report("Invoice PDF: DynamoDB round trips and sizes", round_trips_and_sizes())


if __name__ == "__main__":
    if sys.argv[1:] == ["--probe"]:
        probe()
    else:
        main()
