"""Customers and price overrides through the real handler path."""

from __future__ import annotations

import pytest

from tests import factories
from tests.conftest import Tenant, call_api


def test_create_normalises_email_and_returns_the_documented_shape(tenant: Tenant) -> None:
    customer = factories.api_customer(tenant, email="  Buyer@NorthWind.TEST ", creditLimit=5000, taxRateOverride=0.0825)
    assert set(customer) == {"id", "email", "name", "status", "notes", "creditLimit", "taxRateOverride",
                             "emailVerified", "createdAt", "updatedAt"}
    assert customer["email"] == "buyer@northwind.test" and customer["status"] == "ACTIVE"
    assert customer["creditLimit"] == 5000 and customer["taxRateOverride"] == 0.0825
    assert customer["emailVerified"] is False
    assert call_api("GET", f"/api/v1/customers/{customer['id']}", key=tenant.key).body == {"data": customer}


def test_duplicate_email_is_409_whatever_the_case(tenant: Tenant) -> None:
    factories.api_customer(tenant)
    response = call_api("POST", "/api/v1/customers", key=tenant.key, json_body={"email": "BUYER@northwind.test"})
    assert response.status == 409 and response.body == {"error": "A customer with this email already exists."}


@pytest.mark.parametrize("body, field", [
    ({"name": "x"}, "email"), ({"email": "not-an-email"}, "email"), ({"email": "a@b.c" + "x" * 260}, "email"),
    ({"email": "a@b.test", "name": "n" * 101}, "name"), ({"email": "a@b.test", "notes": "n" * 2001}, "notes"),
    ({"email": "a@b.test", "status": "PAUSED"}, "status"), ({"email": "a@b.test", "creditLimit": -1}, "creditLimit"),
    ({"email": "a@b.test", "creditLimit": 1.005}, "creditLimit"), ({"email": "a@b.test", "taxRateOverride": 0.5}, "taxRateOverride"),
    ({"email": "a@b.test", "password": "hunter22"}, "password"),
])
def test_invalid_customer_is_400_naming_the_field(tenant: Tenant, body, field) -> None:
    response = call_api("POST", "/api/v1/customers", key=tenant.key, json_body=body)
    assert response.status == 400 and response.body["error"] == "Validation failed."
    assert field in [detail["field"] for detail in response.body["details"]]
    assert call_api("GET", "/api/v1/customers", key=tenant.key).body["data"] == []


def test_patch_moves_the_email_guard_and_audits(tenant: Tenant) -> None:
    from distribu import audit

    first = factories.api_customer(tenant)
    moved = call_api("PATCH", f"/api/v1/customers/{first['id']}", key=tenant.key,
                     json_body={"email": "orders@northwind.test", "notes": "Net 30"})
    assert moved.status == 200 and moved.body["data"]["email"] == "orders@northwind.test"
    factories.api_customer(tenant, email="buyer@northwind.test")  # the old email is free again
    clash = call_api("PATCH", f"/api/v1/customers/{first['id']}", key=tenant.key,
                     json_body={"email": "buyer@northwind.test"})
    assert clash.status == 409
    blocked = call_api("PATCH", f"/api/v1/customers/{first['id']}", key=tenant.key, json_body={"status": "BLOCKED"})
    assert blocked.body["data"]["status"] == "BLOCKED"
    actions = [entry["action"] for entry in audit.list_entries(tenant.company_id)]
    assert actions[:3] == ["CustomerStatusChanged", "CustomerCreated", "CustomerUpdated"]


def test_list_filters_and_search(tenant: Tenant) -> None:
    factories.api_customer(tenant, email="a@alpha.test", name="Alpha Foods")
    factories.api_customer(tenant, email="b@beta.test", name="Beta Bakery", status="BLOCKED")
    names = lambda **q: sorted(c["name"] for c in call_api("GET", "/api/v1/customers", key=tenant.key, query=q).body["data"])
    assert names(status="BLOCKED") == ["Beta Bakery"]
    assert names(search="ALPHA") == ["Alpha Foods"]
    assert names(search="beta.test") == ["Beta Bakery"]


