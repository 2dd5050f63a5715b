"""Companies (tenants), their staff users and memberships, their settings and their deletion.

Settings (OWNER and ADMIN, :func:`update_settings`): name; slug (unique, guarded by ``SLUG#{slug}``, so a
rename moves the guard in the same transaction and storefront links change); tax rate (0-30 %, kept as a
fraction like a customer's override); the default low-stock threshold; the API rate limit per key (60 a
minute unless raised; every existing key follows at once); the sender name shown on emails. Each change
is audited with what it changed.

Deletion (the OWNER only, :func:`delete_company`) is for good: see the function.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import logging
import re
from decimal import InvalidOperation

from distribu import audit, clock, dynamo, ids, keys, passwords, sessions
from distribu.errors import Conflict, Forbidden, NotFound, ValidationError
from distribu.permissions import Staff

logger = logging.getLogger(__name__)

ROLES = ("OWNER", "ADMIN", "MEMBER")
DEFAULT_LOW_STOCK_THRESHOLD = 5


@dataclass(frozen=True)
class Company:
    id: str
    name: str
    slug: str
    tax_rate: Decimal
    low_stock_threshold: int
    rate_limit_per_minute: int
    sender_name: str = ""

    @property
    def email_sender_name(self) -> str:
        """The name emails of this company come from (its own name unless set)."""
        return self.sender_name or self.name

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "Company":
        return cls(
            id=item["id"], name=item["name"], slug=item["slug"],
            tax_rate=dynamo.as_decimal(item.get("taxRate", 0)),
            low_stock_threshold=int(item.get("lowStockThreshold", DEFAULT_LOW_STOCK_THRESHOLD)),
            rate_limit_per_minute=int(item.get("rateLimitPerMinute", 60)),
            sender_name=item.get("senderName") or "",
        )

    def public(self) -> dict[str, str]:
        return {"id": self.id, "slug": self.slug, "name": self.name}


def _validate_name(name: str) -> str:
    cleaned = name.strip()
    if not 1 <= len(cleaned) <= 100:
        raise ValidationError("Company name must be 1-100 characters.")
    return cleaned


def create_company(name: str, owner_email: str, owner_password: str, *, slug: str | None = None,
                   owner_name: str | None = None, rate_limit_per_minute: int = 60) -> Company:
    """Company + slug guard + OWNER membership (+ the user if new) + audit, in one transaction."""
    name = _validate_name(name)
    slug = (slug or ids.slugify(name)).strip().lower()
    if not slug or slug != ids.slugify(slug):
        raise ValidationError(f'Invalid slug "{slug}": use lowercase letters, digits and dashes.')
    email = owner_email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise ValidationError("A valid owner email is required.")
    if not 8 <= len(owner_password) <= 100:
        raise ValidationError("Password must be 8-100 characters.")

    existing_user = dynamo.get(keys.user_pk(email), keys.USER_PROFILE_SK)
    if existing_user and not passwords.verify_password(existing_user["passwordHash"], owner_password):
        raise Conflict("A user with this email already exists; give that user's password to add a company.")
    user_id = existing_user["id"] if existing_user else ids.new_id()
    company_id = ids.new_id()
    now = clock.now_iso()
    slug_pk, slug_sk = keys.slug_guard(slug)
    items = [
        dynamo.put({"PK": slug_pk, "SK": slug_sk, "entity": "SLUG", "companyId": company_id},
                   condition="attribute_not_exists(PK)"),
        dynamo.put({
            "PK": keys.company(company_id), "SK": keys.COMPANY_SK, "entity": "COMPANY",
            "id": company_id, "name": name, "slug": slug, "taxRate": Decimal("0"),
            "lowStockThreshold": DEFAULT_LOW_STOCK_THRESHOLD, "rateLimitPerMinute": rate_limit_per_minute,
            "createdAt": now, "updatedAt": now,
        }),
        dynamo.put({"PK": keys.company(company_id), "SK": keys.member_sk(user_id), "entity": "MEMBER",
                    "userId": user_id, "email": email, "role": "OWNER", "createdAt": now}),
        dynamo.put({"PK": keys.user_pk(email), "SK": keys.membership_sk(company_id), "entity": "MEMBERSHIP",
                    "companyId": company_id, "role": "OWNER", "createdAt": now}),
        audit.entry(company_id, audit.Actor("USER", user_id, owner_name or email), "CompanyCreated",
                    "Company", company_id, {"name": name, "slug": slug}, at=now),
    ]
    if not existing_user:
        items.append(dynamo.put(
            {"PK": keys.user_pk(email), "SK": keys.USER_PROFILE_SK, "entity": "USER", "id": user_id,
             "email": email, "name": owner_name or "", "passwordHash": passwords.hash_password(owner_password),
             "createdAt": now},
            condition="attribute_not_exists(PK)"))
    try:
        dynamo.transact(items)
    except dynamo.TransactionCancelled as cancelled:
        if 0 in cancelled.failed_indexes():
            raise Conflict(f'A company with the slug "{slug}" already exists.') from None
        raise Conflict("A user with this email already exists.") from None
    return Company(company_id, name, slug, Decimal("0"), DEFAULT_LOW_STOCK_THRESHOLD, rate_limit_per_minute)


def get_company(company_id: str) -> Company:
    item = dynamo.get(keys.company(company_id), keys.COMPANY_SK)
    if not item:
        raise NotFound("Company not found.")
    return Company.from_item(item)


def company_id_for_slug(slug: str) -> str | None:
    pk, sk = keys.slug_guard(slug.strip().lower())
    item = dynamo.get(pk, sk)
    return item["companyId"] if item else None


def get_company_by_slug(slug: str) -> Company:
    company_id = company_id_for_slug(slug)
    if not company_id:
        raise NotFound(f'No company with the slug "{slug}".')
    return get_company(company_id)


def members(company_id: str) -> list[dict[str, Any]]:
    """Every staff membership of a company (a handful of items: one Query)."""
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(),
        KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)}, ":prefix": {"S": "MEMBER#"}},
    )
    return [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]


def staff_emails(company_id: str, roles: tuple[str, ...] = ("OWNER", "ADMIN")) -> list[str]:
    return sorted(member["email"] for member in members(company_id) if member.get("role") in roles)


# --- settings -------------------------------------------------------------------------------------------

DEFAULT_RATE_LIMIT = 60
MAX_RATE_LIMIT = 10_000
MAX_LOW_STOCK_THRESHOLD = 1_000_000
MAX_TAX_PERCENT = Decimal("30")
SLUG_TAKEN = "This slug is taken by another company. Choose another."
SETTINGS_CHANGED = "Someone changed these settings a moment ago. Reload the page and try again."
ROLE_CHANGED = "Your role in this company has just changed. Reload the page and try again."
KEYS_IN_TRANSACTION = 90
_SENDER_FORBIDDEN = re.compile(r'[<>"\\@\x00-\x1f\x7f]')


def _problem(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def _actor_still(staff: Staff) -> dict[str, Any]:
    """A condition on the actor's own membership: the role the session says, still held at the write."""
    return dynamo.condition_check(keys.company(staff.company_id), keys.member_sk(staff.user_id), "#role = :role",
                                  names={"#role": "role"}, values={":role": staff.role})


