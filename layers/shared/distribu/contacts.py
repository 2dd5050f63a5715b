"""Contacts: extra sign-ins under one customer account, sharing its addresses, prices and orders.

Each has an email (unique among its customer's contacts), a name, a role (ADMIN, BUYER, VIEWER, see
:mod:`distribu.buyers`) and an active flag. A new contact gets an emailed link to set its password
(valid 7 days, once). Staff manage contacts from the dashboard; the account's own ADMINs from the
storefront's account page. Deactivating a contact, or changing its role, ends its open sessions.
"""

from __future__ import annotations

from typing import Any

from distribu import audit, clock, credentials, customer_accounts, dynamo, ids, keys, sessions
from distribu.buyers import ROLES
from distribu.errors import Conflict, NotFound, ValidationError

NOT_FOUND = "Contact not found."
EMAIL_TAKEN = "This account already has a sign-in with this email."
MAX_CONTACTS = 100


def _validate(email: str, name: str, role: str) -> tuple[str, str, str]:
    problems = []
    try:
        email = credentials.check_email(email)
    except ValidationError as error:
        problems += error.extra["details"]
    name = " ".join((name or "").split())
    if len(name) > 100:
        problems.append({"field": "name", "message": "Use at most 100 characters."})
    if role not in ROLES:
        problems.append({"field": "role", "message": "Choose Admin, Buyer or Viewer."})
    if problems:
        raise ValidationError("Validation failed.", details=problems)
    return email, name, role


def to_view(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "customerId": item["customerId"], "email": item["email"], "name": item.get("name") or "",
            "role": item["role"], "active": bool(item.get("active", True)),
            "passwordSet": bool(item.get("passwordHash")), "createdAt": item["createdAt"]}


def list_contacts(company_id: str, customer_id: str) -> list[dict[str, Any]]:
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)},
                                   ":prefix": {"S": keys.contacts_prefix(customer_id)}})
    items = [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]
    return [to_view(item) for item in sorted(items, key=lambda item: item["createdAt"])]


def get_contact(company_id: str, customer_id: str, contact_id: str) -> dict[str, Any]:
    if not contact_id or len(contact_id) > 40:
        raise NotFound(NOT_FOUND)
    return dynamo.get_record(keys.company(company_id), keys.contact_sk(customer_id, contact_id), "CONTACT", NOT_FOUND)


def invite_contact(company_id: str, customer_id: str, *, email: str, name: str, role: str,
                   actor: audit.Actor) -> tuple[dict[str, Any], customer_accounts.AccountLink]:
    """Create the contact (no password yet) and a 7-day set-password link for it. The caller emails the
    link (:func:`distribu.notifications.contact_invited`) once this has committed."""
    email, name, role = _validate(email, name, role)
    pk = keys.company(company_id)
    contact_id = ids.new_id()
    now = clock.now_iso()
    item = {
        "PK": pk, "SK": keys.contact_sk(customer_id, contact_id), "entity": "CONTACT", "id": contact_id,
        "customerId": customer_id, "email": email, "name": name, "role": role, "active": True,
        "emailVerified": False, "createdAt": now, "updatedAt": now, "version": 1,
        "GSI1PK": keys.contacts_by_email(company_id, email), "GSI1SK": f"{customer_id}#{contact_id}",
    }
    try:
        dynamo.transact([
            dynamo.condition_check(pk, keys.customer_sk(customer_id), "attribute_exists(PK)"),
            dynamo.put({"PK": pk, "SK": keys.contact_guard_sk(customer_id, email), "entity": "CONTACT_EMAIL",
                        "contactId": contact_id}, condition="attribute_not_exists(PK)"),
            dynamo.put(item, condition="attribute_not_exists(PK)"),
            audit.entry(company_id, actor, "CustomerContactCreated", "Customer", customer_id,
                        {"contactId": contact_id, "email": email, "name": name, "role": role}, at=now),
        ])
    except dynamo.TransactionCancelled as cancelled:
        failed = cancelled.failed_indexes()
        if 0 in failed:
            raise NotFound("Customer not found.") from None
        if 1 in failed:
            raise ValidationError("Validation failed.", details=[{"field": "email", "message": EMAIL_TAKEN}]) from None
        raise Conflict("The contact could not be saved right now; try again.") from None
    link = customer_accounts.issue_link(company_id, purpose="setup", customer_id=customer_id, contact_id=contact_id,
                                        email=email, name=name)
    return to_view(item), link


