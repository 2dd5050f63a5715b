"""Domain errors. Each carries the HTTP status it maps to, so adapters translate them in one place."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"error": self.message, **self.extra}


class ValidationError(DomainError):
    status_code = 400


class Unauthorized(DomainError):
    status_code = 401


class Forbidden(DomainError):
    status_code = 403


class NotFound(DomainError):
    status_code = 404


class Conflict(DomainError):
    status_code = 409


class PayloadTooLarge(DomainError):
    status_code = 413


class UnsupportedMediaType(DomainError):
    status_code = 415


class BusinessRuleViolation(DomainError):
    status_code = 422


class RateLimited(DomainError):
    status_code = 429

    def __init__(self, retry_after: int, limit: int) -> None:
        super().__init__("Rate limit exceeded. Try again shortly.", retryAfter=retry_after)
        self.retry_after = retry_after
        self.limit = limit


def validation_failed(field: str, message: str) -> ValidationError:
    """The generic 400 of the API, naming the field at fault."""
    return ValidationError("Validation failed.", details=[{"field": field, "message": message}])
