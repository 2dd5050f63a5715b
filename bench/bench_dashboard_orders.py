"""The dashboard's orders list at 100 and at 10,000 orders: DynamoDB round trips (exact) and server time as a
ratio between the two sizes (warm container, adjacent pairs), for the default page and each filter.

Server time is measured twice. The function's own time is the CPU time of this process during the request
(the handler runs here; moto runs in its own process): parsing, botocore, rendering. Wall time adds the
local DynamoDB's answer time, and moto answers a GSI Query by walking every item of the table and sorting
the partition's matches (moto/dynamodb/models/table.py, ``Table.query``), which real DynamoDB does not (a
Query costs the items it reads): the wall-time ratio is moto's, shown for honesty, not DynamoDB's.

Orders are written straight with BatchWriteItem (the items ``distribu.orders.place_order`` writes: the
order with its GSI1 listing keys, GSI2 customer keys and search text); 40 customers share them. The page goes
through the real dashboard handler with a real staff session cookie.
"""

from __future__ import annotations

import sys
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from common import RoundTrips, locked_moto_server_process, median, report

SIZES = (100, 10_000)
RUNS = 9
CUSTOMERS = 40
STATUSES = ("SUBMITTED", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED")
VARIANTS = {
    "default page (newest 25)": "",
    "status Shipped (1 in 5 match)": "status=SHIPPED",
    "total from $100 (about half match)": "min_total=100",
    "search 'bench buyer 7' (1 in 40 match)": "q=bench+buyer+7",
    "one customer by email (GSI2)": "customer=buyer7%40bench.test",
    "last 2 days (key condition)": "since={since}",
    "page 2 (cursor)": "cursor={cursor}",
}


def seed(size: int) -> dict[str, Any]:
    from distribu import clock, companies, customers, dynamo, ids, keys, orders, sessions, audit
    from distribu.aws import dynamodb

    company = companies.create_company(f"Bench Orders {size}", f"owner{size}@bench.test", "bench-password-1")
    actor = audit.Actor("SYSTEM", "bench", "bench")
    people = [customers.create_customer(company.id, customers.CustomerCreate(
        email=f"buyer{number}@bench.test", name=f"Bench Buyer {number}"), actor) for number in range(CUSTOMERS)]
    start = clock.now() - timedelta(days=size / 100)  # about 100 orders a day, the newest now
    items = []
    for number in range(size):
        order_id = ids.new_id()
        at = clock.iso(start + timedelta(days=number / 100))
        person = people[number % CUSTOMERS]
        quantity = number % 9 + 1
        price = Decimal(number % 40 + 1) + Decimal("0.50")
        po = f"PO-{number:05d}"
        items.append({
            "PK": keys.company(company.id), "SK": keys.order_sk(order_id), "entity": "ORDER",
            "GSI1PK": keys.listing(company.id, "ORDER"), "GSI1SK": keys.listing_sort(at, order_id),
            "GSI2PK": keys.customer_orders(company.id, person["id"]), "GSI2SK": keys.listing_sort(at, order_id),
            "id": order_id, "companyId": company.id, "status": STATUSES[number % 5], "source": "API",
            "poNumber": po, "notes": None, "shippingAddress": None, "total": price * quantity,
            "customerId": person["id"], "createdById": None, "placedById": None, "taxRate": Decimal("0"),
            "items": [{"id": ids.new_id(), "quantity": quantity, "unitPrice": price, "productId": ids.new_id(),
                       "productName": f"Product {number % 40}", "productSku": f"SKU-{number % 40:03d}"}],
            "createdAt": at, "updatedAt": at,
            "searchText": orders.search_text(order_id, po, person),
        })
    for begin in range(0, len(items), 25):
        pending: dict[str, Any] = {dynamo.table_name(): [{"PutRequest": {"Item": dynamo.to_item(item)}}
                                                         for item in items[begin:begin + 25]]}
        while pending:
            pending = dynamodb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    owner = companies.members(company.id)[0]
    session = sessions.start_staff_session(user_id=owner["userId"], email=owner["email"], name="Bench Owner",
                                           company_id=company.id, role="OWNER")
    return {"cookie": f"staff_session={session.raw_id}", "company_id": company.id}


def page(desk: dict[str, Any], query: str) -> tuple[float, float, dict[str, Any]]:
    from distribu_dashboard.handler import lambda_handler
    from distribu_local.apigateway import LambdaContext, http_api_event

    event = http_api_event("GET", "/dashboard/orders", query=query, headers={"cookie": desk["cookie"]},
                           route_key="GET /dashboard/{proxy+}")
    started, cpu = time.perf_counter(), time.process_time()
    result = lambda_handler(event, LambdaContext(function_name="dashboard"))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    assert result["statusCode"] == 200, result
    return elapsed, cpu, result


def second_page_cursor(desk: dict[str, Any]) -> str:
    import re
    from html import unescape

    _, _, result = page(desk, "")
    found = re.search(r'href="[^"]*cursor=([^"&]+)[^"]*" rel="next"', result["body"])
    assert found, "no second page"
    return unescape(found.group(1))


def main() -> None:
    with locked_moto_server_process():
        from distribu import clock

        desks = {size: seed(size) for size in SIZES}
        since = (clock.now() - timedelta(days=2)).strftime("%Y-%m-%d")
        cursors = {size: second_page_cursor(desk) for size, desk in desks.items()}
        counter = RoundTrips()
        rows: list[tuple[str, str]] = []
        small, big = SIZES
        for name, template in VARIANTS.items():
            queries = {size: template.format(since=since, cursor=cursors[size]) for size in SIZES}
            for size, desk in desks.items():
                page(desk, queries[size])  # warm
            ratios, cpu_ratios, trips, shown = [], [], {}, {}
            times: dict[int, list[float]] = {small: [], big: []}
            cpus: dict[int, list[float]] = {small: [], big: []}
            for run in range(RUNS):
                pair, cpu_pair = {}, {}
                for size in ((small, big) if run % 2 == 0 else (big, small)):
                    before = counter.count
                    pair[size], cpu_pair[size], result = page(desks[size], queries[size])
                    trips[size] = counter.count - before
                    shown[size] = result["body"].count('class="mono">#')
                    times[size].append(pair[size])
                    cpus[size].append(cpu_pair[size])
                ratios.append(pair[big] / pair[small])
                cpu_ratios.append(cpu_pair[big] / cpu_pair[small])
            found = [(f"{name}: round trips", f"{trips[small]} at {small:,} / {trips[big]} at {big:,} "
                                               f"(rows shown: {shown[small]} / {shown[big]})"),
                     (f"{name}: function time", f"{median(cpu_ratios):.2f}x at {big:,} vs {small:,} (CPU, median of "
                                                f"{RUNS} paired runs; {median(cpus[small]) * 1000:.1f} ms / "
                                                f"{median(cpus[big]) * 1000:.1f} ms)"),
                     (f"{name}: wall time (moto)", f"{median(ratios):.2f}x ({median(times[small]) * 1000:.0f} ms / "
                                                   f"{median(times[big]) * 1000:.0f} ms)")]
            rows += found
            print("\n".join(f"  {label}: {value}" for label, value in found), flush=True)
        report("Dashboard orders list page (warm container)", rows)


if __name__ == "__main__":
    sys.exit(main())
