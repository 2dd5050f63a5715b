"""API keys: creation (shown once), revocation, and authentication with the rate limit.

Only the SHA-256 of a key is stored. Authentication and the per-key rate limit are one conditional
``UpdateItem`` on the key's item: the condition checks status, expiry and the minute's budget, and
the update counts the request and stamps ``lastUsedAt``.
"""

from __future__ import annotations

import base64
import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from distribu import audit, clock, dynamo, ids, keys
from distribu.aws import dynamodb
from distribu.errors import Forbidden, NotFound, RateLimited, Unauthorized, ValidationError
from distribu.permissions import Staff

SCOPES = (
    "products:read", "products:write", "orders:read", "orders:write", "customers:read",
    "customers:write", "reports:read", "webhooks:read", "webhooks:write",
)
KEY_PREFIX = "dk_"
KEY_LENGTH = 46  # "dk_" + 43 chars of base64url(32 bytes)
DISPLAY_PREFIX_LENGTH = 12
WINDOW_SECONDS = 60

MISSING_HEADER = "Missing or invalid Authorization header. Use: Bearer <api_key>"
INVALID_KEY = "Invalid, expired, or revoked API key."


def generate_key() -> str:
    return KEY_PREFIX + base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


def parse_scopes(raw: str | list[str]) -> list[str]:
    values = [part.strip() for part in (raw.split(",") if isinstance(raw, str) else raw) if part.strip()]
    unknown = [value for value in values if value not in SCOPES]
    if unknown:
        raise ValidationError(f"Unknown scope(s): {', '.join(unknown)}. Valid scopes: {', '.join(SCOPES)}.")
    if not values:
        raise ValidationError("At least one scope is required.")
    return sorted(set(values), key=SCOPES.index)


@dataclass(frozen=True)
class ApiKeyContext:
    """Who is calling, and how much of this minute's budget is left."""

    company_id: str
    key_id: str
    name: str
    scopes: frozenset[str]
    created_by: str | None
    limit: int
    remaining: int
    reset_seconds: int

    def require(self, scope: str) -> None:
        if scope not in self.scopes:
            raise Forbidden(f'Insufficient permissions. This key lacks the "{scope}" scope.')

    def actor(self) -> audit.Actor:
        return audit.Actor("API_KEY", self.key_id, self.name, on_behalf_of=self.created_by)


def public_view(item: dict[str, Any], *, now: str | None = None) -> dict[str, Any]:
    status = "Revoked" if item.get("status") == "REVOKED" else "Active"
    if status == "Active" and item.get("expiresAt") and item["expiresAt"] <= (now or clock.now_iso()):
        status = "Expired"
    return {
        "id": item["id"], "name": item["name"], "prefix": item["prefix"], "scopes": list(item["scopes"]),
        "status": status, "expiresAt": item.get("expiresAt"), "lastUsedAt": item.get("lastUsedAt"),
        "createdById": item.get("createdById"), "createdByName": item.get("createdByName"),
        "createdAt": item["createdAt"],
    }


def create_api_key(company_id: str, name: str, scopes: list[str], actor: audit.Actor, *,
                   expires_at: str | None = None, rate_limit: int = 60) -> tuple[dict[str, Any], str]:
    """Returns the key's public view and the key itself, which is never obtainable again."""
    name = name.strip()
    if not 1 <= len(name) <= 100:
        raise ValidationError("Key name must be 1-100 characters.")
    scopes = parse_scopes(scopes)
    if expires_at:
        try:
            expires_at = clock.iso(clock.parse_iso(expires_at))
        except ValueError:
            raise ValidationError(f'Invalid expiry "{expires_at}": use ISO 8601.') from None
    raw_key = generate_key()
    key_hash = hash_key(raw_key)
    key_id = ids.new_id()
    now = clock.now_iso()
    item = {
        "PK": keys.api_key_pk(key_hash), "SK": keys.API_KEY_SK, "entity": "APIKEY",
        "GSI1PK": keys.listing(company_id, "APIKEY"), "GSI1SK": keys.listing_sort(now, key_id),
        "id": key_id, "companyId": company_id, "name": name, "prefix": raw_key[:DISPLAY_PREFIX_LENGTH],
        "scopes": scopes, "status": "ACTIVE", "expiresAt": expires_at, "createdById": actor.id,
        "createdByName": actor.name, "createdAt": now, "rateLimit": rate_limit, "rlWindow": 0, "rlCount": 0,
    }
    dynamo.transact([
        dynamo.put(item, condition="attribute_not_exists(PK)"),
        dynamo.put({"PK": keys.company(company_id), "SK": keys.api_key_pointer_sk(key_id), "entity": "APIKEY_REF",
                    "keyHash": key_hash}),
        audit.entry(company_id, actor, "ApiKeyCreated", "ApiKey", key_id,
                    {"name": name, "scopes": scopes, "expiresAt": expires_at}, at=now),
    ])
    return public_view(item, now=now), raw_key


