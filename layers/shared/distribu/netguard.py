"""Outbound HTTP for webhooks, reaching only the public internet (the SSRF guard).

Webhook URLs are judged twice. At registration (and on every change), the host is parsed the way HTTP
clients and resolvers parse it - ``2852039166``, ``0xa9fea9fe``, ``0251.0376.0251.0376`` and ``169.254.43518``
are all the metadata address ``169.254.169.254`` to ``inet_aton`` - and a numeric host must be globally
routable. Names cannot be judged before they are resolved: at send time every address the name resolves
to must be globally routable, the connection is made to the very address that was checked (a DNS answer
that changes between check and connect cannot slip through), and the connected peer is checked again.

Globally routable means Python's ``is_global`` (which, unlike ``is_private``, excludes the shared address
space ``100.64.0.0/10`` of carrier-grade NAT, and reserved and documentation ranges), not multicast, not
the cloud metadata addresses, with IPv6 forms that embed an IPv4 address (mapped, 6to4, NAT64) judged by
that address. Loopback is allowed in the local stack only, so developers can receive webhooks on their
own machine.
"""

from __future__ import annotations

import http.client
import ipaddress
import re
import socket
import ssl
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NUMBER_PART = re.compile(r"(0[xX][0-9a-fA-F]*|[0-9]+)")
_NAME = re.compile(r"[0-9a-z_-]+(\.[0-9a-z_-]+)*\.?")  # what getaddrinfo may resolve: no %, @, \, spaces


class BlockedAddress(Exception):
    """The URL resolves to an address webhooks may not reach."""


