"""Idempotency-Key on POST and PATCH: replay, 422 on a different body, 409 while in flight."""

from __future__ import annotations

from tests import factories
from tests.conftest import Tenant, call_api


def test_retry_replays_the_first_response_and_creates_once(tenant: Tenant) -> None:
    customer = factories.api_customer(tenant)
    product = factories.api_product(tenant, stock=10)
    body = {"customerId": customer["id"], "items": [{"productId": product["id"], "quantity": 2}]}
    first = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=body, headers={"idempotency-key": "order-1"})
    second = call_api("POST", "/api/v1/orders", key=tenant.key, json_body=body, headers={"idempotency-key": "order-1"})
    assert first.status == second.status == 201
    assert first.body == second.body and second.headers.get("idempotent-replayed") == "true"
    assert len(call_api("GET", "/api/v1/orders", key=tenant.key).body["data"]) == 1
    assert call_api("GET", f"/api/v1/products/{product['id']}", key=tenant.key).body["data"]["stock"] == 8


def test_same_key_different_body_is_422(tenant: Tenant) -> None:
    headers = {"idempotency-key": "k-1"}
    assert call_api("POST", "/api/v1/products", key=tenant.key, headers=headers,
                    json_body={"name": "A", "price": 1, "stock": 1}).status == 201
    response = call_api("POST", "/api/v1/products", key=tenant.key, headers=headers,
                        json_body={"name": "B", "price": 1, "stock": 1})
    assert response.status == 422
    assert response.body == {"error": "This Idempotency-Key was already used with a different request."}


def test_retry_while_in_flight_is_409(tenant: Tenant) -> None:
    from distribu.idempotency import IdempotencyGuard, request_fingerprint
    import json

    body = {"name": "A", "price": 1, "stock": 1}
    guard = IdempotencyGuard(tenant.company_id, tenant.key_id, "slow",
                             request_fingerprint("POST", "/api/v1/products", json.dumps(body).encode()))
    guard.acquire()  # a first request that has not finished yet
    response = call_api("POST", "/api/v1/products", key=tenant.key, headers={"idempotency-key": "slow"}, json_body=body)
    assert response.status == 409
    assert response.body == {"error": "A request with this Idempotency-Key is still being processed. Retry shortly."}


def test_a_failed_request_releases_the_key(tenant: Tenant) -> None:
    headers = {"idempotency-key": "fix-and-retry"}
    customer = factories.api_customer(tenant)
    product = factories.api_product(tenant, stock=1)
    body = {"customerId": customer["id"], "items": [{"productId": product["id"], "quantity": 2}]}
    assert call_api("POST", "/api/v1/orders", key=tenant.key, headers=headers, json_body=body).status == 422
    call_api("PATCH", f"/api/v1/products/{product['id']}", key=tenant.key, json_body={"stock": 5})
    assert call_api("POST", "/api/v1/orders", key=tenant.key, headers=headers, json_body=body).status == 201


def test_patch_no_op_is_recorded_too(tenant: Tenant) -> None:
    product = factories.api_product(tenant)
    headers = {"idempotency-key": "noop"}
    path = f"/api/v1/products/{product['id']}"
    first = call_api("PATCH", path, key=tenant.key, headers=headers, json_body={"stock": 100})
    second = call_api("PATCH", path, key=tenant.key, headers=headers, json_body={"stock": 100})
    assert first.status == second.status == 200 and second.headers.get("idempotent-replayed") == "true"


def test_overlong_key_is_400(tenant: Tenant) -> None:
    response = call_api("POST", "/api/v1/products", key=tenant.key, headers={"idempotency-key": "k" * 256},
                        json_body={"name": "A", "price": 1, "stock": 1})
    assert response.status == 400 and response.body["details"][0]["field"] == "Idempotency-Key"


def test_keys_are_per_api_key(tenant: Tenant) -> None:
    from tests.conftest import make_tenant

    body = {"name": "A", "price": 1, "stock": 1}
    assert call_api("POST", "/api/v1/products", key=tenant.key, headers={"idempotency-key": "same"}, json_body=body).status == 201
    other = make_tenant("Other Co")
    assert call_api("POST", "/api/v1/products", key=other.key, headers={"idempotency-key": "same"}, json_body=body).status == 201
