"""Idempotency keys for every POST and PATCH of the API (kept 24 hours).

A request with an ``Idempotency-Key`` first takes a short lock record (one conditional write). The
change it makes then writes the finished record - response included - in the *same transaction* as
the change itself, so a retry, however timed, finds either nothing (the change never happened) or
the stored response (it did): never a second order. Errors release the lock so a retry runs again.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any, Callable

from distribu import dynamo, keys
from distribu.aws import dynamodb
from distribu.errors import BusinessRuleViolation, Conflict, ValidationError

RETENTION_SECONDS = 24 * 3600
LOCK_SECONDS = 60  # longer than any API function may run (29 s)
MAX_KEY_LENGTH = 255

IN_FLIGHT = "A request with this Idempotency-Key is still being processed. Retry shortly."
REUSED = "This Idempotency-Key was already used with a different request."


class Replay(Exception):
    """The request was already answered: send the stored response again."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def request_fingerprint(method: str, path: str, body: bytes) -> str:
    """Equal for the same request whatever its key order or spacing. Any body at all gets one: what is not
    JSON (or nests past the recursion limit) is fingerprinted as its raw bytes."""
    try:
        canonical = json.dumps(json.loads(body or b"null"), sort_keys=True, separators=(",", ":")).encode()
    except (ValueError, UnicodeDecodeError, RecursionError):
        canonical = body
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + canonical).hexdigest()


class IdempotencyGuard:
    """Holds the lock on one idempotency key for the length of one request."""

    def __init__(self, company_id: str, key_id: str, idempotency_key: str, fingerprint: str) -> None:
        if not idempotency_key.strip() or len(idempotency_key) > MAX_KEY_LENGTH:
            raise ValidationError("Validation failed.", details=[
                {"field": "Idempotency-Key", "message": f"must be 1-{MAX_KEY_LENGTH} characters"}])
        self.pk = keys.company(company_id)
        self.sk = keys.idempotency_sk(key_id, idempotency_key)
        self.fingerprint = fingerprint
        self.token = secrets.token_hex(8)
        self.in_transaction = False
        self.completed = False

    def acquire(self) -> None:
        """Take the lock, or raise :class:`Replay` / 409 / 422 from what the record says."""
        now = int(time.time())
        client = dynamodb()
        try:
            client.put_item(
                TableName=dynamo.table_name(),
                Item=dynamo.to_item({"PK": self.pk, "SK": self.sk, "entity": "IDEMPOTENCY", "state": "IN_PROGRESS",
                                     "fingerprint": self.fingerprint, "token": self.token,
                                     "lockedUntil": now + LOCK_SECONDS, "expiresAt": now + RETENTION_SECONDS}),
                ConditionExpression="attribute_not_exists(PK) OR expiresAt < :now OR "
                                    "(#state = :progress AND lockedUntil < :now)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":now": {"N": str(now)}, ":progress": {"S": "IN_PROGRESS"}},
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException as failure:
            self.raise_for(dynamo.from_item(failure.response.get("Item")) or {})

    def raise_for(self, record: dict[str, Any]) -> None:
        if record.get("fingerprint") != self.fingerprint:
            raise BusinessRuleViolation(REUSED)
        if record.get("state") == "COMPLETED":
            raise Replay(int(record["status"]), json.loads(record["response"]))
        raise Conflict(IN_FLIGHT)

    def _completed_record(self, status: int, body: Any) -> dict[str, Any]:
        return {"PK": self.pk, "SK": self.sk, "entity": "IDEMPOTENCY", "state": "COMPLETED",
                "fingerprint": self.fingerprint, "status": status,
                "response": json.dumps(body, separators=(",", ":"), default=str),
                "expiresAt": int(time.time()) + RETENTION_SECONDS}

    def recorder(self, status: int) -> Callable[[dict[str, Any]], list[dict[str, Any]]]:
        """Transaction items that finish this key with ``{"data": resource}``, for the change's own write."""

        def items(resource: dict[str, Any]) -> list[dict[str, Any]]:
            self.in_transaction = True
            return [dynamo.put(self._completed_record(status, {"data": resource}),
                               condition="#state = :progress AND #token = :token",
                               names={"#state": "state", "#token": "token"},
                               values={":progress": "IN_PROGRESS", ":token": self.token})]

        return items

    def finish(self, status: int, body: Any) -> None:
        """The request succeeded. Its record was written with the change, or (a no-op update) is written now."""
        if not self.in_transaction:
            dynamodb().put_item(TableName=dynamo.table_name(),
                                Item=dynamo.to_item(self._completed_record(status, body)))
        self.completed = True

    def release(self) -> None:
        """The request failed: forget it, so a retry runs afresh."""
        if self.completed:
            return
        client = dynamodb()
        try:
            client.delete_item(
                TableName=dynamo.table_name(), Key=dynamo.key(self.pk, self.sk),
                ConditionExpression="#token = :token", ExpressionAttributeNames={"#token": "token"},
                ExpressionAttributeValues={":token": {"S": self.token}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            pass  # the lock expired and another request holds it now


AlsoWrite = Callable[[dict[str, Any]], list[dict[str, Any]]]


def extra_items(also_write: AlsoWrite | None, resource: dict[str, Any]) -> list[dict[str, Any]]:
    return also_write(resource) if also_write else []
