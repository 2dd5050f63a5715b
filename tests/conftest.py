"""Fixtures: moto with the template's resources, and a way to call functions as API Gateway does."""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest

os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")

import boto3  # noqa: E402
import moto  # noqa: E402,F401 - imported before any client exists, so every client can be mocked

from distribu_local.apigateway import LambdaContext, http_api_event  # noqa: E402
from distribu_local.template import Stack, load_template  # noqa: E402

# Parsed once; the session keeps botocore's loaded service models, so creating clients stays cheap.
TEMPLATE = load_template()
SESSION = boto3.Session(region_name="us-east-1")


def reset_caches(*, clients: bool = True) -> None:
    """Forget settings (and, unless told otherwise, the cached boto3 clients) read from the environment."""
    from distribu import apikeys, aws, config

    if clients:
        aws.reset_clients()
    config.get_settings.cache_clear()
    apikeys._window_seen.clear()


@pytest.fixture
def stack() -> Iterator[Stack]:
    """Fresh moto account with every table, queue and bucket of template.yaml, with the local stack's fixes to
    moto (``distribu_local.motofixes``: transactions and Queries cost what they touch, with the same results),
    so the suite runs the moto the local stack runs.

    Clients cached by the domain package survive from test to test: moto intercepts them whichever
    ``mock_aws`` is active, and each one starts with empty backends.
    """
    with template_stack() as built:
        yield built


@contextmanager
def template_stack() -> Iterator[Stack]:
    """What the ``stack`` fixture gives, for fixtures of a wider scope (a module whose tests share data)."""
    from moto import mock_aws

    from distribu_local import motofixes

    installed = motofixes.install()
    with mock_aws():
        built = Stack(TEMPLATE, parameters={"SessionSecret": "test-session-secret-0123456789abcdef"})
        built.create_resources(SESSION)
        saved = dict(os.environ)
        os.environ.update(built.function_environment())
        os.environ["DISTRIBU_ENV"] = "local"
        reset_caches(clients=False)
        try:
            yield built
        finally:
            os.environ.clear()
            os.environ.update(saved)
            reset_caches(clients=False)
            if installed:
                motofixes.uninstall()


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    body: Any


def call_api(method: str, path: str, *, key: str | None = None, json_body: Any = None, raw_body: str | None = None,
             query: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> ApiResponse:
    from distribu_api.handler import lambda_handler

    request_headers = {"content-type": "application/json", **(headers or {})}
    if key is not None:
        request_headers["authorization"] = f"Bearer {key}"
    body = raw_body if raw_body is not None else (json.dumps(json_body) if json_body is not None else None)
    event = http_api_event(method, path, query=urlencode(query or {}), headers=request_headers, body=body,
                           route_key=f"{method} /api/v1/{{proxy+}}")
    result = lambda_handler(event, LambdaContext(function_name="api"))
    text = result.get("body") or ""
    return ApiResponse(result["statusCode"], {k.lower(): v for k, v in (result.get("headers") or {}).items()},
                       json.loads(text) if text else None)


from tests.factories import Tenant, make_tenant  # noqa: E402,F401 - test data lives in factories


@pytest.fixture
def tenant(stack: Stack) -> Tenant:
    return make_tenant("Acme Distributors")


@pytest.fixture
def other_tenant(stack: Stack) -> Tenant:
    return make_tenant("Globex Wholesale")


@pytest.fixture
def projections(stack: Stack) -> Iterator[Any]:
    """Runs the table's stream through the ProjectionsPipe into the projections handler: write products or
    orders, then ``projections.drain()`` (see tests/stream_driver.py)."""
    from tests.stream_driver import ProjectionsDriver

    driver = ProjectionsDriver(stack, SESSION)
    try:
        yield driver
    finally:
        driver.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Browser tests run last: Playwright's sync API keeps its event loop running in the main thread for the
    rest of the session, and every handler after it (Mangum runs the app on the current loop) would fail
    with "This event loop is already running"."""
    items.sort(key=lambda item: "/tests/browser/" in str(item.path).replace("\\", "/"))
