"""distribu.attribute_values against boto3's TypeSerializer/TypeDeserializer, which it stands in for."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer

from distribu.attribute_values import deserialize, serialize

VALUES: list[Any] = [
    None, True, False, 0, -7, 2**63, Decimal("12.50"), Decimal("0.01"), Decimal("-1E+5"), Decimal("1E-100"),
    Decimal("12345678901234567890123456789012345678"), "", "Widget ü ✓", b"\x00\xff", bytearray(b"ab"),
    [], [1, "a", None, [Decimal("1.5")]], (1, 2), {}, {"nested": {"list": [True, {"n": Decimal("3")}]}},
    {"a", "b"}, {Decimal("1.5"), 2}, set(), {b"x", b"y"},
    {"PK": "C#01", "SK": "PRODUCT#01", "price": Decimal("9.99"), "stock": 12, "isActive": True,
     "tags": ["tools"], "lowStockThreshold": None},
]


def comparable(value: Any) -> Any:
    """Sets serialise in iteration order; compare them as sorted lists."""
    if isinstance(value, dict):
        return {key: sorted(member) if key in ("SS", "NS", "BS") else comparable(member) for key, member in value.items()}
    if isinstance(value, list):
        return [comparable(member) for member in value]
    return value


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_serialises_as_boto3_does(value: Any) -> None:
    assert comparable(serialize(value)) == comparable(TypeSerializer().serialize(value))


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_reads_back_what_boto3_reads(value: Any) -> None:
    def plain(read: Any) -> Any:
        if isinstance(read, Binary):
            return read.value
        if isinstance(read, dict):
            return {key: plain(member) for key, member in read.items()}
        if isinstance(read, list):
            return [plain(member) for member in read]
        if isinstance(read, set):
            return {plain(member) for member in read}
        return read

    attribute = TypeSerializer().serialize(value)
    assert deserialize(attribute) == plain(TypeDeserializer().deserialize(attribute))


@pytest.mark.parametrize("value", [1.5, Decimal("NaN"), Decimal("Infinity"), Decimal("1.000000000000000000000000000000000000001"),
                                   object(), {1, "mixed"}])
def test_refuses_what_boto3_refuses(value: Any) -> None:
    with pytest.raises(Exception) as ours:
        serialize(value)
    with pytest.raises(Exception) as boto3s:
        TypeSerializer().serialize(value)
    assert type(ours.value) is type(boto3s.value)


@pytest.mark.parametrize("attribute", [{}, {"X": "1"}])
def test_refuses_unknown_attribute_values(attribute: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        deserialize(attribute)
