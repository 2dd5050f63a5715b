"""Staff accounts: sign-up (a new company and its OWNER), sign-in, the companies a user belongs to,
password reset by emailed link, profile and password changes.

A staff user (``USER#{email}`` / ``PROFILE``) may belong to several companies (``MEMBERSHIP#{company}``
items beside the profile; the company keeps a ``MEMBER#{user}`` copy). Sign-in works like the
storefront's: one message for a wrong password or an unknown email, same time for both, and 5 failures
in 15 minutes lock the email out for a while.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from distribu import audit, clock, companies, credentials, dynamo, ids, keys, passwords, signin_throttle
from distribu.errors import BusinessRuleViolation, Conflict, DomainError, Forbidden, ValidationError
from distribu.permissions import Staff

INVALID = "Invalid email or password."
EMAIL_TAKEN = "This email already has a Distribu account. Sign in to add another company."
LINK_INVALID = "This link has expired or has already been used. Ask for a new one."
NO_COMPANY = "You are not a member of any company any more. Ask an owner to invite you again."
RESET_TTL_SECONDS = 3600


class SignInRefused(DomainError):
    status_code = 401


@dataclass(frozen=True)
class User:
    id: str
    email: str
    name: str


@dataclass(frozen=True)
class Membership:
    company_id: str
    company_name: str
    slug: str
    role: str


check_email = credentials.check_email
check_name = credentials.check_name
check_password = credentials.check_password


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def check_company_name(value: str) -> str:
    name = " ".join((value or "").split())
    if not 1 <= len(name) <= 100 or not ids.slugify(name):
        raise ValidationError("Validation failed.", details=[_problem(
            "companyName", "Company name must be 1–100 characters, with at least one letter or digit.")])
    return name


def user_by_email(email: str) -> dict[str, Any] | None:
    return dynamo.get(keys.user_pk(email), keys.USER_PROFILE_SK)


# --- sign-up and sign-in -----------------------------------------------------------------------------

def sign_up(*, company_name: str, name: str, email: str, password: str) -> tuple[User, Membership]:
    """A new company with the new user as its OWNER. The slug comes from the name; when taken, a number
    is added (``acme-distributors-2``)."""
    company_name, name, email, password = credentials.collect((check_company_name, (company_name,)), (check_name, (name,)),
                                                   (check_email, (email,)), (check_password, (password,)))
    if user_by_email(email):
        raise ValidationError("Validation failed.", details=[_problem("email", EMAIL_TAKEN)])
    base = ids.slugify(company_name)
    for attempt in range(1, 20):
        slug = base if attempt == 1 else f"{base[:56]}-{attempt}"
        try:
            company = companies.create_company(company_name, email, password, slug=slug, owner_name=name)
            break
        except Conflict as error:
            if "slug" not in error.message:
                raise ValidationError("Validation failed.", details=[_problem("email", EMAIL_TAKEN)]) from None
    else:
        raise BusinessRuleViolation("Could not find a free web address for this company name; try another name.")
    user = user_by_email(email) or {}
    return User(user["id"], email, name), Membership(company.id, company.name, company.slug, "OWNER")


def sign_in(email: str, password: str) -> User:
    email = (email or "").strip().lower()
    if not email or not password:
        raise SignInRefused(INVALID)
    signin_throttle.take_slot("STAFF", email)
    user = user_by_email(email)
    if user is None:
        credentials.spend_a_verification(password)
    elif passwords.verify_password(user.get("passwordHash", ""), password):
        signin_throttle.clear("STAFF", email)
        return User(user["id"], email, user.get("name") or "")
    raise SignInRefused(INVALID)


def memberships(email: str) -> list[Membership]:
    """The companies a user belongs to, by name (one Query and one batch read)."""
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.user_pk(email)}, ":prefix": {"S": "MEMBERSHIP#"}})
    items = [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]
    found = dynamo.batch_get((keys.company(item["companyId"]), keys.COMPANY_SK) for item in items)
    result = []
    for item in items:
        company = found.get((keys.company(item["companyId"]), keys.COMPANY_SK))
        if company:
            result.append(Membership(item["companyId"], company["name"], company["slug"], item["role"]))
    return sorted(result, key=lambda membership: membership.company_name.lower())


def membership_in(email: str, company_id: str) -> Membership:
    """The user's membership of one company, or 403 (the company switcher cannot reach other tenants)."""
    item = dynamo.get(keys.user_pk(email), keys.membership_sk(company_id)) if company_id and len(company_id) <= 40 else None
    if not item:
        raise Forbidden("You are not a member of this company.")
    company = companies.get_company(company_id)
    return Membership(company_id, company.name, company.slug, item["role"])


