"""Each customer's lifetime totals (``SPEND#C#{customer}``, the customer page's stats) kept from the orders'
stream records: counted once whatever is late, repeated or reordered, and rebuilt to the same numbers."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

from tests import factories
from tests.stream_driver import ProjectionsDriver


def _lifetime(company_id: str, customer_id: str) -> tuple[int, Decimal, str | None]:
    from distribu import rollups

    found = rollups.customer_lifetime(company_id, customer_id)
    return found.orders, found.spent, found.last_order_at


def _stored(company_id: str) -> dict[str, Any]:
    from distribu import dynamo, keys

    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :s)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)}, ":s": {"S": "SPEND#C#"}})
    return {item["SK"]["S"]: (item["orders"]["N"], item["spent"]["S"], item["lastOrderAt"]["S"])
            for item in response["Items"]}


def test_orders_count_once_per_customer_through_status_moves_and_redelivery(tenant, projections: ProjectionsDriver) -> None:
    from distribu import orders

    product = factories.product(tenant.company_id, "Widget", price="12.50", stock=1000)
    ann = factories.customer(tenant.company_id, "ann@shop.test", name="Ann")
    bob = factories.customer(tenant.company_id, "bob@shop.test", name="Bob")
    first = factories.order(tenant.company_id, ann["id"], [(product["id"], 2)])     # 25.00
    second = factories.order(tenant.company_id, ann["id"], [(product["id"], 1)])    # 12.50
    factories.order(tenant.company_id, None, [(product["id"], 1)])                  # no customer: nobody's
    orders.change_status(tenant.company_id, first["id"], "CONFIRMED", factories.staff_actor())
    orders.change_status(tenant.company_id, second["id"], "CANCELLED", factories.staff_actor())
    bodies = projections.collect()
    projections.deliver(bodies)
    assert _lifetime(tenant.company_id, ann["id"]) == (2, Decimal("37.50"), second["createdAt"])
    assert _lifetime(tenant.company_id, bob["id"]) == (0, Decimal("0"), None)

    # every record again, twice, shuffled, in batches of one and of many: nothing doubles
    noisy = bodies * 2
    random.Random(5).shuffle(noisy)
    projections.deliver(noisy[:3], batch_size=1)
    projections.deliver(noisy[3:])
    assert _lifetime(tenant.company_id, ann["id"]) == (2, Decimal("37.50"), second["createdAt"])

    third = factories.order(tenant.company_id, bob["id"], [(product["id"], 4)])      # 50.00
    order_records = [body for body in projections.collect()
                     if json.loads(body)["dynamodb"]["Keys"]["SK"]["S"].startswith("ORDER#")]
    projections.deliver(order_records + order_records, batch_size=10)  # the same record twice in one batch
    assert _lifetime(tenant.company_id, bob["id"]) == (1, Decimal("50.00"), third["createdAt"])
    lifetime = __import__("distribu.rollups", fromlist=["x"]).customer_lifetime(tenant.company_id, ann["id"])
    assert lifetime.average == Decimal("18.75")


def test_rebuild_gives_the_numbers_the_stream_gave(tenant, projections: ProjectionsDriver) -> None:
    from distribu import dynamo, keys, projections as read_models, rollups

    product = factories.product(tenant.company_id, "Widget", price="3.10", stock=1000)
    buyers = [factories.customer(tenant.company_id, f"b{n}@shop.test", name=f"B{n}")["id"] for n in range(3)]
    rng = random.Random(3)
    for _ in range(12):
        factories.order(tenant.company_id, rng.choice(buyers), [(product["id"], rng.randint(1, 5))])
    projections.drain()
    incremental = _stored(tenant.company_id)
    assert len(incremental) == len({b for b in buyers if _lifetime(tenant.company_id, b)[0]})
    assert rollups.rebuild_customer_lifetimes(tenant.company_id)["itemsWritten"] == 0
    for sort_key in incremental:
        dynamo.dynamodb().delete_item(TableName=dynamo.table_name(), Key=dynamo.key(keys.company(tenant.company_id), sort_key))
    # a stale item of a customer without orders goes too
    dynamo.transact([dynamo.put({"PK": keys.company(tenant.company_id), "SK": "SPEND#C#stale", "customerId": "stale",
                                 "orders": 3, "spent": "9.00", "lastOrderAt": "2020-01-01T00:00:00.000Z", "v": 1})])
    result = read_models.rebuild(tenant.company_id)
    assert result["customerLifetimes"]["itemsWritten"] == len(incremental) + 1
    assert _stored(tenant.company_id) == incremental
