"""/api/v1/exports: a CSV of products, customers, orders or order line items, as a download link."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from distribu.apikeys import ApiKeyContext
from distribu.idempotency import IdempotencyGuard
from distribu_api.lazy import lazy_module
from distribu_api.dependencies import authenticated_key, idempotency_guard, openapi_body, parse_body, respond

exports = lazy_module("distribu.exports")

router = APIRouter(prefix="/exports", tags=["exports"])


@router.post("", status_code=201, response_model=None,
             summary="Export a CSV (products:read, customers:read or orders:read by kind); returns a link valid 1 h",
             openapi_extra=openapi_body("distribu.exports", "ExportRequest"))
async def create_export(request: Request, key: ApiKeyContext = Depends(authenticated_key),
                        guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    data = await parse_body(request, exports.ExportRequest)
    key.require(exports.SCOPES[data.kind])
    return respond(guard, 201, exports.export(key.company_id, data.kind, since=data.since, until=data.until))
