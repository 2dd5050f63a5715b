"""JSON for the outside world: Decimal money becomes a JSON number (8.5, 131.25)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, dict):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value
