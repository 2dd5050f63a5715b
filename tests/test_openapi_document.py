"""The OpenAPI document says what the API does (the fuzzer in test_openapi_fuzz.py holds the API to it),
and the API answers what no operation serves as JSON: 405 with ``Allow``, and 404 for a trailing slash."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.conftest import Tenant, call_api


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    from aws_lambda_powertools import Logger

    from distribu_api.app import create_app

    return create_app(Logger(service="api")).openapi()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method.upper(), path, operation


def refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if "$ref" in value:
            yield value["$ref"]
        for item in value.values():
            yield from refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from refs(item)


def resolve(document: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/components/schemas/"), ref
    return document["components"]["schemas"][ref.rsplit("/", 1)[1]]


def body_schema(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    schema = document["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]["schema"]
    return resolve(document, schema["$ref"]) if "$ref" in schema else schema


def test_every_reference_resolves(document) -> None:
    found = list(refs(document))
    assert "#/components/schemas/ShippingAddress" in found
    for ref in found:
        assert resolve(document, ref)


def test_every_operation_documents_its_errors_with_the_error_schema(document) -> None:
    expected = {
        ("POST", "/api/v1/orders"): {"201", "400", "401", "403", "404", "409", "413", "415", "422", "429"},
        ("GET", "/api/v1/products/{product_id}"): {"200", "401", "403", "404", "429"},
        ("GET", "/api/v1/products"): {"200", "400", "401", "403", "429"},
        ("PUT", "/api/v1/customers/{customer_id}/prices/{product_id}"): {"200", "400", "401", "403", "404", "413",
                                                                        "415", "429"},
        ("POST", "/api/v1/webhooks"): {"201", "400", "401", "403", "409", "413", "415", "422", "429"},
    }
    for method, path, operation in operations(document):
        responses = operation["responses"]
        if (method, path) in expected:
            assert set(responses) == expected[(method, path)], (method, path)
        assert "422" not in responses or "HTTPValidationError" not in str(responses["422"])
        for status, response in responses.items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        assert operation["security"] == [{"bearerAuth": []}], (method, path)
    error = document["components"]["schemas"]["Error"]
    assert error["required"] == ["error"] and set(error["properties"]) == {"error", "details", "retryAfter"}
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "dk_...",
        "description": document["components"]["securitySchemes"]["bearerAuth"]["description"]}


def test_order_bodies_describe_their_lines(document) -> None:
    order = body_schema(document, "POST", "/api/v1/orders")
    assert order["additionalProperties"] is False and set(order["required"]) == {"customerId", "items"}
    items = order["properties"]["items"]
    assert items["minItems"] == 1
    line = resolve(document, items["items"]["$ref"])
    assert set(line["required"]) == {"productId", "quantity"}
    assert line["properties"]["quantity"]["type"] == "integer" and line["properties"]["quantity"]["minimum"] == 1


def test_patch_bodies_say_which_fields_refuse_null(document) -> None:
    product = body_schema(document, "PATCH", "/api/v1/products/{product_id}")["properties"]
    assert product["name"]["type"] == "string" and "anyOf" not in product["name"]
    assert product["price"]["type"] == "number" and "anyOf" not in product["price"]
    assert {"type": "null"} in product["description"]["anyOf"]  # optional fields may be cleared
    customer = body_schema(document, "PATCH", "/api/v1/customers/{customer_id}")["properties"]
    assert customer["email"]["type"] == "string" and "anyOf" not in customer["email"]
    assert {"type": "null"} in customer["notes"]["anyOf"]


def test_fields_are_documented_as_they_are_accepted(document) -> None:
    customer = body_schema(document, "POST", "/api/v1/customers")["properties"]
    assert customer["email"]["format"] == "email" and customer["email"]["maxLength"] == 254
    money = body_schema(document, "POST", "/api/v1/products")["properties"]["price"]
    assert money["type"] == "number" and money["minimum"] == 0 and money["multipleOf"] == 0.01  # never a string
    webhook = body_schema(document, "POST", "/api/v1/webhooks")["properties"]
    from distribu.outbox import EVENT_TYPES

    assert webhook["events"]["items"]["enum"] == list(EVENT_TYPES) and webhook["events"]["minItems"] == 1
    replay = document["paths"]["/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/replay"]["post"]
    assert all(parameter["schema"]["maxLength"] == 64 for parameter in replay["parameters"])
    create = document["paths"]["/api/v1/products"]["post"]
    assert {"name": "Idempotency-Key", "in": "header"}.items() <= create["parameters"][0].items()


@pytest.mark.parametrize("method,path,allowed", [
    ("DELETE", "/api/v1/products", "GET, POST"),
    ("PUT", "/api/v1/products/abc", "DELETE, GET, PATCH"),
    ("POST", "/api/v1/customers/abc/prices", "GET"),
    ("GET", "/api/v1/webhooks/abc/rotate-secret", "POST"),
])
def test_an_unsupported_method_is_a_405_naming_the_allowed_ones(tenant: Tenant, method: str, path: str,
                                                               allowed: str) -> None:
    response = call_api(method, path, key=tenant.key)
    assert (response.status, response.body) == (405, {"error": "Method not allowed."})
    assert response.headers["allow"] == allowed
    assert response.headers["content-type"] == "application/json"


def test_a_trailing_slash_is_a_json_404_not_a_redirect(tenant: Tenant) -> None:
    for path in ("/api/v1/products/", "/api/v1/webhooks/", "/api/v1/orders/abc/"):
        response = call_api("GET", path, key=tenant.key, headers={"host": "evil.example"})
        assert (response.status, response.body) == (404, {"error": "Not found."})
        assert "location" not in response.headers
