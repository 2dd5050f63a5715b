"""Python values to DynamoDB's attribute-value format and back, with boto3's rules.

boto3's ``TypeSerializer``/``TypeDeserializer`` do this, but they live in the ``boto3`` package, whose
import loads s3transfer, multiprocessing and the resource layer: about 40 ms of every cold start, which
nothing in the functions uses (they talk to botocore clients). ``tests/test_attribute_values.py`` holds
these to boto3's output, so the rules cannot drift apart.

Numbers are ``Decimal`` both ways, in DynamoDB's 38-digit context; a float, a NaN or a number that would
lose digits is a ``TypeError``, as in boto3. Binary comes back as ``bytes``.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from decimal import Clamped, Context, Decimal, Inexact, Overflow, Rounded, Underflow
from typing import Any

DYNAMODB_CONTEXT = Context(Emin=-128, Emax=126, prec=38, traps=[Clamped, Overflow, Inexact, Rounded, Underflow])


def _number(value: int | Decimal) -> str:
    number = str(DYNAMODB_CONTEXT.create_decimal(value))
    if number in ("Infinity", "NaN", "-Infinity", "sNaN"):
        raise TypeError("Infinity and NaN not supported")
    return number


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, Decimal)) and not isinstance(value, bool)


def serialize(value: Any) -> dict[str, Any]:
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if _is_number(value):
        return {"N": _number(value)}
    if isinstance(value, float):
        raise TypeError("Float types are not supported. Use Decimal types instead.")
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, (bytes, bytearray)):
        return {"B": bytes(value)}
    if isinstance(value, Set):
        if all(_is_number(member) for member in value):
            return {"NS": [_number(member) for member in value]}
        if all(isinstance(member, str) for member in value):
            return {"SS": list(value)}
        if all(isinstance(member, (bytes, bytearray)) for member in value):
            return {"BS": [bytes(member) for member in value]}
        raise TypeError(f"Unsupported set members: {value!r}")
    if isinstance(value, Mapping):
        return {"M": {key: serialize(member) for key, member in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [serialize(member) for member in value]}
    raise TypeError(f"Unsupported type {type(value)} for value {value!r}")


def deserialize(attribute: Mapping[str, Any]) -> Any:
    if not attribute:
        raise TypeError("Value must be a nonempty dictionary whose key is a valid dynamodb type.")
    [(kind, value)] = attribute.items()
    if kind == "S":
        return value
    if kind == "N":
        return DYNAMODB_CONTEXT.create_decimal(value)
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    if kind == "M":
        return {key: deserialize(member) for key, member in value.items()}
    if kind == "L":
        return [deserialize(member) for member in value]
    if kind == "SS":
        return set(value)
    if kind == "NS":
        return {DYNAMODB_CONTEXT.create_decimal(member) for member in value}
    if kind == "B":
        return bytes(value)
    if kind == "BS":
        return {bytes(member) for member in value}
    raise TypeError(f"Dynamodb type {kind} is not supported")