@dataclass(frozen=True)
class SettingsChange:
    """What the company form submits, as typed (text); :func:`update_settings` checks every field."""

    name: str
    slug: str
    tax_percent: str
    low_stock_threshold: str
    rate_limit_per_minute: str
    sender_name: str = ""


def _whole(text: str, field: str, label: str, low: int, high: int, problems: list[dict[str, str]]) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        problems.append(_problem(field, f"{label} must be a whole number."))
        return 0
    if not low <= value <= high:
        problems.append(_problem(field, f"{label} must be between {low:,} and {high:,}."))
    return value


def check_settings(change: SettingsChange) -> dict[str, Any]:
    """The stored values of a settings change, or a :class:`ValidationError` naming each field at fault."""
    problems: list[dict[str, str]] = []
    name = " ".join((change.name or "").split())
    if not 1 <= len(name) <= 100 or not ids.slugify(name):
        problems.append(_problem("name", "Company name must be 1–100 characters, with at least one letter or digit."))
    slug = (change.slug or "").strip().lower()
    if not slug:
        problems.append(_problem("slug", "A slug is required."))
    elif len(slug) > 60 or slug != ids.slugify(slug):
        problems.append(_problem("slug", "Use 1–60 lowercase letters, digits and single dashes, e.g. acme-distributors."))
    tax_rate = Decimal("0")
    try:
        percent = Decimal((change.tax_percent or "0").strip().rstrip("%").strip() or "0")
        if not percent.is_finite() or not Decimal("0") <= percent <= MAX_TAX_PERCENT:
            problems.append(_problem("tax_percent", "Tax rate must be between 0 and 30 %."))
        elif percent != percent.quantize(Decimal("0.01")):
            problems.append(_problem("tax_percent", "Tax rate takes at most 2 decimal places, e.g. 8.25."))
        else:
            tax_rate = (percent / 100).quantize(Decimal("0.0001"))
    except InvalidOperation:
        problems.append(_problem("tax_percent", "Tax rate must be a number, e.g. 8.25."))
    threshold = _whole(change.low_stock_threshold or "", "low_stock_threshold", "Low-stock threshold", 0,
                       MAX_LOW_STOCK_THRESHOLD, problems)
    rate_limit = _whole(change.rate_limit_per_minute or "", "rate_limit_per_minute", "Rate limit",
                        DEFAULT_RATE_LIMIT, MAX_RATE_LIMIT, problems)
    sender_name = " ".join((change.sender_name or "").split())
    if len(sender_name) > 100:
        problems.append(_problem("sender_name", "Sender name must be at most 100 characters."))
    elif _SENDER_FORBIDDEN.search(sender_name):
        problems.append(_problem("sender_name", 'Sender name cannot contain <, >, ", \\ or @.'))
    if problems:
        raise ValidationError("Validation failed.", details=problems)
    return {"name": name, "slug": slug, "taxRate": tax_rate, "lowStockThreshold": threshold,
            "rateLimitPerMinute": rate_limit, "senderName": sender_name}


