"""The order routine and the orders API through the real handler path."""

from __future__ import annotations

import json

import pytest

from tests import factories
from tests.conftest import Tenant, call_api


@pytest.fixture
def shop(tenant: Tenant):
    customer = factories.api_customer(tenant)
    products = [factories.api_product(tenant, sku=f"S-{n}", price=p, stock=s)
                for n, (p, s) in enumerate([(8.5, 10), (2.25, 5), (100, 1)])]
    return {"customer": customer, "products": products}


def order_body(shop, *quantities, **extra):
    return {"customerId": shop["customer"]["id"],
            "items": [{"productId": product["id"], "quantity": quantity}
                      for product, quantity in zip(shop["products"], quantities) if quantity], **extra}


def stocks(tenant: Tenant, shop) -> list[int]:
    return [call_api("GET", f"/api/v1/products/{p['id']}", key=tenant.key).body["data"]["stock"] for p in shop["products"]]


def test_order_freezes_prices_and_decrements_stock(tenant: Tenant, shop) -> None:
    response = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=order_body(
        shop, 3, 2, 0, poNumber="PO-77", notes="Back door",
        shippingAddress={"line1": "1 Main St", "city": "Springfield", "country": "US"}))
    assert response.status == 201, response.body
    order = response.body["data"]
    assert order["status"] == "SUBMITTED" and order["poNumber"] == "PO-77" and order["notes"] == "Back door"
    assert order["total"] == 30.0  # 3 x 8.50 + 2 x 2.25
    assert [(line["quantity"], line["unitPrice"], line["productSku"]) for line in order["items"]] == [(3, 8.5, "S-0"), (2, 2.25, "S-1")]
    assert order["customerId"] == shop["customer"]["id"] and order["shippingAddress"]["city"] == "Springfield"
    assert stocks(tenant, shop) == [7, 3, 1]
    call_api("PATCH", f"/api/v1/products/{shop['products'][0]['id']}", key=tenant.key,
             json_body={"name": "Renamed", "price": 99})
    again = call_api("GET", f"/api/v1/orders/{order['id']}", key=tenant.key).body["data"]
    assert again["items"][0]["productName"] == "Widget S-0" and again["items"][0]["unitPrice"] == 8.5


def test_override_price_is_used_and_total_is_exact(tenant: Tenant, shop) -> None:
    customer, product = shop["customer"], shop["products"][1]
    call_api("PUT", f"/api/v1/customers/{customer['id']}/prices/{product['id']}", key=tenant.key,
             json_body={"price": 0.1})
    order = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=order_body(shop, 0, 3)).body["data"]
    assert order["items"][0]["unitPrice"] == 0.1 and order["total"] == 0.3


def test_duplicate_lines_are_merged(tenant: Tenant, shop) -> None:
    product = shop["products"][0]
    body = {"customerId": shop["customer"]["id"],
            "items": [{"productId": product["id"], "quantity": 2}, {"productId": product["id"], "quantity": 3}]}
    order = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=body).body["data"]
    assert [line["quantity"] for line in order["items"]] == [5]
    assert stocks(tenant, shop)[0] == 5


def test_short_third_line_changes_nothing_at_all(tenant: Tenant, shop) -> None:
    from distribu import audit

    before_audit = len(audit.list_entries(tenant.company_id, limit=500))
    response = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=order_body(shop, 1, 1, 2))
    assert response.status == 422
    assert response.body == {"error": "Not enough stock for Widget S-2. Only 1 available."}
    assert stocks(tenant, shop) == [10, 5, 1]
    assert call_api("GET", "/api/v1/orders", key=tenant.key).body["data"] == []
    assert len(audit.list_entries(tenant.company_id, limit=500)) == before_audit


