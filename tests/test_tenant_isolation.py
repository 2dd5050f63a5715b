"""A key of company A gets 404 for every record of company B, on every API route that takes an id.

The walk is built from the app's OpenAPI document, so a new route without a case here fails the test.
"""

from __future__ import annotations

import re

from tests.conftest import Tenant, call_api

BODIES = {
    ("PATCH", "/api/v1/products/{product_id}"): {"stock": 0},
    ("PATCH", "/api/v1/customers/{customer_id}"): {"name": "Stolen"},
    ("PUT", "/api/v1/customers/{customer_id}/prices/{product_id}"): {"price": 1},
    ("PATCH", "/api/v1/orders/{order_id}"): {"status": "CANCELLED"},
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): {"isActive": False},
}
MESSAGES = {"product_id": "Product not found.", "customer_id": "Customer not found.", "order_id": "Order not found.",
            "webhook_id": "Webhook not found.", "delivery_id": "Delivery not found.", "import_id": "Import not found."}


def _webhook_with_a_delivery(tenant: Tenant) -> tuple[str, str]:
    """A webhook and one delivery to it (fanned out from an event, as the dispatcher does)."""
    from distribu import clock, webhook_delivery

    hook = call_api("POST", "/api/v1/webhooks", key=tenant.key,
                    json_body={"url": "https://hooks.example.com/in", "events": ["order.created"]}).body["data"]
    event = {"companyId": tenant.company_id, "id": f"evt-{tenant.company_id}", "eventType": "order.created",
             "createdAt": clock.now_iso(),
             "envelope": '{"event":"order.created","timestamp":"2026-01-01T00:00:00.000Z","data":{}}'}
    webhook_delivery.fan_out(event)
    return hook["id"], webhook_delivery.delivery_id(event["id"], hook["id"])


def _an_import(tenant: Tenant) -> str:
    response = call_api("POST", "/api/v1/imports", key=tenant.key, json_body={"kind": "products"})
    return response.body["data"]["id"]


def _their_records(other: Tenant) -> dict[str, str]:
    product = call_api("POST", "/api/v1/products", key=other.key,
                       json_body={"name": "Secret", "sku": "S-1", "price": 1, "stock": 5}).body["data"]
    customer = call_api("POST", "/api/v1/customers", key=other.key, json_body={"email": "vip@globex.test"}).body["data"]
    call_api("PUT", f"/api/v1/customers/{customer['id']}/prices/{product['id']}", key=other.key, json_body={"price": 0.5})
    order = call_api("POST", "/api/v1/orders", key=other.key, json_body={
        "customerId": customer["id"], "items": [{"productId": product["id"], "quantity": 1}]}).body["data"]
    webhook_id, delivery_id = _webhook_with_a_delivery(other)
    return {"product_id": product["id"], "customer_id": customer["id"], "order_id": order["id"],
            "webhook_id": webhook_id, "delivery_id": delivery_id, "import_id": _an_import(other)}


def test_every_id_route_answers_404_for_another_company(tenant: Tenant, other_tenant: Tenant) -> None:
    from distribu_api.handler import app

    theirs = _their_records(other_tenant)
    # My own product and customer exist, so a route with two ids fails on the one that is theirs.
    mine = {"product_id": call_api("POST", "/api/v1/products", key=tenant.key,
                                   json_body={"name": "Mine", "price": 1, "stock": 1}).body["data"]["id"],
            "customer_id": call_api("POST", "/api/v1/customers", key=tenant.key,
                                    json_body={"email": "me@acme.test"}).body["data"]["id"]}
    mine["webhook_id"], mine["delivery_id"] = _webhook_with_a_delivery(tenant)
    mine["import_id"] = _an_import(tenant)
    walked = 0
    for template, operations in app.openapi()["paths"].items():
        parameters = re.findall(r"\{(\w+)\}", template)
        if not parameters:
            continue
        for method in sorted(name.upper() for name in operations):
            for foreign in parameters:
                ids = {name: (theirs if name == foreign else mine)[name] for name in parameters}
                path = template.format(**ids)
                response = call_api(method, path, key=tenant.key, json_body=BODIES.get((method, template)))
                expected = "Price override not found." if template.endswith("/prices/{product_id}") and \
                    method == "DELETE" else MESSAGES[foreign]
                assert (response.status, response.body) == (404, {"error": expected}), (method, path)
                walked += 1
    assert walked >= 10
    # and nothing of theirs changed
    order = call_api("GET", f"/api/v1/orders/{theirs['order_id']}", key=other_tenant.key).body["data"]
    assert order["status"] == "SUBMITTED"
    product = call_api("GET", f"/api/v1/products/{theirs['product_id']}", key=other_tenant.key).body["data"]
    assert product["stock"] == 4
    prices = call_api("GET", f"/api/v1/customers/{theirs['customer_id']}/prices", key=other_tenant.key).body["data"]
    assert [price["price"] for price in prices] == [0.5]
    hook = call_api("GET", f"/api/v1/webhooks/{theirs['webhook_id']}", key=other_tenant.key).body["data"]
    assert hook["isActive"] is True
    their_import = call_api("GET", f"/api/v1/imports/{theirs['import_id']}", key=other_tenant.key).body["data"]
    assert their_import["status"] == "AWAITING_UPLOAD"


def test_lists_never_show_another_company(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = _their_records(other_tenant)
    for path in ("/api/v1/products", "/api/v1/customers", "/api/v1/orders", "/api/v1/webhooks"):
        assert call_api("GET", path, key=tenant.key).body["data"] == [], path
    by_customer = call_api("GET", "/api/v1/orders", key=tenant.key, query={"customerId": theirs["customer_id"]})
    assert by_customer.body["data"] == []


def test_ordering_another_companys_product_or_for_their_customer_fails(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = _their_records(other_tenant)
    mine = call_api("POST", "/api/v1/customers", key=tenant.key, json_body={"email": "me@acme.test"}).body["data"]
    product = call_api("POST", "/api/v1/products", key=tenant.key, json_body={"name": "M", "price": 1, "stock": 3}).body["data"]
    their_product = call_api("POST", "/api/v1/orders", key=tenant.key, json_body={
        "customerId": mine["id"], "items": [{"productId": theirs["product_id"], "quantity": 1}]})
    assert their_product.status == 422
    their_customer = call_api("POST", "/api/v1/orders", key=tenant.key, json_body={
        "customerId": theirs["customer_id"], "items": [{"productId": product["id"], "quantity": 1}]})
    assert their_customer.status == 404 and their_customer.body == {"error": "Customer not found."}


def test_a_cursor_cannot_reach_another_company(tenant: Tenant, other_tenant: Tenant) -> None:
    for number in range(3):
        call_api("POST", "/api/v1/products", key=other_tenant.key,
                 json_body={"name": f"B{number}", "price": 1, "stock": 1})
    page = call_api("GET", "/api/v1/products", key=other_tenant.key, query={"limit": "1"}).body
    stolen = call_api("GET", "/api/v1/products", key=tenant.key, query={"cursor": page["pagination"]["nextCursor"]})
    assert stolen.status == 200 and stolen.body["data"] == []
