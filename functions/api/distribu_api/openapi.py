"""The OpenAPI document, made to say what the API really does. Built once, when it is first asked for.

FastAPI's own document knows the paths and parameters. This module adds what it cannot know, from the
routes themselves where it can (a route that authenticates can answer 401, 403 and 429; one with a
path id, 404; one that reads a JSON body, 400, 413 and 415; one that honours ``Idempotency-Key``,
also 409 and 422) and from the table below for the rest: each operation's answer and the errors its
domain rules add. Every error is the ``{"error", ...}`` object the API sends. Request bodies come from
the pydantic models the routes parse with; their ``$defs`` become components, so every ``$ref``
resolves. Nothing here is imported by a request other than the document's own.
"""

from __future__ import annotations

import copy
import importlib
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts

from distribu.ids import MAX_ID_LENGTH
from distribu.idempotency import MAX_KEY_LENGTH
from distribu.jsonbody import MAX_BODY_BYTES
from distribu.outbox import EVENT_TYPES
from distribu_api import dependencies

REF = "#/components/schemas/{model}"
ID_PATTERN = f"^[0-9A-Za-z_-]{{1,{MAX_ID_LENGTH}}}$"

ERRORS = {
    400: "The body is not JSON (`Invalid JSON body.`), or a field or parameter failed validation: "
         "`details` names each one.",
    401: "Missing or invalid `Authorization` header, or an unknown, revoked or expired API key.",
    403: "The API key lacks the scope this operation needs (the message names it).",
    404: "Not found, or another company's: the message names what (`Product not found.`, ...).",
    409: "A conflict: a duplicate, a record being changed by someone else right now, or a request with the "
         "same `Idempotency-Key` still in progress. Retrying later may succeed.",
    413: f"The body is larger than {MAX_BODY_BYTES // (1024 * 1024)} MB.",
    415: "The body was not sent as `Content-Type: application/json`.",
    422: "A business rule refused the request, or the `Idempotency-Key` was already used with another request.",
    429: "Rate limit exceeded: wait `retryAfter` seconds (also in `Retry-After`).",
}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(model: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=model)}


def _object(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties,
            "required": [name for name in properties if name not in optional]}


