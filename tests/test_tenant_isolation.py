"""A key of company A gets 404 for every record of company B, on every route that takes an id."""

from __future__ import annotations

from tests.conftest import Tenant, call_api


def test_every_product_route_hides_other_companies(tenant: Tenant, other_tenant: Tenant) -> None:
    theirs = call_api("POST", "/api/v1/products", key=other_tenant.key,
                      json_body={"name": "Secret", "sku": "S-1", "price": 1, "stock": 5}).body["data"]
    product_id = theirs["id"]
    attempts = [
        ("GET", f"/api/v1/products/{product_id}", None),
        ("PATCH", f"/api/v1/products/{product_id}", {"stock": 0}),
        ("DELETE", f"/api/v1/products/{product_id}", None),
    ]
    for method, path, body in attempts:
        response = call_api(method, path, key=tenant.key, json_body=body)
        assert (response.status, response.body) == (404, {"error": "Product not found."}), (method, path)
    listing = call_api("GET", "/api/v1/products", key=tenant.key, query={"search": "secret"})
    assert listing.body["data"] == []
    untouched = call_api("GET", f"/api/v1/products/{product_id}", key=other_tenant.key).body["data"]
    assert untouched == theirs


def test_a_cursor_cannot_reach_another_company(tenant: Tenant, other_tenant: Tenant) -> None:
    for number in range(3):
        call_api("POST", "/api/v1/products", key=other_tenant.key,
                 json_body={"name": f"B{number}", "price": 1, "stock": 1})
    page = call_api("GET", "/api/v1/products", key=other_tenant.key, query={"limit": "1"}).body
    stolen = call_api("GET", "/api/v1/products", key=tenant.key, query={"cursor": page["pagination"]["nextCursor"]})
    assert stolen.status == 200 and stolen.body["data"] == []
