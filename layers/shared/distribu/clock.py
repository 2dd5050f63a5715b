"""Time in the one format the API speaks: ISO 8601 UTC with milliseconds."""

from __future__ import annotations

from datetime import datetime, timezone


def now() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    """``2026-03-01T12:00:00.000Z``."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return iso(now())


def parse_iso(value: str) -> datetime:
    """Parse an ISO 8601 date or datetime; naive values are taken as UTC. Raises ValueError."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed


def from_timestamp(seconds: float) -> str:
    return iso(datetime.fromtimestamp(seconds, timezone.utc))
