"""GET /api/v1/reports/sales|customers|inventory: the shapes of issue 13, read from the rollups."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from typing import Any, Iterator

import pytest

from tests import factories
from tests.conftest import Tenant, call_api, make_tenant
from tests.stream_driver import ProjectionsDriver


class Clock:
    """``distribu.clock.now`` pinned to a moment the test moves (orders take their createdAt from it)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, start: datetime) -> None:
        from distribu import clock

        self.moment = start
        monkeypatch.setattr(clock, "now", lambda: self.moment)

    def set(self, moment: datetime) -> None:
        self.moment = moment


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    yield Clock(monkeypatch, datetime(2026, 4, 14, 10, 0, tzinfo=timezone.utc))


def at(day: str, hour: int = 10) -> datetime:
    return datetime.fromisoformat(f"{day}T{hour:02d}:00:00+00:00")


@pytest.fixture
def shop(tenant: Tenant) -> dict[str, Any]:
    return factories.report_shop(tenant)


def report(tenant: Tenant, kind: str, **query: str) -> Any:
    response = call_api("GET", f"/api/v1/reports/{kind}", key=tenant.key, query=query)
    assert response.status == 200, response.body
    return response.body


def status_row(body: dict[str, Any], status: str) -> dict[str, Any]:
    return next(row for row in body["data"]["byStatus"] if row["status"] == status)


# --- sales ---------------------------------------------------------------------------------------------

def test_sales_month_counts_every_status_cancelled_included_with_every_day_and_status(
        shop: dict, frozen: Clock, projections: ProjectionsDriver) -> None:
    place, move = shop["place"], shop["move"]
    frozen.set(at("2026-03-31", 23))
    place(0, 1)                                   # last month: not in April
    frozen.set(at("2026-04-02"))
    first = place(0, 2)                           # 25.00
    frozen.set(at("2026-04-10"))
    cancelled = place(1, 3)                       # 37.50, cancelled: still revenue
    move(cancelled["id"], "CANCELLED")
    frozen.set(at("2026-04-14"))
    moved = place(2, 1)                           # 12.50, moved twice within the range
    move(moved["id"], "CONFIRMED")
    move(moved["id"], "SHIPPED")
    move(first["id"], "CONFIRMED")
    projections.drain()

    body = report(shop["tenant"], "sales")
    assert set(body) == {"data"} and set(body["data"]) == {"range", "totals", "daily", "byStatus"}
    assert body["data"]["range"] == {"from": "2026-04-01T00:00:00.000Z", "to": "2026-04-14T23:59:59.999Z",
                                     "preset": "month", "label": "April 2026"}
    assert body["data"]["totals"] == {"orderCount": 3, "revenue": 75.0, "averageOrderValue": 25.0}
    daily = body["data"]["daily"]
    assert [day["date"] for day in daily] == [f"2026-04-{n:02d}" for n in range(1, 15)]
    assert {day["date"]: (day["orderCount"], day["revenue"]) for day in daily if day["orderCount"]} == {
        "2026-04-02": (1, 25.0), "2026-04-10": (1, 37.5), "2026-04-14": (1, 12.5)}
    assert all(set(day) == {"date", "orderCount", "revenue"} for day in daily)
    assert body["data"]["byStatus"] == [
        {"status": "SUBMITTED", "orderCount": 0, "revenue": 0.0},
        {"status": "CONFIRMED", "orderCount": 1, "revenue": 25.0},
        {"status": "SHIPPED", "orderCount": 1, "revenue": 12.5},
        {"status": "DELIVERED", "orderCount": 0, "revenue": 0.0},
        {"status": "CANCELLED", "orderCount": 1, "revenue": 37.5},
    ]


