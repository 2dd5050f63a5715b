"""The dashboard's inventory page at 100 and at 10,000 products: DynamoDB round trips (exact) and server time
as a ratio between the two sizes (warm container, paired runs; goal <= 1.2x), the cold container's first
page; and bulk stock of 100 rows (dashboard and API) in round trips.

Products are written straight with BatchWriteItem (the items ``distribu.catalog`` builds) and the catalog
index is built with the projections rebuild, as ``distribu projections rebuild`` does; the page goes
through the real dashboard handler with a real staff session cookie.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from common import RoundTrips, api_call, locked_moto_server_process, median, report, write_catalog

SIZES = (100, 10_000)
RUNS = 25
# Every variant shows a full page of 25 rows at both sizes, so the ratio measures the catalog's size, not how
# many rows were rendered.
VARIANTS = {"default page": "", "search matching all ('heavy')": "q=heavy",
            "low stock, sorted by stock": "status=low&sort=stock_asc",
            "category Tools by price": "category=Tools&sort=price",
            # a query this container has not seen: the index's memo cannot help, every entry is scanned
            "search, a new query each time": "q={fresh}"}
FRESH = [f"{'heavy duty'[start:start + length]}".replace(" ", "+") for length in range(3, 11)
         for start in range(0, 11 - length)]
CATEGORIES = ["Fasteners", "Tools", "Electrical"]


def seed(size: int) -> dict[str, Any]:
    from distribu import apikeys, audit, companies, projections, sessions

    email = f"owner{size}@bench.test"
    company = companies.create_company(f"Bench Inventory {size}", email, "bench-password-1")
    # every tenth product inactive; stock 0..9, a third of them times 9: plenty out and low
    product_ids = write_catalog(company.id, size, categories=CATEGORIES, vary=lambda number: {
        "stock": number % 10 * (1 if number % 3 else 9), "isActive": number % 10 != 0})
    projections.rebuild(company.id)
    owner = next(member for member in companies.members(company.id) if member["role"] == "OWNER")
    session = sessions.start_staff_session(user_id=owner["userId"], email=email, name="Bench Owner",
                                           company_id=company.id, role="OWNER")
    _, key = apikeys.create_api_key(company.id, "bench", list(apikeys.SCOPES), audit.Actor("SYSTEM", "bench", "bench"),
                                    rate_limit=1_000_000)
    return {"cookie": f"staff_session={session.raw_id}", "product_ids": product_ids, "key": key,
            "company_id": company.id}


def request(shop: dict[str, Any], method: str, path: str, query: str = "", body: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[float, dict[str, Any]]:
    from distribu_dashboard.handler import lambda_handler
    from distribu_local.apigateway import LambdaContext, http_api_event

    event = http_api_event(method, path, query=query, body=body, headers={"cookie": shop["cookie"], **(headers or {})},
                           route_key=f"{method} /dashboard/{{proxy+}}")
    started = time.perf_counter()
    result = lambda_handler(event, LambdaContext(function_name="dashboard"))
    return time.perf_counter() - started, result


def page(shop: dict[str, Any], query: str) -> tuple[float, dict[str, Any]]:
    elapsed, result = request(shop, "GET", "/dashboard/inventory", query)
    assert result["statusCode"] == 200, result
    return elapsed, result


def bulk_in_dashboard(shop: dict[str, Any], counter: RoundTrips) -> tuple[int, float]:
    import re
    from urllib.parse import urlencode

    _, listing = page(shop, "")
    token = re.search(r'name="csrf_token" value="([^"]+)"', listing["body"]).group(1)
    body = urlencode([*(("productId", product_id) for product_id in shop["product_ids"][:100]),
                      ("mode", "delta"), ("value", "5"), ("csrf_token", token)])
    before = counter.count
    elapsed, result = request(shop, "POST", "/dashboard/inventory/bulk", body=body,
                              headers={"content-type": "application/x-www-form-urlencoded"})
    assert result["statusCode"] == 303, result
    return counter.count - before, elapsed


def main() -> None:
    with locked_moto_server_process():
        from distribu import catalog_index, inventory

        shops = {size: seed(size) for size in SIZES}
        counter = RoundTrips()
        rows: list[tuple[str, str]] = []
        small, big = SIZES
        for name, query in VARIANTS.items():
            for shop in shops.values():
                page(shop, query.format(fresh="zzz"))  # warm: this container holds the index now
            ratios, times, trips, shown = [], {small: [], big: []}, {}, {}
            for run in range(RUNS):
                pair = {}
                for size in ((small, big) if run % 2 == 0 else (big, small)):
                    before = counter.count
                    pair[size], result = page(shops[size], query.format(fresh=FRESH[run]))
                    trips[size] = counter.count - before
                    shown[size] = result["body"].count('name="productId"')
                    times[size].append(pair[size])
                ratios.append(pair[big] / pair[small])
            rows.append((f"{name}: round trips", f"{trips[small]} at {small:,} / {trips[big]} at {big:,} "
                                                  f"(rows shown: {shown[small]} / {shown[big]})"))
            rows.append((f"{name}: server time", f"{median(ratios):.2f}x at {big:,} vs {small:,} (median of {RUNS} "
                                                  f"paired runs; {median(times[small]) * 1000:.1f} ms / "
                                                  f"{median(times[big]) * 1000:.1f} ms)"))
        for size, shop in shops.items():
            cold = []
            for _ in range(5):
                catalog_index.forget_cache()
                before = counter.count
                elapsed, _ = page(shop, "")
                cold.append(elapsed)
            rows.append((f"cold container (index read) at {size:,}",
                         f"{median(cold) * 1000:.1f} ms, {counter.count - before} round trips"))
        report("Dashboard inventory page (warm container unless said)", rows)
        rows = []
        shop = shops[big]
        trips, elapsed = bulk_in_dashboard(shop, counter)
        rows.append(("bulk stock, 100 rows, dashboard POST",
                     f"{trips} round trips (session, company + index head, batch read of 100, "
                     f"{-(-100 // inventory.CHUNK_PRODUCTS)} transactions); {elapsed * 1000:.0f} ms"))
        body = {"mode": "set", "items": [{"productId": product_id, "value": 50} for product_id in shop["product_ids"][:100]]}
        for label, value, headers in (("without", 50, None), ("with", 60, {"idempotency-key": "bench-bulk"})):
            body["items"] = [{**row, "value": value} for row in body["items"]]
            before = counter.count
            started = time.perf_counter()
            answer = api_call("POST", "/api/v1/products/stock", shop["key"], body=body, headers=headers)
            took = time.perf_counter() - started
            data = answer["body"]["data"]
            assert answer["status"] == 200 and data["updated"] + data["unchanged"] == 100, answer["status"]
            rows.append((f"bulk stock, 100 rows, API {label} Idempotency-Key",
                         f"{counter.count - before} round trips ({data['updated']} rows changed); {took * 1000:.0f} ms"))
        # The one-by-one alternative the bulk verb replaces: 100 PATCHes (each a read and a transaction).
        before = counter.count
        started = time.perf_counter()
        for product_id in shop["product_ids"][100:200]:
            assert api_call("PATCH", f"/api/v1/products/{product_id}", shop["key"], body={"stock": 7})["status"] == 200
        rows.append(("for comparison: 100 single PATCHes",
                     f"{counter.count - before} round trips; {(time.perf_counter() - started) * 1000:.0f} ms"))
        report("Bulk stock of 100 rows (at 10,000 products)", rows)


if __name__ == "__main__":
    sys.exit(main())
