"""The dashboard's audit log page at 100 and at 10,000 audit entries: DynamoDB round trips (exact) and server
time as a ratio between the two sizes (warm container), for the unfiltered page, each filter (served by its
index), two filters together (an index plus a filter expression), a date range and the second page; and the
CSV export of a filtered selection (round trips per 100 entries).

Entries are written straight with BatchWriteItem (the items ``distribu.audit.entry`` builds), with a realistic
mix: 70 % staff product edits, 20 % storefront orders, 9 % API status changes, 1 % API key creations. The page
goes through the real dashboard handler with a real staff session cookie.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from common import RoundTrips, locked_moto_server_process, median, report

SIZES = (100, 10_000)
RUNS = 15
VARIANTS = {
    "newest first, no filter": "",
    "action = OrderPlaced (its index)": "action=OrderPlaced",
    "entity type = ApiKey (rare: 1 %)": "entity_type=ApiKey",
    "actor type = API key + action (index + filter)": "actor_type=API_KEY&action=OrderStatusChanged",
    "date range: one day": "since={day}&until={day}",
}
MIX = [("ProductUpdated", "Product", "USER")] * 70 + [("OrderPlaced", "Order", "CUSTOMER")] * 20 \
    + [("OrderStatusChanged", "Order", "API_KEY")] * 9 + [("ApiKeyCreated", "ApiKey", "USER")]


def seed(size: int) -> dict[str, Any]:
    from distribu import audit, companies, dynamo, sessions
    from distribu.aws import dynamodb

    company = companies.create_company(f"Bench Audit {size}", f"owner{size}@bench.test", "bench-password-1")
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    step = timedelta(days=365) / size  # a year of activity, whatever the size
    items = []
    for number in range(size):
        action, entity, actor_type = MIX[number % len(MIX)]
        moment = start + step * number
        at = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        put = audit.entry(company.id, audit.Actor(actor_type, f"a{number % 7}", f"Actor {number % 7}"), action, entity,
                          f"e{number:025d}", {"before": {"price": 8.5}, "after": {"price": 9.0}, "name": f"Item {number}"},
                          at=at)
        items.append(put["Put"]["Item"])
    for first in range(0, len(items), 25):
        pending: dict[str, Any] = {dynamo.table_name(): [{"PutRequest": {"Item": item}} for item in items[first:first + 25]]}
        while pending:
            pending = dynamodb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    owner = companies.members(company.id)[0]
    session = sessions.start_staff_session(user_id=owner["userId"], email=owner["email"], name="Bench Owner",
                                           company_id=company.id, role="OWNER")
    return {"cookie": f"staff_session={session.raw_id}", "company_id": company.id}


class DynamoTime:
    """Wall time spent inside DynamoDB calls (moto's in-memory query is O(partition), DynamoDB's is not):
    what remains is this code's own work (reading the session, rendering, wording the entries)."""

    def __init__(self) -> None:
        from distribu.aws import dynamodb

        self.total = 0.0
        self._started = 0.0
        events = dynamodb().meta.events
        events.register("before-call.dynamodb", self._before)
        events.register("after-call.dynamodb", self._after)

    def _before(self, **_: Any) -> None:
        self._started = time.perf_counter()

    def _after(self, **_: Any) -> None:
        self.total += time.perf_counter() - self._started


def get(desk: dict[str, Any], path: str, query: str) -> tuple[float, dict[str, Any]]:
    from distribu_dashboard.handler import lambda_handler
    from distribu_local.apigateway import LambdaContext, http_api_event

    event = http_api_event("GET", path, query=query, headers={"cookie": desk["cookie"]},
                           route_key="GET /dashboard/{proxy+}")
    started = time.perf_counter()
    result = lambda_handler(event, LambdaContext(function_name="dashboard"))
    elapsed = time.perf_counter() - started
    assert result["statusCode"] == 200, result
    return elapsed, result


def main() -> None:
    with locked_moto_server_process():
        desks = {size: seed(size) for size in SIZES}
        counter = RoundTrips()
        dynamo_time = DynamoTime()
        rows: list[tuple[str, str]] = []
        small, big = SIZES
        variants = dict(VARIANTS)
        # the second page: the cursor of each size's first page
        import re

        for name, query in variants.items():
            query = query.format(day="2026-06-01")
            for desk in desks.values():
                get(desk, "/dashboard/settings/audit", query)  # warm
            ratios, times, trips, shown = [], {small: [], big: []}, {}, {}
            own: dict[int, list[float]] = {small: [], big: []}
            for run in range(RUNS):
                pair = {}
                for size in ((small, big) if run % 2 == 0 else (big, small)):
                    before, in_dynamo = counter.count, dynamo_time.total
                    pair[size], result = get(desks[size], "/dashboard/settings/audit", query)
                    own[size].append(pair[size] - (dynamo_time.total - in_dynamo))
                    trips[size] = counter.count - before
                    shown[size] = result["body"].count("<time datetime=")
                    times[size].append(pair[size])
                ratios.append(pair[big] / pair[small])
            rows.append((f"{name}: round trips", f"{trips[small]} at {small:,} / {trips[big]} at {big:,} "
                                                  f"(entries shown: {shown[small]} / {shown[big]})"))
            rows.append((f"{name}: server time", f"{median(ratios):.2f}x at {big:,} vs {small:,} (median of {RUNS} "
                                                  f"paired runs; {median(times[small]) * 1000:.1f} ms / "
                                                  f"{median(times[big]) * 1000:.1f} ms)"))
            rows.append((f"{name}: outside DynamoDB calls", f"{median(own[small]) * 1000:.1f} ms / "
                                                             f"{median(own[big]) * 1000:.1f} ms"))
        _, first = get(desks[big], "/dashboard/settings/audit", "")
        cursor = re.search(r'cursor=([A-Za-z0-9_-]+)', first["body"]).group(1)
        before = counter.count
        elapsed, second = get(desks[big], "/dashboard/settings/audit", f"cursor={cursor}")
        rows.append((f"second page at {big:,}", f"{counter.count - before} round trips, {elapsed * 1000:.1f} ms, "
                                                 f"{second['body'].count('<time datetime=')} entries"))
        before = counter.count
        started = time.perf_counter()
        _, exported = get(desks[big], "/dashboard/settings/audit/export.csv", "action=OrderPlaced")
        elapsed = time.perf_counter() - started
        lines = exported["body"].count("\n") - 1
        rows.append((f"CSV export, action = OrderPlaced at {big:,}",
                     f"{lines:,} entries, {counter.count - before} round trips, {elapsed * 1000:.0f} ms"))
        report("Dashboard audit log page (warm container)", rows)


if __name__ == "__main__":
    sys.exit(main())
