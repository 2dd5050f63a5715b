"""Request dependencies: API-key authentication with scopes, pagination, JSON bodies.

Dependencies and routes are ``async`` although boto3 blocks: a Lambda container serves one request at
a time, so blocking the loop costs nothing, while sync functions would each hop to a worker thread.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from fastapi import Depends, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from distribu import apikeys, ids, jsonbody, pagination, validation
from distribu.apikeys import ApiKeyContext
from distribu.errors import NotFound
from distribu.idempotency import AlsoWrite, IdempotencyGuard, request_fingerprint

Model = TypeVar("Model", bound=BaseModel)


async def authenticated_key(request: Request) -> ApiKeyContext:
    """One round trip: key lookup, status/expiry check and rate-limit count together."""
    context = apikeys.authenticate(apikeys.bearer_key(request.headers.get("authorization")))
    request.state.rate_limit = (context.limit, context.remaining, context.reset_seconds)
    return context


def require_scope(scope: str) -> Callable[..., ApiKeyContext]:
    async def dependency(key: ApiKeyContext = Depends(authenticated_key)) -> ApiKeyContext:
        key.require(scope)
        return key

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


# The 404 of each path parameter, as the domain module that looks the id up words it.
NOT_FOUND_BY_PATH_PARAMETER = {
    "product_id": "Product not found.", "customer_id": "Customer not found.", "order_id": "Order not found.",
    "webhook_id": "Webhook not found.", "delivery_id": "Delivery not found.", "import_id": "Import not found.",
}


async def path_ids_that_can_exist(request: Request) -> None:
    """Every route's path ids, before anything else runs (authentication included): an id that cannot be
    one of ours is answered as missing without a DynamoDB call (whose key-size error would be a 500)."""
    for name, value in request.path_params.items():
        if not ids.could_exist(value):
            raise NotFound(NOT_FOUND_BY_PATH_PARAMETER.get(name, "Not found."))


class PageParams(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built by the first list request, not by every cold start

    limit: int
    cursor: str | None


async def page_params(
    limit: str | None = Query(None, description="1-100, default 50; out-of-range values are clamped."),
    cursor: str | None = Query(None, description="Opaque; the previous page's nextCursor."),
) -> PageParams:
    return PageParams(limit=pagination.clamp_limit(limit), cursor=cursor or None)


_UNREAD = object()


async def read_json(request: Request) -> Any:
    """The body by the API's one set of body rules (:mod:`distribu.jsonbody`: 413, 415, 400), numbers as
    Decimal so money never passes through a binary float. Parsed once per request."""
    parsed = getattr(request.state, "json_body", _UNREAD)
    if parsed is _UNREAD:
        parsed = jsonbody.parse(await request.body(), request.headers.get("content-type"))
        request.state.json_body = parsed
    return parsed


async def parse_body(request: Request, model: type[Model]) -> Model:
    return validation.parse(model, await read_json(request))


MODEL_MARKER = "x-distribu-model"


def openapi_body(module: str, model: str) -> dict[str, Any]:
    """Documents a body that the route parses itself (after authentication, not before). The schema is
    filled in when the OpenAPI document is first built (distribu_api.openapi), so importing a router does
    not load its models."""
    return {"requestBody": {"required": True,
                            "content": {"application/json": {"schema": {MODEL_MARKER: f"{module}:{model}"}}}}}


def listing(page: pagination.Page) -> dict[str, Any]:
    return {"data": page.items, "pagination": {"hasMore": page.has_more, "nextCursor": page.next_cursor}}


async def idempotency_guard(request: Request,
                            key: ApiKeyContext = Depends(authenticated_key)) -> IdempotencyGuard | None:
    """Honours ``Idempotency-Key`` on POST and PATCH: replays, 409 while in flight, 422 on reuse."""
    header = request.headers.get("idempotency-key")
    if header is None or request.method not in ("POST", "PATCH"):
        return None
    if await request.body():
        await read_json(request)  # a body the route would refuse is refused before the key is taken
    guard = IdempotencyGuard(key.company_id, key.key_id, header,
                             request_fingerprint(request.method, request.url.path, await request.body()))
    guard.acquire()
    request.state.idempotency = guard
    return guard


def record_with(guard: IdempotencyGuard | None, status: int) -> AlsoWrite | None:
    """Transaction items that finish the idempotency key inside the change's own write."""
    return guard.recorder(status) if guard else None


def respond(guard: IdempotencyGuard | None, status: int, resource: Any) -> JSONResponse:
    body = {"data": resource}
    if guard:
        guard.finish(status, body)
    return JSONResponse(status_code=status, content=body)
