"""The storefront catalog page at 100 and at 10,000 active products: DynamoDB round trips (exact), server
time as a ratio between the two sizes (warm container), the cold container's first page (index shards
read), and the page's HTML weight for 24 rows.

Products are written straight with BatchWriteItem (``common.write_catalog``) and the catalog index is built with the projections rebuild, as ``distribu projections rebuild`` does; the page itself
goes through the real storefront handler with a real session cookie.
"""

from __future__ import annotations

import sys
import time
from decimal import Decimal
from typing import Any

from common import RoundTrips, locked_moto_server_process, median, report, write_catalog

SIZES = (100, 10_000)
RUNS = 25
VARIANTS = {"default page": "", "search matching all ('heavy')": "q=heavy", "search 'bolt'": "q=bolt",
            "sorted by price, page 3": "sort=price&page=3", "category Tools": "category=Tools",
            # a query this container has not seen: the index's memo cannot help, every entry is scanned
            "search, a new query each time": "q={fresh}"}
# Distinct pieces of "heavy duty", which every product's name holds: each run searches anew, all match.
FRESH = [f"{'heavy duty'[start:start + length]}".replace(" ", "+") for length in range(3, 11)
         for start in range(0, 11 - length)]


def seed(size: int) -> dict[str, Any]:
    from distribu import audit, companies, customers, passwords, pricing

    company = companies.create_company(f"Bench Store {size}", f"owner{size}@bench.test", "bench-password-1")
    product_ids = write_catalog(company.id, size)
    actor = audit.Actor("SYSTEM", "bench", "bench")
    buyer = customers.create_customer(company.id, customers.CustomerCreate(email="buyer@bench.test", name="Bench Buyer"),
                                      actor, password_hash=passwords.hash_password("buyer-password-1"))
    for product_id in product_ids[:5]:
        pricing.set_override(company.id, buyer["id"], product_id, Decimal("0.50"), actor)
    from distribu import carts, projections, sessions
    from distribu.buyers import Buyer

    projections.rebuild(company.id)
    person = Buyer(company.id, buyer["id"], None, "ADMIN", "Bench Buyer", "buyer@bench.test")
    for product_id in product_ids[10:13]:
        carts.add(person, product_id, 1)
    session = sessions.start_customer_session(company.id, customer_id=buyer["id"], contact_id=None,
                                              name="Bench Buyer", email="buyer@bench.test", role="ADMIN")
    return {"slug": company.slug, "cookie": f"customer_session={session.raw_id}"}


def page(shop: dict[str, Any], query: str) -> tuple[float, dict[str, Any]]:
    from distribu_local.apigateway import LambdaContext, http_api_event
    from distribu_storefront.handler import lambda_handler

    event = http_api_event("GET", f"/store/{shop['slug']}/catalog", query=query,
                           headers={"cookie": shop["cookie"]}, route_key="GET /store/{proxy+}")
    started = time.perf_counter()
    result = lambda_handler(event, LambdaContext(function_name="storefront"))
    elapsed = time.perf_counter() - started
    assert result["statusCode"] == 200, result
    return elapsed, result


def main() -> None:
    with locked_moto_server_process():
        from distribu import catalog_index

        shops = {size: seed(size) for size in SIZES}
        counter = RoundTrips()
        rows: list[tuple[str, str]] = []
        html_sizes = {}
        for name, query in VARIANTS.items():
            small, big = SIZES
            for shop in shops.values():
                page(shop, query.format(fresh="zzz"))  # warm: this container holds the index now
            ratios, times, trips, shown = [], {small: [], big: []}, {}, {}
            for run in range(RUNS):
                # Adjacent pairs, alternating which size goes first, cancel the shared machine's drift.
                pair = {}
                for size in ((small, big) if run % 2 == 0 else (big, small)):
                    before = counter.count
                    pair[size], result = page(shops[size], query.format(fresh=FRESH[run]))
                    trips[size] = counter.count - before
                    shown[size] = result["body"].count('class="product-row"')
                    times[size].append(pair[size])
                    if name == "default page":
                        html_sizes[size] = len(result["body"].encode())
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
        for size, weight in html_sizes.items():
            rows.append((f"HTML of the default page at {size:,}", f"{weight / 1024:.1f} KB (24 rows and a 3-line cart)"))
        report("Storefront catalog page (warm container unless said)", rows)


if __name__ == "__main__":
    sys.exit(main())
