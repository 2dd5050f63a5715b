"""The Starlette application of a page function: routes, security headers, static files, error pages.

Starlette, not FastAPI: pages need no OpenAPI document, and FastAPI's import costs ~170 ms of every
cold start. Endpoints are ``async``: a Lambda container serves one request at a time, so blocking
calls cost nothing, while sync endpoints would start a thread pool on the first request.
"""

from __future__ import annotations

import hashlib
import logging
import mimetypes
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from distribu.errors import DomainError, Forbidden, NotFound
from distribu.web import security
from distribu.web.page import SignInRequired

STATIC = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"

logger = logging.getLogger("distribu.web")


@lru_cache(maxsize=1)
def static_version() -> str:
    """A short hash of every static file: URLs change when any asset does, so they can be cached forever."""
    digest = hashlib.sha256()
    for path in sorted(STATIC.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:10]


def static_route(prefix: str) -> Route:
    """``{prefix}/{version}/{file}``: a vendored asset (Pico CSS, htmx, our CSS/JS) with long caching."""

    async def serve(request: Request) -> Response:
        name = request.path_params["name"]
        path = (STATIC / name).resolve()
        if STATIC.resolve() not in path.parents or not path.is_file():
            return Response("Not found", status_code=404, media_type="text/plain")
        media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        fresh = request.path_params["version"] == static_version()
        return Response(path.read_bytes(), media_type=media_type,
                        headers={"cache-control": IMMUTABLE if fresh else "no-cache"})

    return Route(prefix + "/{version}/{name:path}", serve, methods=["GET"])


class SecurityHeaders:
    """Adds the CSP and the other security headers to every response (pure ASGI, no buffering)."""

    def __init__(self, app: Any, csp: Callable[[], str]) -> None:
        self.app = app
        self.csp = csp

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = security.security_headers(self.csp())

        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": list(message.get("headers", [])) + headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ErrorPages:
    """Domain errors that escape a page, and every unexpected error, become a page a person can read:
    ``NotFound`` 404, ``Forbidden`` 403, other domain errors their status with the message, anything
    else 500 (logged with its traceback)."""

    def __init__(self, app: Any, env: Callable[[], Environment], context: Callable[[Request], dict[str, Any]]) -> None:
        self.app = app
        self.env = env
        self.context = context

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as error:  # noqa: BLE001 - every error must become a page
            if started:
                raise
            response = self.page_for(Request(scope), error)
            await response(scope, receive, send)

    def page_for(self, request: Request, error: Exception) -> Response:
        if isinstance(error, NotFound):
            status, template = 404, "errors/404.html"
        elif isinstance(error, Forbidden):
            status, template = 403, "errors/403.html"
        elif isinstance(error, DomainError):
            status, template = error.status_code, "errors/problem.html"
        else:
            logger.exception("Unhandled error on %s %s", request.method, request.url.path)
            status, template = 500, "errors/500.html"
        message = error.message if isinstance(error, DomainError) else None
        try:
            html = self.env().get_template(template).render(**self.context(request), message=message, status=status)
        except Exception:  # noqa: BLE001 - the error page itself failed: plain text, never a blank 502
            logger.exception("Could not render the error page")
            return Response(f"Error {status}", status_code=status, media_type="text/plain",
                            headers={"cache-control": "no-store"})
        return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})


async def sign_in_first(request: Request, error: Exception) -> Response:
    """To the sign-in page (htmx follows with a full navigation, not a swap)."""
    assert isinstance(error, SignInRequired)
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": error.location})
    return RedirectResponse(error.location, status_code=303 if request.method == "POST" else 302)


def create_app(routes: list[BaseRoute], *, env: Callable[[], Environment],
               error_context: Callable[[Request], dict[str, Any]], csp: Callable[[], str]) -> Starlette:
    """A page function's app. ``env`` and ``csp`` are called lazily (settings are read on first use)."""

    async def not_found(request: Request, _: Exception) -> Response:
        return ErrorPages(None, env, error_context).page_for(request, NotFound("Page not found."))

    async def not_allowed(request: Request, _: Exception) -> Response:
        response = ErrorPages(None, env, error_context).page_for(request, DomainError("This address does not "
                                                                                     "accept that request."))
        response.status_code = 405
        return response

    app = Starlette(routes=routes, exception_handlers={404: not_found, 405: not_allowed,
                                                       SignInRequired: sign_in_first})
    app.add_middleware(ErrorPages, env=env, context=error_context)
    app.add_middleware(SecurityHeaders, csp=csp)
    return app
