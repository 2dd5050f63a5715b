"""Sign-in throttling: after 5 failed sign-ins for one email in 15 minutes, refuse every attempt for that
email (whatever the password) until the oldest of those failures is 15 minutes old.

One item per email and audience keeps the recent failure times. Recording a failure is one conditional
update on it (read, then write only if nobody wrote since), so concurrent guesses cannot slip past.
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


def _key(scope: str, email: str) -> tuple[str, str]:
    """``scope`` is the company for storefront sign-ins and ``STAFF`` for the dashboard's."""
    email = email.strip().lower()
    if scope == "STAFF":
        return f"STAFFSIGNIN#{email}", "SIGNIN"
    return f"C#{scope}", f"SIGNIN#{email}"


def _recent(item: dict | None, now: float) -> list[float]:
    return sorted(float(moment) for moment in (item or {}).get("failures", []) if float(moment) > now - WINDOW_SECONDS)


def check(scope: str, email: str) -> None:
    """Raise :class:`TooManyAttempts` while the email is locked out."""
    now = time.time()
    failures = _recent(dynamo.get(*_key(scope, email)), now)
    if len(failures) >= MAX_FAILURES:
        raise TooManyAttempts(int(failures[-MAX_FAILURES] + WINDOW_SECONDS - now) + 1)


def record_failure(scope: str, email: str) -> None:
    pk, sk = _key(scope, email)
    client = dynamo.dynamodb()
    for _ in range(5):
        now = time.time()
        item = dynamo.get(pk, sk)
        failures = (_recent(item, now) + [now])[-MAX_FAILURES:]
        version = int((item or {}).get("version", 0))
        try:
            client.put_item(TableName=dynamo.table_name(), Item=dynamo.to_item({
                "PK": pk, "SK": sk, "entity": "SIGNIN", "failures": [str(moment) for moment in failures],
                "version": version + 1, "expiresAt": int(now) + WINDOW_SECONDS + 60}),
                ConditionExpression="attribute_not_exists(PK) OR version = :version",
                ExpressionAttributeValues={":version": {"N": str(version)}})
            return
        except client.exceptions.ConditionalCheckFailedException:
            continue


def clear(scope: str, email: str) -> None:
    """A successful sign-in forgets earlier failures."""
    dynamo.dynamodb().delete_item(TableName=dynamo.table_name(), Key=dynamo.key(*_key(scope, email)))
