"""What every sign-in shares, for the storefront's buyers and the dashboard's staff: the rules of an
email, a password and a person's name (with the words forms show under the field), the one-way hash of
an emailed token, and the same time spent whether or not an email has an account."""

from __future__ import annotations

import hashlib
import re
import secrets
from typing import Any, Callable

from distribu import passwords
from distribu.errors import ValidationError

MISMATCH = "The passwords do not match."
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_DUMMY_HASH: list[str] = []


def problem(field: str, message: str) -> ValidationError:
    return ValidationError("Validation failed.", details=[{"field": field, "message": message}])


def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()


def check_email(value: str | None, field: str = "email") -> str:
    email = normalise_email(value)
    if not email or len(email) > 254 or not _EMAIL.match(email):
        raise problem(field, "Enter a valid email address.")
    return email


def check_name(value: str | None, field: str = "name") -> str:
    name = " ".join((value or "").split())
    if not 2 <= len(name) <= 100:
        raise problem(field, "Name must be 2–100 characters.")
    return name


def check_password(value: str | None, field: str = "password") -> str:
    if not 8 <= len(value or "") <= 100:
        raise problem(field, "Password must be 8–100 characters.")
    return value or ""


def check_confirmation(password: str | None, confirm: str | None) -> None:
    if password != confirm:
        raise problem("confirm", MISMATCH)


def collect(*checks: tuple[Callable[..., Any], tuple[Any, ...]]) -> list[Any]:
    """Run every check and gather every field's problem into one 400 (a form shows them all at once)."""
    values: list[Any] = []
    problems: list[dict[str, str]] = []
    for check, args in checks:
        try:
            values.append(check(*args))
        except ValidationError as error:
            problems += error.extra.get("details", [])
            values.append(None)
    if problems:
        raise ValidationError("Validation failed.", details=problems)
    return values


def token_hash(token: str) -> str:
    """Only this is stored of an emailed token: a leaked table opens no link."""
    return hashlib.sha256(token.encode()).hexdigest()


def spend_a_verification(password: str) -> None:
    """Check ``password`` against a throwaway hash, so an unknown email answers as slowly as a known one."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(passwords.hash_password(secrets.token_hex(16)))
    passwords.verify_password(_DUMMY_HASH[0], password)