def _api_key_hashes(company_id: str) -> list[str]:
    """Every key of the company (its ``APIKEY#{id}`` pointers hold the hashes): one Query."""
    return [item["keyHash"] for item in dynamo.query_prefix(keys.company(company_id), "APIKEY#", projection="keyHash")
            if "keyHash" in item]


def update_settings(staff: Staff, change: SettingsChange) -> Company:
    """Change the company's settings (OWNER and ADMIN). One transaction: the company item (only if nobody
    changed it since it was read), the slug guard moved when the slug changes (refused when another company
    holds it), every API key's limit when the rate limit changes, and the audit entry of what changed."""
    staff.require("settings")
    values = check_settings(change)
    item = dynamo.get(keys.company(staff.company_id), keys.COMPANY_SK)
    if not item:
        raise NotFound("Company not found.")
    current = Company.from_item(item)
    before = {"name": current.name, "slug": current.slug, "taxRate": current.tax_rate,
              "lowStockThreshold": current.low_stock_threshold, "rateLimitPerMinute": current.rate_limit_per_minute,
              "senderName": current.sender_name}
    changes = audit.diff(before, values)
    if not changes["after"]:
        return current
    now = clock.now_iso()
    writes = [_actor_still(staff), dynamo.update(
        keys.company(staff.company_id), keys.COMPANY_SK,
        "SET #name = :name, slug = :slug, taxRate = :taxRate, lowStockThreshold = :threshold, "
        "rateLimitPerMinute = :rateLimit, senderName = :sender, updatedAt = :now",
        condition="attribute_exists(PK) AND updatedAt = :seen" if item.get("updatedAt") else "attribute_exists(PK)",
        names={"#name": "name"},
        values={":name": values["name"], ":slug": values["slug"], ":taxRate": values["taxRate"],
                ":threshold": values["lowStockThreshold"], ":rateLimit": values["rateLimitPerMinute"],
                ":sender": values["senderName"], ":now": now,
                **({":seen": item["updatedAt"]} if item.get("updatedAt") else {})})]
    slug_moved = values["slug"] != current.slug
    if slug_moved:
        writes += [
            dynamo.delete(*keys.slug_guard(current.slug)),
            dynamo.put({"PK": keys.slug_guard(values["slug"])[0], "SK": keys.slug_guard(values["slug"])[1],
                        "entity": "SLUG", "companyId": staff.company_id}, condition="attribute_not_exists(PK)"),
        ]
    key_limits: list[dict[str, Any]] = []
    if values["rateLimitPerMinute"] != current.rate_limit_per_minute:
        key_limits = [dynamo.update(keys.api_key_pk(key_hash), keys.API_KEY_SK, "SET rateLimit = :limit",
                                    condition="attribute_exists(PK)", values={":limit": values["rateLimitPerMinute"]})
                      for key_hash in _api_key_hashes(staff.company_id)]
    # A transaction holds 100 items: the first keys go with the settings, any more right after.
    writes += key_limits[:KEYS_IN_TRANSACTION]
    writes.append(audit.entry(staff.company_id, staff.actor(), "CompanySettingsUpdated", "Company",
                              staff.company_id, {**changes, "name": values["name"]}, at=now))
    try:
        dynamo.transact(writes)
    except dynamo.TransactionCancelled as cancelled:
        failed = cancelled.failed_indexes()
        if 0 in failed:
            raise Forbidden(ROLE_CHANGED) from None
        if slug_moved and 3 in failed:
            raise ValidationError("Validation failed.", details=[_problem("slug", SLUG_TAKEN)]) from None
        raise Conflict(SETTINGS_CHANGED) from None
    for start in range(KEYS_IN_TRANSACTION, len(key_limits), 100):
        dynamo.transact(key_limits[start:start + 100])
    return Company(staff.company_id, values["name"], values["slug"], values["taxRate"], values["lowStockThreshold"],
                   values["rateLimitPerMinute"], values["senderName"])


