"""Request bodies as the API accepts them: JSON, at most 1 MB, parsed so that no input can hurt.

Every JSON body the API reads goes through :func:`parse` (the API's ``read_json``), so the rules below
hold for every route at once rather than being remembered per route:

- ``413`` past 1 MB (Lambda itself stops at 6 MB; no record of ours comes near 1 MB);
- ``415`` for a body that says it is something else than JSON (form-encoded, ``text/plain``, ...); a body
  with no Content-Type at all is read as JSON, as most HTTP clients' defaults would have it;
- ``400 Invalid JSON body.`` for what is not JSON, or nests deeper than any body of ours
  (``json.loads`` recurses: a body nested 1,000 levels deep raised ``RecursionError``);
- numbers no field can hold (``NaN``, ``Infinity``, a 5,000-digit integer, ``1e400000``) are never
  turned into values: the parse hooks hand back :class:`UnusableNumber`, in microseconds, and each
  numeric field refuses it as it refuses any non-number (``quantity must be a number``). Converting
  ``1e400000`` to an integer took 13 s; a long integer literal is never converted at all;
- ``400`` naming the field for a string with control characters (NUL, escape, ...); long texts
  (``description``, ``notes``) may hold tabs and line breaks.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from distribu.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from distribu.validation import LONG_TEXT_FIELDS, control_characters_problem

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32  # our deepest body (an order's items) nests 3 levels
MAX_NUMBER_CHARS = 40  # far beyond DynamoDB's 38 significant digits
MAX_MAGNITUDE_EXPONENT = 17  # |n| < 1e18: every numeric field of ours tops out far below (money: 1e12)
MIN_MAGNITUDE_EXPONENT = -30

INVALID_JSON = "Invalid JSON body."
TOO_LARGE = f"Request body too large. The limit is {MAX_BODY_BYTES // (1024 * 1024)} MB."
NOT_JSON = "Unsupported Content-Type. Send JSON with the header Content-Type: application/json."


class UnusableNumber:
    """A number in the body that no field can hold; the literal is kept for messages and logs."""

    __slots__ = ("literal",)

    def __init__(self, literal: str) -> None:
        self.literal = literal

    def __repr__(self) -> str:
        return f"UnusableNumber({self.literal[:20]!r})"


def _integer(literal: str) -> int | UnusableNumber:
    if len(literal.lstrip("-")) > MAX_MAGNITUDE_EXPONENT + 1:
        return UnusableNumber(literal)
    return int(literal)


def _decimal(literal: str) -> Decimal | UnusableNumber:
    if len(literal) > MAX_NUMBER_CHARS:
        return UnusableNumber(literal)
    value = Decimal(literal)  # the literal is valid JSON: this cannot fail, and keeps the exponent unexpanded
    if value and not MIN_MAGNITUDE_EXPONENT <= value.adjusted() <= MAX_MAGNITUDE_EXPONENT:
        return UnusableNumber(literal)
    return value


def is_json_media_type(content_type: str | None) -> bool:
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (media_type.startswith("application/") and media_type.endswith("+json"))


def parse(raw: bytes, content_type: str | None) -> Any:
    """The body as Python values (numbers as ``int``/``Decimal``), or the documented 413/415/400."""
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLarge(TOO_LARGE)
    if content_type is not None and not is_json_media_type(content_type):
        raise UnsupportedMediaType(NOT_JSON)
    try:
        value = json.loads(raw or b"", parse_float=_decimal, parse_int=_integer, parse_constant=UnusableNumber)
    except (ValueError, UnicodeDecodeError, RecursionError):  # JSONDecodeError is a ValueError
        raise ValidationError(INVALID_JSON) from None
    _check_values(value)
    return value


def _field(path: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in path) or "body"


def _check_values(value: Any) -> None:
    """Depth and text, walked without recursion (the depth is what is being checked)."""
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        current, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise ValidationError(INVALID_JSON, details=[
                {"field": "body", "message": f"nests deeper than {MAX_DEPTH} levels"}])
        if isinstance(current, str):
            name = next((part for part in reversed(path) if isinstance(part, str)), "")
            problem = control_characters_problem(current, long_text=name in LONG_TEXT_FIELDS)
            if problem:
                raise ValidationError("Validation failed.", details=[{"field": _field(path), "message": problem}])
        elif isinstance(current, dict):
            for key, item in current.items():
                if control_characters_problem(key, long_text=False):
                    raise ValidationError("Validation failed.", details=[
                        {"field": _field(path) if path else "body",
                         "message": "field names must not contain control characters"}])
                stack.append((item, (*path, key)))
        elif isinstance(current, list):
            stack.extend((item, (*path, index)) for index, item in enumerate(current))
