"""Headers on every API answer: never content-sniffed; never cached when the request carried credentials
(a webhook's secret or a customer list must not sit in a proxy's cache)."""

from __future__ import annotations

import pytest

from tests.conftest import Tenant, call_api


@pytest.mark.parametrize("method,path,credentials,status", [
    ("GET", "/api/v1/products", "key", 200),
    ("POST", "/api/v1/webhooks", "key", 201),
    ("GET", "/api/v1/products/nope", "key", 404),
    ("DELETE", "/api/v1/products", "key", 405),
    ("GET", "/api/v1/products", "wrong", 401),
    ("GET", "/api/v1/openapi.json", None, 200),
    ("GET", "/api/v1/nothing-here", None, 404),
])
def test_every_answer_says_nosniff_and_authenticated_ones_no_store(tenant: Tenant, method: str, path: str,
                                                                  credentials: str | None, status: int) -> None:
    key = {"key": tenant.key, "wrong": "dk_" + "x" * 43, None: None}[credentials]
    body = {"url": "https://hooks.example.com/in", "events": ["order.created"]} if method == "POST" else None
    response = call_api(method, path, key=key, json_body=body)
    assert response.status == status
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers.get("cache-control") == ("no-store" if credentials else None)


def test_a_500_carries_them_too(tenant: Tenant, monkeypatch) -> None:
    from distribu import catalog

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(catalog, "list_products", broken)
    response = call_api("GET", "/api/v1/products", key=tenant.key)
    assert (response.status, response.body) == (500, {"error": "Internal server error."})
    assert response.headers["x-content-type-options"] == "nosniff" and response.headers["cache-control"] == "no-store"