def test_sales_from_to_override_the_preset_and_cover_whole_days(shop: dict, frozen: Clock,
                                                                projections: ProjectionsDriver) -> None:
    place = shop["place"]
    frozen.set(at("2026-04-09", 23))
    place(0, 1)
    frozen.set(at("2026-04-10", 0))
    place(0, 2)
    frozen.set(at("2026-04-11", 23))
    place(1, 4)
    frozen.set(at("2026-04-12", 0))
    place(1, 8)
    projections.drain()
    body = report(shop["tenant"], "sales", preset="year", **{"from": "2026-04-10", "to": "2026-04-11"})
    assert body["data"]["range"] == {"from": "2026-04-10T00:00:00.000Z", "to": "2026-04-11T23:59:59.999Z",
                                     "preset": "custom", "label": "10–11 April 2026"}
    assert body["data"]["totals"] == {"orderCount": 2, "revenue": 75.0, "averageOrderValue": 37.5}
    assert [(day["date"], day["orderCount"]) for day in body["data"]["daily"]] == [("2026-04-10", 1), ("2026-04-11", 1)]
    # only one of the two given: the preset rules
    assert report(shop["tenant"], "sales", preset="today", to="2026-04-11")["data"]["range"]["preset"] == "today"


def test_sales_presets(shop: dict, frozen: Clock, projections: ProjectionsDriver) -> None:
    frozen.set(at("2026-05-14"))  # a Thursday
    ranges = {preset: report(shop["tenant"], "sales", preset=preset)["data"]["range"]
              for preset in ("today", "week", "month", "quarter", "year", "all")}
    assert {preset: (found["from"][:10], found["to"][:10], found["label"]) for preset, found in ranges.items()} == {
        "today": ("2026-05-14", "2026-05-14", "14 May 2026"),
        "week": ("2026-05-11", "2026-05-14", "Week of 11 May 2026"),
        "month": ("2026-05-01", "2026-05-14", "May 2026"),
        "quarter": ("2026-04-01", "2026-05-14", "Q2 2026"),
        "year": ("2026-01-01", "2026-05-14", "2026"),
        "all": ("2026-05-14", "2026-05-14", "All time"),
    }
    year = report(shop["tenant"], "sales", preset="year")["data"]
    assert len(year["daily"]) == 134 and year["daily"][0]["date"] == "2026-01-01"


def test_a_range_with_no_orders_and_all_with_no_orders_are_zeros(shop: dict, frozen: Clock,
                                                                 projections: ProjectionsDriver) -> None:
    body = report(shop["tenant"], "sales", preset="all")["data"]
    assert body["range"]["from"] == "2026-04-14T00:00:00.000Z" and body["range"]["label"] == "All time"
    assert body["totals"] == {"orderCount": 0, "revenue": 0.0, "averageOrderValue": 0.0}
    assert body["daily"] == [{"date": "2026-04-14", "orderCount": 0, "revenue": 0.0}]
    assert [row["orderCount"] for row in body["byStatus"]] == [0, 0, 0, 0, 0]
    customers = report(shop["tenant"], "customers", preset="all")["data"]
    assert customers["totals"] == {"customerCount": 0, "orderCount": 0, "revenue": 0.0} and customers["customers"] == []

    shop["place"](0, 1)
    projections.drain()
    empty = report(shop["tenant"], "sales", **{"from": "2025-01-01", "to": "2025-01-31"})["data"]
    assert empty["totals"]["orderCount"] == 0 and len(empty["daily"]) == 31
    assert report(shop["tenant"], "customers", **{"from": "2025-01-01", "to": "2025-01-31"})["data"]["customers"] == []


def test_all_runs_from_the_first_orders_day(shop: dict, frozen: Clock, projections: ProjectionsDriver) -> None:
    frozen.set(at("2025-12-30"))
    shop["place"](0, 1)
    frozen.set(at("2026-01-02"))
    shop["place"](1, 2)
    projections.drain()
    body = report(shop["tenant"], "sales", preset="all")["data"]
    assert body["range"]["from"] == "2025-12-30T00:00:00.000Z" and body["range"]["to"] == "2026-01-02T23:59:59.999Z"
    assert [day["orderCount"] for day in body["daily"]] == [1, 0, 0, 1]
    customers = report(shop["tenant"], "customers", preset="all")["data"]
    assert customers["range"]["from"] == "2025-12-30T00:00:00.000Z"
    assert customers["totals"] == {"customerCount": 2, "orderCount": 2, "revenue": 37.5}


