"""Server-side sessions for the storefront (customers and their contacts) and the dashboard (staff).

The cookie holds only a random id; the session is a DynamoDB item keyed by the id's SHA-256 (a leaked
table dump opens no session) with a TTL. Because the session lives on the server, signing out, blocking
a customer, deactivating a contact, removing a member or changing a password ends it at once: those
verbs delete the items, found through GSI1 by the person they belong to.

Customer sessions are tenant items (``C#{company}`` / ``SESSION#{hash}``): the storefront knows the
company from the URL before it reads the session, and a cookie can never open another store.
Staff sessions are global (``STAFFSESSION#{hash}``): a user signs in before choosing a company.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from distribu import clock, dynamo, keys

CUSTOMER_TTL_SECONDS = 7 * 24 * 3600
STAFF_TTL_SECONDS = 7 * 24 * 3600


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


def _digest(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    """Who is signed in. ``raw_id`` is the cookie's value (it binds the CSRF token)."""

    raw_id: str
    kind: str  # "customer" | "staff"
    pk: str
    sk: str
    company_id: str | None
    principal_id: str  # customer, contact or staff user id
    name: str
    email: str
    role: str
    customer_id: str | None = None
    contact_id: str | None = None
    expires_at: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


# --- keys ------------------------------------------------------------------------------------------

def customer_key(company_id: str, raw_id: str) -> tuple[str, str]:
    return keys.company(company_id), f"SESSION#{_digest(raw_id)}"


def staff_key(raw_id: str) -> tuple[str, str]:
    return f"STAFFSESSION#{_digest(raw_id)}", "SESSION"


def _customer_sessions_index(company_id: str, customer_id: str) -> str:
    return f"C#{company_id}#CUSTOMER#{customer_id}#SESSION"


def _user_sessions_index(user_id: str) -> str:
    return f"USER#{user_id}#SESSION"


# --- starting and reading ----------------------------------------------------------------------------

def start_customer_session(company_id: str, *, customer_id: str, contact_id: str | None, name: str, email: str,
                           role: str) -> Session:
    """A new session for a customer (``contact_id`` None) or one of its contacts."""
    raw_id = new_session_id()
    pk, sk = customer_key(company_id, raw_id)
    expires = int(time.time()) + CUSTOMER_TTL_SECONDS
    now = clock.now_iso()
    # Checked in the same write: an account blocked (or a contact deactivated) a moment ago gets no session.
    checks = [dynamo.condition_check(keys.company(company_id), keys.customer_sk(customer_id), "#status = :active",
                                     names={"#status": "status"}, values={":active": "ACTIVE"})]
    if contact_id:
        checks.append(dynamo.condition_check(keys.company(company_id), keys.contact_sk(customer_id, contact_id),
                                             "active = :true", values={":true": True}))
    try:
        dynamo.transact(checks + [dynamo.put({
            "PK": pk, "SK": sk, "entity": "SESSION", "kind": "customer", "companyId": company_id,
            "customerId": customer_id, "contactId": contact_id, "principalId": contact_id or customer_id,
            "name": name, "email": email, "role": role, "createdAt": now, "expiresAt": expires,
            "GSI1PK": _customer_sessions_index(company_id, customer_id), "GSI1SK": f"{now}#{sk}",
        })])
    except dynamo.TransactionCancelled:
        from distribu.errors import Forbidden

        raise Forbidden("Your account has been suspended. Please contact the store for details.") from None
    return Session(raw_id, "customer", pk, sk, company_id, contact_id or customer_id, name, email, role,
                   customer_id=customer_id, contact_id=contact_id, expires_at=expires)


def start_staff_session(*, user_id: str, email: str, name: str, company_id: str | None, role: str,
                        companies: int = 1) -> Session:
    """``companies``: how many companies the user belongs to (the dashboard offers a switcher when > 1)."""
    raw_id = new_session_id()
    pk, sk = staff_key(raw_id)
    expires = int(time.time()) + STAFF_TTL_SECONDS
    now = clock.now_iso()
    dynamo.dynamodb().put_item(TableName=dynamo.table_name(), Item=dynamo.to_item({
        "PK": pk, "SK": sk, "entity": "SESSION", "kind": "staff", "companyId": company_id,
        "principalId": user_id, "name": name, "email": email, "role": role, "createdAt": now,
        "expiresAt": expires, "companies": companies, "GSI1PK": _user_sessions_index(user_id), "GSI1SK": f"{now}#{pk}",
    }))
    return Session(raw_id, "staff", pk, sk, company_id, user_id, name, email, role, expires_at=expires,
                   extra={"companies": companies})


