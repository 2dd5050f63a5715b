"""The dashboard home page at 100 and at 10,000 products: DynamoDB round trips (exact) and server time as
a ratio between the two sizes (warm container). Goal: equal round trips, <= 1.2x.

The health panel reads the catalog index's head (counters kept as stock changes), the sales summary one
rollup item and the activity one Query of the latest audit entries: nothing on the page scans products.
The page goes through the real dashboard handler with a signed-in owner's session cookie.

Two times are printed. The handler's own CPU time (the moto server runs in another process) is what the
page costs us. The wall time also holds moto's side of the round trips. moto alone sorted every item of the
table on each Query (~0.5 s a Query here); with the local stack's fix (``distribu_local.motofixes``) it
still walks the queried partition item by item in Python (real DynamoDB reads only the items it returns):
the activity Query runs in the company's partition, which holds the 10,000 products and their SKU guards,
so the wall-time ratio grows with the catalog on moto alone.
"""

from __future__ import annotations

import sys
import time
from typing import Any

from common import RoundTrips, locked_moto_server_process, median, report, write_catalog

SIZES = (100, 10_000)
RUNS = 25


def seed(size: int) -> dict[str, Any]:
    from distribu import companies, projections, sessions, staff_accounts

    email = f"owner{size}@bench.test"
    company = companies.create_company(f"Bench Desk {size}", email, "bench-password-1")
    write_catalog(company.id, size)
    projections.rebuild(company.id)
    owner = staff_accounts.sign_in(email, "bench-password-1")
    session = sessions.start_staff_session(user_id=owner.id, email=email, name=owner.name,
                                           company_id=company.id, role="OWNER")
    return {"cookie": f"staff_session={session.raw_id}"}


def page(desk: dict[str, Any]) -> tuple[float, float, dict[str, Any]]:
    from distribu_dashboard.handler import lambda_handler
    from distribu_local.apigateway import LambdaContext, http_api_event

    event = http_api_event("GET", "/dashboard", headers={"cookie": desk["cookie"]}, route_key="GET /dashboard")
    started, started_cpu = time.perf_counter(), time.process_time()
    result = lambda_handler(event, LambdaContext(function_name="dashboard"))
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    assert result["statusCode"] == 200, result
    return elapsed, cpu, result


def main() -> None:
    with locked_moto_server_process():
        desks = {size: seed(size) for size in SIZES}
        small, big = SIZES
        counter = RoundTrips()
        for desk in desks.values():
            page(desk)  # warm: templates compiled, clients created
        ratios, cpu_ratios, times, cpu_times, trips, health = [], [], {small: [], big: []}, {small: [], big: []}, {}, {}
        for run in range(RUNS):
            pair, cpu_pair = {}, {}
            for size in ((small, big) if run % 2 == 0 else (big, small)):
                before = counter.count
                pair[size], cpu_pair[size], result = page(desks[size])
                trips[size] = counter.count - before
                times[size].append(pair[size])
                cpu_times[size].append(cpu_pair[size])
                health[size] = "Out of stock" in result["body"] and "Low stock" in result["body"]
            ratios.append(pair[big] / pair[small])
            cpu_ratios.append(cpu_pair[big] / cpu_pair[small])
        assert all(health.values()), "the health panel is missing from the page"
        report("Dashboard home page (warm container)", [
            ("round trips", f"{trips[small]} at {small:,} products / {trips[big]} at {big:,}"),
            ("handler CPU time", f"{median(cpu_ratios):.2f}x at {big:,} vs {small:,} (median of {RUNS} paired runs; "
                                 f"{median(cpu_times[small]) * 1000:.1f} ms / {median(cpu_times[big]) * 1000:.1f} ms)"),
            ("wall time, moto included", f"{median(ratios):.2f}x at {big:,} vs {small:,} (median of {RUNS} paired runs; "
                            f"{median(times[small]) * 1000:.1f} ms / {median(times[big]) * 1000:.1f} ms)"),
        ])


if __name__ == "__main__":
    sys.exit(main())