@pytest.mark.parametrize("query, field", [
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
    ({"from": "2026-03-01", "to": "tomorrow"}, "to"),
    ({"from": "2026-03-02", "to": "2026-03-01"}, "from"),
    ({"from": "yesterday"}, "from"),
    ({"preset": "fortnight"}, "preset"),
    ({"from": "1990-01-01", "to": "2026-01-01"}, "to"),
    ({"from": "9999-12-30", "to": "9999-12-31"}, "from"),
    ({"from": "2026-01-01", "to": "2026-01-01T00:00:00+99:00"}, "to"),
])
def test_bad_ranges_are_400s_naming_the_field(tenant: Tenant, query: dict[str, str], field: str) -> None:
    for kind in ("sales", "customers"):
        response = call_api("GET", f"/api/v1/reports/{kind}", key=tenant.key, query=query)
        assert response.status == 400, response.body
        assert response.body["error"] == "Validation failed."
        assert [detail["field"] for detail in response.body["details"]] == [field]


def test_reports_need_the_reports_read_scope(stack: Any) -> None:
    limited = make_tenant("Limited Co", scopes=["orders:read", "products:read"])
    for kind in ("sales", "customers", "inventory"):
        response = call_api("GET", f"/api/v1/reports/{kind}", key=limited.key)
        assert response.status == 403
        assert response.body == {"error": 'Insufficient permissions. This key lacks the "reports:read" scope.'}
        assert call_api("GET", f"/api/v1/reports/{kind}").status == 401


def test_a_redelivered_stream_record_counts_once(shop: dict, frozen: Clock, projections: ProjectionsDriver) -> None:
    order = shop["place"](0, 2)
    shop["move"](order["id"], "CANCELLED")
    bodies = projections.collect()
    projections.deliver(bodies)
    projections.deliver(bodies)  # SQS hands the whole batch back (at-least-once)
    projections.deliver([body for body in bodies if json.loads(body)["dynamodb"]["Keys"]["SK"]["S"].startswith("ORDER#")])
    sales = report(shop["tenant"], "sales", preset="today")["data"]
    assert sales["totals"] == {"orderCount": 1, "revenue": 25.0, "averageOrderValue": 25.0}
    assert status_row({"data": sales}, "CANCELLED")["orderCount"] == 1
    assert status_row({"data": sales}, "SUBMITTED")["orderCount"] == 0
    spend = report(shop["tenant"], "customers", preset="today")["data"]
    assert spend["totals"] == {"customerCount": 1, "orderCount": 1, "revenue": 25.0}


def test_another_companys_orders_never_count(shop: dict, other_tenant: Tenant, frozen: Clock,
                                             projections: ProjectionsDriver) -> None:
    theirs = factories.report_shop(other_tenant)
    theirs["place"](0, 7)
    shop["place"](0, 1)
    projections.drain()
    assert report(shop["tenant"], "sales")["data"]["totals"]["revenue"] == 12.5
    assert report(other_tenant, "sales")["data"]["totals"]["revenue"] == 87.5
    assert [row["email"] for row in report(shop["tenant"], "customers")["data"]["customers"]] == ["buyer0@shop.test"]
    mine = report(shop["tenant"], "inventory")["data"]
    assert [row["productId"] for row in mine["products"]] == [shop["product"]]


# --- customers -------------------------------------------------------------------------------------------