def staff_for(session: Any) -> Staff:
    """The :class:`Staff` a dashboard session stands for."""
    return Staff(session.principal_id, session.email, session.name, session.company_id, session.role)


# --- passwords ---------------------------------------------------------------------------------------

def request_password_reset(email: str) -> tuple[str, User] | None:
    """A 1-hour single-use reset token for the user with this email, or None (pages answer the same)."""
    try:
        email = check_email(email)
    except ValidationError:
        return None
    user = user_by_email(email)
    if not user or not signin_throttle.allows("STAFF", email, signin_throttle.RESET_EMAIL):
        return None
    token = secrets.token_urlsafe(32)
    dynamo.dynamodb().put_item(TableName=dynamo.table_name(), Item=dynamo.to_item({
        "PK": keys.staff_token_pk(credentials.token_hash(token)), "SK": "TOKEN", "entity": "STAFF_TOKEN", "email": email,
        "purpose": "reset", "createdAt": clock.now_iso(), "expiresAt": int(time.time()) + RESET_TTL_SECONDS}))
    return token, User(user["id"], email, user.get("name") or "")


def reset_email(token: str) -> str | None:
    item = _read_token(token)
    return item["email"] if item else None


def _read_token(token: str) -> dict[str, Any] | None:
    if not token or len(token) > 200:
        return None
    item = dynamo.get(keys.staff_token_pk(credentials.token_hash(token)), "TOKEN")
    if not item or int(item.get("expiresAt", 0)) <= time.time():
        return None
    return item


def reset_password(*, token: str, password: str, confirm: str) -> User:
    """Set a new password from an emailed link (1 hour, once); every session of the user ends."""
    from distribu import sessions

    credentials.check_confirmation(password, confirm)
    check_password(password)
    item = _read_token(token)
    if not item:
        raise BusinessRuleViolation(LINK_INVALID)
    user = user_by_email(item["email"]) or {}
    try:
        dynamo.transact([
            dynamo.delete(item["PK"], item["SK"], condition="attribute_exists(PK)"),
            dynamo.update(keys.user_pk(item["email"]), keys.USER_PROFILE_SK, "SET passwordHash = :hash",
                          condition="attribute_exists(PK)", values={":hash": passwords.hash_password(password)}),
        ])
    except dynamo.TransactionCancelled:
        raise BusinessRuleViolation(LINK_INVALID) from None
    sessions.end_user_sessions(user["id"])
    signin_throttle.clear("STAFF", item["email"])
    return User(user["id"], item["email"], user.get("name") or "")


def change_password(staff: Staff, *, current: str, password: str, confirm: str, keep_session: Any = None) -> None:
    """Change one's own password (the current one first); the user's other sessions end."""
    from distribu import sessions

    user = user_by_email(staff.email) or {}
    if not passwords.verify_password(user.get("passwordHash", ""), current or ""):
        raise ValidationError("Validation failed.", details=[_problem("current", "This is not your current password.")])
    credentials.check_confirmation(password, confirm)
    check_password(password)
    dynamo.transact([
        dynamo.update(keys.user_pk(staff.email), keys.USER_PROFILE_SK, "SET passwordHash = :hash",
                      condition="attribute_exists(PK)", values={":hash": passwords.hash_password(password)}),
        audit.entry(staff.company_id, staff.actor(), "UserPasswordChanged", "User", staff.user_id),
    ])
    sessions.end_user_sessions(staff.user_id, keep=keep_session)


def rename(staff: Staff, name: str) -> str:
    """One's own display name (shown in the audit log from now on)."""
    name = check_name(name)
    dynamo.transact([
        dynamo.update(keys.user_pk(staff.email), keys.USER_PROFILE_SK, "SET #name = :name",
                      condition="attribute_exists(PK)", names={"#name": "name"}, values={":name": name}),
        audit.entry(staff.company_id, staff.actor(), "UserProfileUpdated", "User", staff.user_id,
                    {"before": {"name": staff.name}, "after": {"name": name}}),
    ])
    return name
