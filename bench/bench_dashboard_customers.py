"""The dashboard's customers pages at 100 and at 10,000 customers: DynamoDB round trips (exact) and the
handler's CPU time as a ratio between the two sizes (warm container, median of paired runs).

- The list's first page is one Query of the customers index (newest first, one page); a status filter is
  one Query of that status's own partition (GSI2), however few customers have it.
- A search is a filtered page of that index: it reads at most ``MAX_EXAMINED_PER_PAGE`` entries before it
  answers (with a "Next page" link), so its cost is bounded, not proportional to the customers.
- A customer's page: the session, one batch (company, customer, lifetime totals, address book), then the
  custom prices (+ their products), the contacts and one page of orders. The stats come from the lifetime
  rollup item, so they cost the same at 3 orders or 3,000.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from typing import Any

from common import RoundTrips, locked_moto_server_process, median, report

SIZES = (100, 10_000)
RUNS = 15
STAR_ORDERS = 30


def write_customers(company_id: str, size: int) -> None:
    """``size`` customers as :mod:`distribu.customers` builds them (email guards included), written with
    BatchWriteItem: one audited create at a time would take minutes."""
    from distribu import clock, customers, dynamo, ids, keys
    from distribu.aws import dynamodb

    items = []
    for number in range(size):
        customer_id, now = ids.new_id(), clock.now_iso()
        email = f"customer{number:05d}@bench.test"
        fields = {"email": email, "name": f"Customer {number:05d}", "status": "BLOCKED" if number == 0 else "ACTIVE",
                  "notes": None, "creditLimit": None, "taxRateOverride": None}
        items.append(customers.build_item(company_id, customer_id, fields, now, now, 1))
        items.append({"PK": keys.company(company_id), "SK": keys.email_guard_sk(email), "entity": "EMAIL",
                      "customerId": customer_id})
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {dynamo.table_name(): [{"PutRequest": {"Item": dynamo.to_item(item)}}
                                                         for item in items[start:start + 25]]}
        while pending:
            pending = dynamodb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def seed(size: int) -> dict[str, Any]:
    from distribu import (addresses, audit, catalog, companies, contacts, customers, orders, pricing, projections,
                          sessions, staff_accounts)

    email = f"owner{size}@bench.test"
    company = companies.create_company(f"Bench Customers {size}", email, "bench-password-1")
    actor = audit.Actor("SYSTEM", "bench", "bench")
    write_customers(company.id, size)
    products = [catalog.create_product(company.id, catalog.ProductCreate(
        name=f"Crate {n}", sku=f"CR-{n}", price=Decimal("10.00") + n, stock=100_000), actor)["id"] for n in range(3)]
    star = customers.create_customer(company.id, customers.CustomerCreate(email="star@bench.test", name="Star Buyer"),
                                     actor)["id"]
    for product_id in products[:2]:
        pricing.set_override(company.id, star, product_id, Decimal("9.50"), actor)
    contacts.invite_contact(company.id, star, email="colleague@bench.test", name="Colleague", role="BUYER", actor=actor)
    addresses.add_address(company.id, star, {"line1": "1 Dock Road", "city": "Springfield", "country": "US"}, actor)
    for n in range(STAR_ORDERS):
        orders.place_order(company.id, orders.OrderRequest(lines=[orders.Line(products[n % 3], 1 + n % 4)],
                                                           customer_id=star), actor, source="API")
    projections.rebuild(company.id)
    owner = staff_accounts.sign_in(email, "bench-password-1")
    session = sessions.start_staff_session(user_id=owner.id, email=email, name=owner.name,
                                           company_id=company.id, role="OWNER")
    return {"cookie": f"staff_session={session.raw_id}", "star": star}


def get(desk: dict[str, Any], path: str, query: str = "") -> tuple[float, str]:
    from distribu_dashboard.handler import lambda_handler
    from distribu_local.apigateway import LambdaContext, http_api_event

    event = http_api_event("GET", path, query=query, headers={"cookie": desk["cookie"]},
                           route_key="GET /dashboard/{proxy+}")
    started = time.process_time()
    result = lambda_handler(event, LambdaContext(function_name="dashboard"))
    cpu = time.process_time() - started
    assert result["statusCode"] == 200, result
    return cpu, result["body"]


PAGES = {
    "list, first page": lambda desk: ("/dashboard/customers", ""),
    "list, search (filtered page)": lambda desk: ("/dashboard/customers", "q=star"),
    "list, blocked only (status index)": lambda desk: ("/dashboard/customers", "status=BLOCKED"),
    "a customer's page": lambda desk: (f"/dashboard/customers/{desk['star']}", ""),
}


def main() -> None:
    with locked_moto_server_process():
        desks = {size: seed(size) for size in SIZES}
        small, big = SIZES
        counter = RoundTrips()
        rows = []
        for name, target in PAGES.items():
            for desk in desks.values():
                get(desk, *target(desk))  # warm
            trips: dict[int, int] = {}
            cpu: dict[int, list[float]] = {small: [], big: []}
            ratios = []
            for run in range(RUNS):
                pair = {}
                for size in ((small, big) if run % 2 == 0 else (big, small)):
                    before = counter.count
                    pair[size], body = get(desks[size], *target(desks[size]))
                    trips[size] = counter.count - before
                    cpu[size].append(pair[size])
                    if name == "a customer's page":
                        assert f">{STAR_ORDERS}<" in body, "the stats are missing"
                ratios.append(pair[big] / pair[small])
            rows.append((name, f"{trips[small]} round trips at {small:,} customers / {trips[big]} at {big:,}; "
                               f"handler CPU {median(ratios):.2f}x ({median(cpu[small]) * 1000:.1f} ms / "
                               f"{median(cpu[big]) * 1000:.1f} ms)"))
        report("Dashboard customers pages (warm container)", rows)


if __name__ == "__main__":
    sys.exit(main())
