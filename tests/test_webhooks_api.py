"""The webhooks API and the SSRF guard (deliveries themselves: tests/test_event_chain.py)."""

from __future__ import annotations

import ipaddress

import pytest

from tests.conftest import Tenant, call_api

HOOK = {"url": "https://erp.example.com/hooks/distribu", "events": ["order.created", "product.low_stock"]}


def create(tenant: Tenant, **overrides):
    response = call_api("POST", "/api/v1/webhooks", key=tenant.key, json_body={**HOOK, **overrides})
    assert response.status == 201, response.body
    return response.body["data"]


def test_secret_is_returned_by_create_only(tenant: Tenant) -> None:
    hook = create(tenant)
    assert hook["secret"].startswith("whsec_") and len(hook["secret"]) == 6 + 32
    assert set(hook) == {"id", "url", "events", "isActive", "secretRotationGraceExpiresAt", "createdAt", "updatedAt",
                         "secret"}
    fetched = call_api("GET", f"/api/v1/webhooks/{hook['id']}", key=tenant.key).body["data"]
    listed = call_api("GET", "/api/v1/webhooks", key=tenant.key).body
    assert "secret" not in fetched and all("secret" not in item for item in listed["data"])
    assert listed["pagination"] == {"hasMore": False, "nextCursor": None}
    assert fetched["isActive"] is True and fetched["events"] == HOOK["events"]


def test_the_eleventh_is_rejected_and_deleting_frees_a_place(tenant: Tenant) -> None:
    hooks = [create(tenant, url=f"https://h{n}.example.com/") for n in range(10)]
    eleventh = call_api("POST", "/api/v1/webhooks", key=tenant.key, json_body=HOOK)
    assert eleventh.status == 422 and eleventh.body == {"error": "A company can have at most 10 webhooks."}
    assert call_api("DELETE", f"/api/v1/webhooks/{hooks[0]['id']}", key=tenant.key).status == 200
    create(tenant)
    assert len(call_api("GET", "/api/v1/webhooks", key=tenant.key).body["data"]) == 10


@pytest.mark.parametrize("body, field", [
    ({"events": ["order.created"]}, "url"),
    ({"url": "ftp://x.example.com", "events": ["order.created"]}, "url"),
    ({"url": "https://x.example.com/" + "a" * 2048, "events": ["order.created"]}, "url"),
    ({"url": "https://x.example.com"}, "events"),
    ({"url": "https://x.example.com", "events": []}, "events"),
    ({"url": "https://x.example.com", "events": ["order.created", "order.exploded"]}, "events"),
    ({"url": "https://x.example.com", "events": ["order.created"], "isActive": "yes"}, "isActive"),
])
def test_invalid_webhooks_are_400_naming_the_field(tenant: Tenant, body, field) -> None:
    response = call_api("POST", "/api/v1/webhooks", key=tenant.key, json_body=body)
    assert response.status == 400 and response.body["error"] == "Validation failed."
    assert field in [detail["field"] for detail in response.body["details"]]
    assert call_api("GET", "/api/v1/webhooks", key=tenant.key).body["data"] == []


def test_unknown_event_names_are_listed(tenant: Tenant) -> None:
    response = call_api("POST", "/api/v1/webhooks", key=tenant.key,
                        json_body={"url": "https://x.example.com", "events": ["order.exploded", "order.created"]})
    assert "order.exploded" in response.body["details"][0]["message"]


def test_patch_and_audit(tenant: Tenant) -> None:
    from distribu import audit

    hook = create(tenant)
    updated = call_api("PATCH", f"/api/v1/webhooks/{hook['id']}", key=tenant.key,
                       json_body={"events": ["customer.created"], "isActive": False})
    assert updated.status == 200 and updated.body["data"]["events"] == ["customer.created"]
    assert updated.body["data"]["isActive"] is False and "secret" not in updated.body["data"]
    rotated = call_api("POST", f"/api/v1/webhooks/{hook['id']}/rotate-secret", key=tenant.key).body["data"]
    assert rotated["secret"] != hook["secret"] and rotated["secretRotationGraceExpiresAt"] > rotated["updatedAt"]
    call_api("DELETE", f"/api/v1/webhooks/{hook['id']}", key=tenant.key)
    assert call_api("GET", f"/api/v1/webhooks/{hook['id']}", key=tenant.key).body == {"error": "Webhook not found."}
    actions = [entry["action"] for entry in audit.list_entries(tenant.company_id)][:4]
    assert actions == ["WebhookDeleted", "WebhookSecretRotated", "WebhookUpdated", "WebhookCreated"]


