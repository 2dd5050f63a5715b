"""Reports at 100 and at 20,000 orders: ``GET /api/v1/reports/sales?preset=year`` and
``GET /api/v1/reports/customers`` (this month and this year), server time as a ratio between the two sizes
(goal <= 1.2x) and DynamoDB round trips (exact; goal: equal), then the rebuild command's rate.

Both companies have the same 40 customers (each with an order today) and 20 products, and orders spread
over the last 365 days with every status; so the only thing that differs is the number of orders. Orders are written straight with
BatchWriteItem (the items ``distribu.orders.place_order`` writes), and the rollups are built by
``distribu reports rebuild`` (:func:`distribu.reports.rebuild`), which is what is timed for its rate. The
reports go through the real API handler with a real API key.
"""

from __future__ import annotations

import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from typing import Any

from common import RoundTrips, api_call, locked_moto_server_process, median, report

SIZES = (100, 20_000)
RUNS = 15
CUSTOMERS = 40
PRODUCTS = 20
STATUSES = ["SUBMITTED", "CONFIRMED", "SHIPPED", "DELIVERED", "DELIVERED", "DELIVERED", "CANCELLED"]
CALLS = {"sales?preset=year": ("/api/v1/reports/sales", "preset=year"),
         "customers (this month, the default)": ("/api/v1/reports/customers", ""),
         "customers?preset=year": ("/api/v1/reports/customers", "preset=year")}


def seed(size: int) -> dict[str, Any]:
    from distribu import apikeys, audit, catalog, clock, companies, customers, dynamo, ids, keys
    from distribu.aws import dynamodb

    rng = random.Random(size)
    company = companies.create_company(f"Bench Reports {size}", f"owner{size}@bench.test", "bench-password-1")
    actor = audit.Actor("SYSTEM", "bench", "bench")
    _, key = apikeys.create_api_key(company.id, "bench", ["reports:read"], actor, rate_limit=10_000_000)
    products = [catalog.create_product(company.id, catalog.ProductCreate(
        name=f"Product {number}", sku=f"R-{number:03d}", category=["Tools", "Fasteners", "Safety"][number % 3],
        price=Decimal(number % 30 + 1) + Decimal("0.25"), stock=500), actor) for number in range(PRODUCTS)]
    buyers = [customers.create_customer(company.id, customers.CustomerCreate(
        email=f"buyer{number:02d}@bench.test", name=f"Buyer {number}"), actor)["id"] for number in range(CUSTOMERS)]
    now = clock.now()
    items = []
    for number in range(size):
        # every customer orders today (so each range measured has the same 40 customers at both sizes: the
        # customers report reads one item per customer, which is not what this bench is about); the rest
        # anywhere in the last 365 days
        seconds_ago = rng.randint(0, min(3600, now.hour * 3600 + now.minute * 60)) if number < CUSTOMERS else \
            rng.randint(0, 365 * 86400)
        created = clock.iso(now - timedelta(seconds=seconds_ago))
        order_id = ids.new_id()
        customer_id = buyers[number] if number < CUSTOMERS else rng.choice(buyers)
        lines = []
        for chosen in rng.sample(products, k=rng.randint(1, 3)):
            lines.append({"id": ids.new_id(), "quantity": rng.randint(1, 12), "unitPrice": Decimal(str(chosen["price"])),
                          "productId": chosen["id"], "productName": chosen["name"], "productSku": chosen["sku"]})
        total = sum((line["unitPrice"] * line["quantity"] for line in lines), Decimal("0"))
        items.append({
            "PK": keys.company(company.id), "SK": keys.order_sk(order_id), "entity": "ORDER",
            "GSI1PK": keys.listing(company.id, "ORDER"), "GSI1SK": keys.listing_sort(created, order_id),
            "GSI2PK": keys.customer_orders(company.id, customer_id), "GSI2SK": keys.listing_sort(created, order_id),
            "id": order_id, "companyId": company.id, "status": rng.choice(STATUSES), "source": "API",
            "poNumber": None, "notes": None, "shippingAddress": None, "total": total, "customerId": customer_id,
            "createdById": None, "placedById": None, "taxRate": Decimal("0"), "items": lines,
            "createdAt": created, "updatedAt": created})
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {dynamo.table_name(): [{"PutRequest": {"Item": dynamo.to_item(item)}}
                                                         for item in items[start:start + 25]]}
        while pending:
            pending = dynamodb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return {"company": company.id, "key": key}


