"""The SSRF guard: every way of writing a host that reaches a private, shared, loopback or metadata address
is refused at registration, on change and at send time. No test here sends a byte to any of them: the
guard must refuse before connecting, and a connection attempt fails the test."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any, Iterator

import pytest

from tests.conftest import Tenant, call_api

# What registration accepted before (the list), and more of the same families.
REFUSED_IN_THE_CLOUD = [
    "http://100.64.0.1/", "http://100.127.255.254/hook",          # shared address space (carrier-grade NAT)
    "http://2852039166/", "http://0xa9fea9fe/", "http://0251.0376.0251.0376/",  # 169.254.169.254
    "http://169.254.43518/", "http://0xa9.0xfe.0xa9fe/", "http://0251.254.169.254/",
    "http://127.1/", "http://0x7f000001/", "http://017700000001/", "http://127.0.0.1./",  # loopback
    "http://0/", "http://0.0.0.0/", "http://10.1/", "http://192.168.1.1/",  # unspecified, private
    "http://198.18.0.1/", "http://192.0.2.10/", "http://240.0.0.1/",        # benchmarking, documentation, reserved
    "http://224.0.0.1/", "http://[ff02::1]/",                               # multicast
    "http://[::ffff:169.254.169.254]/", "http://[2002:a9fe:a9fe::1]/",      # IPv4 inside IPv6: mapped, 6to4
    "http://[64:ff9b::a9fe:a9fe]/", "http://[fd00:ec2::254]/", "http://[fe80::1%25eth0]/",  # NAT64, ULA, link-local
    "http://", "http:///path", "http://:80/", "https://user@/",            # no host
    "http://1.2.3.4.5/", "http://08/", "http://example.123/",               # numeric-looking, yet no address
    "http://%31%32%37.0.0.1/", "http://host:99999/",                        # what no client would connect to
    "http://localhost/", "http://api.localhost/",
]
ACCEPTED = ["https://hooks.example.com/in", "http://8.8.8.8/", "http://0x08.0x08.0x08.0x08/",
            "https://[2606:4700::1111]/hook", "https://bücher.example/hook", "https://hooks.example.com:8443/x"]
LOOPBACK = ["http://127.1:8000/hooks", "http://0x7f000001/", "http://[::1]:9000/", "http://localhost:8000/"]


@pytest.fixture
def no_connections(monkeypatch) -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"the guard let a connection through: {args}")

    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


@pytest.fixture
def cloud(monkeypatch) -> Iterator[None]:
    from distribu import config

    monkeypatch.setenv("DISTRIBU_ENV", "cloud")
    config.get_settings.cache_clear()
    yield
    monkeypatch.undo()
    config.get_settings.cache_clear()


def register(tenant: Tenant, url: str) -> Any:
    return call_api("POST", "/api/v1/webhooks", key=tenant.key, json_body={"url": url, "events": ["order.created"]})


@pytest.mark.parametrize("url", REFUSED_IN_THE_CLOUD)
def test_registration_and_change_refuse_every_form_of_an_unreachable_host(tenant: Tenant, cloud, url: str) -> None:
    response = register(tenant, url)
    assert response.status == 400 and [detail["field"] for detail in response.body["details"]] == ["url"], url
    hook = register(tenant, "https://hooks.example.com/in").body["data"]
    changed = call_api("PATCH", f"/api/v1/webhooks/{hook['id']}", key=tenant.key, json_body={"url": url})
    assert changed.status == 400 and changed.body["details"][0]["field"] == "url", url
    assert call_api("GET", f"/api/v1/webhooks/{hook['id']}", key=tenant.key).body["data"]["url"] == \
        "https://hooks.example.com/in"


@pytest.mark.parametrize("url", ACCEPTED)
def test_public_hosts_are_accepted_in_any_form(tenant: Tenant, cloud, url: str) -> None:
    assert register(tenant, url).status == 201


def test_loopback_is_allowed_in_the_local_stack_only(tenant: Tenant) -> None:
    from distribu import config

    assert config.get_settings().is_local
    for url in LOOPBACK:
        assert register(tenant, url).status == 201, url
    for url in ("http://100.64.0.1/", "http://2852039166/", "http://10.0.0.1/", "http://0.0.0.0:8000/", "http://"):
        assert register(tenant, url).status == 400, url


@pytest.mark.parametrize("form", ["2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518", "127.1",
                                  "0x7f.1", "017700000001", "10.1", "0", "0x08.0x08.0x08.0x08", "1.2.3",
                                  "255.255.255.255", "0377.0xff.255.0"])
def test_numeric_hosts_mean_what_the_resolver_makes_of_them(form: str) -> None:
    from distribu.netguard import numeric_ipv4

    assert numeric_ipv4(form) == ipaddress.IPv4Address(socket.inet_aton(form))  # the C library's own reading


@pytest.mark.parametrize("url", [url for url in REFUSED_IN_THE_CLOUD if "localhost" not in url])
def test_send_time_refuses_before_connecting(no_connections, url: str) -> None:
    from distribu import netguard

    result = netguard.post(url, b"{}", {}, timeout=1, allow_loopback=False)
    assert result.status is None and result.error.startswith(("Blocked:", "Invalid URL:")), result.error


def test_send_time_refuses_names_resolving_to_unreachable_addresses(no_connections, monkeypatch) -> None:
    from distribu import netguard

    answers = {"rebound.example": "100.64.0.9", "meta.example": "169.254.169.254", "mixed.example": "8.8.8.8"}

    def resolver(host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        found = [answers[host]] + (["10.0.0.1"] if host == "mixed.example" else [])
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)) for address in found]

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    for host in answers:  # one private answer among public ones is enough to refuse
        result = netguard.post(f"https://{host}/hook", b"{}", {}, timeout=1, allow_loopback=False)
        assert result.error and result.error.startswith("Blocked:"), host


def test_the_connected_peer_is_checked_too() -> None:
    """Belt and braces: the socket's peer is judged once connected (to our own listener, on loopback)."""
    from distribu import netguard

    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with pytest.raises(netguard.BlockedAddress):
            netguard._connect("127.0.0.1", port, 1, allow_loopback=False)
        netguard._connect("127.0.0.1", port, 1, allow_loopback=True).close()


def test_delivery_to_a_url_registered_before_the_guard_knew_better_is_blocked(tenant: Tenant, cloud,
                                                                            no_connections) -> None:
    """A webhook stored with a decimal metadata host (as the old guard allowed) is still never reached."""
    from distribu import clock, dynamo, keys, webhook_delivery

    hook = register(tenant, "https://hooks.example.com/in").body["data"]
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(keys.company(tenant.company_id), keys.webhook_sk(hook["id"])),
        UpdateExpression="SET #url = :url", ExpressionAttributeNames={"#url": "url"},
        ExpressionAttributeValues={":url": {"S": "http://2852039166/latest/meta-data/"}})
    event = {"companyId": tenant.company_id, "id": "evt-old", "eventType": "order.created",
             "createdAt": clock.now_iso(), "envelope": '{"event":"order.created","data":{}}'}
    assert webhook_delivery.fan_out(event) == 1
    delivery_id = webhook_delivery.delivery_id("evt-old", hook["id"])
    assert webhook_delivery.deliver(webhook_delivery.DeliveryMessage(tenant.company_id, hook["id"], delivery_id)) \
        == "retrying"
    [entry] = call_api("GET", f"/api/v1/webhooks/{hook['id']}/deliveries", key=tenant.key).body["data"]
    assert entry["attempts"][0]["error"].startswith("Blocked:") and "169.254.169.254" in entry["attempts"][0]["error"]