def update_contact(company_id: str, customer_id: str, contact_id: str, *, actor: audit.Actor,
                   role: str | None = None, active: bool | None = None, name: str | None = None) -> dict[str, Any]:
    """Change a contact's role, name or active flag. A deactivated contact, or one whose role changed,
    is signed out at once (its sessions carry the role they were opened with)."""
    current = get_contact(company_id, customer_id, contact_id)
    changes: dict[str, Any] = {}
    if role is not None and role != current["role"]:
        if role not in ROLES:
            raise ValidationError("Validation failed.", details=[{"field": "role", "message": "Choose Admin, Buyer or Viewer."}])
        changes["role"] = role
    if active is not None and active != bool(current.get("active", True)):
        changes["active"] = active
    if name is not None and " ".join(name.split()) != (current.get("name") or ""):
        if len(name) > 100:
            raise ValidationError("Validation failed.", details=[{"field": "name", "message": "Use at most 100 characters."}])
        changes["name"] = " ".join(name.split())
    if not changes:
        return to_view(current)
    now = clock.now_iso()
    version = int(current.get("version", 0))
    updated = {**current, **changes, "updatedAt": now, "version": version + 1}
    before = {name_: current.get(name_) for name_ in changes}
    try:
        dynamo.transact([
            dynamo.put_if_version(updated, version),
            audit.entry(company_id, actor, "CustomerContactUpdated", "Customer", customer_id,
                        {"contactId": contact_id, "before": before, "after": changes}, at=now),
        ])
    except dynamo.TransactionCancelled:
        raise Conflict("The contact is being changed by someone else; try again.") from None
    if "role" in changes or changes.get("active") is False:
        sessions.end_customer_principal_sessions(company_id, customer_id, contact_id)
    return to_view(updated)


def resend_invitation(company_id: str, customer_id: str, contact_id: str) -> customer_accounts.AccountLink:
    """A fresh set-password link for a contact that has not set its password yet."""
    current = get_contact(company_id, customer_id, contact_id)
    if current.get("passwordHash"):
        raise ValidationError("This contact has already set a password; it can use “Forgot your password?”.")
    return customer_accounts.issue_link(company_id, purpose="setup", customer_id=customer_id, contact_id=contact_id,
                                        email=current["email"], name=current.get("name") or "")


# --- the same verbs, asked for by a storefront person --------------------------------------------------

def invite_by_buyer(buyer: Any, *, email: str, name: str, role: str) -> tuple[dict[str, Any], customer_accounts.AccountLink]:
    """An account ADMIN invites a sign-in into its own account (403 for BUYER and VIEWER)."""
    buyer.require_contact_management()
    if credentials.normalise_email(email) == buyer.email:
        raise ValidationError("Validation failed.", details=[{"field": "email", "message": "This is your own email."}])
    return invite_contact(buyer.company_id, buyer.customer_id, email=email, name=name, role=role, actor=buyer.actor())


def update_by_buyer(buyer: Any, contact_id: str, *, role: str | None = None, active: bool | None = None) -> dict[str, Any]:
    """An account ADMIN changes another sign-in of its account; nobody changes or deactivates itself."""
    buyer.require_contact_management()
    if contact_id == buyer.contact_id:
        from distribu.errors import Forbidden

        raise Forbidden("You cannot change your own role or deactivate yourself; ask another admin.")
    return update_contact(buyer.company_id, buyer.customer_id, contact_id, actor=buyer.actor(), role=role, active=active)
