"""``POST /api/v1/products/stock``: bulk Set/Delta through the real API handler, with per-row results, clamping,
one ProductBulkUpdated audit entry, the per-product events, tenant isolation, the idempotency key, the scope
and the round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import factories
from tests.conftest import Tenant, call_api

PATH = "/api/v1/products/stock"


def _events(company_id: str, event_type: str) -> list[dict[str, Any]]:
    from distribu import dynamo, keys

    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)}, ":prefix": {"S": "EVENT#"}})
    items = [dynamo.from_item(raw) for raw in response["Items"]]
    return [json.loads(item["envelope"])["data"] for item in items if item["eventType"] == event_type]


def _audit(company_id: str, action: str) -> list[dict[str, Any]]:
    from distribu import audit

    return [entry for entry in audit.list_entries(company_id, limit=500) if entry["action"] == action]


def _stock(company_id: str, product_id: str) -> int:
    from distribu import catalog

    return catalog.get_product(company_id, product_id)["stock"]


def test_delta_clamps_at_zero_reports_each_row_and_audits_once(tenant: Tenant) -> None:
    a = factories.product(tenant.company_id, "Anchor", stock=50)
    b = factories.product(tenant.company_id, "Bolt", stock=3)
    c = factories.product(tenant.company_id, "Cable", stock=10)
    response = call_api("POST", PATH, key=tenant.key, json_body={"mode": "delta", "items": [
        {"productId": a["id"], "value": -10}, {"productId": b["id"], "value": -10}, {"productId": c["id"], "value": 0}]})
    assert response.status == 200, response.body
    data = response.body["data"]
    assert data["mode"] == "delta" and (data["updated"], data["unchanged"], data["notFound"]) == (2, 1, 0)
    assert data["items"] == [
        {"productId": a["id"], "result": "updated", "previousStock": 50, "stock": 40, "clamped": False},
        {"productId": b["id"], "result": "updated", "previousStock": 3, "stock": 0, "clamped": True},
        {"productId": c["id"], "result": "unchanged", "previousStock": 10, "stock": 10, "clamped": False},
    ]
    assert (_stock(tenant.company_id, a["id"]), _stock(tenant.company_id, b["id"])) == (40, 0)
    [entry] = _audit(tenant.company_id, "ProductBulkUpdated")
    assert entry["actorType"] == "API_KEY"
    assert entry["details"]["products"] == [{"id": a["id"], "before": 50, "after": 40},
                                            {"id": b["id"], "before": 3, "after": 0}]
    updated = _events(tenant.company_id, "product.updated")
    assert sorted((event["id"], event["stock"]) for event in updated if event["stock"] in (40, 0)) == sorted(
        [(a["id"], 40), (b["id"], 0)])
    assert len(updated) == 3 + 2  # three creations, two stock changes; nothing for the unchanged row


def test_set_gives_each_row_its_value_and_refuses_negative(tenant: Tenant) -> None:
    a = factories.product(tenant.company_id, "Anchor", stock=50)
    b = factories.product(tenant.company_id, "Bolt", stock=3)
    ok = call_api("POST", PATH, key=tenant.key, json_body={"mode": "set", "items": [
        {"productId": a["id"], "value": 7}, {"productId": b["id"], "value": 100}]})
    assert ok.status == 200 and [row["stock"] for row in ok.body["data"]["items"]] == [7, 100]
    bad = call_api("POST", PATH, key=tenant.key, json_body={"mode": "set", "items": [
        {"productId": a["id"], "value": -1}]})
    assert bad.status == 400 and bad.body["details"] == [{"field": "items.0.value",
                                                          "message": "must be 0 or more with mode set"}]
    assert _stock(tenant.company_id, a["id"]) == 7


@pytest.mark.parametrize("body, field", [
    ({"mode": "set", "items": []}, "items"),
    ({"mode": "add", "items": [{"productId": "x", "value": 1}]}, "mode"),
    ({"mode": "set", "items": [{"productId": "x", "value": 1.5}]}, "items.0.value"),
    ({"mode": "set", "items": [{"productId": "x", "value": "1"}]}, "items.0.value"),
    ({"mode": "set", "items": [{"productId": "x", "value": 1}, {"productId": "x", "value": 2}]}, "items"),
    ({"mode": "set", "items": [{"productId": f"p{n}", "value": 1} for n in range(101)]}, "items"),
    ({"mode": "set", "items": [{"productId": "x", "value": 1, "extra": 1}]}, "items.0.extra"),
])
def test_invalid_bodies_are_400_naming_the_field(tenant: Tenant, body: dict, field: str) -> None:
    response = call_api("POST", PATH, key=tenant.key, json_body=body)
    assert response.status == 400, response.body
    assert field in [detail["field"] for detail in response.body["details"]]
    assert _audit(tenant.company_id, "ProductBulkUpdated") == []


def test_another_companys_product_is_not_found_and_untouched(tenant: Tenant, other_tenant: Tenant) -> None:
    mine = factories.product(tenant.company_id, "Mine", stock=5)
    theirs = factories.product(other_tenant.company_id, "Theirs", stock=5)
    response = call_api("POST", PATH, key=tenant.key, json_body={"mode": "set", "items": [
        {"productId": theirs["id"], "value": 99}, {"productId": mine["id"], "value": 9}]})
    assert response.status == 200
    assert response.body["data"]["items"][0] == {"productId": theirs["id"], "result": "not_found",
                                                 "error": "Product not found."}
    assert _stock(other_tenant.company_id, theirs["id"]) == 5 and _stock(tenant.company_id, mine["id"]) == 9
    assert _audit(other_tenant.company_id, "ProductBulkUpdated") == []


def test_scope_products_write_is_needed(stack) -> None:
    reader = factories.make_tenant("Read Only", scopes=["products:read"])
    response = call_api("POST", PATH, key=reader.key, json_body={"mode": "set", "items": [
        {"productId": "x", "value": 1}]})
    assert response.status == 403 and "products:write" in response.body["error"]


def test_idempotency_key_replays_a_delta_once(tenant: Tenant) -> None:
    a = factories.product(tenant.company_id, "Anchor", stock=50)
    body = {"mode": "delta", "items": [{"productId": a["id"], "value": -5}]}
    first = call_api("POST", PATH, key=tenant.key, json_body=body, headers={"idempotency-key": "restock-1"})
    again = call_api("POST", PATH, key=tenant.key, json_body=body, headers={"idempotency-key": "restock-1"})
    assert first.status == again.status == 200 and again.body == first.body
    assert again.headers.get("idempotent-replayed") == "true"
    assert _stock(tenant.company_id, a["id"]) == 45 and len(_audit(tenant.company_id, "ProductBulkUpdated")) == 1
    other = call_api("POST", PATH, key=tenant.key, json_body={**body, "mode": "set"},
                     headers={"idempotency-key": "restock-1"})
    assert other.status == 422


def test_a_hundred_rows_in_chunks_one_audit_entry_and_few_round_trips(tenant: Tenant) -> None:
    from distribu import dynamo, inventory

    products = [factories.product(tenant.company_id, f"P{n:03d}", stock=n) for n in range(100)]
    calls: list[str] = []
    client = dynamo.dynamodb()

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    client.meta.events.register("before-call.dynamodb", count)
    try:
        response = call_api("POST", PATH, key=tenant.key, json_body={"mode": "delta", "items": [
            {"productId": product["id"], "value": 1} for product in products]})
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
    assert response.status == 200 and response.body["data"]["updated"] == 100
    # authentication, one batch read, ceil(100 / 48) transactions
    assert calls.count("BatchGetItem") == 1
    assert calls.count("TransactWriteItems") == -(-100 // inventory.CHUNK_PRODUCTS) == 3
    assert len(calls) == 1 + 1 + 3, calls
    assert [_stock(tenant.company_id, product["id"]) for product in products[:3]] == [1, 2, 3]
    [entry] = _audit(tenant.company_id, "ProductBulkUpdated")
    assert entry["details"]["count"] == 100 and len(entry["details"]["products"]) == 100
    assert len(_events(tenant.company_id, "product.updated")) == 200


def test_a_product_changed_meanwhile_is_read_again_not_overwritten(tenant: Tenant, monkeypatch) -> None:
    from distribu import catalog, dynamo, inventory

    a = factories.product(tenant.company_id, "Anchor", stock=50)
    real = dynamo.batch_get
    raced = []

    def batch_get_then_an_order(keys):
        found = real(keys)
        if not raced:  # an order takes 20 units between the read and the write
            raced.append(True)
            catalog.update_product(tenant.company_id, a["id"], {"stock": 30}, factories.staff_actor())
        return found

    monkeypatch.setattr(dynamo, "batch_get", batch_get_then_an_order)
    result = inventory.adjust_stock_in_bulk(
        tenant.company_id, inventory.BulkStockChange(mode="delta", items=[{"productId": a["id"], "value": -5}]),
        factories.staff_actor())
    assert result.rows[0].stock_before == 30 and result.rows[0].stock == 25
    assert _stock(tenant.company_id, a["id"]) == 25


def _fail_the_second_transaction(monkeypatch) -> None:
    from distribu import dynamo

    real = dynamo.transact
    calls = []

    def transact(items, **kwargs):
        calls.append(len(items))
        if len(calls) == 2:
            raise RuntimeError("the container died")
        return real(items, **kwargs)

    monkeypatch.setattr(dynamo, "transact", transact)


def test_a_retry_after_a_failure_half_way_applies_each_delta_once(tenant: Tenant, monkeypatch) -> None:
    products = [factories.product(tenant.company_id, f"P{n:03d}", stock=100) for n in range(60)]
    body = {"mode": "delta", "items": [{"productId": product["id"], "value": -1} for product in products]}
    _fail_the_second_transaction(monkeypatch)
    failed = call_api("POST", PATH, key=tenant.key, json_body=body, headers={"idempotency-key": "half"})
    assert failed.status == 500
    stocks = [_stock(tenant.company_id, product["id"]) for product in products]
    assert stocks == [99] * 48 + [100] * 12  # the first chunk committed
    monkeypatch.undo()
    retried = call_api("POST", PATH, key=tenant.key, json_body=body, headers={"idempotency-key": "half"})
    assert retried.status == 200 and retried.body["data"]["updated"] == 60
    assert {row["previousStock"] for row in retried.body["data"]["items"]} == {100}
    assert [_stock(tenant.company_id, product["id"]) for product in products] == [99] * 60
    [entry] = _audit(tenant.company_id, "ProductBulkUpdated")
    assert entry["details"]["count"] == 60 and "incomplete" not in entry["details"]
    replay = call_api("POST", PATH, key=tenant.key, json_body=body, headers={"idempotency-key": "half"})
    assert replay.body == retried.body and [_stock(tenant.company_id, p["id"]) for p in products] == [99] * 60


def test_without_a_key_a_failure_half_way_still_audits_what_changed(tenant: Tenant, monkeypatch) -> None:
    products = [factories.product(tenant.company_id, f"P{n:03d}", stock=100) for n in range(60)]
    _fail_the_second_transaction(monkeypatch)
    failed = call_api("POST", PATH, key=tenant.key, json_body={"mode": "set", "items": [
        {"productId": product["id"], "value": 7} for product in products]})
    assert failed.status == 500
    [entry] = _audit(tenant.company_id, "ProductBulkUpdated")
    assert entry["details"]["incomplete"] is True and entry["details"]["count"] == 48
