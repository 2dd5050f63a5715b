"""Pydantic building blocks shared by the request models, and one translation of their errors.

Every validation problem becomes ``400 {"error": "Validation failed.", "details": [...]}`` with the
field named, whether it came through the API, the CLI or a CSV row.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Sequence, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, WithJsonSchema
from pydantic import ValidationError as PydanticValidationError

from distribu.errors import ValidationError

Model = TypeVar("Model", bound=BaseModel)


def _money(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise ValueError("must be a number")
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        raise ValueError("must be a number") from None
    if not amount.is_finite():
        raise ValueError("must be a finite number")
    if amount < 0:
        raise ValueError("must be at least 0")
    if amount.as_tuple().exponent < -2 and amount != amount.quantize(Decimal("0.01")):  # type: ignore[operator]
        raise ValueError("must have at most 2 decimal places")
    if amount >= MAX_MONEY:
        raise ValueError("is too large")
    return amount.quantize(Decimal("0.01"))


MAX_MONEY = Decimal("1e12")
# As accepted: a JSON number (never a string), at least 0, below a trillion, at most 2 decimal places.
Money = Annotated[Decimal, BeforeValidator(_money), WithJsonSchema({
    "type": "number", "minimum": 0, "exclusiveMaximum": float(MAX_MONEY), "multipleOf": 0.01,
    "description": "A JSON number with at most 2 decimal places, e.g. 8.5 or 131.25."})]


def _optional_text(value: Any) -> Any:
    """Blank optional strings mean "not set"."""
    if isinstance(value, str) and not value.strip():
        return None
    return value


BlankIsNone = BeforeValidator(_optional_text)


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not value.startswith(("http://", "https://")) or len(value) > 2048 or " " in value:
        raise ValueError("must be an http or https URL of at most 2048 characters")
    return value


HttpUrlText = AfterValidator(_http_url)


# Free texts that may run over several lines; every other string is one line of printable text.
LONG_TEXT_FIELDS = frozenset({"description", "notes"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_LONG_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # tab, LF and CR allowed


def control_characters_problem(text: str, *, long_text: bool) -> str | None:
    """Why ``text`` cannot be stored, or None: no control characters (a NUL in an email, an escape
    sequence in a name), except tabs and line breaks in long texts. For API bodies and CSV cells alike."""
    if (_CONTROL_IN_LONG_TEXT if long_text else _CONTROL).search(text) is None:
        return None
    if long_text:
        return "must not contain control characters other than tabs and line breaks"
    return "must not contain control characters"


def field_errors(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic's error list -> ``[{"field": "price", "message": "..."}]``."""
    details = []
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body",)]
        message = str(error.get("msg", "is invalid"))
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        if error.get("type") == "extra_forbidden":
            message = "is not a known field"
        details.append({"field": ".".join(location) or "body", "message": message})
    return details


def parse(model: type[Model], data: Any) -> Model:
    try:
        return model.model_validate(data)
    except PydanticValidationError as error:
        raise ValidationError("Validation failed.", details=field_errors(error.errors())) from None


class PartialUpdate(BaseModel):
    """A PATCH body: only the fields sent count, and ``null`` clears a field unless it is required."""

    REQUIRED: ClassVar[tuple[str, ...]] = ()

    def changes(self) -> dict[str, Any]:
        sent = {name: getattr(self, name) for name in self.model_fields_set}
        cleared = [name for name in self.REQUIRED if name in sent and sent[name] is None]
        if cleared:
            raise ValidationError("Validation failed.",
                                  details=[{"field": name, "message": "cannot be null"} for name in cleared])
        return sent
