"""The FastAPI application: routers, error mapping and rate-limit headers."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from distribu_api import errors
from distribu_api.dependencies import resolve_body_schemas
from distribu_api.routers import customers, exports, imports, orders, products, webhooks

API_PREFIX = "/api/v1"


class RateLimitHeaders:
    """Adds ``RateLimit-*`` to every response of an authenticated request (pure ASGI, no buffering)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                rate = scope.get("state", {}).get("rate_limit")
                if rate:
                    headers = list(message.get("headers", []))
                    names = {name.lower() for name, _ in headers}
                    if b"ratelimit-limit" not in names:
                        limit, remaining, reset = rate
                        headers += [(b"ratelimit-limit", str(limit).encode()),
                                    (b"ratelimit-remaining", str(remaining).encode()),
                                    (b"ratelimit-reset", str(reset).encode())]
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(logger: Any) -> FastAPI:
    app = FastAPI(
        title="Distribu API",
        version="1.0.0",
        description="B2B wholesale: products, orders, customers, reports and webhooks. "
                    "Authenticate with `Authorization: Bearer dk_...`.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    errors.install(app, logger)
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = resolve_body_schemas(build_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    for router in (products.router, orders.router, customers.router, webhooks.router, imports.router,
                   exports.router):
        app.include_router(router, prefix=API_PREFIX)
    app.add_middleware(RateLimitHeaders)
    return app
