"""/api/v1/docs: Swagger UI, served from the function itself so the docs work with no internet.

The assets are swagger-ui-dist 5.35.0 from the npm registry, vendored unchanged in ``swagger_ui/`` (with
its licence). Like every router, this one is included on the first request under its prefix, and the
files are read on the first request for each, so a cold start that serves no docs pays nothing for them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, Response

ASSETS = Path(__file__).resolve().parents[1] / "swagger_ui"
SWAGGER_UI_VERSION = "5.35.0"
MEDIA_TYPES = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8", "swagger-ui.css": "text/css; charset=utf-8",
               "favicon-32x32.png": "image/png"}
ONE_DAY = "public, max-age=86400"

router = APIRouter(prefix="/docs", include_in_schema=False)


@lru_cache(maxsize=None)
def asset(name: str) -> bytes:
    return (ASSETS / name).read_bytes()


@router.get("", response_class=HTMLResponse)
async def swagger_ui() -> HTMLResponse:
    # URLs relative to .../api/v1/docs, so they hold behind any stage or domain prefix.
    return get_swagger_ui_html(
        openapi_url="openapi.json", title="Distribu API",
        swagger_js_url=f"docs/swagger-ui-bundle.js?v={SWAGGER_UI_VERSION}",
        swagger_css_url=f"docs/swagger-ui.css?v={SWAGGER_UI_VERSION}",
        swagger_favicon_url="docs/favicon-32x32.png")


def _asset_response(name: str) -> Response:
    return Response(asset(name), media_type=MEDIA_TYPES[name], headers={"Cache-Control": ONE_DAY})


@router.get("/swagger-ui-bundle.js")
async def swagger_ui_script() -> Response:
    return _asset_response("swagger-ui-bundle.js")


@router.get("/swagger-ui.css")
async def swagger_ui_styles() -> Response:
    return _asset_response("swagger-ui.css")


@router.get("/favicon-32x32.png")
async def swagger_ui_icon() -> Response:
    return _asset_response("favicon-32x32.png")
