"""Storefront accounts: self-registration, sign-in, and passwords set or reset through emailed links.

Sign-in tries the company's primary customer with that email first, then a contact of any of its
customers (the contact acts under its parent account). A wrong password and an unknown email get the
same answer (and take the same time: an unknown email still pays one password hash), a blocked account
or deactivated contact is told so only once its password is right, and 5 failures for one email in 15
minutes lock that email out for a while (:mod:`distribu.signin_throttle`).

Emailed links carry a random token of which only the SHA-256 is stored, single use: setting the
password consumes the token in the same transaction. Setting or changing a password ends every other
session of that person.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from distribu import audit, clock, credentials, dynamo, keys, passwords, signin_throttle
from distribu.buyers import Buyer
from distribu.errors import BusinessRuleViolation, DomainError, ValidationError

INVALID = "Invalid email or password."
SUSPENDED = "Your account has been suspended. Please contact the store for details."
NO_PENDING = "No pending account found for this email. Please contact your distributor."
EMAIL_TAKEN = "An account with this email already exists in this store. Sign in instead."
LINK_INVALID = "This link has expired or has already been used. Ask for a new one."
RESET_TTL_SECONDS = 3600
SETUP_TTL_SECONDS = 7 * 24 * 3600


class SignInRefused(DomainError):
    status_code = 401


normalise_email = credentials.normalise_email


# --- registration ------------------------------------------------------------------------------------

def register(company_id: str, *, name: str, email: str, password: str) -> Buyer:
    """Self-registration: name 2-100 chars, a valid email not yet in this store, password 8-100 chars.
    The new customer is ACTIVE, unverified (no emailed link proved the address), and its own ADMIN."""
    from distribu import customers

    name, email, password = credentials.collect((credentials.check_name, (name,)),
                                                 (credentials.check_email, (email,)),
                                                 (credentials.check_password, (password,)))
    customer_id = customers.new_customer_id()
    try:
        view = customers.create_customer(
            company_id, customers.CustomerCreate(email=email, name=name),
            audit.Actor("CUSTOMER", customer_id, name), customer_id=customer_id,
            password_hash=passwords.hash_password(password))
    except DomainError as error:
        if error.status_code == 409:
            raise ValidationError("Validation failed.", details=[{"field": "email", "message": EMAIL_TAKEN}]) from None
        raise
    return Buyer(company_id, view["id"], None, "ADMIN", name, email)


# --- sign-in -----------------------------------------------------------------------------------------

def _contacts_with_email(company_id: str, email: str) -> list[dict[str, Any]]:
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), IndexName="GSI1", KeyConditionExpression="GSI1PK = :pk",
        ExpressionAttributeValues={":pk": {"S": keys.contacts_by_email(company_id, email)}})
    return [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]


def sign_in(company_id: str, email: str, password: str) -> Buyer:
    """The person behind ``email`` in this store, if ``password`` is theirs. Raises :class:`SignInRefused`
    with ``Invalid email or password.`` or the suspended message, or ``TooManyAttempts``."""
    email = normalise_email(email)
    if not email or not password:
        raise SignInRefused(INVALID)
    signin_throttle.take_slot(company_id, email)
    pk = keys.company(company_id)
    guard = dynamo.get(pk, keys.email_guard_sk(email))
    customer = dynamo.get(pk, keys.customer_sk(guard["customerId"])) if guard else None
    candidates = [customer] if customer and customer.get("passwordHash") else []
    candidates += [contact for contact in _contacts_with_email(company_id, email) if contact.get("passwordHash")]
    for candidate in candidates:
        if not passwords.verify_password(candidate["passwordHash"], password):
            continue
        if candidate.get("entity") == "CUSTOMER":
            if candidate.get("status") != "ACTIVE":
                raise SignInRefused(SUSPENDED)
            signin_throttle.clear(company_id, email)
            return Buyer(company_id, candidate["id"], None, "ADMIN", candidate.get("name") or "", email)
        parent = dynamo.get(pk, keys.customer_sk(candidate["customerId"]))
        if not candidate.get("active", True) or not parent or parent.get("status") != "ACTIVE":
            raise SignInRefused(SUSPENDED)
        signin_throttle.clear(company_id, email)
        return Buyer(company_id, candidate["customerId"], candidate["id"], candidate["role"],
                     candidate.get("name") or "", email)
    if not candidates:
        credentials.spend_a_verification(password)
    raise SignInRefused(INVALID)


def current_buyer(company_id: str, session: Any) -> Buyer:
    """The :class:`Buyer` a storefront session stands for."""
    return Buyer(company_id, session.customer_id, session.contact_id, session.role, session.name, session.email)


# --- emailed links -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class AccountLink:
    token: str
    email: str
    name: str
    purpose: str  # "reset" | "setup"


def issue_link(company_id: str, *, purpose: str, customer_id: str, contact_id: str | None, email: str,
               name: str = "") -> AccountLink:
    """A single-use token for one person: "reset" (1 hour) or "setup" for a new contact (7 days)."""
    token = secrets.token_urlsafe(32)
    ttl = RESET_TTL_SECONDS if purpose == "reset" else SETUP_TTL_SECONDS
    dynamo.dynamodb().put_item(TableName=dynamo.table_name(), Item=dynamo.to_item({
        "PK": keys.company(company_id), "SK": keys.account_token_sk(credentials.token_hash(token)), "entity": "ACCOUNT_TOKEN",
        "purpose": purpose, "customerId": customer_id, "contactId": contact_id, "email": email,
        "createdAt": clock.now_iso(), "expiresAt": int(time.time()) + ttl,
    }))
    return AccountLink(token, email, name, purpose)


def request_password_reset(company_id: str, email: str) -> AccountLink | None:
    """A reset link for the person with this email (primary customer first, then an active contact), or
    None. Pages answer the same either way, so nobody learns which emails have accounts."""
    try:
        email = credentials.check_email(email)
    except ValidationError:
        return None
    if not signin_throttle.allows(company_id, email, signin_throttle.RESET_EMAIL):
        return None
    pk = keys.company(company_id)
    guard = dynamo.get(pk, keys.email_guard_sk(email))
    if guard:
        customer = dynamo.get(pk, keys.customer_sk(guard["customerId"]))
        if customer and customer.get("status") == "ACTIVE":
            return issue_link(company_id, purpose="reset", customer_id=customer["id"], contact_id=None,
                              email=email, name=customer.get("name") or "")
        return None
    for contact in _contacts_with_email(company_id, email):
        if contact.get("active", True):
            return issue_link(company_id, purpose="reset", customer_id=contact["customerId"],
                              contact_id=contact["id"], email=email, name=contact.get("name") or "")
    return None


def _read_token(company_id: str, token: str) -> dict[str, Any] | None:
    if not token or len(token) > 200:
        return None
    item = dynamo.get(keys.company(company_id), keys.account_token_sk(credentials.token_hash(token)))
    if not item or int(item.get("expiresAt", 0)) <= time.time():
        return None
    return item


def link_email(company_id: str, token: str, purpose: str) -> str | None:
    """The email an unexpired link was sent to (the form shows it), or None."""
    item = _read_token(company_id, token)
    return item["email"] if item and item.get("purpose") == purpose else None


def _password_write(company_id: str, token_item: dict[str, Any], password_hash: str, *,
                    require_no_password: bool) -> list[dict[str, Any]]:
    pk = keys.company(company_id)
    target_sk = (keys.contact_sk(token_item["customerId"], token_item["contactId"]) if token_item.get("contactId")
                 else keys.customer_sk(token_item["customerId"]))
    condition = "attribute_exists(PK)" + (" AND attribute_not_exists(passwordHash)" if require_no_password else "")
    return [
        dynamo.delete(token_item["PK"], token_item["SK"], condition="attribute_exists(PK)"),
        # The version moves too, so an optimistic whole-item write of the record (a staff edit) that read it
        # before cannot put the old password back.
        dynamo.update(pk, target_sk, "SET passwordHash = :hash, emailVerified = :true, updatedAt = :now, "
                                     "version = if_not_exists(version, :zero) + :one",
                      condition=condition, values={":hash": password_hash, ":true": True, ":now": clock.now_iso(),
                                                   ":zero": 0, ":one": 1}),
    ]


def set_up_password(company_id: str, *, token: str, email: str, password: str, confirm: str) -> Buyer:
    """A new contact sets its password once, from the link in its invitation (8-100 chars, confirmed).
    An unknown email, a wrong or used link, or an account that already has a password all get
    ``No pending account found for this email. Please contact your distributor.``"""
    credentials.check_confirmation(password, confirm)
    credentials.check_password(password)
    email = normalise_email(email)
    item = _read_token(company_id, token)
    if not item or item.get("purpose") != "setup" or item.get("email") != email:
        raise BusinessRuleViolation(NO_PENDING)
    try:
        dynamo.transact(_password_write(company_id, item, passwords.hash_password(password), require_no_password=True))
    except dynamo.TransactionCancelled:
        raise BusinessRuleViolation(NO_PENDING) from None
    return _buyer_for(company_id, item)


def reset_password(company_id: str, *, token: str, password: str, confirm: str) -> Buyer:
    """Set a new password from an emailed reset link (valid 1 hour, once). Every open session of that
    person ends: whoever had the old password is signed out."""
    from distribu import sessions

    credentials.check_confirmation(password, confirm)
    credentials.check_password(password)
    item = _read_token(company_id, token)
    if not item or item.get("purpose") not in ("reset", "setup"):
        raise BusinessRuleViolation(LINK_INVALID)
    try:
        dynamo.transact(_password_write(company_id, item, passwords.hash_password(password), require_no_password=False))
    except dynamo.TransactionCancelled:
        raise BusinessRuleViolation(LINK_INVALID) from None
    sessions.end_customer_principal_sessions(company_id, item["customerId"], item.get("contactId"))
    signin_throttle.clear(company_id, item["email"])
    return _buyer_for(company_id, item)


def _buyer_for(company_id: str, token_item: dict[str, Any]) -> Buyer:
    pk = keys.company(company_id)
    if token_item.get("contactId"):
        contact = dynamo.get(pk, keys.contact_sk(token_item["customerId"], token_item["contactId"])) or {}
        return Buyer(company_id, token_item["customerId"], token_item["contactId"], contact.get("role", "VIEWER"),
                     contact.get("name") or "", token_item["email"])
    customer = dynamo.get(pk, keys.customer_sk(token_item["customerId"])) or {}
    return Buyer(company_id, token_item["customerId"], None, "ADMIN", customer.get("name") or "", token_item["email"])


def change_password(buyer: Buyer, *, current: str, password: str, confirm: str, keep_session: Any = None) -> None:
    """The signed-in person changes its password (the current one first). Its other sessions end."""
    from distribu import sessions

    pk = keys.company(buyer.company_id)
    sk = keys.contact_sk(buyer.customer_id, buyer.contact_id) if buyer.contact_id else keys.customer_sk(buyer.customer_id)
    item = dynamo.get(pk, sk) or {}
    if not item.get("passwordHash") or not passwords.verify_password(item["passwordHash"], current or ""):
        raise ValidationError("Validation failed.", details=[{"field": "current", "message": "This is not your current password."}])
    credentials.check_confirmation(password, confirm)
    credentials.check_password(password)
    dynamo.transact([
        dynamo.update(pk, sk, "SET passwordHash = :hash, updatedAt = :now, version = if_not_exists(version, :zero) + :one",
                      condition="attribute_exists(PK)",
                      values={":hash": passwords.hash_password(password), ":now": clock.now_iso(), ":zero": 0, ":one": 1}),
        audit.entry(buyer.company_id, buyer.actor(), "CustomerPasswordChanged", "Customer", buyer.customer_id,
                    {"contactId": buyer.contact_id}),
    ])
    sessions.end_customer_principal_sessions(buyer.company_id, buyer.customer_id, buyer.contact_id, keep=keep_session)


def rename(buyer: Buyer, name: str) -> str:
    """The signed-in person's own name: the account's name for the primary sign-in, else the contact's."""
    name = credentials.check_name(name)
    if buyer.contact_id:
        from distribu import contacts

        contacts.update_contact(buyer.company_id, buyer.customer_id, buyer.contact_id, actor=buyer.actor(), name=name)
    else:
        from distribu import customers

        customers.update_customer(buyer.company_id, buyer.customer_id, {"name": name}, buyer.actor())
    return name
