"""Authentication, scopes, the rate limit and pagination, through the real handler path."""

from __future__ import annotations

import time

import pytest

from tests.conftest import Tenant, call_api, make_tenant

MISSING = {"error": "Missing or invalid Authorization header. Use: Bearer <api_key>"}
INVALID = {"error": "Invalid, expired, or revoked API key."}


@pytest.mark.parametrize("headers", [
    {}, {"authorization": "dk_abc"}, {"authorization": "Basic abc"}, {"authorization": "Bearer "},
    {"authorization": "bearer dk_x"},
])
def test_missing_or_malformed_header_is_401(stack, headers) -> None:
    response = call_api("GET", "/api/v1/products", headers=headers)
    assert response.status == 401 and response.body == MISSING


@pytest.mark.parametrize("key", ["dk_" + "A" * 43, "dk_short", "sk_" + "A" * 43])
def test_unknown_key_is_401(tenant: Tenant, key: str) -> None:
    response = call_api("GET", "/api/v1/products", key=key)
    assert response.status == 401 and response.body == INVALID


def test_key_is_stored_only_as_a_hash_and_last_used_is_stamped(tenant: Tenant) -> None:
    from distribu import apikeys, dynamo, keys

    item = dynamo.get(keys.api_key_pk(apikeys.hash_key(tenant.key)), keys.API_KEY_SK)
    assert item is not None and tenant.key not in str(item)
    assert item.get("lastUsedAt") is None
    call_api("GET", "/api/v1/products", key=tenant.key)
    assert dynamo.get(keys.api_key_pk(apikeys.hash_key(tenant.key)), keys.API_KEY_SK)["lastUsedAt"]


@pytest.mark.parametrize("method, path, scope", [
    ("GET", "/api/v1/products", "products:read"),
    ("GET", "/api/v1/products/x", "products:read"),
    ("POST", "/api/v1/products", "products:write"),
    ("PATCH", "/api/v1/products/x", "products:write"),
    ("DELETE", "/api/v1/products/x", "products:write"),
])
def test_missing_scope_is_403_naming_it(stack, method, path, scope) -> None:
    from distribu import apikeys

    others = [item for item in apikeys.SCOPES if item != scope]
    tenant = make_tenant("Scoped Co", scopes=others)
    response = call_api(method, path, key=tenant.key, json_body={})
    assert response.status == 403
    assert response.body == {"error": f'Insufficient permissions. This key lacks the "{scope}" scope.'}


def test_rate_limit_headers_and_429(stack) -> None:
    tenant = make_tenant("Busy Co", rate_limit=5)
    if 60 - time.time() % 60 < 3:  # keep all six calls inside one minute window
        time.sleep(60 - time.time() % 60 + 0.1)
    remaining = []
    for _ in range(5):
        response = call_api("GET", "/api/v1/products", key=tenant.key)
        assert response.status == 200
        assert response.headers["ratelimit-limit"] == "5"
        assert 1 <= int(response.headers["ratelimit-reset"]) <= 60
        remaining.append(int(response.headers["ratelimit-remaining"]))
    assert remaining == [4, 3, 2, 1, 0]
    limited = call_api("GET", "/api/v1/products", key=tenant.key)
    assert limited.status == 429
    assert limited.body["error"] == "Rate limit exceeded. Try again shortly."
    assert 1 <= limited.body["retryAfter"] <= 60
    assert limited.headers["retry-after"] == str(limited.body["retryAfter"])
    assert limited.headers["ratelimit-remaining"] == "0"


def test_rate_limit_resets_in_the_next_window(stack, monkeypatch) -> None:
    from distribu import apikeys

    tenant = make_tenant("Window Co", rate_limit=2)
    clock = [1_000_000 * 60 + 10.0]
    monkeypatch.setattr(apikeys.time, "time", lambda: clock[0])
    assert [call_api("GET", "/api/v1/products", key=tenant.key).status for _ in range(3)] == [200, 200, 429]
    clock[0] += 60
    assert call_api("GET", "/api/v1/products", key=tenant.key).status == 200
    apikeys._window_seen.clear()  # another container that never saw this key
    assert call_api("GET", "/api/v1/products", key=tenant.key).status == 200
    assert call_api("GET", "/api/v1/products", key=tenant.key).status == 429


