"""Sales rollups kept from the orders' stream records: counted once, moved between statuses, never
twisted by late or repeated records; rebuilt from the orders to the same numbers."""

from __future__ import annotations

import json
import random
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, Iterator

import pytest

from tests.conftest import Tenant, call_api
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


@pytest.fixture
def shop(tenant: Tenant) -> dict[str, Any]:
    product = call_api("POST", "/api/v1/products", key=tenant.key,
                       json_body={"name": "Widget", "price": 12.5, "stock": 100_000}).body["data"]
    customers = [call_api("POST", "/api/v1/customers", key=tenant.key,
                          json_body={"email": f"buyer{n}@shop.test", "name": f"Buyer {n}"}).body["data"]["id"]
                 for n in range(3)]
    return {"tenant": tenant, "product": product["id"], "customers": customers}


def place(shop: dict[str, Any], customer: int, quantity: int) -> dict[str, Any]:
    response = call_api("POST", "/api/v1/orders", key=shop["tenant"].key, json_body={
        "customerId": shop["customers"][customer], "items": [{"productId": shop["product"], "quantity": quantity}]})
    assert response.status == 201, response.body
    return response.body["data"]


def move(shop: dict[str, Any], order_id: str, status: str) -> None:
    response = call_api("PATCH", f"/api/v1/orders/{order_id}", key=shop["tenant"].key, json_body={"status": status})
    assert response.status == 200, response.body


def month_figures(company_id: str, month: str) -> dict[str, Any]:
    from distribu import rollups

    found = rollups.sales_months(company_id, month, month).get(month)
    return {day: {status: (n, r) for status, (n, r) in statuses.items()} for day, statuses in (found.days.items()
                                                                                             if found else [])}


def spend(company_id: str, sort_key: str) -> dict[str, Any]:
    from distribu import rollups

    return {cid: tuple(figures) for item in rollups.spend_between(company_id, sort_key, sort_key)
            for cid, figures in item.customers.items()}


def test_orders_are_counted_per_day_and_status_and_moved_as_they_change(shop: dict, frozen: Clock,
                                                                        projections: ProjectionsDriver) -> None:
    company = shop["tenant"].company_id
    first = place(shop, 0, 2)       # 25.00
    second = place(shop, 1, 1)      # 12.50
    frozen.set(datetime(2026, 4, 15, 9, 30, tzinfo=timezone.utc))
    third = place(shop, 0, 4)       # 50.00, the next day
    move(shop, first["id"], "CONFIRMED")
    move(shop, first["id"], "SHIPPED")
    move(shop, second["id"], "CANCELLED")
    projections.drain()
    assert month_figures(company, "2026-04") == {
        "14": {"SHIPPED": (1, Decimal("25.00")), "CANCELLED": (1, Decimal("12.50"))},
        "15": {"SUBMITTED": (1, Decimal("50.00"))},
    }
    buyer0, buyer1 = shop["customers"][:2]
    assert spend(company, "SPEND#M#2026-04") == {
        buyer0: (2, Decimal("75.00"), third["createdAt"]), buyer1: (1, Decimal("12.50"), second["createdAt"])}
    assert spend(company, "SPEND#D#2026-04-14") == {
        buyer0: (1, Decimal("25.00"), first["createdAt"]), buyer1: (1, Decimal("12.50"), second["createdAt"])}


def test_late_and_repeated_records_count_once_and_never_move_an_order_back(shop: dict, frozen: Clock,
                                                                           projections: ProjectionsDriver) -> None:
    company = shop["tenant"].company_id
    order = place(shop, 2, 3)  # 37.50
    move(shop, order["id"], "CONFIRMED")
    move(shop, order["id"], "SHIPPED")
    move(shop, order["id"], "DELIVERED")
    bodies = [body for body in projections.collect() if json.loads(body)["dynamodb"]["Keys"]["SK"]["S"].startswith("ORDER#")]
    assert [json.loads(b)["dynamodb"]["NewImage"]["status"]["S"] for b in bodies] == \
        ["SUBMITTED", "CONFIRMED", "SHIPPED", "DELIVERED"]
    projections.deliver([bodies[2]])      # SHIPPED first: counted as shipped
    projections.deliver([bodies[0], bodies[2], bodies[1]])  # older ones: nothing moves back, nothing doubles
    assert month_figures(company, "2026-04") == {"14": {"SHIPPED": (1, Decimal("37.50"))}}
    projections.deliver([bodies[3], bodies[3]])
    projections.deliver(list(reversed(bodies)))
    assert month_figures(company, "2026-04") == {"14": {"DELIVERED": (1, Decimal("37.50"))}}
    assert spend(company, "SPEND#M#2026-04") == {shop["customers"][2]: (1, Decimal("37.50"), order["createdAt"])}


