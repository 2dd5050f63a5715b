"""The scheduled-reports runner: a tick that sends 5 due reports, and a tick with nothing due, when the
table holds 10 other (not due) schedules and when it holds 2,000 of them across 400 companies: exact
DynamoDB round trips (goal: equal) and time. The runner Queries the due index up to now; it never reads a
schedule that is not due, so nothing it does may grow with the number of schedules.

moto answers a Query of a global secondary index by walking the items (real DynamoDB seeks in the sorted
index and reads only the matching ones), so time grows with the table on moto whatever the code does. The
idle tick's time is therefore also shown as a ratio to the same Query sent bare, at the same table size in
the same run (goal: about 1x at both sizes: the runner adds nothing to its one Query).
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

from common import RoundTrips, locked_moto_server_process, median, report

DUE = 5
SMALL, LARGE = 10, 2000
REPEATS = 5


def _idle_schedules(count: int) -> None:
    """Active schedules due tomorrow or later, 5 per company: the items the domain's verb writes (checked by
    :func:`scheduled_reports.check`), loaded with batch writes (bench data, not the path measured)."""
    from distribu import clock, dynamo, ids, scheduled_reports

    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    items = []
    company_id = ids.new_id()
    for number in range(count):
        if number % 5 == 0:
            company_id = ids.new_id()
        data = scheduled_reports.check({"reportType": "ORDERS_EXPORT", "format": "csv", "cadence": "DAILY",
                                        "hour": str(number % 24), "recipients": "idle@idle.test"})
        stamp = clock.now_iso()
        items.append(scheduled_reports.schedules.schedule_item(
            company_id, ids.new_id(), data, next_due_at=scheduled_reports.schedules.next_due_iso(data, tomorrow),
            created_at=stamp, updated_at=stamp, version=1, created_by="bench"))
    client = dynamo.dynamodb()
    for start in range(0, len(items), 25):
        pending = {dynamo.table_name(): [{"PutRequest": {"Item": dynamo.to_item(item)}}
                                         for item in items[start:start + 25]]}
        while pending:
            pending = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


def _shop() -> tuple[Any, list[str]]:
    from distribu import catalog, companies, customers, orders, scheduled_reports
    from distribu.audit import Actor
    from distribu.permissions import Staff

    company = companies.create_company("Bench Reports", "owner@bench-reports.test", "bench-password-1")
    actor = Actor("SYSTEM", "bench", "bench")
    product = catalog.create_product(company.id, catalog.ProductCreate(name="Widget", price=5, stock=10_000), actor)
    buyer = customers.create_customer(company.id, customers.CustomerCreate(email="b@bench.test", name="B"), actor)
    for _ in range(20):
        orders.place_order(company.id, orders.OrderRequest(lines=[orders.Line(product["id"], 1)],
                                                           customer_id=buyer["id"]), actor, source="API")
    member = next(m for m in companies.members(company.id))
    staff = Staff(member["userId"], member["email"], "", company.id, "OWNER")
    made = [scheduled_reports.create_schedule(staff, {
        "reportType": "ORDERS_EXPORT", "format": "csv", "cadence": "DAILY", "hour": "8",
        "recipients": f"r{number}@bench.test", "isActive": True}).id for number in range(DUE)]
    return company, made


def _make_due(company_id: str, schedule_ids: list[str], due_at: str) -> None:
    from distribu import dynamo, keys

    for schedule_id in schedule_ids:
        dynamo.dynamodb().update_item(
            TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company_id), keys.report_schedule_sk(schedule_id)),
            UpdateExpression="SET nextDueAt = :due, GSI2SK = :sort",
            ExpressionAttributeValues={":due": {"S": due_at},
                                       ":sort": {"S": keys.reports_due_sort(due_at, company_id, schedule_id)}})


def measure(company: Any, schedule_ids: list[str], trips: RoundTrips, base: datetime) -> dict[str, Any]:
    from distribu import clock, scheduled_reports

    sending: list[float] = []
    idle: list[float] = []
    sending_trips = idle_trips = 0
    for repeat in range(REPEATS):
        now = base + timedelta(minutes=repeat)  # a new due time each tick (a due time is sent once)
        _make_due(company.id, schedule_ids, clock.iso(now - timedelta(seconds=30)))
        started = time.perf_counter()
        summary: list[Any] = []
        sending_trips = trips.measure(lambda: summary.append(scheduled_reports.run_due(now)))
        sending.append(time.perf_counter() - started)
        assert summary[0].sent == DUE, summary[0].as_dict()
        assert summary[0].details[0]["dueAt"] < clock.iso(now)
        started = time.perf_counter()
        idle_trips = trips.measure(lambda: scheduled_reports.run_due(now))
        idle.append(time.perf_counter() - started)
    bare: list[float] = []
    for _ in range(REPEATS * 2):
        started = time.perf_counter()
        _bare_index_query()
        bare.append(time.perf_counter() - started)
    return {"sending": median(sending), "idle": median(idle), "sending_trips": sending_trips,
            "idle_trips": idle_trips, "bare": median(bare)}


def _bare_index_query() -> None:
    """The runner's Query of the due index, bare: the floor of an idle tick (moto walks the partition's
    items to answer it, real DynamoDB seeks to the due end of the sorted index)."""
    from distribu import clock, dynamo, keys

    dynamo.dynamodb().query(TableName=dynamo.table_name(), IndexName="GSI2",
                            KeyConditionExpression="GSI2PK = :pk AND GSI2SK <= :now",
                            ExpressionAttributeValues={":pk": {"S": keys.REPORTS_DUE},
                                                       ":now": {"S": clock.now_iso() + "#~"}})


def main() -> None:
    with locked_moto_server_process():
        trips = RoundTrips()
        company, schedule_ids = _shop()
        # Ticks early tomorrow (UTC): the daily reports then cover today, when the 20 orders were placed.
        base = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
        _idle_schedules(SMALL)
        small = measure(company, schedule_ids, trips, base)
        _idle_schedules(LARGE - SMALL)
        large = measure(company, schedule_ids, trips, base + timedelta(minutes=REPEATS))
    report("Scheduled-reports runner: 5 due reports (orders export CSV, 20 orders) among other schedules", [
        (f"tick sending {DUE}, {SMALL} other schedules", f"{small['sending'] * 1000:.0f} ms, "
                                                       f"{small['sending_trips']} round trips"),
        (f"tick sending {DUE}, {LARGE:,} other schedules", f"{large['sending'] * 1000:.0f} ms, "
                                                          f"{large['sending_trips']} round trips"),
        ("round trips per report sent", f"{(small['sending_trips'] - small['idle_trips']) / DUE:.1f}"),
        (f"idle tick, {SMALL} other schedules", f"{small['idle'] * 1000:.1f} ms, {small['idle_trips']} round trip(s)"),
        (f"idle tick, {LARGE:,} other schedules", f"{large['idle'] * 1000:.1f} ms, {large['idle_trips']} round trip(s)"),
        (f"the due Query sent bare, {SMALL} / {LARGE:,}", f"{small['bare'] * 1000:.1f} ms / "
                                                         f"{large['bare'] * 1000:.1f} ms"),
        ("idle tick / bare due Query, small -> large", f"{small['idle'] / small['bare']:.2f}x -> "
                                                      f"{large['idle'] / large['bare']:.2f}x (goal: ~1x)"),
        ("raw time ratio large/small (moto's GSI walk)", f"sending {large['sending'] / small['sending']:.2f}x, "
                                                         f"idle {large['idle'] / small['idle']:.2f}x"),
    ])

if __name__ == "__main__":
    main()