def test_customers_highest_revenue_first_ties_by_email_over_months_and_edge_days(
        shop: dict, frozen: Clock, projections: ProjectionsDriver) -> None:
    place, move = shop["place"], shop["move"]
    frozen.set(at("2026-01-31"))
    place(0, 40)                                   # outside (before)
    frozen.set(at("2026-02-03"))
    place(2, 2)                                    # inside, edge day of February: 25.00
    frozen.set(at("2026-03-15"))
    late = place(1, 1)                             # a whole month inside: 12.50
    frozen.set(at("2026-04-09", 23))
    cancelled = place(0, 1)                        # edge day of April, cancelled: still counts
    move(cancelled["id"], "CANCELLED")
    frozen.set(at("2026-04-10", 1))
    place(0, 40)                                   # outside (after)
    frozen.set(at("2026-04-14"))
    projections.drain()
    body = report(shop["tenant"], "customers", **{"from": "2026-02-02", "to": "2026-04-09"})
    assert set(body["data"]) == {"range", "totals", "customers"}
    assert body["data"]["totals"] == {"customerCount": 3, "orderCount": 3, "revenue": 50.0}
    assert body["data"]["customers"] == [
        {"customerId": shop["customers"][2], "email": "buyer2@shop.test", "name": "Buyer 2", "orderCount": 1,
         "revenue": 25.0, "lastOrderAt": "2026-02-03T10:00:00.000Z"},
        {"customerId": shop["customers"][0], "email": "buyer0@shop.test", "name": "Buyer 0", "orderCount": 1,
         "revenue": 12.5, "lastOrderAt": cancelled["createdAt"]},
        {"customerId": shop["customers"][1], "email": "buyer1@shop.test", "name": "Buyer 1", "orderCount": 1,
         "revenue": 12.5, "lastOrderAt": late["createdAt"]},
    ]


def test_customers_report_reads_whole_months_and_the_days_at_the_edges() -> None:
    from distribu import reports

    assert reports.spend_plan(date(2026, 1, 1), date(2026, 12, 31)) == (("2026-01", "2026-12"), [])
    assert reports.spend_plan(date(2026, 2, 3), date(2026, 4, 9)) == (
        ("2026-03", "2026-03"), [(date(2026, 2, 3), date(2026, 2, 28)), (date(2026, 4, 1), date(2026, 4, 9))])
    assert reports.spend_plan(date(2026, 4, 3), date(2026, 4, 9)) == (None, [(date(2026, 4, 3), date(2026, 4, 9))])
    # no whole month inside: the days alone, one stretch (their sort keys follow each other across months)
    assert reports.spend_plan(date(2026, 3, 15), date(2026, 4, 14)) == (None, [(date(2026, 3, 15), date(2026, 4, 14))])


# --- inventory ---------------------------------------------------------------------------------------------