def test_rebuild_gives_the_numbers_the_stream_gave(shop: dict, frozen: Clock, projections: ProjectionsDriver) -> None:
    """Orders over three months with every kind of status move, projected shuffled and in part twice;
    then the rollups rebuilt from the orders: the same items, to the last cent."""
    from distribu import keys, rollups

    company = shop["tenant"].company_id
    rng = random.Random(11)
    moment = datetime(2026, 2, 26, 8, 0, tzinfo=timezone.utc)
    placed = []
    for _ in range(30):
        moment += timedelta(hours=rng.randint(1, 70))
        frozen.set(moment)
        order = place(shop, rng.randrange(3), rng.randint(1, 9))
        placed.append(order["id"])
        path = rng.choice([[], ["CONFIRMED"], ["CANCELLED"], ["CONFIRMED", "CANCELLED"],
                           ["CONFIRMED", "SHIPPED"], ["CONFIRMED", "SHIPPED", "DELIVERED"]])
        for status in path:
            move(shop, order["id"], status)
    bodies = projections.collect()
    noisy = bodies + rng.sample(bodies, k=len(bodies) // 2)
    rng.shuffle(noisy)
    projections.deliver(noisy)

    def snapshot() -> dict[str, Any]:
        from distribu import dynamo

        response = dynamo.dynamodb().query(
            TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :s)",
            ExpressionAttributeValues={":pk": {"S": keys.company(company)}, ":s": {"S": "S"}})
        return {item["SK"]["S"]: {name: item[name] for name in ("days", "customers", "orders") if name in item}
                for item in response["Items"] if item["SK"]["S"].startswith(("SALES#", "SPEND#M#", "SPEND#D#"))}

    incremental = snapshot()
    assert {sk[:8] for sk in incremental} == {"SALES#M#", "SALES#L#", "SPEND#M#", "SPEND#D#"}
    total = sum(rollups.SalesMonth.from_item(sk[8:], {"days": value["days"]["S"]}).total()[1]
                for sk, value in incremental.items() if sk.startswith("SALES#M#"))
    orders = [call_api("GET", f"/api/v1/orders/{order_id}", key=shop["tenant"].key).body["data"] for order_id in placed]
    assert total == sum(Decimal(str(order["total"])) for order in orders)

    result = rollups.rebuild(company)
    assert result["orders"] == 30 and result["itemsWritten"] == 0  # nothing to correct
    assert snapshot() == incremental
    # from nothing at all, the same
    from distribu import dynamo

    for sort_key in incremental:
        dynamo.dynamodb().delete_item(TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company), sort_key))
    assert rollups.rebuild(company)["itemsWritten"] == len(incremental)
    assert snapshot() == incremental


def test_sales_summary_reads_today_and_this_month(shop: dict, frozen: Clock, projections: ProjectionsDriver) -> None:
    from distribu import rollups

    company = shop["tenant"].company_id
    frozen.set(datetime(2026, 3, 31, 23, 59, tzinfo=timezone.utc))
    place(shop, 0, 1)  # last month
    frozen.set(datetime(2026, 4, 2, 12, 0, tzinfo=timezone.utc))
    place(shop, 0, 2)
    frozen.set(datetime(2026, 4, 14, 0, 0, tzinfo=timezone.utc))
    cancelled = place(shop, 1, 3)
    move(shop, cancelled["id"], "CANCELLED")
    place(shop, 2, 1)
    projections.drain()
    assert rollups.sales_summary(company, date(2026, 4, 14)) == rollups.SalesSummary(
        today_orders=2, today_revenue=Decimal("50.00"), month_orders=3, month_revenue=Decimal("75.00"))
    assert rollups.sales_summary(company, date(2026, 5, 1)) == rollups.SalesSummary(0, Decimal("0"), 0, Decimal("0"))


def test_the_rollups_know_every_order_status() -> None:
    from distribu import orders, rollups

    assert rollups.STATUSES == orders.STATUSES and set(rollups.RANK) == set(orders.STATUSES)
    for source, targets in orders.MOVES.items():
        assert all(rollups.RANK[target] > rollups.RANK[source] for target in targets)