def from_item(raw_id: str, item: dict[str, Any] | None, *, kind: str) -> Session | None:
    """The session an item holds, or None when it is missing, of another kind or expired (DynamoDB's TTL
    deletes lazily, so expiry is checked here too)."""
    if not item or item.get("entity") != "SESSION" or item.get("kind") != kind:
        return None
    if int(item.get("expiresAt", 0)) <= time.time():
        return None
    return Session(raw_id=raw_id, kind=kind, pk=item["PK"], sk=item["SK"], company_id=item.get("companyId"),
                   principal_id=item["principalId"], name=item.get("name") or "", email=item.get("email") or "",
                   role=item.get("role") or "", customer_id=item.get("customerId"),
                   contact_id=item.get("contactId"), expires_at=int(item["expiresAt"]),
                   extra={"companies": int(item.get("companies", 1))})


def update_staff_session(session: Session, *, company_id: str, role: str) -> Session:
    """Switch the company a staff session works in (the company switcher)."""
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(session.pk, session.sk),
        UpdateExpression="SET companyId = :company, #role = :role", ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames={"#role": "role"},
        ExpressionAttributeValues={":company": {"S": company_id}, ":role": {"S": role}})
    return Session(**{**session.__dict__, "company_id": company_id, "role": role})


def rename(session: Session, name: str) -> None:
    """Keep the display name in the session in step with a profile change."""
    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(session.pk, session.sk),
        UpdateExpression="SET #name = :name", ConditionExpression="attribute_exists(PK)",
        ExpressionAttributeNames={"#name": "name"}, ExpressionAttributeValues={":name": {"S": name}})


# --- ending ------------------------------------------------------------------------------------------

def end(session: Session) -> None:
    """Sign out: the session item goes, so the cookie opens nothing any more."""
    dynamo.dynamodb().delete_item(TableName=dynamo.table_name(), Key=dynamo.key(session.pk, session.sk))


def _sessions_in(index_pk: str) -> list[dict[str, Any]]:
    return list(dynamo.query_all({"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": index_pk}},
                                  "ProjectionExpression": "PK, SK, contactId, companyId"}))


def _delete_all(items: list[dict[str, Any]]) -> int:
    return dynamo.delete_keys((item["PK"], item["SK"]) for item in items)


def end_customer_sessions(company_id: str, customer_id: str, *, contact_id: str | None = None,
                          keep: Session | None = None) -> int:
    """End every open session of a customer account (``contact_id`` None: the customer's and all its
    contacts'), or only one contact's. ``keep`` spares the caller's own session (a password change)."""
    items = _sessions_in(_customer_sessions_index(company_id, customer_id))
    if contact_id is not None:
        items = [item for item in items if item.get("contactId") == contact_id]
    if keep is not None:
        items = [item for item in items if (item["PK"], item["SK"]) != (keep.pk, keep.sk)]
    return _delete_all(items)


def end_customer_principal_sessions(company_id: str, customer_id: str, contact_id: str | None, *,
                                    keep: Session | None = None) -> int:
    """End the sessions of exactly one person: the primary customer (no contact) or one contact."""
    items = [item for item in _sessions_in(_customer_sessions_index(company_id, customer_id))
             if item.get("contactId") == contact_id]
    if keep is not None:
        items = [item for item in items if (item["PK"], item["SK"]) != (keep.pk, keep.sk)]
    return _delete_all(items)


def end_user_sessions(user_id: str, *, company_id: str | None = None, keep: Session | None = None) -> int:
    """End a staff user's sessions: all of them, or those working in ``company_id`` (removed from it)."""
    items = _sessions_in(_user_sessions_index(user_id))
    if company_id is not None:
        items = [item for item in items if item.get("companyId") == company_id]
    if keep is not None:
        items = [item for item in items if (item["PK"], item["SK"]) != (keep.pk, keep.sk)]
    return _delete_all(items)


def set_staff_role(user_id: str, company_id: str, role: str) -> None:
    """A role change takes effect in the user's open sessions at once."""
    for item in _sessions_in(_user_sessions_index(user_id)):
        if item.get("companyId") == company_id:
            try:
                dynamo.dynamodb().update_item(
                    TableName=dynamo.table_name(), Key=dynamo.key(item["PK"], item["SK"]),
                    UpdateExpression="SET #role = :role", ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeNames={"#role": "role"}, ExpressionAttributeValues={":role": {"S": role}})
            except dynamo.dynamodb().exceptions.ConditionalCheckFailedException:
                pass  # signed out meanwhile
