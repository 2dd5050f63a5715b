"""/api/v1/imports: presigned upload -> preview (by the csv_import function) -> apply."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from distribu.apikeys import ApiKeyContext
from distribu.idempotency import IdempotencyGuard
from distribu_api.lazy import lazy_module
from distribu_api.dependencies import (authenticated_key, idempotency_guard, openapi_body, parse_body,
                                       record_with, respond)

imports = lazy_module("distribu.imports")

router = APIRouter(prefix="/imports", tags=["imports"])


@router.post("", status_code=201, response_model=None,
             summary="Start a CSV import: returns a presigned POST to upload the file to (scope by kind)",
             openapi_extra=openapi_body("distribu.imports", "ImportCreate"))
async def create_import(request: Request, key: ApiKeyContext = Depends(authenticated_key),
                        guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    data = await parse_body(request, imports.ImportCreate)
    key.require(imports.SCOPES[data.kind])
    view = imports.create_import(key.company_id, data.kind, key.actor(), file_name=data.fileName,
                                 also_write=record_with(guard, 201))
    return respond(guard, 201, view)


@router.get("/{import_id}", response_model=None, summary="An import's status, progress, preview and problems")
async def get_import(import_id: str, key: ApiKeyContext = Depends(authenticated_key)) -> dict[str, Any]:
    item = imports.get_item(key.company_id, import_id)
    key.require(imports.SCOPES[item["kind"]])
    return {"data": imports.to_api(item)}


@router.post("/{import_id}/apply", status_code=202, response_model=None,
             summary="Apply a previewed import, all rows or none (runs in the background; poll the import)")
async def apply_import(import_id: str, key: ApiKeyContext = Depends(authenticated_key),
                       guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    item = imports.get_item(key.company_id, import_id)
    key.require(imports.SCOPES[item["kind"]])
    view = imports.request_apply(key.company_id, import_id, key.actor(), also_write=record_with(guard, 202))
    return respond(guard, 202, view)