def test_stock_message_comes_from_the_transaction_when_stock_moved_after_the_read(tenant: Tenant, shop, monkeypatch) -> None:
    """Stock drops between the batch read and the write: the 422 uses the values DynamoDB returns."""
    from distribu import dynamo, keys, orders

    product = shop["products"][0]
    real_batch_get = dynamo.batch_get

    def read_then_someone_buys(wanted):
        found = real_batch_get(wanted)
        dynamo.dynamodb().update_item(
            TableName=dynamo.table_name(), Key=dynamo.key(keys.company(tenant.company_id), keys.product_sk(product["id"])),
            UpdateExpression="SET stock = :s", ExpressionAttributeValues={":s": {"N": "2"}})
        return found

    monkeypatch.setattr(orders.dynamo, "batch_get", read_then_someone_buys)
    response = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=order_body(shop, 4))
    assert response.status == 422 and response.body == {"error": "Not enough stock for Widget S-0. Only 2 available."}
    assert call_api("GET", "/api/v1/orders", key=tenant.key).body["data"] == []


@pytest.mark.parametrize("body, message", [
    ("not json", "Invalid JSON body."),
    ({"items": [{"productId": "p", "quantity": 1}]}, "customerId is required"),
    ({"customerId": "c"}, "At least one item is required"),
    ({"customerId": "c", "items": []}, "At least one item is required"),
    ({"customerId": "c", "items": [{"quantity": 1}]}, "productId is required"),
    ({"customerId": "c", "items": [{"productId": "p", "quantity": "2"}]}, "quantity must be a number"),
    ({"customerId": "c", "items": [{"productId": "p"}]}, "quantity must be a number"),
    ({"customerId": "c", "items": [{"productId": "p", "quantity": 1.5}]}, "quantity must be a whole number"),
    ({"customerId": "c", "items": [{"productId": "p", "quantity": 0}]}, "quantity must be at least 1"),
    ({"customerId": "c", "items": [{"productId": "p", "quantity": -2}]}, "quantity must be at least 1"),
    ({"items": []}, "customerId is required"),
])
def test_validation_messages_in_order_of_precedence(tenant: Tenant, body, message) -> None:
    raw = body if isinstance(body, str) else json.dumps(body)
    response = call_api("POST", "/api/v1/orders", key=tenant.key, raw_body=raw)
    assert response.status == 400 and response.body == {"error": message}


def test_too_many_lines_is_a_clear_400(tenant: Tenant) -> None:
    from distribu.orders import MAX_DISTINCT_PRODUCTS

    body = {"customerId": "c", "items": [{"productId": f"p{n}", "quantity": 1} for n in range(MAX_DISTINCT_PRODUCTS + 1)]}
    response = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=body)
    assert response.status == 400 and "at most 95 different products" in response.body["details"][0]["message"]


def test_blocked_missing_and_inactive(tenant: Tenant, shop) -> None:
    missing_customer = call_api("POST", "/api/v1/orders", key=tenant.key,
                                json_body={**order_body(shop, 1), "customerId": "nobody"})
    assert missing_customer.status == 404 and missing_customer.body == {"error": "Customer not found."}
    missing_product = call_api("POST", "/api/v1/orders", key=tenant.key, json_body={
        "customerId": shop["customer"]["id"], "items": [{"productId": "ghost", "quantity": 1}]})
    assert missing_product.status == 422 and "ghost" in missing_product.body["error"]
    call_api("PATCH", f"/api/v1/products/{shop['products'][1]['id']}", key=tenant.key, json_body={"isActive": False})
    inactive = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=order_body(shop, 0, 1))
    assert inactive.status == 422 and inactive.body == {"error": "Widget S-1 is not available."}
    call_api("PATCH", f"/api/v1/customers/{shop['customer']['id']}", key=tenant.key, json_body={"status": "BLOCKED"})
    blocked = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=order_body(shop, 1))
    assert blocked.status == 422 and "blocked" in blocked.body["error"]
    assert stocks(tenant, shop) == [10, 5, 1]


