"""CSRF tokens, signed values and the security headers every page carries.

CSRF: a token is HMAC-SHA256(secret, binding), where the binding is the session id for a signed-in
visitor and a random per-browser value (its own cookie) before sign-in, so sign-in and registration
forms are protected too. A POST must carry the token in the ``csrf_token`` field or the
``X-CSRF-Token`` header (htmx); anything else is refused with 403 before the page runs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache
from typing import Any

from distribu.config import get_settings


@lru_cache(maxsize=1)
def _secret() -> bytes:
    secret = get_settings().session_secret
    if len(secret) < 32:
        raise RuntimeError("SESSION_SECRET must be at least 32 characters")
    return secret.encode()


def _mac(purpose: str, value: str) -> str:
    return hmac.new(_secret(), f"{purpose}\n{value}".encode(), hashlib.sha256).hexdigest()


def csrf_token(binding: str) -> str:
    return _mac("csrf", binding)


def csrf_valid(binding: str | None, token: str | None) -> bool:
    if not binding or not token:
        return False
    return hmac.compare_digest(csrf_token(binding), token)


def sign(purpose: str, value: Any) -> str:
    """A tamper-proof (not secret) cookie value: base64url(JSON) + "." + MAC."""
    payload = base64.urlsafe_b64encode(json.dumps(value, separators=(",", ":")).encode()).decode().rstrip("=")
    return f"{payload}.{_mac(purpose, payload)}"


def unsign(purpose: str, signed: str | None) -> Any:
    if not signed or "." not in signed:
        return None
    payload, mac = signed.rsplit(".", 1)
    if not hmac.compare_digest(_mac(purpose, payload), mac):
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except ValueError:
        return None


def content_security_policy(*, form_action: tuple[str, ...] = (), connect: tuple[str, ...] = ()) -> str:
    """No inline script or style anywhere; images from anywhere public (product images may be hosted by
    the distributor's CDN); forms and fetches only to us, plus the upload bucket where a page needs it."""
    images = "'self' data: https:" + (" http://127.0.0.1:* http://localhost:*" if get_settings().is_local else "")
    return "; ".join([
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        f"img-src {images}",
        "font-src 'self'",
        "connect-src " + " ".join(("'self'",) + connect),
        "form-action " + " ".join(("'self'",) + form_action),
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ])


def security_headers(csp: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", csp.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