# --- deletion -------------------------------------------------------------------------------------------

DELETE_MISMATCH = "Type the company's name exactly as shown to confirm."


@dataclass(frozen=True)
class Deleted:
    company: Company
    members: int
    api_keys: int
    records: int


def delete_company(staff: Staff, *, confirmation: str) -> Deleted:
    """Delete the company for good (the OWNER only, who types its name to confirm).

    In order, so that nothing of the company works any more from the first step on:
    1. its API keys stop authenticating (their items are deleted);
    2. in one transaction, the company, its slug (the storefront ``/store/{slug}`` answers 404 and the slug
       is free again) and both sides of every membership go, and open invitations stop working;
    3. every team member's dashboard sessions in it end (customers' storefront sessions go with the data);
    4. every record in the company's partition is erased: products, customers and their contacts, orders,
       webhooks and their deliveries, the audit log;
    5. its files are deleted from S3: the product images (public until then), unchecked image uploads, CSV
       imports with their error reports, and exports (which hold customer data).
    Staff users keep their Distribu accounts and their other companies. Nothing is kept to undo it.
    """
    staff.require("company.delete")
    item = dynamo.get(keys.company(staff.company_id), keys.COMPANY_SK)
    if not item:
        raise NotFound("Company not found.")
    company = Company.from_item(item)
    if " ".join((confirmation or "").split()) != company.name:
        raise ValidationError("Validation failed.", details=[_problem("confirmation", DELETE_MISMATCH)])
    owner = dynamo.get(keys.company(staff.company_id), keys.member_sk(staff.user_id))
    if not owner or owner.get("role") != "OWNER":
        raise Forbidden(ROLE_CHANGED)
    team = members(staff.company_id)
    key_hashes = _api_key_hashes(staff.company_id)
    invitations = dynamo.query_prefix(keys.company(staff.company_id), "INVITATION#")
    dynamo.delete_keys([(keys.api_key_pk(key_hash), keys.API_KEY_SK) for key_hash in key_hashes]
                       + [(keys.invitation_pk(invitation["tokenHash"]), keys.invitation_sk(staff.company_id))
                          for invitation in invitations if invitation.get("tokenHash")])
    memberships = [dynamo.delete(keys.user_pk(member["email"]), keys.membership_sk(staff.company_id))
                   for member in team]
    try:
        dynamo.transact([
            dynamo.delete(keys.company(staff.company_id), keys.COMPANY_SK, condition="attribute_exists(PK)"),
            dynamo.delete(*keys.slug_guard(company.slug)),
            *memberships[:90],
        ])
    except dynamo.TransactionCancelled:
        raise NotFound("Company not found.") from None  # deleted a moment ago
    for start in range(90, len(memberships), 100):
        dynamo.transact(memberships[start:start + 100])
    for member in team:
        sessions.end_user_sessions(member["userId"], company_id=staff.company_id)
    erased = _erase_partition(staff.company_id)
    files = _erase_files(staff.company_id)
    logger.warning("Company deleted", extra={"companyId": company.id, "slug": company.slug, "by": staff.user_id,
                                             "members": len(team), "apiKeys": len(key_hashes), "records": erased,
                                             "files": files})
    return Deleted(company, len(team), len(key_hashes), erased)


def company_files(company_id: str) -> list[tuple[str, str]]:
    """Where a company's files live, as the modules that keep them say: (bucket, key prefix) of its product
    images and their unchecked uploads, its CSV imports and their error reports, and its exports."""
    from distribu import exports, product_images
    from distribu.imports import records

    return [*product_images.company_files(company_id), *records.company_files(company_id),
            *exports.company_files(company_id)]


def _erase_files(company_id: str) -> int:
    """Delete the company's files; returns how many. The company is gone by now, so a prefix S3 fails on is
    logged (with what to delete by hand) rather than turned into an error page."""
    from distribu import s3files  # only a deletion needs it (csv and io stay out of every page's cold start)

    deleted = 0
    for bucket, prefix in company_files(company_id):
        try:
            deleted += s3files.delete_prefix(bucket, prefix)
        except Exception:  # noqa: BLE001 - see the docstring
            logger.exception("Could not delete the files of a deleted company", extra={"bucket": bucket,
                                                                                      "prefix": prefix})
    return deleted


def _erase_partition(company_id: str) -> int:
    """Delete every item of ``C#{company}``, a page of keys at a time; returns how many."""
    every_key = dynamo.query_all({"KeyConditionExpression": "PK = :pk", "ProjectionExpression": "PK, SK",
                                  "ExpressionAttributeValues": {":pk": {"S": keys.company(company_id)}}})
    return dynamo.delete_keys((item["PK"], item["SK"]) for item in every_key)
