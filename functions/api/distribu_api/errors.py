"""Every error the API can answer, mapped to the documented envelope in one place."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from distribu.errors import DomainError, RateLimited
from distribu.idempotency import Replay
from distribu.validation import field_errors


def error_response(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=status, content=body, headers=headers)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's own 405 names only the first route's)."""
    from fastapi.routing import iter_route_contexts

    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        regex, route_methods = getattr(route, "path_regex", None), route.methods
        if regex is not None and route_methods and regex.match(request.url.path):
            methods |= set(route_methods)
    return sorted(methods)


def _release_idempotency(request: Request) -> None:
    guard = getattr(request.state, "idempotency", None)
    if guard:
        guard.release()


def install(app: FastAPI, logger: Any) -> None:
    @app.exception_handler(Replay)
    async def replay(_: Request, stored: Replay) -> JSONResponse:
        return JSONResponse(status_code=stored.status, content=stored.body, headers={"Idempotent-Replayed": "true"})

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> JSONResponse:
        _release_idempotency(request)
        headers = None
        if isinstance(error, RateLimited):
            headers = {"Retry-After": str(error.retry_after), "RateLimit-Limit": str(error.limit),
                       "RateLimit-Remaining": "0", "RateLimit-Reset": str(error.retry_after)}
        return error_response(error.status_code, error.body(), headers)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        _release_idempotency(request)
        if any(item.get("type") == "json_invalid" for item in error.errors()):
            return error_response(400, {"error": "Invalid JSON body."})
        return error_response(400, {"error": "Validation failed.", "details": field_errors(error.errors())})

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        messages = {404: "Not found.", 405: "Method not allowed."}
        headers = dict(error.headers or {})
        if error.status_code == 405:
            headers["Allow"] = ", ".join(allowed_methods(request))
        return error_response(error.status_code, {"error": messages.get(error.status_code, str(error.detail))},
                              headers or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        logger.exception("Unhandled error")
        try:
            _release_idempotency(request)
        except Exception:  # noqa: BLE001 - the 500 below is what matters now
            logger.exception("Could not release the idempotency key")
        from distribu_api.app import security_headers  # a 500 leaves through Starlette's outermost layer

        return error_response(500, {"error": "Internal server error."},
                              {name.decode(): value.decode() for name, value in security_headers(request.scope)})