def test_a_request_from_just_before_the_minute_counts_in_the_window_another_opened(stack, monkeypatch) -> None:
    """Two containers at a minute boundary: B (a moment later) opened the new window; A must count in it,
    not fail."""
    from distribu import apikeys

    tenant = make_tenant("Boundary Co", rate_limit=3)
    boundary = 1_000_000 * 60.0
    monkeypatch.setattr(apikeys.time, "time", lambda: boundary + 0.01)  # container B
    assert call_api("GET", "/api/v1/products", key=tenant.key).status == 200
    apikeys._window_seen.clear()  # container A, which last counted in the minute before
    apikeys._window_seen[apikeys.hash_key(tenant.key)] = int(boundary // 60) - 1
    monkeypatch.setattr(apikeys.time, "time", lambda: boundary - 0.01)
    statuses = [call_api("GET", "/api/v1/products", key=tenant.key).status for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_errors_carry_rate_limit_headers_too(tenant: Tenant) -> None:
    response = call_api("GET", "/api/v1/products/missing", key=tenant.key)
    assert response.status == 404 and "ratelimit-remaining" in response.headers


# --- pagination ------------------------------------------------------------------------------------

@pytest.fixture
def catalog_of_7(tenant: Tenant) -> list[str]:
    ids = []
    for number in range(7):
        response = call_api("POST", "/api/v1/products", key=tenant.key,
                            json_body={"name": f"P{number}", "sku": f"P-{number}", "price": 1, "stock": 1})
        ids.append(response.body["data"]["id"])
    return ids


@pytest.mark.parametrize("limit, expected", [("0", 1), ("-5", 1), ("1000", 7), ("abc", 7), ("3", 3), ("", 7)])
def test_limit_is_clamped_never_an_error(tenant: Tenant, catalog_of_7, limit, expected) -> None:
    response = call_api("GET", "/api/v1/products", key=tenant.key, query={"limit": limit})
    assert response.status == 200 and len(response.body["data"]) == expected


def test_clamp_values() -> None:
    from distribu.pagination import clamp_limit

    assert [clamp_limit(value) for value in ("0", "1000", "abc", None, "100", "1", " 7 ")] == [1, 100, 50, 50, 100, 1, 7]


def test_walking_all_pages_visits_every_record_once_newest_first(tenant: Tenant, catalog_of_7) -> None:
    for limit in (1, 2, 3, 7):
        seen, cursor, pages = [], None, 0
        while True:
            query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
            body = call_api("GET", "/api/v1/products", key=tenant.key, query=query).body
            pages += 1
            seen += [item["id"] for item in body["data"]]
            assert body["pagination"]["hasMore"] == (body["pagination"]["nextCursor"] is not None)
            if not body["pagination"]["hasMore"]:
                break
            cursor = body["pagination"]["nextCursor"]
        assert seen == list(reversed(catalog_of_7))
        assert pages == -(-7 // limit)


def test_filtered_walk_visits_each_match_once(tenant: Tenant, catalog_of_7) -> None:
    call_api("PATCH", f"/api/v1/products/{catalog_of_7[2]}", key=tenant.key, json_body={"isActive": False})
    call_api("PATCH", f"/api/v1/products/{catalog_of_7[5]}", key=tenant.key, json_body={"isActive": False})
    seen, cursor = [], None
    while True:
        query = {"limit": "2", "active": "true", **({"cursor": cursor} if cursor else {})}
        body = call_api("GET", "/api/v1/products", key=tenant.key, query=query).body
        seen += [item["id"] for item in body["data"]]
        cursor = body["pagination"]["nextCursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(set(catalog_of_7) - {catalog_of_7[2], catalog_of_7[5]})
    assert len(seen) == len(set(seen))


def test_garbage_cursor_is_400(tenant: Tenant) -> None:
    response = call_api("GET", "/api/v1/products", key=tenant.key, query={"cursor": "!!!"})
    assert response.status == 400 and response.body["error"] == "Validation failed."
