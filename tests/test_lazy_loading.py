"""The API loads its routers and domain modules on first use: only what a request needs, and safely when
many threads make the first request at once."""

from __future__ import annotations

import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tests.conftest import Tenant


def fresh_api() -> tuple[Any, Any]:
    """A cold API app (no router included yet) and its Lambda entry point."""
    from aws_lambda_powertools import Logger
    from mangum import Mangum

    from distribu_api.app import create_app

    app = create_app(Logger(service="api"))
    return app, Mangum(app, lifespan="off")


def get(handler: Any, path: str, key: str) -> tuple[int, dict[str, Any]]:
    import json

    from distribu_local.apigateway import LambdaContext, http_api_event

    event = http_api_event("GET", path, headers={"authorization": f"Bearer {key}"}, route_key="GET /api/v1/{proxy+}")
    result = handler(event, LambdaContext(function_name="api"))
    return result["statusCode"], json.loads(result["body"])


def test_first_use_from_many_threads_never_sees_a_half_loaded_module(tmp_path, monkeypatch) -> None:
    from distribu_api.lazy import lazy_module

    (tmp_path / "slow_domain_module.py").write_text(
        "import time\nSTARTED = True\ntime.sleep(0.3)\ndef answer():\n    return 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = lazy_module("slow_domain_module")
    barrier = threading.Barrier(20)

    def call(_: int) -> int:
        barrier.wait()
        return module.answer()

    try:
        with ThreadPoolExecutor(max_workers=20) as pool:
            assert list(pool.map(call, range(20))) == [42] * 20
    finally:
        sys.modules.pop("slow_domain_module", None)


def test_importing_the_handler_loads_no_router_and_no_domain_module() -> None:
    import subprocess

    code = ("import sys; import distribu_api.handler; "
            "print(sorted(m for m in sys.modules if m.startswith('distribu_api.routers.') or m in "
            "('distribu.catalog', 'distribu.orders', 'distribu.customers', 'distribu.imports', "
            "'distribu.webhooks')))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_a_cold_app_builds_only_the_router_the_request_needs(tenant: Tenant) -> None:
    app, handler = fresh_api()
    assert app.state.routers.included == []

    status, body = get(handler, "/api/v1/products/missing", tenant.key)

    assert (status, body) == (404, {"error": "Product not found."})
    assert app.state.routers.included == ["products"]


def test_an_unknown_resource_includes_nothing_and_is_a_plain_404(tenant: Tenant) -> None:
    app, handler = fresh_api()

    assert get(handler, "/api/v1/nothing-here", tenant.key) == (404, {"error": "Not found."})
    assert app.state.routers.included == []


def test_first_requests_from_many_threads_include_the_router_once(tenant: Tenant) -> None:
    sys.modules.pop("distribu_api.routers.orders", None)  # so the first requests also race the import
    app, handler = fresh_api()
    barrier = threading.Barrier(16)

    def first_request(_: int) -> tuple[int, dict[str, Any]]:
        import asyncio

        loop = asyncio.new_event_loop()  # Mangum runs on the thread's loop, as in a Lambda
        asyncio.set_event_loop(loop)
        try:
            barrier.wait()
            return get(handler, "/api/v1/orders/missing", tenant.key)
        finally:
            asyncio.set_event_loop(None)
            loop.close()

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(first_request, range(16)))

    assert answers == [(404, {"error": "Order not found."})] * 16
    assert app.state.routers.included == ["orders"]
    serial_app, serial_handler = fresh_api()
    get(serial_handler, "/api/v1/orders/missing", tenant.key)
    assert len(app.routes) == len(serial_app.routes)


def test_the_openapi_document_has_every_router_in_resource_order_whatever_came_first(tenant: Tenant) -> None:
    from distribu_api.app import ROUTERS

    app, handler = fresh_api()
    get(handler, "/api/v1/webhooks", tenant.key)

    resources = [path.split("/")[3] for path in app.openapi()["paths"]]

    assert list(dict.fromkeys(resources)) == list(ROUTERS)


# --- page functions: an area's page module is imported on the first request to one of its addresses ---------

def test_every_dashboard_route_lies_within_the_addresses_of_its_area() -> None:
    """An area is asked only about its own addresses: a route outside them could never be reached."""
    from distribu.web.areas import Area
    from distribu_dashboard.app import app

    areas = [route for route in app.routes if isinstance(route, Area)]
    assert len(areas) >= 15
    for area in areas:
        assert area.routes, area
        assert [route.path for route in area.routes if not area.owns(route.path)] == [], area


def test_a_cold_dashboard_home_imports_its_own_area_only() -> None:
    import subprocess

    code = ("import sys\n"
            "from starlette.routing import Match\n"
            "import distribu_dashboard.handler\n"
            "from distribu_dashboard.app import app\n"
            "pages = lambda: sorted(m.rsplit('.', 1)[1] for m in sys.modules\n"
            "                       if m.startswith('distribu_dashboard.pages.'))\n"
            "print(pages())\n"
            "scope = {'type': 'http', 'method': 'GET', 'path': '/dashboard', 'root_path': ''}\n"
            "print(next(route for route in app.routes if route.matches(scope)[0] is Match.FULL))\n"
            "print(pages(), sorted(m for m in ('pydantic', 'reportlab', 'csv', 'distribu.reports', 'distribu.orders')"
            " if m in sys.modules))\n")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert completed.stdout.strip().splitlines()[-3:] == ["[]", "Area('distribu_dashboard.pages.home')",
                                                         "['home'] []"]


def test_first_requests_from_many_threads_import_an_area_once(tmp_path, monkeypatch) -> None:
    from starlette.routing import Match

    from distribu.web.areas import Area

    (tmp_path / "slow_area_pages.py").write_text(
        f"import time\nfrom starlette.routing import Route\nopen({str(tmp_path / 'imports.log')!r}, 'a').write('x')\n"
        "time.sleep(0.3)\n"
        "async def page(request):\n    pass\nroutes = [Route('/things/{name}', page, methods=['GET'])]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    area = Area("slow_area_pages", within=("/things",))
    barrier = threading.Barrier(16)

    def first_request(index: int) -> tuple[Match, Any]:
        barrier.wait()
        scope = {"type": "http", "method": "GET", "path": f"/things/{index}", "root_path": ""}
        match, child_scope = area.matches(scope)
        return match, child_scope["path_params"]["name"]

    try:
        with ThreadPoolExecutor(max_workers=16) as pool:
            answers = list(pool.map(first_request, range(16)))
        assert answers == [(Match.FULL, str(index)) for index in range(16)]
        assert (tmp_path / "imports.log").read_text() == "x"
        assert area.matches({"type": "http", "method": "GET", "path": "/thingsmore/1", "root_path": ""})[0] \
            is Match.NONE
        assert area.matches({"type": "http", "method": "POST", "path": "/things/1", "root_path": ""})[0] \
            is Match.PARTIAL
    finally:
        sys.modules.pop("slow_area_pages", None)
