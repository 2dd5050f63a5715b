"""Outbound HTTP for webhooks, refusing private networks in the cloud (SSRF guard).

The address is checked *at send time* and the connection is made to the very address that was
checked, so a DNS answer that changes between check and connect (rebinding) cannot slip through.
Locally, loopback is allowed so developers can receive webhooks on their own machine.
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class BlockedAddress(Exception):
    """The URL resolves to an address webhooks may not reach."""


def address_allowed(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    if address in METADATA_ADDRESSES:
        return False
    if address.is_loopback:
        return allow_loopback
    return not (address.is_private or address.is_link_local or address.is_multicast or address.is_reserved
                or address.is_unspecified)


def resolve_allowed(host: str, port: int, *, allow_loopback: bool) -> str:
    """The first address of ``host`` that may be reached; raises :class:`BlockedAddress` if none may."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise BlockedAddress(f"cannot resolve {host}: {error}") from None
    addresses = [info[4][0] for info in infos]
    for raw in addresses:
        if not address_allowed(ipaddress.ip_address(raw.split("%")[0]), allow_loopback=allow_loopback):
            raise BlockedAddress(f"{host} resolves to {raw}, a private, loopback, link-local or metadata address")
    return addresses[0]


def literal_host_allowed(url: str, *, allow_loopback: bool) -> bool:
    """A registration-time check: refuse URLs whose host is an IP literal or name we can judge offline."""
    host = (urlsplit(url).hostname or "").strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return allow_loopback
    try:
        return address_allowed(ipaddress.ip_address(host), allow_loopback=allow_loopback)
    except ValueError:
        return True  # a name: judged when it is resolved, at send time


@dataclass(frozen=True)
class HttpResult:
    status: int | None
    body: str
    duration_ms: int
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_loopback: bool,
         max_response_chars: int = 2000) -> HttpResult:
    """POST without following redirects; never raises for network trouble (it is reported instead)."""
    started = time.monotonic()
    parts = urlsplit(url)
    secure = parts.scheme == "https"
    port = parts.port or (443 if secure else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        address = resolve_allowed(parts.hostname or "", port, allow_loopback=allow_loopback)
        connection_class = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
        connection = connection_class(parts.hostname or "", port, address, timeout)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read(max_response_chars * 4).decode("utf-8", "replace")[:max_response_chars]
            return HttpResult(response.status, text, int((time.monotonic() - started) * 1000))
        finally:
            connection.close()
    except BlockedAddress as blocked:
        return HttpResult(None, "", int((time.monotonic() - started) * 1000), f"Blocked: {blocked}")
    except (OSError, http.client.HTTPException) as error:
        reason = "Timed out" if isinstance(error, (socket.timeout, TimeoutError)) else type(error).__name__
        return HttpResult(None, "", int((time.monotonic() - started) * 1000), f"{reason}: {error}"[:500])
