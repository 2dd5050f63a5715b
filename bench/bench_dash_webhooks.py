"""The dashboard's webhook page (settings, actions and the first page of the delivery log) for a webhook with 20
deliveries and one with 2,000, through the dashboard's real handler: server time as a ratio between the sizes
(goal <= 1.2x: the log is read a page at a time) and against the API's own delivery-log call for the same 20
deliveries in the same run, plus DynamoDB round trips per page (exact, and the same at both sizes).

Time is split in two: inside DynamoDB calls, and the function's own (total minus that). moto's Query walks
the table in Python, so its time grows with the table where DynamoDB's does not: the function's own time is
the figure the page is judged by; the time in moto is shown too.
"""

from __future__ import annotations

import json
import time
from typing import Any, Callable

from common import RoundTrips, median, moto_stack, report, seed_tenant

SMALL, LARGE, RUNS = 20, 2_000, 15


def add_deliveries(company_id: str, webhook_id: str, count: int) -> None:
    """Delivery items as fan-out and an attempt leave them (one failed attempt with a 2,000-character
    answer each, the most the log keeps), written in batches: bench data, not a code path under test."""
    from distribu import clock, dynamo, keys, webhook_delivery

    table, client = dynamo.table_name(), dynamo.dynamodb()
    body = json.dumps({"event": "order.created", "timestamp": clock.now_iso(), "data": {"id": "x" * 26}})
    items = []
    for number in range(count):
        identifier = webhook_delivery.delivery_id(f"bench-{webhook_id}-{number}", webhook_id)
        at = clock.now_iso()
        items.append({"PK": keys.company(company_id), "SK": keys.delivery_sk(identifier), "entity": "DELIVERY",
                      "GSI1PK": keys.webhook_deliveries(company_id, webhook_id),
                      "GSI1SK": keys.listing_sort(at, identifier), "id": identifier, "webhookId": webhook_id,
                      "companyId": company_id, "eventId": f"bench-{number}", "event": "order.created", "body": body,
                      "status": "RETRYING", "nextRetryAt": at, "createdAt": at, "updatedAt": at,
                      "attempts": [{"attempt": 1, "at": at, "statusCode": 503, "error": None, "durationMs": 120,
                                    "responseBody": "Service unavailable. " * 95}]})
    for start in range(0, len(items), 25):
        client.batch_write_item(RequestItems={table: [{"PutRequest": {"Item": dynamo.to_item(item)}}
                                                      for item in items[start:start + 25]]})


class InDynamo:
    """Wall time spent inside the domain package's DynamoDB calls (moto answering, here)."""

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


def timed(calls: list[Callable[[], dict[str, Any]]], trips: RoundTrips) -> list[tuple[float, float, int, int]]:
    """Per call: the median of its own time and of its time in DynamoDB (ms) over RUNS calls after one
    warm-up, the round trips of one call, its status. The calls take turns, so the shared machine's noise
    falls on all of them alike."""
    statuses = [call()["statusCode"] for call in calls]
    counts = [trips.measure(call) for call in calls]
    in_dynamo = InDynamo()
    own: list[list[float]] = [[] for _ in calls]
    dynamo: list[list[float]] = [[] for _ in calls]
    for _ in range(RUNS):
        for index, call in enumerate(calls):
            before, started = in_dynamo.total, time.perf_counter()
            call()
            spent, waited = time.perf_counter() - started, in_dynamo.total - before
            own[index].append((spent - waited) * 1000)
            dynamo[index].append(waited * 1000)
    return [(median(mine), median(theirs), count, status)
            for mine, theirs, count, status in zip(own, dynamo, counts, statuses)]


def main() -> None:
    from distribu import audit, sessions, staff_accounts, webhooks
    from distribu_api.handler import lambda_handler as api
    from distribu_dashboard.handler import lambda_handler as dashboard
    from distribu_local.apigateway import LambdaContext, http_api_event

    with moto_stack():
        tenant = seed_tenant(products=1)
        company_id = tenant["company"].id
        actor = audit.Actor("SYSTEM", "bench", "bench")
        hooks = {}
        for size in (SMALL, LARGE):
            hooks[size] = webhooks.create_webhook(company_id, webhooks.WebhookCreate(
                url=f"https://erp{size}.example.com/hooks", events=["order.created"]), actor)["id"]
            add_deliveries(company_id, hooks[size], size)
        owner = staff_accounts.sign_in("owner@bench.test", "bench-password-1")
        session = sessions.start_staff_session(user_id=owner.id, email=owner.email, name=owner.name,
                                               company_id=company_id, role="OWNER")

        def page(size: int) -> Callable[[], dict[str, Any]]:
            path = f"/dashboard/settings/webhooks/{hooks[size]}"
            event = http_api_event("GET", path, route_key="GET /dashboard/{proxy+}",
                                   headers={"cookie": f"staff_session={session.raw_id}"})
            return lambda: dashboard(event, LambdaContext(function_name="dashboard"))

        api_event = http_api_event("GET", f"/api/v1/webhooks/{hooks[SMALL]}/deliveries", query=f"limit={SMALL}",
                                   headers={"authorization": f"Bearer {tenant['key']}"},
                                   route_key="GET /api/v1/{proxy+}")
        trips = RoundTrips()
        (api_ms, api_db, api_trips, api_status), (small_ms, small_db, small_trips, small_status), \
            (large_ms, large_db, large_trips, large_status) = \
            timed([lambda: api(api_event, LambdaContext(function_name="api")), page(SMALL), page(LARGE)], trips)
        assert (api_status, small_status, large_status) == (200, 200, 200)
        report("Dashboard webhook page with its delivery log (first 20 deliveries)", [
            (f"page, {SMALL:,} deliveries", f"{small_ms:.1f} ms own + {small_db:.1f} ms in moto, "
                                            f"{small_trips} DynamoDB round trips"),
            (f"page, {LARGE:,} deliveries", f"{large_ms:.1f} ms own + {large_db:.1f} ms in moto, "
                                            f"{large_trips} DynamoDB round trips"),
            (f"own time, {LARGE:,} / {SMALL:,}", f"{large_ms / small_ms:.2f}x (goal <= 1.2x)"),
            (f"time in moto, {LARGE:,} / {SMALL:,}", f"{large_db / small_db:.2f}x (moto's Query walks the table)"),
            (f"API delivery log, {SMALL} (baseline)", f"{api_ms:.1f} ms own + {api_db:.1f} ms in moto, "
                                                     f"{api_trips} DynamoDB round trips"),
            ("page / API, own time", f"{small_ms / api_ms:.2f}x"),
        ])


if __name__ == "__main__":
    main()