def _embedded_ipv4(address: Address) -> Address:
    """The IPv4 address an IPv6 form carries (mapped, 6to4, NAT64), which is the one that gets reached."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address.sixtofour:
            return address.sixtofour
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def address_allowed(address: Address, *, allow_loopback: bool) -> bool:
    address = _embedded_ipv4(address)
    if address in METADATA_ADDRESSES:
        return False
    if address.is_loopback:
        return allow_loopback
    return address.is_global and not address.is_multicast and not (
        isinstance(address, ipaddress.IPv6Address) and address.is_site_local)


def _ipv4_number(part: str) -> int | None:
    """One dotted part as inet_aton reads it: ``0x1f`` hex, ``017`` octal, ``15`` decimal."""
    if not _NUMBER_PART.fullmatch(part):
        return None
    if part[:2] in ("0x", "0X"):
        return int(part[2:] or "0", 16)
    if len(part) > 1 and part.startswith("0"):
        return int(part, 8) if all(digit in "01234567" for digit in part) else None
    return int(part)


def numeric_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """The IPv4 address ``host`` means to a resolver, in any of the numeric forms ``inet_aton`` accepts
    (``a.b.c.d``, ``a.b.c`` with a 16-bit last part, ``a.b`` with a 24-bit one, a lone 32-bit ``a``; each
    part decimal, octal or hex), or None when it is not numeric. Raises ValueError for a host that looks
    numeric but is no address (URL parsers refuse those too)."""
    parts = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if not _NUMBER_PART.fullmatch(parts[-1]):
        return None  # a name: its last label is not a number
    numbers = [_ipv4_number(part) for part in parts]
    if len(parts) > 4 or None in numbers:
        raise ValueError(f"{host} is neither a name nor an IPv4 address")
    *leading, last = numbers
    if any(number > 255 for number in leading) or last >= 256 ** (5 - len(numbers)):  # type: ignore[operator]
        raise ValueError(f"{host} is out of the IPv4 range")
    value = last
    for position, number in enumerate(leading):
        value += number << (8 * (3 - position))  # type: ignore[operator]
    return ipaddress.IPv4Address(value)


def parse_host(url: str) -> Address | str:
    """The URL's host as an address (any numeric form) or a lowercased ASCII name. Raises ValueError for
    a URL with no host, a bad port, or a host no client would connect to."""
    parts = urlsplit(url)
    parts.port  # noqa: B018 - raises ValueError for a port that is not one
    host = parts.hostname or ""
    if not host:
        raise ValueError("has no host")
    try:
        return ipaddress.ip_address(host.split("%", 1)[0])  # IPv6 literals come unbracketed; a zone id goes
    except ValueError:
        pass
    try:
        host = host.encode("idna").decode("ascii")  # bücher.example -> xn--bcher-kva.example, as resolvers see it
    except UnicodeError:
        raise ValueError(f"{host} is not a valid host name") from None
    if not _NAME.fullmatch(host):
        raise ValueError(f"{host} is not a valid host name")
    return numeric_ipv4(host) or host


def host_allowed(host: Address | str, *, allow_loopback: bool) -> bool:
    """A registration-time judgement of a parsed host: an address must be globally routable; a name is
    judged again, with what it resolves to, at every send (only ``localhost`` is known before)."""
    if isinstance(host, str):
        name = host.rstrip(".")
        if name == "localhost" or name.endswith(".localhost"):
            return allow_loopback
        return True
    return address_allowed(host, allow_loopback=allow_loopback)


def literal_host_allowed(url: str, *, allow_loopback: bool) -> bool:
    """Whether a webhook may be registered at ``url`` (a URL without a valid host may not)."""
    try:
        host = parse_host(url)
    except ValueError:
        return False
    return host_allowed(host, allow_loopback=allow_loopback)


def resolve_allowed(host: str, port: int, *, allow_loopback: bool) -> str:
    """The first address of ``host`` that may be reached; raises :class:`BlockedAddress` if any may not."""
    if not host:
        raise BlockedAddress("the URL has no host")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise BlockedAddress(f"cannot resolve {host}: {error}") from None
    addresses = [info[4][0] for info in infos]
    for raw in addresses:
        if not address_allowed(ipaddress.ip_address(raw.split("%")[0]), allow_loopback=allow_loopback):
            raise BlockedAddress(f"{host} resolves to {raw}, which is not a public internet address")
    return addresses[0]


def _connect(address: str, port: int, timeout: float, *, allow_loopback: bool) -> socket.socket:
    """A connection to the checked address, whose peer is checked once more."""
    sock = socket.create_connection((address, port), timeout)
    peer = sock.getpeername()[0]
    if not address_allowed(ipaddress.ip_address(peer.split("%")[0]), allow_loopback=allow_loopback):
        sock.close()
        raise BlockedAddress(f"connected to {peer}, which is not a public internet address")
    return sock


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
    def __init__(self, host: str, port: int, address: str, timeout: float, allow_loopback: bool) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address
        self._allow_loopback = allow_loopback

    def connect(self) -> None:
        self.sock = _connect(self._address, self.port, self.timeout, allow_loopback=self._allow_loopback)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float, allow_loopback: bool) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address
        self._allow_loopback = allow_loopback

    def connect(self) -> None:
        sock = _connect(self._address, self.port, self.timeout, allow_loopback=self._allow_loopback)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]


def post(url: str, body: bytes, headers: dict[str, str], *, timeout: float, allow_loopback: bool,
         max_response_chars: int = 2000) -> HttpResult:
    """POST without following redirects; never raises for network trouble (it is reported instead)."""
    started = time.monotonic()
    try:
        parts = urlsplit(url)
        secure = parts.scheme == "https"
        port = parts.port or (443 if secure else 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        host = parts.hostname or ""
        address = resolve_allowed(host, port, allow_loopback=allow_loopback)
        connection_class = _PinnedHTTPSConnection if secure else _PinnedHTTPConnection
        connection = connection_class(host, port, address, timeout, allow_loopback)
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read(max_response_chars * 4).decode("utf-8", "replace")[:max_response_chars]
            return HttpResult(response.status, text, int((time.monotonic() - started) * 1000))
        finally:
            connection.close()
    except BlockedAddress as blocked:
        return HttpResult(None, "", int((time.monotonic() - started) * 1000), f"Blocked: {blocked}")
    except ValueError as error:  # a port out of range, a malformed URL
        return HttpResult(None, "", int((time.monotonic() - started) * 1000), f"Invalid URL: {error}"[:500])
    except (OSError, http.client.HTTPException) as error:
        reason = "Timed out" if isinstance(error, (socket.timeout, TimeoutError)) else type(error).__name__
        return HttpResult(None, "", int((time.monotonic() - started) * 1000), f"{reason}: {error}"[:500])