def revoke_api_key(company_id: str, key_id: str, actor: audit.Actor) -> dict[str, Any]:
    """Revoke a key for good: it stops authenticating at once. Revoking a revoked key changes nothing."""
    pointer = dynamo.get(keys.company(company_id), keys.api_key_pointer_sk(key_id))
    if not pointer:
        raise NotFound("API key not found.")
    key_pk = keys.api_key_pk(pointer["keyHash"])
    current = dynamo.get(key_pk, keys.API_KEY_SK)
    if not current or current.get("companyId") != company_id:
        raise NotFound("API key not found.")
    if current.get("status") == "REVOKED":
        return public_view(current)
    now = clock.now_iso()
    dynamo.transact([
        dynamo.update(key_pk, keys.API_KEY_SK, "SET #status = :revoked, revokedAt = :now",
                      condition="attribute_exists(PK) AND companyId = :company",
                      names={"#status": "status"},
                      values={":revoked": "REVOKED", ":now": now, ":company": company_id}),
        audit.entry(company_id, actor, "ApiKeyRevoked", "ApiKey", key_id,
                    {"name": current["name"], "prefix": current["prefix"]}, at=now),
    ])
    return public_view({**current, "status": "REVOKED", "revokedAt": now})


def list_api_keys(company_id: str) -> list[dict[str, Any]]:
    response = dynamodb().query(
        TableName=dynamo.table_name(), IndexName="GSI1",
        KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.listing(company_id, "APIKEY")}},
        ScanIndexForward=False,
    )
    return [public_view(dynamo.from_item(raw) or {}) for raw in response.get("Items", [])]


# --- the dashboard: the same verbs, for a signed-in staff member (OWNER and ADMIN) --------------------------