class DynamoTime:
    """Wall time spent inside the domain package's DynamoDB calls (request sent to answer parsed)."""

    def __init__(self) -> None:
        from distribu.aws import dynamodb

        self.seconds = 0.0
        self._started: list[float] = []
        events = dynamodb().meta.events
        events.register("before-call.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    def _before(self, **_: Any) -> None:
        self._started.append(time.perf_counter())

    def _after(self, **_: Any) -> None:
        if self._started:
            self.seconds += time.perf_counter() - self._started.pop()


def call(shop: dict[str, Any], path: str, query: str) -> tuple[float, dict[str, Any]]:
    started = time.perf_counter()
    result = api_call("GET", path, shop["key"], query)
    elapsed = time.perf_counter() - started
    assert result["status"] == 200, result
    return elapsed, result["body"]


def main() -> None:
    with locked_moto_server_process():
        from distribu import reports

        shops = {}
        for size in SIZES:
            started = time.perf_counter()
            shops[size] = seed(size)
            print(f"seeded {size:,} orders in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
        rows: list[tuple[str, str]] = []
        counter = RoundTrips()
        waited = DynamoTime()
        for size, shop in shops.items():
            before_trips, before_wait = counter.count, waited.seconds
            started = time.perf_counter()
            result = reports.rebuild(shop["company"])
            seconds = time.perf_counter() - started
            trips, in_moto = counter.count - before_trips, waited.seconds - before_wait
            orders = result["salesRollups"]["orders"]
            print(f"rebuilt {size:,} orders in {seconds:.0f} s", file=sys.stderr, flush=True)
            assert orders == size, result
            rows.append((f"rebuild at {size:,} orders",
                         f"{orders / seconds:,.0f} orders/s ({seconds:.2f} s, {result['salesRollups']['months']} "
                         f"months, {result['salesRollups']['itemsWritten']} items written, {trips} round trips)"))
            rows.append((f"rebuild at {size:,} orders, outside DynamoDB",
                         f"{orders / max(seconds - in_moto, 1e-9):,.0f} orders/s ({seconds - in_moto:.2f} s of our "
                         f"own work; {in_moto:.2f} s waiting on the local moto server)"))
        small, big = SIZES
        for name, (path, query) in CALLS.items():
            for shop in shops.values():
                call(shop, path, query)  # warm: modules loaded, routers included
            ratios, times, trips, figures = [], {small: [], big: []}, {}, {}
            for run in range(RUNS):
                pair = {}
                for size in ((small, big) if run % 2 == 0 else (big, small)):
                    before = counter.count
                    pair[size], body = call(shops[size], path, query)
                    trips[size] = counter.count - before
                    times[size].append(pair[size])
                    figures[size] = body["data"]["totals"]["orderCount"]
                ratios.append(pair[big] / pair[small])
            rows.append((f"{name}: round trips", f"{trips[small]} at {small:,} orders / {trips[big]} at {big:,} "
                                                  f"(orders counted: {figures[small]:,} / {figures[big]:,})"))
            rows.append((f"{name}: server time", f"{median(ratios):.2f}x at {big:,} vs {small:,} (median of {RUNS} "
                                                  f"paired runs; {median(times[small]) * 1000:.1f} ms / "
                                                  f"{median(times[big]) * 1000:.1f} ms)"))
        report("Reports API (warm container; same 40 customers, 20 products; orders over the last 365 days)", rows)


if __name__ == "__main__":
    sys.exit(main())
