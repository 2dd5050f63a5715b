"""Companies (tenants), their staff users and memberships."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from distribu import audit, clock, dynamo, ids, keys, passwords
from distribu.errors import Conflict, NotFound, ValidationError

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

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> "Company":
        return cls(
            id=item["id"], name=item["name"], slug=item["slug"],
            tax_rate=dynamo.as_decimal(item.get("taxRate", 0)),
            low_stock_threshold=int(item.get("lowStockThreshold", DEFAULT_LOW_STOCK_THRESHOLD)),
            rate_limit_per_minute=int(item.get("rateLimitPerMinute", 60)),
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
