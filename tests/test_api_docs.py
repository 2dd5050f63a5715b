"""/api/v1/docs works with no internet: Swagger UI's assets come from the function, not a CDN, and a cold
start that serves no docs never loads them."""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import Tenant, call_api

ASSETS = Path(__file__).resolve().parents[1] / "functions/api/distribu_api/swagger_ui"


def raw_get(path: str) -> tuple[int, dict[str, str], bytes]:
    from distribu_api.handler import lambda_handler
    from distribu_local.apigateway import LambdaContext, http_api_event, response_body

    result = lambda_handler(http_api_event("GET", path, route_key="GET /api/v1/{proxy+}"),
                            LambdaContext(function_name="api"))
    return (result["statusCode"], {name.lower(): value for name, value in result["headers"].items()},
            response_body(result))


def test_the_docs_page_loads_everything_from_the_api_itself(stack) -> None:
    status, headers, body = raw_get("/api/v1/docs")
    page = body.decode()
    assert status == 200 and headers["content-type"].startswith("text/html")
    urls = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page) + re.findall(r"url: ?'([^']+)'", page)
    assert urls and all(not url.startswith(("http:", "https:", "//")) for url in urls), urls
    assert "openapi.json" in urls and "cdn" not in page
    for url in urls:  # relative to /api/v1/docs, as a browser resolves them
        status, _, _ = raw_get("/api/v1/" + url.split("?", 1)[0])
        assert status == 200, url


def test_the_assets_are_the_vendored_files_with_their_types(stack) -> None:
    for name, media_type in (("swagger-ui-bundle.js", "text/javascript"), ("swagger-ui.css", "text/css"),
                             ("favicon-32x32.png", "image/png")):
        status, headers, body = raw_get(f"/api/v1/docs/{name}")
        assert status == 200 and headers["content-type"].startswith(media_type), name
        assert body == (ASSETS / name).read_bytes() and headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "public, max-age=86400"


def test_a_cold_start_serving_no_docs_loads_none_of_them(tenant: Tenant) -> None:
    import subprocess
    import sys
    import os

    code = ("import sys; import distribu_api.handler as h; "
            "from distribu_local.apigateway import LambdaContext, http_api_event; "
            "h.lambda_handler(http_api_event('GET', '/api/v1/products/x', route_key='GET /api/v1/{proxy+}'), "
            "LambdaContext()); print('distribu_api.routers.docs' in sys.modules)")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert completed.stdout.strip().splitlines()[-1] == "False"
    assert call_api("GET", "/api/v1/docs/").status == 404  # and nothing else hides under the prefix