def _field(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def expiry_from_date(text: str, *, today: str | None = None) -> str | None:
    """A key's expiry from a date (``YYYY-MM-DD``, UTC): the key works through that whole day. Empty:
    never expires. A day before today is refused."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if len(text) != 10:
            raise ValueError
        day = clock.parse_iso(text)
    except ValueError:
        raise ValidationError("Validation failed.", details=[_field("expires_on", "Enter a date as YYYY-MM-DD.")]) \
            from None
    if text < (today or clock.now_iso()[:10]):
        raise ValidationError("Validation failed.", details=[_field("expires_on", "Choose today or a later date.")])
    return clock.iso(day + timedelta(days=1))


def create_for_staff(staff: Staff, *, name: str, scopes: list[str], expires_on: str = "",
                     rate_limit: int = 60) -> tuple[dict[str, Any], str]:
    """:func:`create_api_key` for the dashboard: OWNER and ADMIN only, each problem under its field. The key
    is returned once, here, and never again."""
    staff.require("settings")
    problems = []
    if not 1 <= len(name.strip()) <= 100:
        problems.append(_field("name", "Key name must be 1-100 characters."))
    try:
        scopes = parse_scopes(scopes)
    except ValidationError as error:
        problems.append(_field("scopes", "Choose at least one scope." if not scopes else error.message))
    expires_at = None
    try:
        expires_at = expiry_from_date(expires_on)
    except ValidationError as error:
        problems += error.extra["details"]
    if problems:
        raise ValidationError("Validation failed.", details=problems)
    return create_api_key(staff.company_id, name, scopes, staff.actor(), expires_at=expires_at, rate_limit=rate_limit)


def revoke_for_staff(staff: Staff, key_id: str) -> dict[str, Any]:
    """:func:`revoke_api_key` for the dashboard: OWNER and ADMIN only; another company's key is not found."""
    staff.require("settings")
    if not key_id or len(key_id) > 64:
        raise NotFound("API key not found.")
    return revoke_api_key(staff.company_id, key_id, staff.actor())


def list_for_staff(staff: Staff) -> list[dict[str, Any]]:
    staff.require("settings")
    return list_api_keys(staff.company_id)


# --- authentication ----------------------------------------------------------------------------

# The last minute-window this container saw per key: lets the common case take one round trip.
_window_seen: dict[str, int] = {}

_ACTIVE = "#status = :active AND (attribute_not_exists(expiresAt) OR expiresAt > :now)"
_INCREMENT = ("SET rlCount = rlCount + :one, lastUsedAt = :now",
              _ACTIVE + " AND rlWindow = :window AND rlCount < rateLimit")
_NEW_WINDOW = ("SET rlWindow = :window, rlCount = :one, lastUsedAt = :now",
               _ACTIVE + " AND (attribute_not_exists(rlWindow) OR rlWindow < :window)")


def bearer_key(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise Unauthorized(MISSING_HEADER)
    raw_key = authorization[len("Bearer "):].strip()
    if not raw_key:
        raise Unauthorized(MISSING_HEADER)
    return raw_key


def authenticate(raw_key: str) -> ApiKeyContext:
    """Authenticate and count the request against the key's per-minute budget, in one round trip.

    Raises :class:`Unauthorized` (unknown, revoked, expired: one message) or :class:`RateLimited`.
    """
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) != KEY_LENGTH:
        raise Unauthorized(INVALID_KEY)
    key_hash = hash_key(raw_key)
    now_seconds = time.time()
    window = int(now_seconds // WINDOW_SECONDS)
    now = clock.now_iso()

    def seconds_left(in_window: int) -> int:
        return max(1, math.ceil((in_window + 1) * WINDOW_SECONDS - now_seconds))

    client = dynamodb()
    counting_in = _window_seen.get(key_hash)  # the window this container last counted in
    for _ in range(4):
        expression, condition = _INCREMENT if counting_in == window else _NEW_WINDOW
        try:
            response = client.update_item(
                TableName=dynamo.table_name(), Key=dynamo.key(keys.api_key_pk(key_hash), keys.API_KEY_SK),
                UpdateExpression=expression, ConditionExpression=condition,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={":one": {"N": "1"}, ":now": {"S": now}, ":active": {"S": "ACTIVE"},
                                           ":window": {"N": str(window)}},
                ReturnValues="ALL_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except client.exceptions.ConditionalCheckFailedException as failure:
            current = dynamo.from_item(failure.response.get("Item"))
            if not current or current.get("status") != "ACTIVE" or (
                    current.get("expiresAt") and current["expiresAt"] <= now):
                raise Unauthorized(INVALID_KEY) from None
            stored = int(current.get("rlWindow", 0))
            if stored >= window:
                # The window is already open (another request, or a container whose clock runs a moment
                # ahead, opened it): count in it.
                if int(current["rlCount"]) >= int(current["rateLimit"]):
                    _window_seen[key_hash] = stored
                    raise RateLimited(retry_after=seconds_left(stored), limit=int(current["rateLimit"])) from None
                window = counting_in = stored
            else:
                counting_in = None  # a new minute: open its window
            continue
        item = dynamo.from_item(response["Attributes"]) or {}
        _window_seen[key_hash] = window
        limit = int(item["rateLimit"])
        return ApiKeyContext(
            company_id=item["companyId"], key_id=item["id"], name=item["name"],
            scopes=frozenset(item["scopes"]), created_by=item.get("createdById"),
            limit=limit, remaining=max(0, limit - int(item["rlCount"])), reset_seconds=seconds_left(window),
        )
    # Lost four races in a row: ask the caller to back off a moment.
    raise RateLimited(retry_after=1, limit=0)