@pytest.mark.parametrize("method, path, scope", [
    ("GET", "/api/v1/webhooks", "webhooks:read"), ("GET", "/api/v1/webhooks/x", "webhooks:read"),
    ("GET", "/api/v1/webhooks/x/deliveries", "webhooks:read"), ("POST", "/api/v1/webhooks", "webhooks:write"),
    ("PATCH", "/api/v1/webhooks/x", "webhooks:write"), ("DELETE", "/api/v1/webhooks/x", "webhooks:write"),
    ("POST", "/api/v1/webhooks/x/rotate-secret", "webhooks:write"),
    ("POST", "/api/v1/webhooks/x/deliveries/y/replay", "webhooks:write"),
])
def test_webhook_scopes(stack, method, path, scope) -> None:
    from distribu import apikeys
    from tests.conftest import make_tenant

    tenant = make_tenant("Scoped Hooks", scopes=[item for item in apikeys.SCOPES if item != scope])
    response = call_api(method, path, key=tenant.key, json_body={})
    assert response.status == 403 and scope in response.body["error"]


def test_loopback_urls_are_refused_in_the_cloud(tenant: Tenant, monkeypatch) -> None:
    from distribu import config

    monkeypatch.setenv("DISTRIBU_ENV", "cloud")
    config.get_settings.cache_clear()
    for url in ("http://127.0.0.1:8080/x", "http://localhost/x", "http://169.254.169.254/latest", "http://10.0.0.5/",
                "http://[::1]/x"):
        response = call_api("POST", "/api/v1/webhooks", key=tenant.key, json_body={"url": url, "events": ["order.created"]})
        assert response.status == 400 and response.body["details"][0]["field"] == "url", url
    monkeypatch.setenv("DISTRIBU_ENV", "local")
    config.get_settings.cache_clear()
    create(tenant, url="http://127.0.0.1:8080/x")


@pytest.mark.parametrize("address, allowed", [
    ("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False), ("192.168.1.1", False),
    ("169.254.169.254", False), ("169.254.10.10", False), ("::1", False), ("fd00:ec2::254", False),
    ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("2606:4700::1111", True),
])
def test_address_guard(address, allowed) -> None:
    from distribu.netguard import address_allowed

    assert address_allowed(ipaddress.ip_address(address), allow_loopback=False) is allowed


def test_send_time_check_blocks_names_resolving_to_loopback() -> None:
    from distribu import netguard

    result = netguard.post("http://localhost:9/", b"{}", {}, timeout=1, allow_loopback=False)
    assert result.status is None and result.error.startswith("Blocked:")
    refused = netguard.post("http://127.0.0.1:9/", b"{}", {}, timeout=1, allow_loopback=True)
    assert refused.status is None and not refused.error.startswith("Blocked:")


def test_low_stock_crossing_rule() -> None:
    from distribu.low_stock import crossed_into_low_stock

    assert crossed_into_low_stock({"stock": 6}, {"stock": 5}, 5)
    assert crossed_into_low_stock({"stock": 6}, {"stock": 0}, 5)
    assert not crossed_into_low_stock({"stock": 5}, {"stock": 4}, 5)  # already low
    assert not crossed_into_low_stock({"stock": 9}, {"stock": 6}, 5)
    assert crossed_into_low_stock({"stock": 12, "lowStockThreshold": 10}, {"stock": 10, "lowStockThreshold": 10}, 5)
    assert crossed_into_low_stock({"stock": 8}, {"stock": 8, "lowStockThreshold": 10}, 5)  # threshold raised past stock


def test_rotating_a_webhook_someone_changed_meanwhile_is_a_409_not_a_500(tenant: Tenant, monkeypatch) -> None:
    from distribu import audit, webhooks

    hook = create(tenant)
    read = webhooks.get_item

    def read_then_someone_else_changes_it(company_id: str, webhook_id: str):
        item = read(company_id, webhook_id)
        monkeypatch.setattr(webhooks, "get_item", read)
        webhooks.update_webhook(company_id, webhook_id, {"isActive": False}, audit.Actor("USER", "u", "Someone else"))
        return item

    monkeypatch.setattr(webhooks, "get_item", read_then_someone_else_changes_it)
    response = call_api("POST", f"/api/v1/webhooks/{hook['id']}/rotate-secret", key=tenant.key)
    assert (response.status, response.body) == (409, {"error": "The webhook is being changed by someone else; try again."})
