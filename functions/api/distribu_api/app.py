"""The FastAPI application: routers, error mapping and rate-limit headers."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, FastAPI

from distribu_api import errors
from distribu_api.dependencies import path_ids_that_can_exist
from distribu_api.lazy import IncludeRoutersOnDemand, LazyRouters

API_PREFIX = "/api/v1"
ROUTERS = {resource: f"distribu_api.routers.{resource}"
           for resource in ("products", "orders", "customers", "reports", "webhooks", "imports", "exports")}
DOCS_ROUTER = "distribu_api.routers.docs"  # Swagger UI at /api/v1/docs, loaded like a resource's router


def security_headers(scope: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """On every answer: no content sniffing. On answers to a request with credentials: no caching (a
    webhook's secret, customer lists) by a browser or any proxy on the way."""
    headers = [(b"x-content-type-options", b"nosniff")]
    if any(name == b"authorization" for name, _ in scope.get("headers", [])):
        headers.append((b"cache-control", b"no-store"))
    return headers


class ResponseHeaders:
    """Adds :func:`security_headers` to every response and ``RateLimit-*`` to those of an authenticated
    request (pure ASGI, no buffering)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in security_headers(scope) if name not in names]
                rate = scope.get("state", {}).get("rate_limit")
                if rate and b"ratelimit-limit" not in names:
                    limit, remaining, reset = rate
                    headers += [(b"ratelimit-limit", str(limit).encode()),
                                (b"ratelimit-remaining", str(remaining).encode()),
                                (b"ratelimit-reset", str(reset).encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def in_resource_order(document: dict[str, Any]) -> dict[str, Any]:
    """Paths grouped as ``ROUTERS`` lists them, whichever router a request happened to include first."""
    order = {f"{API_PREFIX}/{resource}": position for position, resource in enumerate(ROUTERS)}

    def position(path: str) -> int:
        return order.get("/".join(path.split("/")[:4]), len(order))

    document["paths"] = dict(sorted(document.get("paths", {}).items(), key=lambda entry: position(entry[0])))
    return document


def create_app(logger: Any) -> FastAPI:
    app = FastAPI(
        title="Distribu API",
        version="1.0.0",
        description="B2B wholesale: products, orders, customers, reports and webhooks. "
                    "Authenticate with `Authorization: Bearer dk_...`.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,  # /api/v1/docs is routers/docs.py: Swagger UI from vendored assets, not a CDN
        redoc_url=None,
        # A trailing slash is a path we do not serve (a JSON 404), never a redirect: Starlette builds the
        # redirect's absolute URL from the request's Host header, which the client chooses.
        redirect_slashes=False,
    )
    errors.install(app, logger)
    routers = app.state.routers = LazyRouters(app, API_PREFIX, {**ROUTERS, "docs": DOCS_ROUTER},
                                              dependencies=[Depends(path_ids_that_can_exist)])
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            from distribu_api import openapi as document  # only when the document is asked for

            routers.include_all()
            app.openapi_schema = document.finish(in_resource_order(build_openapi()), app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.add_middleware(ResponseHeaders)
    app.add_middleware(IncludeRoutersOnDemand, routers=routers)
    return app
