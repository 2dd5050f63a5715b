"""Hostile input on every route that takes a body or an id: a clear 4xx, never a 5xx, and nothing written.

The bugs behind these were classes, fixed where input is parsed (``distribu.jsonbody``, behind the API's
``read_json`` and the idempotency guard) and where path ids reach DynamoDB (one dependency in front of
every route), so one table of routes drives every case.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Iterator

import pytest

from tests.conftest import Tenant, call_api, make_tenant, template_stack


@dataclass(frozen=True)
class BodyRoute:
    method: str
    path: str  # with {product}, {customer}, {order}, {webhook} filled from the world fixture
    body: dict[str, Any]
    text_field: str  # a short text field of this body
    numeric_fields: tuple[str, ...] = ()  # dotted paths into body

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


BODY_ROUTES = [
    BodyRoute("POST", "/api/v1/products", {"name": "Hostile", "sku": "H-1", "price": 1, "stock": 1,
                                           "lowStockThreshold": 1, "description": "Fine"},
              "name", ("price", "stock", "lowStockThreshold")),
    BodyRoute("PATCH", "/api/v1/products/{product}", {"price": 2, "stock": 3, "lowStockThreshold": 2, "sku": "H-2"},
              "sku", ("price", "stock", "lowStockThreshold")),
    BodyRoute("POST", "/api/v1/orders", {"customerId": "{customer}", "poNumber": "PO-1",
                                         "items": [{"productId": "{product}", "quantity": 1}]},
              "poNumber", ("items.0.quantity",)),
    BodyRoute("PATCH", "/api/v1/orders/{order}", {"status": "CONFIRMED"}, "status"),
    BodyRoute("POST", "/api/v1/customers", {"email": "hostile@buyer.test", "name": "H", "creditLimit": 5,
                                            "taxRateOverride": 0.1}, "email", ("creditLimit", "taxRateOverride")),
    BodyRoute("PATCH", "/api/v1/customers/{customer}", {"name": "New name", "creditLimit": 5, "taxRateOverride": 0.1},
              "name", ("creditLimit", "taxRateOverride")),
    BodyRoute("PUT", "/api/v1/customers/{customer}/prices/{product}", {"price": 1}, "price", ("price",)),
    BodyRoute("POST", "/api/v1/webhooks", {"url": "https://hooks.example.com/in", "events": ["order.created"]}, "url"),
    BodyRoute("PATCH", "/api/v1/webhooks/{webhook}", {"url": "https://hooks.example.com/other"}, "url"),
    BodyRoute("POST", "/api/v1/imports", {"kind": "products", "fileName": "catalog.csv"}, "fileName"),
    BodyRoute("POST", "/api/v1/exports", {"kind": "products"}, "kind"),
]

# Every route with an id in its path, and the 404 each id gets.
ID_ROUTES = [
    ("GET", "/api/v1/products/{product}"), ("PATCH", "/api/v1/products/{product}"),
    ("DELETE", "/api/v1/products/{product}"),
    ("GET", "/api/v1/orders/{order}"), ("PATCH", "/api/v1/orders/{order}"),
    ("GET", "/api/v1/customers/{customer}"), ("PATCH", "/api/v1/customers/{customer}"),
    ("GET", "/api/v1/customers/{customer}/prices"),
    ("PUT", "/api/v1/customers/{customer}/prices/{product}"), ("DELETE", "/api/v1/customers/{customer}/prices/{product}"),
    ("GET", "/api/v1/webhooks/{webhook}"), ("PATCH", "/api/v1/webhooks/{webhook}"),
    ("DELETE", "/api/v1/webhooks/{webhook}"), ("POST", "/api/v1/webhooks/{webhook}/rotate-secret"),
    ("GET", "/api/v1/webhooks/{webhook}/deliveries"),
    ("POST", "/api/v1/webhooks/{webhook}/deliveries/{delivery}/replay"),
    ("GET", "/api/v1/imports/{import}"), ("POST", "/api/v1/imports/{import}/apply"),
]
NOT_FOUND = {"product": "Product not found.", "customer": "Customer not found.", "order": "Order not found.",
             "webhook": "Webhook not found.", "delivery": "Delivery not found.", "import": "Import not found."}


@pytest.fixture(scope="module")
def shared_stack() -> Iterator[None]:
    """One moto account for the whole module: no request here may write anything - each test checks it -
    so they can all share one world."""
    with template_stack():
        yield


@pytest.fixture(scope="module")
def tenant(shared_stack: None) -> Tenant:
    return make_tenant("Hostile Inputs Inc", rate_limit=1_000_000)


@pytest.fixture(scope="module")
def world(tenant: Tenant) -> dict[str, str]:
    """One record of every kind a path can name, so each request gets as far as its body."""
    from distribu import clock, webhook_delivery

    def created(path: str, body: dict[str, Any]) -> str:
        response = call_api("POST", path, key=tenant.key, json_body=body)
        assert response.status == 201, response.body
        return response.body["data"]["id"]

    product = created("/api/v1/products", {"name": "Widget", "sku": "W-1", "price": 5, "stock": 100})
    customer = created("/api/v1/customers", {"email": "buyer@shop.test"})
    order = created("/api/v1/orders", {"customerId": customer, "items": [{"productId": product, "quantity": 1}]})
    webhook = created("/api/v1/webhooks", {"url": "https://hooks.example.com/in", "events": ["order.created"]})
    event = {"companyId": tenant.company_id, "id": "evt1", "eventType": "order.created", "createdAt": clock.now_iso(),
             "envelope": '{"event":"order.created","timestamp":"2026-01-01T00:00:00.000Z","data":{}}'}
    webhook_delivery.fan_out(event)
    imported = created("/api/v1/imports", {"kind": "products", "fileName": "catalog.csv"})
    return {"product": product, "customer": customer, "order": order, "webhook": webhook, "import": imported,
            "delivery": webhook_delivery.delivery_id("evt1", webhook)}


def fill(template: str, world: dict[str, str], **override: str) -> str:
    values = {**world, **override}
    return template.format(**values)


def fill_body(value: Any, world: dict[str, str]) -> Any:
    if isinstance(value, str):
        return fill(value, world) if value.startswith("{") else value
    if isinstance(value, dict):
        return {key: fill_body(item, world) for key, item in value.items()}
    if isinstance(value, list):
        return [fill_body(item, world) for item in value]
    return value


def table_items() -> list[dict[str, Any]]:
    """Every item of the table (a small moto table: a Scan is fine in a test)."""
    from distribu import dynamo

    items, start = [], None
    while True:
        request: dict[str, Any] = {"TableName": dynamo.table_name(), "ConsistentRead": True}
        if start:
            request["ExclusiveStartKey"] = start
        response = dynamo.dynamodb().scan(**request)
        items += response.get("Items", [])
        start = response.get("LastEvaluatedKey")
        if not start:
            return items


def writes_nothing(tenant: Tenant, send: Callable[[], Any]) -> Any:
    """Sends the request and checks the table holds exactly what it held before (API-key usage aside)."""
    def snapshot() -> list[str]:
        return sorted(json.dumps(item, sort_keys=True) for item in table_items()
                      if item["SK"]["S"] != "APIKEY")  # the key's rate-limit counter and lastUsedAt move

    before = snapshot()
    response = send()
    assert snapshot() == before
    return response


def set_path(body: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    target: Any = body
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    target[int(last) if last.isdigit() else last] = value


def raw_with(body: dict[str, Any], dotted: str, literal: str) -> str:
    """The body as JSON text with ``literal`` (not valid Python JSON output, e.g. NaN) at ``dotted``."""
    marker = "__HOSTILE__"
    copy = json.loads(json.dumps(body))
    set_path(copy, dotted, marker)
    return json.dumps(copy).replace(f'"{marker}"', literal)


DEEP = "[" * 1000 + "]" * 1000
DEEPER = "[" * 100_000 + "]" * 100_000


def _deep_in_field(route: BodyRoute, world: dict[str, str], depth: int) -> str:
    return raw_with(fill_body(route.body, world), route.text_field, "[" * depth + "]" * depth)


HOSTILE_BODIES: dict[str, tuple[Callable[[BodyRoute, dict[str, str]], tuple[str, dict[str, str]]], int, Any]] = {
    "nested-1000-deep": (lambda route, world: (DEEP, {}), 400, {"error": "Invalid JSON body."}),
    "nested-100000-deep": (lambda route, world: (DEEPER, {}), 400, {"error": "Invalid JSON body."}),
    "nested-1000-deep-in-a-field": (lambda route, world: (_deep_in_field(route, world, 1000), {}), 400,
                                    {"error": "Invalid JSON body."}),
    "nested-40-deep-in-a-field": (lambda route, world: (_deep_in_field(route, world, 40), {}), 400,
                                  {"error": "Invalid JSON body.",
                                   "details": [{"field": "body", "message": "nests deeper than 32 levels"}]}),
    "nested-with-idempotency-key": (lambda route, world: (DEEP, {"idempotency-key": "deep-1"}), 400,
                                    {"error": "Invalid JSON body."}),
    "over-1-MB": (lambda route, world: (json.dumps({**fill_body(route.body, world), "pad": "x" * (1024 * 1024)}), {}),
                  413, {"error": "Request body too large. The limit is 1 MB."}),
    "over-1-MB-with-idempotency-key": (
        lambda route, world: (json.dumps({**fill_body(route.body, world), "pad": "x" * (7 * 1024 * 1024)}),
                              {"idempotency-key": "big-1"}), 413, {"error": "Request body too large. The limit is 1 MB."}),
    "text-plain": (lambda route, world: (json.dumps(fill_body(route.body, world)), {"content-type": "text/plain"}), 415,
                   {"error": "Unsupported Content-Type. Send JSON with the header Content-Type: application/json."}),
    "form-encoded": (lambda route, world: ("name=Widget&price=1", {"content-type": "application/x-www-form-urlencoded"}),
                     415, {"error": "Unsupported Content-Type. Send JSON with the header Content-Type: application/json."}),
    "form-encoded-with-idempotency-key": (
        lambda route, world: ("a=1", {"content-type": "application/x-www-form-urlencoded", "idempotency-key": "form-1"}),
        415, {"error": "Unsupported Content-Type. Send JSON with the header Content-Type: application/json."}),
}


@pytest.mark.parametrize("case", list(HOSTILE_BODIES))
@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_hostile_bodies_get_a_clear_4xx_and_write_nothing(tenant: Tenant, world, route: BodyRoute, case: str) -> None:
    make, status, expected = HOSTILE_BODIES[case]
    raw, headers = make(route, world)
    response = writes_nothing(tenant, lambda: call_api(route.method, fill(route.path, world), key=tenant.key,
                                                       raw_body=raw, headers=headers))
    assert response.status == status and response.body["error"] == expected["error"]
    assert response.body.get("details") == expected.get("details", response.body.get("details"))


@pytest.mark.parametrize("control", ["\x00", "\x1b", "\x7f", "\t", "\n"], ids=["NUL", "ESC", "DEL", "tab", "newline"])
@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_control_characters_in_a_string_field_are_a_400_naming_it(tenant: Tenant, world, route: BodyRoute,
                                                                   control: str) -> None:
    body = fill_body(route.body, world)
    set_path(body, route.text_field, f"abc{control}def")
    response = writes_nothing(tenant, lambda: call_api(route.method, fill(route.path, world), key=tenant.key,
                                                       json_body=body))
    assert response.status == 400
    assert response.body == {"error": "Validation failed.", "details": [
        {"field": route.text_field, "message": "must not contain control characters"}]}


NUMBERS = ["NaN", "Infinity", "-Infinity", "1e400000", "-1e400000", "1e400000000", "9" * 5000, "1" + "0" * 19,
           "1e-400000"]
NUMERIC = [(route, field) for route in BODY_ROUTES for field in route.numeric_fields]


@pytest.mark.parametrize("literal", NUMBERS, ids=lambda literal: literal[:12])
@pytest.mark.parametrize("route,field", NUMERIC, ids=lambda value: str(value))
def test_numbers_no_field_can_hold_are_refused_at_parse_time(tenant: Tenant, world, route: BodyRoute, field: str,
                                                              literal: str) -> None:
    raw = raw_with(fill_body(route.body, world), field, literal)
    response = writes_nothing(tenant, lambda: call_api(route.method, fill(route.path, world), key=tenant.key,
                                                       raw_body=raw))
    assert response.status == 400, response.body
    if field == "items.0.quantity":
        assert response.body == {"error": "quantity must be a number"}
    else:
        assert response.body["error"] == "Validation failed."
        assert [detail["field"] for detail in response.body["details"]] == [field]


@pytest.mark.parametrize("length", [65, 10_000])
@pytest.mark.parametrize("method,template", ID_ROUTES, ids=lambda value: str(value))
def test_ids_that_cannot_exist_are_a_404_before_any_dynamodb_call(tenant: Tenant, world, method: str, template: str,
                                                                   length: int) -> None:
    from distribu.aws import dynamodb

    names = [name for name in NOT_FOUND if "{" + name + "}" in template]
    for name in names:
        path = fill(template, world, **{name: "a" * length})
        sent: list[str] = []

        def count(**kwargs: Any) -> None:
            sent.append(kwargs.get("event_name", ""))

        dynamodb().meta.events.register("before-send.dynamodb", count)
        try:
            response = call_api(method, path, key=tenant.key, json_body={} if method in ("PUT", "PATCH") else None)
        finally:
            dynamodb().meta.events.unregister("before-send.dynamodb", count)
        assert (response.status, response.body) == (404, {"error": NOT_FOUND[name]}), path
        assert sent == []


def test_the_404_of_each_path_id_is_its_domain_modules_own() -> None:
    from distribu import catalog, customers, imports, orders, webhook_delivery, webhooks
    from distribu_api.dependencies import NOT_FOUND_BY_PATH_PARAMETER

    assert NOT_FOUND_BY_PATH_PARAMETER == {
        "product_id": catalog.NOT_FOUND, "customer_id": customers.NOT_FOUND, "order_id": orders.NOT_FOUND,
        "webhook_id": webhooks.NOT_FOUND, "delivery_id": webhook_delivery.DELIVERY_NOT_FOUND,
        "import_id": imports.NOT_FOUND}


def test_ids_in_an_order_body_that_cannot_exist_are_answered_as_missing(tenant: Tenant, world) -> None:
    long_id = "p" * 10_000
    response = writes_nothing(tenant, lambda: call_api("POST", "/api/v1/orders", key=tenant.key, json_body={
        "customerId": world["customer"], "items": [{"productId": long_id, "quantity": 1}]}))
    assert (response.status, response.body) == (422, {"error": f"Product {'p' * 64}... was not found."})
    response = writes_nothing(tenant, lambda: call_api("POST", "/api/v1/orders", key=tenant.key, json_body={
        "customerId": "c" * 10_000, "items": [{"productId": world["product"], "quantity": 1}]}))
    assert (response.status, response.body) == (404, {"error": "Customer not found."})


def test_query_values_that_cannot_be_keys_are_no_error(tenant: Tenant, world) -> None:
    by_customer = call_api("GET", "/api/v1/orders", key=tenant.key, query={"customerId": "c" * 10_000})
    assert (by_customer.status, by_customer.body["data"]) == (200, [])
    for cursor in ("x" * 10_000, "eyJrIjogIngifQ"):  # the second decodes to {"k": "x"}: not a listing sort key
        response = call_api("GET", "/api/v1/products", key=tenant.key, query={"cursor": cursor})
        assert (response.status, response.body["details"]) == (400, [{"field": "cursor", "message": "Invalid cursor."}])


def test_long_texts_keep_tabs_and_line_breaks(tenant: Tenant) -> None:
    text = "Line one\r\nLine two\n\tindented"
    product = call_api("POST", "/api/v1/products", key=tenant.key,
                       json_body={"name": "Tabbed", "price": 1, "stock": 1, "description": text})
    assert product.status == 201 and product.body["data"]["description"] == text
    customer = call_api("POST", "/api/v1/customers", key=tenant.key, json_body={"email": "t@shop.test", "notes": text})
    assert customer.status == 201 and customer.body["data"]["notes"] == text
    refused = call_api("POST", "/api/v1/customers", key=tenant.key,
                       json_body={"email": "u@shop.test", "notes": "bell\x07"})
    assert refused.status == 400 and refused.body["details"] == [
        {"field": "notes", "message": "must not contain control characters other than tabs and line breaks"}]


def test_a_body_without_content_type_is_read_as_json(tenant: Tenant) -> None:
    from distribu_api.handler import lambda_handler
    from distribu_local.apigateway import LambdaContext, http_api_event

    event = http_api_event("POST", "/api/v1/products", headers={"authorization": f"Bearer {tenant.key}"},
                           body=json.dumps({"name": "Bare", "price": 1, "stock": 1}),
                           route_key="POST /api/v1/{proxy+}")
    assert lambda_handler(event, LambdaContext(function_name="api"))["statusCode"] == 201


def test_the_parser_never_turns_an_absurd_number_into_a_value() -> None:
    from distribu import jsonbody

    parsed = jsonbody.parse(b'{"a": 1e400000000, "b": NaN, "c": ' + b"9" * 100_000 + b', "d": 12.50, "e": 7}',
                            "application/json")
    assert all(isinstance(parsed[name], jsonbody.UnusableNumber) for name in "abc")
    assert (str(parsed["d"]), parsed["e"]) == ("12.50", 7)


def test_the_idempotency_fingerprint_takes_any_body() -> None:
    from distribu.idempotency import request_fingerprint

    assert len(request_fingerprint("POST", "/api/v1/orders", DEEPER.encode())) == 64
    assert request_fingerprint("POST", "/x", b'{"a": 1, "b": 2}') == request_fingerprint("POST", "/x", b'{"b":2,"a":1}')
