"""/api/v1/orders"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from distribu.apikeys import ApiKeyContext
from distribu.errors import ValidationError
from distribu.idempotency import IdempotencyGuard
from distribu_api.lazy import lazy_module
from distribu_api.dependencies import (PageParams, idempotency_guard, listing, openapi_body, page_params,
                                       read_json, record_with, require_scope, respond)

orders = lazy_module("distribu.orders")

router = APIRouter(prefix="/orders", tags=["orders"])


@router.get("", response_model=None, summary="List orders, newest first")
async def list_orders(
    page: PageParams = Depends(page_params),
    status: str | None = Query(None, description="SUBMITTED, CONFIRMED, SHIPPED, DELIVERED or CANCELLED."),
    customerId: str | None = Query(None),
    since: str | None = Query(None, description="ISO 8601 date or datetime, inclusive."),
    until: str | None = Query(None, description="ISO 8601 date or datetime, inclusive (a date: the whole day)."),
    key: ApiKeyContext = Depends(require_scope("orders:read")),
) -> dict[str, Any]:
    if status and status.strip().upper() not in orders.STATUSES:
        raise ValidationError("Invalid order status.")
    return listing(orders.list_orders(key.company_id, limit=page.limit, cursor=page.cursor, status=status,
                                      customer_id=customerId, since=since, until=until))


@router.get("/{order_id}", response_model=None, summary="Get one order")
async def get_order(order_id: str, key: ApiKeyContext = Depends(require_scope("orders:read"))) -> dict[str, Any]:
    return {"data": orders.get_order(key.company_id, order_id)}


@router.post("", status_code=201, response_model=None,
             summary="Place an order (at most 95 different products: one DynamoDB transaction)",
             openapi_extra=openapi_body("distribu.orders", "OrderCreateSchema"))
async def create_order(request: Request, key: ApiKeyContext = Depends(require_scope("orders:write")),
                       guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    order_request = orders.parse_order_request(await read_json(request), customer_required=True)
    order = orders.place_order(key.company_id, order_request, key.actor(), source="API",
                               also_write=record_with(guard, 201))
    return respond(guard, 201, order)


@router.patch("/{order_id}", response_model=None, summary="Move an order to another status",
              openapi_extra=openapi_body("distribu.orders", "OrderStatusChange"))
async def update_order(order_id: str, request: Request, key: ApiKeyContext = Depends(require_scope("orders:write")),
                       guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    status = orders.parse_status(await read_json(request))
    order = orders.change_status(key.company_id, order_id, status, key.actor(), also_write=record_with(guard, 200))
    return respond(guard, 200, order)