STRING = {"type": "string"}
TIMESTAMP = {"type": "string", "format": "date-time", "description": "ISO 8601 UTC with milliseconds."}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
MONEY = {"type": "number", "description": "Rounded to 2 decimals."}
ORDER_STATUSES = ["SUBMITTED", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"]

# What the API answers, as the domain's to_api functions build it.
SCHEMAS: dict[str, dict[str, Any]] = {
    "Error": {
        "type": "object", "required": ["error"],
        "properties": {
            "error": {"type": "string", "description": "What went wrong, for people."},
            "details": {"type": "array", "items": _object({"field": STRING, "message": STRING}),
                        "description": "Each field or parameter at fault (validation errors)."},
            "retryAfter": {"type": "integer", "minimum": 0, "description": "Seconds to wait (429 only)."},
        },
    },
    "Pagination": _object({"hasMore": BOOLEAN, "nextCursor": _nullable(STRING)}),
    "Product": _object({
        "id": STRING, "name": STRING, "sku": _nullable(STRING), "description": _nullable(STRING),
        "category": _nullable(STRING), "unit": STRING, "price": {"type": "number", "minimum": 0},
        "stock": {"type": "integer", "minimum": 0}, "imageUrl": _nullable(STRING), "isActive": BOOLEAN,
        "lowStockThreshold": _nullable(INTEGER), "createdAt": TIMESTAMP, "updatedAt": TIMESTAMP,
    }),
    "Customer": _object({
        "id": STRING, "email": STRING, "name": _nullable(STRING),
        "status": {"type": "string", "enum": ["ACTIVE", "BLOCKED"]}, "notes": _nullable(STRING),
        "creditLimit": _nullable(NUMBER), "taxRateOverride": _nullable(NUMBER), "emailVerified": BOOLEAN,
        "createdAt": TIMESTAMP, "updatedAt": TIMESTAMP,
    }),
    "OrderItem": _object({"id": STRING, "quantity": {"type": "integer", "minimum": 1}, "unitPrice": NUMBER,
                          "productId": STRING, "productName": STRING, "productSku": _nullable(STRING)}),
    "Order": _object({
        "id": STRING, "status": {"type": "string", "enum": ["SUBMITTED", "CONFIRMED", "SHIPPED", "DELIVERED",
                                                             "CANCELLED"]},
        "poNumber": _nullable(STRING), "notes": _nullable(STRING), "total": NUMBER, "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP, "customerId": _nullable(STRING),
        "shippingAddress": _nullable({"type": "object", "additionalProperties": STRING}),
        "taxRate": _nullable(NUMBER), "items": {"type": "array", "items": _ref("OrderItem")},
    }),
    "PriceOverride": _object({
        "productId": STRING, "customerId": STRING, "price": NUMBER, "productName": _nullable(STRING),
        "productSku": _nullable(STRING), "catalogPrice": _nullable(NUMBER), "differencePercent": _nullable(NUMBER),
        "createdAt": TIMESTAMP, "updatedAt": TIMESTAMP,
    }),
    "Webhook": _object({
        "id": STRING, "url": STRING, "events": {"type": "array", "items": {"type": "string", "enum": list(EVENT_TYPES)}},
        "isActive": BOOLEAN, "secretRotationGraceExpiresAt": _nullable(TIMESTAMP), "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
    }),
    "WebhookWithSecret": {"allOf": [_ref("Webhook"), _object({"secret": {
        "type": "string", "description": "whsec_...: shown by this answer only."}})]},
    "DeliveryAttempt": _object({
        "attempt": INTEGER, "at": TIMESTAMP, "statusCode": _nullable(INTEGER), "error": _nullable(STRING),
        "durationMs": INTEGER, "responseBody": STRING}),
    "Delivery": _object({
        "id": STRING, "webhookId": STRING, "eventId": STRING,
        "event": {"type": "string", "enum": [*EVENT_TYPES, "ping"], "description": "ping: a test event sent from "
                  "the dashboard."},
        "status": {"type": "string", "enum": ["PENDING", "RETRYING", "SUCCEEDED", "DEAD", "SKIPPED", "FAILED"],
                   "description": "FAILED: a test event's only attempt failed (test events are not retried)."},
        "attemptCount": INTEGER, "attempts": {"type": "array", "items": _ref("DeliveryAttempt")},
        "nextRetryAt": _nullable(TIMESTAMP), "deliveredAt": _nullable(TIMESTAMP), "createdAt": TIMESTAMP,
        "updatedAt": TIMESTAMP,
    }),
    "Import": _object({
        "id": STRING, "kind": {"type": "string", "enum": ["products", "customers"]},
        "status": {"type": "string", "enum": ["AWAITING_UPLOAD", "VALIDATING", "READY", "INVALID", "APPLYING",
                                              "APPLIED", "FAILED"]},
        "fileName": _nullable(STRING), "createdAt": TIMESTAMP, "updatedAt": TIMESTAMP,
        "progress": _object({"rowsRead": INTEGER, "totalRows": _nullable(INTEGER), "rowsApplied": INTEGER}),
        "preview": _nullable(_object({name: INTEGER for name in ("rows", "create", "update", "unchanged",
                                                                  "invalid")})),
        "errors": {"type": "array", "items": _object({"row": INTEGER, "field": STRING, "message": STRING})},
        "errorCount": INTEGER, "errorReportUrl": _nullable(STRING),
        "ignoredColumns": {"type": "array", "items": STRING},
        "applied": _nullable(_object({"created": INTEGER, "updated": INTEGER, "unchanged": INTEGER})),
        "appliedAt": _nullable(TIMESTAMP), "failure": _nullable(STRING),
    }),
    "ImportWithUpload": {"allOf": [_ref("Import"), _object({"upload": _object({
        "method": {"type": "string", "enum": ["POST"]}, "url": STRING,
        "fields": {"type": "object", "additionalProperties": STRING}, "maxBytes": INTEGER,
        "expiresAt": TIMESTAMP})})]},
    "Export": _object({"id": STRING, "kind": {"type": "string", "enum": ["products", "customers", "orders",
                                                                         "order-items"]},
                       "rows": INTEGER, "fileName": STRING, "url": STRING, "expiresAt": TIMESTAMP,
                       "createdAt": TIMESTAMP}),
    "ReportRange": _object({
        "from": {**TIMESTAMP, "description": "The first day's start (T00:00:00.000Z)."},
        "to": {**TIMESTAMP, "description": "The last day's end (T23:59:59.999Z)."},
        "preset": {"type": "string", "enum": ["today", "week", "month", "quarter", "year", "all", "custom"],
                   "description": "`custom` when `from` and `to` gave the range."},
        "label": {"type": "string", "description": "For people: `April 2026`, `Q2 2026`, `All time`, ..."}}),
    "SalesReport": _object({
        "range": _ref("ReportRange"),
        "totals": _object({"orderCount": INTEGER, "revenue": MONEY, "averageOrderValue": MONEY}),
        "daily": {"type": "array", "description": "One entry per UTC day of the range, oldest first, zeros included.",
                  "items": _object({"date": {"type": "string", "format": "date"}, "orderCount": INTEGER,
                                    "revenue": MONEY})},
        "byStatus": {"type": "array", "description": "All five statuses, in lifecycle order, zeros included.",
                     "items": _object({"status": {"type": "string", "enum": ORDER_STATUSES},
                                       "orderCount": INTEGER, "revenue": MONEY})}}),
    "CustomerSpendReport": _object({
        "range": _ref("ReportRange"),
        "totals": _object({"customerCount": INTEGER, "orderCount": INTEGER, "revenue": MONEY}),
        "customers": {"type": "array", "description": "Customers with orders in the range (orders placed for no "
                                                      "customer are not here), highest revenue first, ties by email.",
                      "items": _object({"customerId": STRING, "email": STRING, "name": _nullable(STRING),
                                        "orderCount": INTEGER, "revenue": MONEY, "lastOrderAt": TIMESTAMP})}}),
    "InventoryReport": _object({
        "asOf": {**TIMESTAMP, "description": "When the figures were last brought up to date."},
        "totals": _object({"productCount": INTEGER, "units": INTEGER, "value": MONEY}),
        "byCategory": {"type": "array", "description": "Highest value first; `category` null for products without one.",
                       "items": _object({"category": _nullable(STRING), "productCount": INTEGER, "units": INTEGER,
                                         "value": MONEY})},
        "products": {"type": "array", "description": "This page's products, highest value (stock x price) first.",
                     "items": _object({"productId": STRING, "name": STRING, "sku": _nullable(STRING),
                                       "category": _nullable(STRING), "stock": INTEGER, "price": MONEY,
                                       "value": MONEY})}}),
    "StockRowResult": _object({
        "productId": STRING, "result": {"type": "string", "enum": ["updated", "unchanged", "not_found"]},
        "previousStock": {"type": "integer", "minimum": 0}, "stock": {"type": "integer", "minimum": 0},
        "clamped": {"type": "boolean", "description": "The result was below 0 and is 0."},
        "error": {"type": "string", "description": "`Product not found.` (not_found rows only)."},
    }, optional=("previousStock", "stock", "clamped", "error")),
    "BulkStockResult": _object({
        "mode": {"type": "string", "enum": ["set", "delta"]}, "updated": INTEGER, "unchanged": INTEGER,
        "notFound": INTEGER, "items": {"type": "array", "items": _ref("StockRowResult")},
    }),
    "Deleted": _object({"id": STRING, "deleted": {"type": "boolean", "enum": [True]}}),
    "PriceDeleted": _object({"customerId": STRING, "productId": STRING, "deleted": {"type": "boolean", "enum": [True]}}),
}


def one(model: str) -> dict[str, Any]:
    return _object({"data": _ref(model)})


def listing(model: str) -> dict[str, Any]:
    return _object({"data": {"type": "array", "items": _ref(model)}, "pagination": _ref("Pagination")})


def unpaged(model: str) -> dict[str, Any]:
    return _object({"data": {"type": "array", "items": _ref(model)}})


# Per route (by its endpoint's name): the success status and body, and the errors its domain rules add
# beyond those the route's shape implies.
OPERATIONS: dict[str, tuple[int, dict[str, Any], dict[int, str]]] = {
    "list_products": (200, listing("Product"), {}),
    "get_product": (200, one("Product"), {}),
    "create_product": (201, one("Product"), {409: "`A product with this SKU already exists.`"}),
    "update_product": (200, one("Product"), {409: "The SKU is taken, or the product is being changed right now."}),
    "delete_product": (200, one("Deleted"), {409: "The product is being changed right now."}),
    "adjust_stock": (200, one("BulkStockResult"), {409: "The products kept changing while they were adjusted; "
                                                         "retry."}),
    "list_orders": (200, listing("Order"), {}),
    "get_order": (200, one("Order"), {}),
    "create_order": (201, one("Order"), {
        404: "`Customer not found.`",
        409: "Prices or stock were changing while the order was placed; retry.",
        422: "Not enough stock, a product missing or inactive, a blocked customer."}),
    "update_order": (200, one("Order"), {409: "The order is being changed right now.",
                                         422: "Not a legal status move (`Cannot change order status from ...`)."}),
    "list_customers": (200, listing("Customer"), {}),
    "get_customer": (200, one("Customer"), {}),
    "create_customer": (201, one("Customer"), {409: "`A customer with this email already exists.`"}),
    "update_customer": (200, one("Customer"), {409: "The email is taken, or the customer is being changed."}),
    "list_prices": (200, unpaged("PriceOverride"), {}),
    "set_price": (200, one("PriceOverride"), {}),
    "delete_price": (200, one("PriceDeleted"), {}),
    "list_webhooks": (200, listing("Webhook"), {}),
    "get_webhook": (200, one("Webhook"), {}),
    "create_webhook": (201, one("WebhookWithSecret"), {422: "A company can have at most 10 webhooks."}),
    "update_webhook": (200, one("Webhook"), {409: "The webhook is being changed right now."}),
    "delete_webhook": (200, one("Deleted"), {}),
    "rotate_secret": (200, one("WebhookWithSecret"), {409: "The webhook is being changed right now."}),
    "list_deliveries": (200, listing("Delivery"), {}),
    "replay_delivery": (202, one("Delivery"), {422: "This webhook is disabled: enable it to replay a delivery."}),
    "create_import": (201, one("ImportWithUpload"), {}),
    "get_import": (200, one("Import"), {}),
    "apply_import": (202, one("Import"), {409: "The import is being changed right now.",
                                          422: "The import is not READY (invalid, failed, not uploaded, ...)."}),
    "create_export": (201, one("Export"), {}),
    "sales_report": (200, one("SalesReport"), {400: "A bad `preset`, `from` or `to`, or `from` after `to`."}),
    "customer_spend_report": (200, one("CustomerSpendReport"),
                              {400: "A bad `preset`, `from` or `to`, or `from` after `to`."}),
    "inventory_report": (200, _object({"data": _ref("InventoryReport"), "pagination": _ref("Pagination")}), {}),
}


def _calls(dependant: Any) -> set[Any]:
    found: set[Any] = set()
    for sub in dependant.dependencies:
        found.add(sub.call)
        found |= _calls(sub)
    return found


def _statuses(route: APIRoute, dependant: Any, operation: dict[str, Any]) -> set[int]:
    """The errors a route's shape implies."""
    calls = _calls(dependant)
    statuses: set[int] = set()
    if dependencies.authenticated_key in calls:
        statuses |= {401, 403, 429}
    if dependant.path_params:
        statuses.add(404)
    if dependencies.page_params in calls:
        statuses.add(400)  # an invalid cursor
    if "requestBody" in operation:
        statuses |= {400, 413, 415}
    if dependencies.idempotency_guard in calls:
        statuses |= {400, 409, 413, 415, 422}
    return statuses


def _body_schema(marker: str, components: dict[str, Any]) -> dict[str, Any]:
    """A route's body model as JSON Schema, its nested models moved to components (so ``$ref``s resolve)."""
    module, name = marker.split(":")
    model = getattr(importlib.import_module(module), name)
    schema = model.model_json_schema(ref_template=REF)
    for nested, definition in schema.pop("$defs", {}).items():
        components.setdefault(nested, definition)
    _refuse_null_where_required(model, schema)
    components[name] = schema
    return _ref(name)


def _refuse_null_where_required(model: Any, schema: dict[str, Any]) -> None:
    """A PATCH body may leave any field out, but the fields a record cannot do without refuse ``null``:
    say so (their schema loses its null branch and its null default)."""
    for field_name in getattr(model, "REQUIRED", ()):
        prop = schema.get("properties", {}).get(field_name)
        if not prop:
            continue
        branches = [branch for branch in prop.get("anyOf", []) if branch.get("type") != "null"]
        if len(branches) == 1:
            extra = {key: value for key, value in prop.items() if key not in ("anyOf", "default")}
            prop.clear()
            prop.update({**branches[0], **extra})
        prop.pop("default", None)
        prop["description"] = (prop.get("description", "") + " May be left out, not set to null.").strip()


def finish(document: dict[str, Any], app: Any) -> dict[str, Any]:
    """FastAPI's document, completed (see the module's docstring)."""
    document = copy.deepcopy(document)
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    schemas.update(copy.deepcopy(SCHEMAS))
    components["securitySchemes"] = {"bearerAuth": {
        "type": "http", "scheme": "bearer", "bearerFormat": "dk_...",
        "description": "An API key: `Authorization: Bearer dk_...`. Its scopes decide what it may do."}}

    routes = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema:
            routes[(context.path_format, frozenset(route.methods))] = (route, context.dependant)
    for path, operations in document.get("paths", {}).items():
        for method, operation in operations.items():
            route, dependant = next(found for (template, methods), found in routes.items()
                                    if template == path and method.upper() in methods)
            status, body, domain_errors = OPERATIONS[route.name]
            _describe(operation, route, dependant, status, body, domain_errors, schemas)
    return document


def _describe(operation: dict[str, Any], route: APIRoute, dependant: Any, status: int, body: dict[str, Any],
              domain_errors: dict[int, str], schemas: dict[str, Any]) -> None:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content and dependencies.MODEL_MARKER in content.get("schema", {}):
        content["schema"] = _body_schema(content["schema"][dependencies.MODEL_MARKER], schemas)
    calls = _calls(dependant)
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path":
            parameter["schema"] = {"type": "string", "pattern": ID_PATTERN, "maxLength": MAX_ID_LENGTH}
            parameter["description"] = "An id as the API gave it; any other is answered 404."
    if dependencies.idempotency_guard in calls:
        operation.setdefault("parameters", []).append({
            "name": "Idempotency-Key", "in": "header", "required": False,
            "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
            "description": "The first response is kept 24 hours and replayed for a retry with the same key."})
    if dependencies.authenticated_key in calls:
        operation["security"] = [{"bearerAuth": []}]
    responses: dict[str, Any] = {str(status): {"description": "OK" if status < 201 else "Created" if status == 201
                                               else "Accepted", "content": {"application/json": {"schema": body}}}}
    for code in sorted(_statuses(route, dependant, operation) | set(domain_errors)):
        description = ERRORS[code] + (f" Here: {domain_errors[code]}" if code in domain_errors else "")
        responses[str(code)] = {"description": description,
                                "content": {"application/json": {"schema": _ref("Error")}}}
        if code == 429:
            responses[str(code)]["headers"] = {"Retry-After": {"schema": {"type": "integer"},
                                                               "description": "Seconds to wait."}}
    operation["responses"] = responses