def test_inventory_values_every_product_by_category_and_pages_by_value(tenant: Tenant, projections: ProjectionsDriver,
                                                                       frozen: Clock) -> None:
    company = tenant.company_id
    made = [
        factories.product(company, "Bolt", price="0.10", stock=1000, category="Hardware"),        # 100.00
        factories.product(company, "Drill", price="89.99", stock=3, category="Tools"),             # 269.97
        factories.product(company, "Hammer", price="20.00", stock=5, category="Tools"),            # 100.00
        factories.product(company, "Mystery", price="5.00", stock=4),                              # 20.00, no category
        factories.product(company, "Old saw", price="10.00", stock=2, category="Tools", isActive=False),  # 20.00
    ]
    projections.drain()
    body = report(tenant, "inventory")
    assert set(body) == {"data", "pagination"}
    data = body["data"]
    assert data["totals"] == {"productCount": 5, "units": 1014, "value": 509.97}
    assert data["byCategory"] == [
        {"category": "Tools", "productCount": 3, "units": 10, "value": 389.97},
        {"category": "Hardware", "productCount": 1, "units": 1000, "value": 100.0},
        {"category": None, "productCount": 1, "units": 4, "value": 20.0},
    ]
    assert [row["name"] for row in data["products"]] == ["Drill", "Bolt", "Hammer", "Mystery", "Old saw"]
    assert data["products"][0] == {"productId": made[1]["id"], "name": "Drill", "sku": None, "category": "Tools",
                                   "stock": 3, "price": 89.99, "value": 269.97}
    assert data["asOf"].endswith("Z")

    # pages of 2 visit every product once
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = report(tenant, "inventory", **query)
        seen += [row["name"] for row in page["data"]["products"]]
        assert len(page["data"]["products"]) <= 2
        if not page["pagination"]["hasMore"]:
            assert page["pagination"]["nextCursor"] is None
            break
        cursor = page["pagination"]["nextCursor"]
    assert seen == ["Drill", "Bolt", "Hammer", "Mystery", "Old saw"]
    bad = call_api("GET", "/api/v1/reports/inventory", key=tenant.key, query={"cursor": "not-a-cursor"})
    assert bad.status == 400 and bad.body["details"][0]["field"] == "cursor"

    # a price and a stock change move the totals
    call_api("PATCH", f"/api/v1/products/{made[0]['id']}", key=tenant.key, json_body={"stock": 10})
    call_api("PATCH", f"/api/v1/products/{made[1]['id']}", key=tenant.key, json_body={"price": 100})
    projections.drain()
    data = report(tenant, "inventory")["data"]
    assert data["totals"] == {"productCount": 5, "units": 24, "value": 441.0}
    assert [(row["category"], row["value"]) for row in data["byCategory"]] == [
        ("Tools", 420.0), (None, 20.0), ("Hardware", 1.0)]


def test_rebuild_gives_the_reports_the_stream_gave(shop: dict, frozen: Clock, projections: ProjectionsDriver,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from distribu import dynamo, keys, reports

    place, move = shop["place"], shop["move"]
    for number, day in enumerate(["2026-02-27", "2026-03-01", "2026-03-31", "2026-04-01", "2026-04-13"]):
        frozen.set(at(day))
        order = place(number % 3, number + 1)
        for status in (["CONFIRMED", "SHIPPED"], ["CANCELLED"], [], ["CONFIRMED"], ["CONFIRMED", "CANCELLED"])[number]:
            move(order["id"], status)
    frozen.set(at("2026-04-14"))
    projections.drain()

    def everything() -> list[Any]:
        return [report(shop["tenant"], kind, preset="all") for kind in ("sales", "customers", "inventory")] + [
            report(shop["tenant"], "customers", **{"from": "2026-02-28", "to": "2026-04-01"})]

    incremental = everything()
    company = shop["tenant"].company_id
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.company(company)}})
    for item in response["Items"]:
        if item["SK"]["S"].startswith(("SALES#", "SPEND#")):
            dynamo.dynamodb().delete_item(TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company),
                                                                                       item["SK"]["S"]))
    assert report(shop["tenant"], "sales", preset="all")["data"]["totals"]["orderCount"] == 0
    result = reports.rebuild(company)
    assert result["salesRollups"]["orders"] == 5
    rebuilt = everything()
    for before, after in zip(incremental, rebuilt):
        if "asOf" in before.get("data", {}):
            after["data"]["asOf"] = before["data"]["asOf"]
        assert after == before
    # the command: the same numbers again (nothing left to correct), with its rate
    from distribu_cli.main import main

    capsys.readouterr()  # what the projections handler logged so far
    assert main(["reports", "rebuild", "--company", shop["tenant"].slug]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["salesRollups"] == {"orders": 5, "months": 3, "itemsWritten": 0}
    assert printed["ordersPerSecond"] > 0
    rebuilt = everything()
    for before, after in zip(incremental, rebuilt):
        if "asOf" in before.get("data", {}):
            after["data"]["asOf"] = before["data"]["asOf"]
        assert after == before
