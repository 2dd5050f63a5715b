"""Products endpoints through the real handler path: API Gateway event -> Mangum -> FastAPI -> moto."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.conftest import Tenant, call_api

WIDGET = {"name": "Widget Blue", "sku": "WDG-001", "category": "Hardware", "price": 8.5, "stock": 42}


def create(tenant: Tenant, **overrides):
    response = call_api("POST", "/api/v1/products", key=tenant.key, json_body={**WIDGET, **overrides})
    assert response.status == 201, response.body
    return response.body["data"]


def test_create_returns_the_product_with_defaults(tenant: Tenant) -> None:
    product = create(tenant)
    assert product["name"] == "Widget Blue" and product["sku"] == "WDG-001"
    assert product["price"] == 8.5 and product["stock"] == 42
    assert product["unit"] == "each" and product["isActive"] is True
    assert product["description"] is None and product["imageUrl"] is None
    assert product["createdAt"].endswith("Z") and len(product["createdAt"]) == 24
    fetched = call_api("GET", f"/api/v1/products/{product['id']}", key=tenant.key)
    assert fetched.status == 200 and fetched.body == {"data": product}


def test_price_stays_decimal_in_storage(tenant: Tenant) -> None:
    from distribu import catalog

    product = create(tenant, price=0.1, sku="DEC-1")
    item = catalog.get_item(tenant.company_id, product["id"])
    assert item["price"] == Decimal("0.10")
    assert product["price"] == 0.1


def test_duplicate_sku_is_409_and_writes_nothing(tenant: Tenant) -> None:
    create(tenant)
    response = call_api("POST", "/api/v1/products", key=tenant.key, json_body={**WIDGET, "sku": "wdg-001"})
    assert response.status == 409
    assert response.body == {"error": "A product with this SKU already exists."}
    listing = call_api("GET", "/api/v1/products", key=tenant.key)
    assert len(listing.body["data"]) == 1


def test_same_sku_in_two_companies_is_fine(tenant: Tenant, other_tenant: Tenant) -> None:
    create(tenant)
    create(other_tenant)


@pytest.mark.parametrize("body, field", [
    ({"sku": "X"}, "name"),
    ({**WIDGET, "name": ""}, "name"),
    ({**WIDGET, "name": "n" * 201}, "name"),
    ({**WIDGET, "sku": "s" * 101}, "sku"),
    ({**WIDGET, "description": "d" * 2001}, "description"),
    ({**WIDGET, "category": "c" * 101}, "category"),
    ({**WIDGET, "price": -1}, "price"),
    ({**WIDGET, "price": 1.234}, "price"),
    ({**WIDGET, "price": "8.50"}, "price"),
    ({**WIDGET, "price": True}, "price"),
    ({**WIDGET, "stock": -1}, "stock"),
    ({**WIDGET, "stock": 1.5}, "stock"),
    ({**WIDGET, "stock": "10"}, "stock"),
    ({**WIDGET, "isActive": "yes"}, "isActive"),
    ({**WIDGET, "imageUrl": "ftp://x/y.png"}, "imageUrl"),
    ({**WIDGET, "colour": "blue"}, "colour"),
])
def test_invalid_fields_are_400_naming_the_field(tenant: Tenant, body: dict, field: str) -> None:
    response = call_api("POST", "/api/v1/products", key=tenant.key, json_body=body)
    assert response.status == 400, response.body
    assert response.body["error"] == "Validation failed."
    assert field in [detail["field"] for detail in response.body["details"]]
    assert call_api("GET", "/api/v1/products", key=tenant.key).body["data"] == []


def test_malformed_json_is_400(tenant: Tenant) -> None:
    response = call_api("POST", "/api/v1/products", key=tenant.key, raw_body="{not json")
    assert response.status == 400
    assert response.body == {"error": "Invalid JSON body."}


def test_two_decimal_places_and_trailing_zeros_are_accepted(tenant: Tenant) -> None:
    product = create(tenant, price=12.50, sku="P-2")
    assert product["price"] == 12.5
    assert create(tenant, price=3, sku="P-3")["price"] == 3


def test_patch_updates_any_field_including_stock_and_audits(tenant: Tenant) -> None:
    from distribu import audit

    product = create(tenant)
    response = call_api("PATCH", f"/api/v1/products/{product['id']}", key=tenant.key,
                        json_body={"stock": 7, "price": 9.99, "isActive": False, "description": "Blue"})
    assert response.status == 200
    updated = response.body["data"]
    assert (updated["stock"], updated["price"], updated["isActive"], updated["description"]) == (7, 9.99, False, "Blue")
    assert updated["updatedAt"] >= product["updatedAt"]
    entries = audit.list_entries(tenant.company_id)
    assert entries[0]["action"] == "ProductUpdated"
    assert entries[0]["actorType"] == "API_KEY" and entries[0]["actorId"] == tenant.key_id
    assert entries[0]["details"]["before"]["stock"] == 42 and entries[0]["details"]["after"]["stock"] == 7
    assert [entry["action"] for entry in entries].count("ProductCreated") == 1


def test_patch_null_clears_optional_but_not_required(tenant: Tenant) -> None:
    product = create(tenant)
    cleared = call_api("PATCH", f"/api/v1/products/{product['id']}", key=tenant.key, json_body={"category": None})
    assert cleared.status == 200 and cleared.body["data"]["category"] is None
    refused = call_api("PATCH", f"/api/v1/products/{product['id']}", key=tenant.key, json_body={"price": None})
    assert refused.status == 400 and refused.body["details"][0]["field"] == "price"


def test_changing_sku_moves_the_guard(tenant: Tenant) -> None:
    first = create(tenant)
    moved = call_api("PATCH", f"/api/v1/products/{first['id']}", key=tenant.key, json_body={"sku": "WDG-002"})
    assert moved.status == 200
    create(tenant, sku="WDG-001")  # the old SKU is free again
    clash = call_api("PATCH", f"/api/v1/products/{first['id']}", key=tenant.key, json_body={"sku": "WDG-001"})
    assert clash.status == 409
    assert call_api("GET", f"/api/v1/products/{first['id']}", key=tenant.key).body["data"]["sku"] == "WDG-002"


def test_delete_then_404_and_sku_free(tenant: Tenant) -> None:
    product = create(tenant)
    deleted = call_api("DELETE", f"/api/v1/products/{product['id']}", key=tenant.key)
    assert deleted.status == 200 and deleted.body == {"data": {"id": product["id"], "deleted": True}}
    missing = call_api("GET", f"/api/v1/products/{product['id']}", key=tenant.key)
    assert missing.status == 404 and missing.body == {"error": "Product not found."}
    assert call_api("DELETE", f"/api/v1/products/{product['id']}", key=tenant.key).status == 404
    create(tenant)


def test_filters(tenant: Tenant) -> None:
    create(tenant, name="Hex Bolt", sku="BOLT-1", category="Fasteners")
    create(tenant, name="Wood Screw", sku="SCR-1", category="Fasteners", isActive=False)
    create(tenant, name="Claw Hammer", sku="HAM-1", category="Tools")

    def names(**query):
        response = call_api("GET", "/api/v1/products", key=tenant.key, query=query)
        assert response.status == 200
        return sorted(item["name"] for item in response.body["data"])

    assert names(category="Fasteners") == ["Hex Bolt", "Wood Screw"]
    assert names(category="fasteners") == []
    assert names(search="HAMMER") == ["Claw Hammer"]
    assert names(search="scr") == ["Wood Screw"]  # matches the SKU
    assert names(search="tool") == ["Claw Hammer"]  # matches the category
    assert names(active="false") == ["Wood Screw"]
    assert names(active="true", category="Fasteners") == ["Hex Bolt"]
    assert names(active="maybe") == ["Claw Hammer", "Hex Bolt", "Wood Screw"]


def test_unknown_route_is_json_404(tenant: Tenant) -> None:
    response = call_api("GET", "/api/v1/nothing-here", key=tenant.key)
    assert response.status == 404 and response.body == {"error": "Not found."}


def test_openapi_lists_the_product_routes(stack) -> None:
    response = call_api("GET", "/api/v1/openapi.json")
    assert response.status == 200
    paths = response.body["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/products"])
    assert {"get", "patch", "delete"} <= set(paths["/api/v1/products/{product_id}"])
    assert "requestBody" in paths["/api/v1/products"]["post"]
    # bodies are documented with the domain's own models, resolved when the document is built
    schemas = response.body["components"]["schemas"]
    body = paths["/api/v1/products"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"name", "price", "stock"} <= set(schemas[body["$ref"].rsplit("/", 1)[1]]["required"])
    from distribu.orders import MAX_DISTINCT_PRODUCTS

    assert f"at most {MAX_DISTINCT_PRODUCTS} different products" in paths["/api/v1/orders"]["post"]["summary"]
    status = paths["/api/v1/orders/{order_id}"]["patch"]["requestBody"]["content"]["application/json"]["schema"]
    assert schemas[status["$ref"].rsplit("/", 1)[1]]["properties"]["status"]["enum"] == ["SUBMITTED", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"]


def test_an_unexpected_failure_is_a_json_500_and_releases_the_idempotency_key(tenant: Tenant, monkeypatch) -> None:
    from distribu import catalog

    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(catalog, "create_product", broken)
    response = call_api("POST", "/api/v1/products", key=tenant.key, json_body=WIDGET, headers={"idempotency-key": "k"})
    assert response.status == 500 and response.body == {"error": "Internal server error."}
    monkeypatch.undo()
    assert call_api("POST", "/api/v1/products", key=tenant.key, json_body=WIDGET,
                    headers={"idempotency-key": "k"}).status == 201
