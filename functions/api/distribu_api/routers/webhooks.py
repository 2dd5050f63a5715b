"""/api/v1/webhooks, their secret rotation and delivery log"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from distribu.apikeys import ApiKeyContext
from distribu.idempotency import IdempotencyGuard
from distribu_api.lazy import lazy_module
from distribu_api.dependencies import (PageParams, idempotency_guard, listing, openapi_body, page_params,
                                       parse_body, record_with, require_scope, respond)

webhooks = lazy_module("distribu.webhooks")

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.get("", response_model=None, summary="List every webhook (at most 10, no pagination)")
async def list_webhooks(key: ApiKeyContext = Depends(require_scope("webhooks:read"))) -> dict[str, Any]:
    return {"data": webhooks.list_webhooks(key.company_id), "pagination": {"hasMore": False, "nextCursor": None}}


@router.get("/{webhook_id}", response_model=None, summary="Get one webhook (never its secret)")
async def get_webhook(webhook_id: str, key: ApiKeyContext = Depends(require_scope("webhooks:read"))) -> dict[str, Any]:
    return {"data": webhooks.to_api(webhooks.get_item(key.company_id, webhook_id))}


@router.post("", status_code=201, response_model=None, summary="Create a webhook; the response holds its secret, once",
             openapi_extra=openapi_body("distribu.webhooks", "WebhookCreate"))
async def create_webhook(request: Request, key: ApiKeyContext = Depends(require_scope("webhooks:write")),
                         guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    data = await parse_body(request, webhooks.WebhookCreate)
    return respond(guard, 201, webhooks.create_webhook(key.company_id, data, key.actor(),
                                                       also_write=record_with(guard, 201)))


@router.patch("/{webhook_id}", response_model=None, summary="Change url, events or isActive",
              openapi_extra=openapi_body("distribu.webhooks", "WebhookUpdate"))
async def update_webhook(webhook_id: str, request: Request,
                         key: ApiKeyContext = Depends(require_scope("webhooks:write")),
                         guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    data = await parse_body(request, webhooks.WebhookUpdate)
    return respond(guard, 200, webhooks.update_webhook(key.company_id, webhook_id, data.changes(), key.actor(),
                                                       also_write=record_with(guard, 200)))


@router.delete("/{webhook_id}", response_model=None, summary="Delete a webhook")
async def delete_webhook(webhook_id: str,
                         key: ApiKeyContext = Depends(require_scope("webhooks:write"))) -> dict[str, Any]:
    webhooks.delete_webhook(key.company_id, webhook_id, key.actor())
    return {"data": {"id": webhook_id, "deleted": True}}


@router.post("/{webhook_id}/rotate-secret", response_model=None,
             summary="Issue a new secret; the old one also signs for 24 hours")
async def rotate_secret(webhook_id: str, key: ApiKeyContext = Depends(require_scope("webhooks:write")),
                        guard: IdempotencyGuard | None = Depends(idempotency_guard)) -> JSONResponse:
    return respond(guard, 200, webhooks.rotate_secret(key.company_id, webhook_id, key.actor(),
                                                      also_write=record_with(guard, 200)))


@router.get("/{webhook_id}/deliveries", response_model=None, summary="The delivery log, newest first")
async def list_deliveries(webhook_id: str, page: PageParams = Depends(page_params),
                          key: ApiKeyContext = Depends(require_scope("webhooks:read"))) -> dict[str, Any]:
    return listing(webhooks.list_deliveries(key.company_id, webhook_id, limit=page.limit, cursor=page.cursor))


@router.post("/{webhook_id}/deliveries/{delivery_id}/replay", response_model=None, status_code=202,
             summary="Send a delivery again (same event, same X-Webhook-Id); audited")
async def replay_delivery(webhook_id: str, delivery_id: str,
                          key: ApiKeyContext = Depends(require_scope("webhooks:write"))) -> JSONResponse:
    return JSONResponse(status_code=202, content={"data": webhooks.replay_delivery(key.company_id, webhook_id,
                                                                                   delivery_id, key.actor())})
