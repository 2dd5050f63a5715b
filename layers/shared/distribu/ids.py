"""Identifiers: opaque, URL-safe, sortable by creation time."""

from __future__ import annotations

import re
import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lowercase
# Every id we make (new_id, ids derived from an import row, delivery ids) fits; anything else cannot exist.
_COULD_EXIST = re.compile(r"[0-9A-Za-z_-]{1,64}")
MAX_ID_LENGTH = 64


def new_id() -> str:
    """26 chars: 10 of millisecond timestamp, 16 random (80 bits)."""
    millis = int(time.time() * 1000)
    head = ""
    for _ in range(10):
        head = _ALPHABET[millis & 31] + head
        millis >>= 5
    return head + "".join(secrets.choice(_ALPHABET) for _ in range(16))


def could_exist(value: str) -> bool:
    """Whether ``value`` has the shape of one of our ids (URL-safe, at most 64 characters). One that has
    not is answered as missing without asking DynamoDB, which would refuse a key of 10,000 characters
    with an error rather than "no such item"."""
    return _COULD_EXIST.fullmatch(value) is not None


def slugify(name: str) -> str:
    """"Acme Distributors" -> "acme-distributors"."""
    out: list[str] = []
    for char in name.strip().lower():
        if char.isascii() and char.isalnum():
            out.append(char)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")[:60].strip("-")
