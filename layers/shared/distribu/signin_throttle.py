"""Sign-in throttling: after 5 failed sign-ins for one email in 15 minutes, refuse every attempt for that
email (whatever the password) until the oldest of those failures is 15 minutes old.

One item per email and audience keeps the recent attempts. Every attempt takes a slot *before* its
password is checked (a conditional write: read, then write only if nobody wrote since), and a successful
sign-in gives them all back; so 100 guesses sent at once still get at most 5 tries. The same mechanism
limits password-reset emails per address (3 in 15 minutes), so nobody can flood someone's inbox.
"""

from __future__ import annotations

import math
import time

from distribu import dynamo
from distribu.errors import DomainError

MAX_FAILURES = 5
WINDOW_SECONDS = 15 * 60


class TooManyAttempts(DomainError):
    status_code = 429

    def __init__(self, retry_after: int) -> None:
        minutes = max(1, math.ceil(retry_after / 60))
        unit = "minute" if minutes == 1 else "minutes"
        super().__init__(f"Too many failed sign-in attempts for this email. Try again in {minutes} {unit}.")
        self.retry_after = retry_after


SIGN_IN, RESET_EMAIL = "SIGNIN", "RESET"
LIMITS = {SIGN_IN: MAX_FAILURES, RESET_EMAIL: 3}


def _key(scope: str, email: str, kind: str) -> tuple[str, str]:
    """``scope`` is the company for storefront sign-ins and ``STAFF`` for the dashboard's."""
    email = email.strip().lower()
    if scope == "STAFF":
        return f"STAFF{kind}#{email}", kind
    return f"C#{scope}", f"{kind}#{email}"


def _recent(item: dict | None, now: float) -> list[float]:
    return sorted(float(moment) for moment in (item or {}).get("attempts", []) if float(moment) > now - WINDOW_SECONDS)


def take_slot(scope: str, email: str, kind: str = SIGN_IN) -> None:
    """Count one attempt, or raise :class:`TooManyAttempts` (nothing counted) when the window is full."""
    pk, sk = _key(scope, email, kind)
    limit = LIMITS[kind]
    client = dynamo.dynamodb()
    for _ in range(10):
        now = time.time()
        item = dynamo.get(pk, sk)
        attempts = _recent(item, now)
        if len(attempts) >= limit:
            raise TooManyAttempts(int(attempts[-limit] + WINDOW_SECONDS - now) + 1)
        version = int((item or {}).get("version", 0))
        try:
            client.put_item(TableName=dynamo.table_name(), Item=dynamo.to_item({
                "PK": pk, "SK": sk, "entity": "THROTTLE", "attempts": [str(moment) for moment in attempts + [now]],
                "version": version + 1, "expiresAt": int(now) + WINDOW_SECONDS + 60}),
                ConditionExpression="attribute_not_exists(PK) OR version = :version",
                ExpressionAttributeValues={":version": {"N": str(version)}})
            return
        except client.exceptions.ConditionalCheckFailedException:
            continue  # another attempt took a slot meanwhile: count again
    raise TooManyAttempts(1)


def clear(scope: str, email: str, kind: str = SIGN_IN) -> None:
    """A successful sign-in gives back the slots its email's attempts took."""
    dynamo.dynamodb().delete_item(TableName=dynamo.table_name(), Key=dynamo.key(*_key(scope, email, kind)))


def allows(scope: str, email: str, kind: str) -> bool:
    """Take a slot if one is free (for actions that answer the same either way, like a reset email)."""
    try:
        take_slot(scope, email, kind)
        return True
    except TooManyAttempts:
        return False