def test_status_moves(tenant: Tenant, shop) -> None:
    order = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=order_body(shop, 1)).body["data"]
    path = f"/api/v1/orders/{order['id']}"
    assert call_api("PATCH", path, key=tenant.key, json_body={"status": "LOST"}).body == {"error": "Invalid order status."}
    illegal = call_api("PATCH", path, key=tenant.key, json_body={"status": "SHIPPED"})
    assert illegal.status == 422 and illegal.body == {"error": "Cannot change order status from SUBMITTED to SHIPPED."}
    for status in ("CONFIRMED", "CONFIRMED", "SHIPPED", "DELIVERED"):
        response = call_api("PATCH", path, key=tenant.key, json_body={"status": status})
        assert response.status == 200 and response.body["data"]["status"] == status
    assert call_api("PATCH", path, key=tenant.key, json_body={"status": "CANCELLED"}).status == 422


def test_cancelling_does_not_restore_stock_and_emits_events(tenant: Tenant, shop) -> None:
    from distribu import dynamo, keys

    order = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=order_body(shop, 4)).body["data"]
    assert call_api("PATCH", f"/api/v1/orders/{order['id']}", key=tenant.key, json_body={"status": "CANCELLED"}).status == 200
    assert stocks(tenant, shop)[0] == 6
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :e)",
        ExpressionAttributeValues={":pk": {"S": keys.company(tenant.company_id)}, ":e": {"S": "EVENT#"}})
    kinds = sorted(item["eventType"]["S"] for item in response["Items"] if item["eventType"]["S"].startswith("order."))
    assert kinds == ["order.cancelled", "order.created", "order.status_changed"]


def test_dashboard_orders_emit_no_order_created(tenant: Tenant, shop) -> None:
    from distribu import audit, dynamo, keys, orders

    request = orders.parse_order_request({"items": [{"productId": shop["products"][0]["id"], "quantity": 1}]},
                                         customer_required=False)
    order = orders.place_order(tenant.company_id, request, audit.Actor("USER", "u1", "Staff"), source="DASHBOARD",
                               created_by_id="u1")
    assert order["customerId"] is None
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :e)",
        ExpressionAttributeValues={":pk": {"S": keys.company(tenant.company_id)}, ":e": {"S": "EVENT#"}})
    assert not [item for item in response["Items"] if item["eventType"]["S"] == "order.created"]


def test_list_filters_and_pagination(tenant: Tenant, shop) -> None:
    other = factories.api_customer(tenant, email="other@x.test")
    ids = []
    for n in range(4):
        body = order_body(shop, 1) if n % 2 == 0 else {**order_body(shop, 1), "customerId": other["id"]}
        ids.append(call_api("POST", "/api/v1/orders", key=tenant.key, json_body=body).body["data"]["id"])
    call_api("PATCH", f"/api/v1/orders/{ids[0]}", key=tenant.key, json_body={"status": "CONFIRMED"})
    get = lambda **q: [o["id"] for o in call_api("GET", "/api/v1/orders", key=tenant.key, query=q).body["data"]]
    assert get() == list(reversed(ids))
    assert get(customerId=other["id"]) == [ids[3], ids[1]]
    assert get(status="CONFIRMED") == [ids[0]]
    today = call_api("GET", f"/api/v1/orders/{ids[0]}", key=tenant.key).body["data"]["createdAt"][:10]
    assert get(since=today, until=today) == list(reversed(ids))
    assert get(until="2000-01-01") == []
    assert get(since="2999-01-01T00:00:00Z") == []
    bad = call_api("GET", "/api/v1/orders", key=tenant.key, query={"since": "yesterday"})
    assert bad.status == 400 and bad.body["details"][0]["field"] == "since"
    assert call_api("GET", "/api/v1/orders", key=tenant.key, query={"status": "NOPE"}).status == 400
    page = call_api("GET", "/api/v1/orders", key=tenant.key, query={"limit": "3"}).body
    rest = call_api("GET", "/api/v1/orders", key=tenant.key,
                    query={"limit": "3", "cursor": page["pagination"]["nextCursor"]}).body
    assert [o["id"] for o in page["data"] + rest["data"]] == list(reversed(ids)) and not rest["pagination"]["hasMore"]
