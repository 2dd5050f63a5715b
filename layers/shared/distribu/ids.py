"""Identifiers: opaque, URL-safe, sortable by creation time."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase


def new_id() -> str:
    """26 chars: 10 of millisecond timestamp, 16 random (80 bits)."""
    millis = int(time.time() * 1000)
    head = ""
    for _ in range(10):
        head = _ALPHABET[millis & 31] + head
        millis >>= 5
    return head + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def slugify(name: str) -> str:
    """"Acme Distributors" -> "acme-distributors"."""
    out: list[str] = []
    for char in name.strip().lower():
        if char.isascii() and char.isalnum():
            out.append(char)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")[:60].strip("-")