def test_customer_writes_emit_outbox_events(tenant: Tenant) -> None:
    import json

    from distribu import dynamo, keys

    customer = factories.api_customer(tenant)
    call_api("PATCH", f"/api/v1/customers/{customer['id']}", key=tenant.key, json_body={"name": "NW"})
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :e)",
        ExpressionAttributeValues={":pk": {"S": keys.company(tenant.company_id)}, ":e": {"S": "EVENT#"}})
    events = [json.loads(item["envelope"]["S"]) for item in response["Items"]]
    kinds = [event["event"] for event in events if event["event"].startswith("customer.")]
    assert kinds == ["customer.created", "customer.updated"]
    assert events[-1]["data"]["name"] == "NW" and "passwordHash" not in json.dumps(events)


def test_price_overrides_set_list_delete(tenant: Tenant) -> None:
    from distribu import audit

    customer = factories.api_customer(tenant)
    product = factories.api_product(tenant, price=20)
    put = call_api("PUT", f"/api/v1/customers/{customer['id']}/prices/{product['id']}", key=tenant.key,
                   json_body={"price": 17})
    assert put.status == 200 and put.body["data"]["price"] == 17
    assert put.body["data"]["catalogPrice"] == 20 and put.body["data"]["differencePercent"] == -15.0
    listed = call_api("GET", f"/api/v1/customers/{customer['id']}/prices", key=tenant.key).body["data"]
    assert [(item["productId"], item["price"], item["productSku"]) for item in listed] == [(product["id"], 17, "W-1")]
    assert call_api("GET", f"/api/v1/products/{product['id']}", key=tenant.key).body["data"]["price"] == 20
    deleted = call_api("DELETE", f"/api/v1/customers/{customer['id']}/prices/{product['id']}", key=tenant.key)
    assert deleted.status == 200
    assert call_api("GET", f"/api/v1/customers/{customer['id']}/prices", key=tenant.key).body["data"] == []
    again = call_api("DELETE", f"/api/v1/customers/{customer['id']}/prices/{product['id']}", key=tenant.key)
    assert again.status == 404 and again.body == {"error": "Price override not found."}
    actions = [entry["action"] for entry in audit.list_entries(tenant.company_id)]
    assert actions[:2] == ["PriceOverrideDeleted", "PriceOverrideSet"]


def test_override_needs_existing_customer_and_product(tenant: Tenant) -> None:
    customer = factories.api_customer(tenant)
    product = factories.api_product(tenant)
    assert call_api("PUT", f"/api/v1/customers/missing/prices/{product['id']}", key=tenant.key,
                    json_body={"price": 1}).body == {"error": "Customer not found."}
    assert call_api("PUT", f"/api/v1/customers/{customer['id']}/prices/missing", key=tenant.key,
                    json_body={"price": 1}).body == {"error": "Product not found."}
    bad = call_api("PUT", f"/api/v1/customers/{customer['id']}/prices/{product['id']}", key=tenant.key,
                   json_body={"price": -3})
    assert bad.status == 400 and bad.body["details"][0]["field"] == "price"


def test_deleting_a_product_leaves_no_override_behind(tenant: Tenant) -> None:
    from distribu import dynamo, keys

    customers = [factories.api_customer(tenant, email=f"c{n}@x.test") for n in range(3)]
    product = factories.api_product(tenant)
    for customer in customers:
        call_api("PUT", f"/api/v1/customers/{customer['id']}/prices/{product['id']}", key=tenant.key,
                 json_body={"price": 5})
    assert call_api("DELETE", f"/api/v1/products/{product['id']}", key=tenant.key).status == 200
    for customer in customers:
        assert dynamo.get(keys.company(tenant.company_id), keys.price_override_sk(customer["id"], product["id"])) is None
