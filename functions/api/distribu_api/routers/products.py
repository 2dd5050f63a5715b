"""/api/v1/products"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from distribu.apikeys import ApiKeyContext
from distribu.idempotency import IdempotencyGuard
from distribu_api.lazy import lazy_module
from distribu_api.dependencies import (PageParams, idempotency_guard, listing, openapi_body, page_params,
                                       parse_body, record_with, require_scope, respond)

catalog = lazy_module("distribu.catalog")
inventory = lazy_module("distribu.inventory")

router = APIRouter(prefix="/products", tags=["products"])


def _active_filter(raw: str | None) -> bool | None:
    return {"true": True, "false": False}.get((raw or "").strip().lower())


@router.get("", response_model=None, summary="List products, newest first")
async def list_products(
    page: PageParams = Depends(page_params),
    category: str | None = Query(None, description="Exact category."),
    search: str | None = Query(None, description="Case-insensitive substring of name, SKU or category."),
    active: str | None = Query(None, description="true or false; other values are ignored."),
    key: ApiKeyContext = Depends(require_scope("products:read")),
) -> dict[str, Any]:
    result = catalog.list_products(key.company_id, limit=page.limit, cursor=page.cursor, category=category,
                                   search=search, active=_active_filter(active))
    return listing(result)


@router.post("/stock", response_model=None, summary="Set or adjust the stock of up to 100 products",
             description="`set`: each row's stock becomes its `value`; `delta`: each row's stock changes by its "
                         "`value` and a result below 0 is clamped to 0. Every changed product gets a "
                         "`product.updated` event (and `product.low_stock` when it crosses its threshold); the "
                         "request writes one `ProductBulkUpdated` audit entry. A product that is missing or "
                         "another company's is reported per row as `not_found`; the others are still changed. "
                         "Up to 48 rows commit in one transaction; larger requests commit in chunks of 48, and with an "
                         "`Idempotency-Key` a retry of a request that failed half-way applies only the rows not yet "
                         "applied.",
             openapi_extra=openapi_body("distribu.inventory", "BulkStockChange"))
async def adjust_stock(request: Request, key: ApiKeyContext = Depends(require_scope("products:write")),
                       guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    data = await parse_body(request, inventory.BulkStockChange)
    result = inventory.adjust_stock_in_bulk(key.company_id, data, key.actor(), also_write=record_with(guard, 200),
                                            resume_key=f"{guard.sk}#{guard.fingerprint}" if guard else None)
    return respond(guard, 200, result.to_api())


@router.get("/{product_id}", response_model=None, summary="Get one product")
async def get_product(product_id: str,
                      key: ApiKeyContext = Depends(require_scope("products:read"))) -> dict[str, Any]:
    return {"data": catalog.get_product(key.company_id, product_id)}


@router.post("", status_code=201, response_model=None, summary="Create a product",
             openapi_extra=openapi_body("distribu.catalog", "ProductCreate"))
async def create_product(request: Request, key: ApiKeyContext = Depends(require_scope("products:write")),
                         guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    data = await parse_body(request, catalog.ProductCreate)
    product = catalog.create_product(key.company_id, data, key.actor(), also_write=record_with(guard, 201))
    return respond(guard, 201, product)


@router.patch("/{product_id}", response_model=None, summary="Update any fields of a product, stock included",
              openapi_extra=openapi_body("distribu.catalog", "ProductUpdate"))
async def update_product(product_id: str, request: Request,
                         key: ApiKeyContext = Depends(require_scope("products:write")),
                         guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    data = await parse_body(request, catalog.ProductUpdate)
    product = catalog.update_product(key.company_id, product_id, data.changes(), key.actor(),
                                     also_write=record_with(guard, 200))
    return respond(guard, 200, product)


@router.delete("/{product_id}", response_model=None, summary="Delete a product (and its customers' custom prices)")
async def delete_product(product_id: str,
                         key: ApiKeyContext = Depends(require_scope("products:write"))) -> dict[str, Any]:
    catalog.delete_product(key.company_id, product_id, key.actor())
    return {"data": {"id": product_id, "deleted": True}}
