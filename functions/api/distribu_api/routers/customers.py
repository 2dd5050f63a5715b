"""/api/v1/customers and their price overrides"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from distribu.apikeys import ApiKeyContext
from distribu.idempotency import IdempotencyGuard
from distribu_api.lazy import lazy_module
from distribu_api.dependencies import (PageParams, idempotency_guard, listing, openapi_body, page_params,
                                       parse_body, record_with, require_scope, respond)

customers = lazy_module("distribu.customers")
pricing = lazy_module("distribu.pricing")

router = APIRouter(prefix="/customers", tags=["customers"])


@router.get("", response_model=None, summary="List customers, newest first")
async def list_customers(
    page: PageParams = Depends(page_params),
    status: str | None = Query(None, description="ACTIVE or BLOCKED."),
    search: str | None = Query(None, description="Case-insensitive substring of email or name."),
    key: ApiKeyContext = Depends(require_scope("customers:read")),
) -> dict[str, Any]:
    return listing(customers.list_customers(key.company_id, limit=page.limit, cursor=page.cursor, status=status,
                                            search=search))


@router.get("/{customer_id}", response_model=None, summary="Get one customer")
async def get_customer(customer_id: str,
                       key: ApiKeyContext = Depends(require_scope("customers:read"))) -> dict[str, Any]:
    return {"data": customers.get_customer(key.company_id, customer_id)}


@router.post("", status_code=201, response_model=None, summary="Create a customer",
             openapi_extra=openapi_body("distribu.customers", "CustomerCreate"))
async def create_customer(request: Request, key: ApiKeyContext = Depends(require_scope("customers:write")),
                          guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    data = await parse_body(request, customers.CustomerCreate)
    customer = customers.create_customer(key.company_id, data, key.actor(), also_write=record_with(guard, 201))
    return respond(guard, 201, customer)


@router.patch("/{customer_id}", response_model=None, summary="Update a customer",
              openapi_extra=openapi_body("distribu.customers", "CustomerUpdate"))
async def update_customer(customer_id: str, request: Request,
                          key: ApiKeyContext = Depends(require_scope("customers:write")),
                          guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    data = await parse_body(request, customers.CustomerUpdate)
    customer = customers.update_customer(key.company_id, customer_id, data.changes(), key.actor(),
                                         also_write=record_with(guard, 200))
    return respond(guard, 200, customer)


@router.get("/{customer_id}/prices", response_model=None, summary="The customer's custom prices")
async def list_prices(customer_id: str,
                      key: ApiKeyContext = Depends(require_scope("customers:read"))) -> dict[str, Any]:
    customers.get_item(key.company_id, customer_id)
    return {"data": pricing.list_overrides(key.company_id, customer_id)}


@router.put("/{customer_id}/prices/{product_id}", response_model=None, summary="Set a custom price",
            openapi_extra=openapi_body("distribu.pricing", "PriceOverrideSet"))
async def set_price(customer_id: str, product_id: str, request: Request,
                    key: ApiKeyContext = Depends(require_scope("customers:write"))) -> dict[str, Any]:
    data = await parse_body(request, pricing.PriceOverrideSet)
    return {"data": pricing.set_override(key.company_id, customer_id, product_id, data.price, key.actor())}


@router.delete("/{customer_id}/prices/{product_id}", response_model=None, summary="Remove a custom price")
async def delete_price(customer_id: str, product_id: str,
                       key: ApiKeyContext = Depends(require_scope("customers:write"))) -> dict[str, Any]:
    pricing.delete_override(key.company_id, customer_id, product_id, key.actor())
    return {"data": {"customerId": customer_id, "productId": product_id, "deleted": True}}
