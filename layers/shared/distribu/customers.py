"""Customers: the business accounts a distributor sells to."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, field_validator

from distribu import audit, clock, dynamo, ids, keys, outbox
from distribu.errors import Conflict
from distribu.idempotency import AlsoWrite, extra_items
from distribu.pagination import IndexQuery, Page, query_page
from distribu.serialize import jsonable
from distribu.validation import BlankIsNone, Money, PartialUpdate

NOT_FOUND = "Customer not found."
EMAIL_TAKEN = "A customer with this email already exists."
STATUSES = ("ACTIVE", "BLOCKED")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FIELDS = ("email", "name", "status", "notes", "creditLimit", "taxRateOverride")

Name = Annotated[Optional[Annotated[str, Field(max_length=100)]], BlankIsNone]
Notes = Annotated[Optional[Annotated[str, Field(max_length=2000)]], BlankIsNone]
Email = Annotated[str, WithJsonSchema({"type": "string", "format": "email", "maxLength": 254,
                                        "description": "Trimmed and lowercased; unique per company."})]
TaxRate = Optional[Annotated[Decimal, Field(ge=0, le=Decimal("0.3"), max_digits=6, decimal_places=4)]]


def normalise_email(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string")
    email = value.strip().lower()
    if len(email) > 254 or not _EMAIL.match(email):
        raise ValueError("must be a valid email address of at most 254 characters")
    return email


class CustomerCreate(BaseModel):
    """Body of ``POST /api/v1/customers``. Passwords are never accepted here."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    email: Email
    name: Name = None
    status: Literal["ACTIVE", "BLOCKED"] = "ACTIVE"
    notes: Notes = None
    creditLimit: Optional[Money] = None
    taxRateOverride: TaxRate = Field(default=None, description="Fraction 0-0.3; null uses the company rate.")

    _email = field_validator("email", mode="before")(normalise_email)


class CustomerUpdate(PartialUpdate):
    """Body of ``PATCH /api/v1/customers/{id}``: any subset; ``null`` clears optional fields."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)
    REQUIRED = ('email', 'status')

    email: Optional[Email] = None
    name: Name = None
    status: Optional[Literal["ACTIVE", "BLOCKED"]] = None
    notes: Notes = None
    creditLimit: Optional[Money] = None
    taxRateOverride: TaxRate = None

    @field_validator("email", mode="before")
    @classmethod
    def _email(cls, value: Any) -> Any:
        return None if value is None else normalise_email(value)



def to_api(item: dict[str, Any]) -> dict[str, Any]:
    """The customer as the API and every event about it show it (never a password)."""
    return jsonable({
        "id": item["id"], "email": item["email"], "name": item.get("name"), "status": item["status"],
        "notes": item.get("notes"), "creditLimit": item.get("creditLimit"),
        "taxRateOverride": item.get("taxRateOverride"), "emailVerified": bool(item.get("emailVerified", False)),
        "createdAt": item["createdAt"], "updatedAt": item["updatedAt"],
    })


def build_item(company_id: str, customer_id: str, fields: dict[str, Any], created_at: str, updated_at: str,
          version: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "PK": keys.company(company_id), "SK": keys.customer_sk(customer_id), "entity": "CUSTOMER",
        "GSI1PK": keys.listing(company_id, "CUSTOMER"), "GSI1SK": keys.listing_sort(created_at, customer_id),
        "GSI2PK": keys.customers_by_status(company_id, str(fields.get("status") or "ACTIVE")),
        "GSI2SK": keys.listing_sort(created_at, customer_id),
        "id": customer_id, "companyId": company_id, **{name: fields.get(name) for name in FIELDS},
        "searchText": f"{fields.get('email') or ''}\n{fields.get('name') or ''}".lower(),
        "createdAt": created_at, "updatedAt": updated_at, "version": version, **(extra or {}),
    }


def _email_guard(company_id: str, email: str, customer_id: str) -> dict[str, Any]:
    return dynamo.put({"PK": keys.company(company_id), "SK": keys.email_guard_sk(email), "entity": "EMAIL",
                       "customerId": customer_id}, condition="attribute_not_exists(PK)")


def new_customer_id() -> str:
    return ids.new_id()


def create_customer(company_id: str, data: CustomerCreate, actor: audit.Actor, *, password_hash: str | None = None,
                    email_verified: bool = False, customer_id: str | None = None,
                    also_write: AlsoWrite | None = None) -> dict[str, Any]:
    """Customer + email guard + audit + ``customer.created`` event, in one transaction. ``customer_id``
    lets a self-registering customer be the actor of its own creation."""
    customer_id = customer_id or new_customer_id()
    now = clock.now_iso()
    extra = {"emailVerified": email_verified, "passwordHash": password_hash}
    item = build_item(company_id, customer_id, data.model_dump(), now, now, 1, extra)
    view = to_api(item)
    try:
        dynamo.transact([
            dynamo.put(item, condition="attribute_not_exists(PK)"),
            _email_guard(company_id, data.email, customer_id),
            audit.entry(company_id, actor, "CustomerCreated", "Customer", customer_id, {"after": view}, at=now),
            outbox.event(company_id, "customer.created", view, at=now),
            *extra_items(also_write, view),
        ])
    except dynamo.TransactionCancelled as cancelled:
        if 1 in cancelled.failed_indexes():
            raise Conflict(EMAIL_TAKEN) from None
        raise Conflict("The customer is being changed by someone else; try again.") from None
    return view


def get_item(company_id: str, customer_id: str) -> dict[str, Any]:
    return dynamo.get_record(keys.company(company_id), keys.customer_sk(customer_id), "CUSTOMER", NOT_FOUND)


def get_customer(company_id: str, customer_id: str) -> dict[str, Any]:
    return to_api(get_item(company_id, customer_id))


def update_customer(company_id: str, customer_id: str, changes: dict[str, Any], actor: audit.Actor, *,
                    also_write: AlsoWrite | None = None, attempts: int = 4) -> dict[str, Any]:
    """Optimistic update; an email change moves the uniqueness guard in the same transaction."""
    for _ in range(attempts):
        current = get_item(company_id, customer_id)
        fields = {name: current.get(name) for name in FIELDS}
        updated = {**fields, **changes}
        if updated == fields:
            return to_api(current)
        now = clock.now_iso()
        version = int(current.get("version", 0))
        kept = {name: current.get(name) for name in ("emailVerified", "passwordHash")}
        item = build_item(company_id, customer_id, updated, current["createdAt"], now, version + 1, kept)
        before, after = to_api(current), to_api(item)
        changed = {name for name in FIELDS if fields.get(name) != updated.get(name)}
        action = "CustomerStatusChanged" if changed == {"status"} else "CustomerUpdated"
        writes = [dynamo.put_if_version(item, version)]
        if "email" in changed:
            writes += [dynamo.delete(keys.company(company_id), keys.email_guard_sk(fields["email"])),
                       _email_guard(company_id, updated["email"], customer_id)]
        writes += [
            audit.entry(company_id, actor, action, "Customer", customer_id,
                        {**audit.diff(before, after), "name": after["name"] or after["email"]}, at=now),
            outbox.event(company_id, "customer.updated", after, at=now),
            *extra_items(also_write, after),
        ]
        try:
            dynamo.transact(writes)
        except dynamo.TransactionCancelled as cancelled:
            failed = cancelled.failed_indexes()
            if "email" in changed and 2 in failed:
                raise Conflict(EMAIL_TAKEN) from None
            if failed != [0]:
                raise Conflict("The customer is being changed by someone else; try again.") from None
            continue
        if updated.get("status") == "BLOCKED" and fields.get("status") != "BLOCKED":
            _end_storefront_sessions(company_id, customer_id)
        return after
    raise Conflict("The customer is being changed by someone else; try again.")


def _end_storefront_sessions(company_id: str, customer_id: str) -> None:
    """A blocked account is signed out everywhere at once: its own and all its contacts' sessions."""
    from distribu import sessions

    sessions.end_customer_sessions(company_id, customer_id)


def list_customers(company_id: str, *, limit: int, cursor: str | None, status: str | None = None,
                   search: str | None = None) -> Page:
    """Newest first. A status reads that status's own index partition (GSI2: a few blocked customers
    among thousands are one short Query); a search filters a page of the index, reading a bounded stretch
    (:data:`distribu.pagination.MAX_EXAMINED_PER_PAGE`) before it answers with a cursor."""
    filters, names, values = [], {}, {}
    if search and search.strip():
        filters.append("contains(searchText, :search)")
        values[":search"] = search.strip().lower()
    if status:
        index, pk_name, sk_name = "GSI2", "GSI2PK", "GSI2SK"
        partition = keys.customers_by_status(company_id, status.strip().upper())
    else:
        index, pk_name, sk_name = "GSI1", "GSI1PK", "GSI1SK"
        partition = keys.listing(company_id, "CUSTOMER")
    spec = IndexQuery(
        index=index, pk_name=pk_name, sk_name=sk_name, partition=partition,
        start_key=lambda sort_key: {pk_name: partition, sk_name: sort_key, "PK": keys.company(company_id),
                                    "SK": keys.customer_sk(keys.id_from_listing_sort(sort_key))},
        filter_expression=" AND ".join(filters) or None, names=names or None, values=values or None,
    )
    page = query_page(spec, limit=limit, cursor=cursor)
    page.items = [to_api(item) for item in page.items]
    return page


def index_statuses(company_id: str) -> int:
    """Give customers stored before the status index (GSI2) their index keys, from the customers listing
    (a repair run with the read models' rebuild; a customer changed meanwhile is left as its writer left
    it). Returns the customers updated."""
    client, updated = dynamo.dynamodb(), 0
    listed = dynamo.query_all({
        "IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk",
        "ExpressionAttributeValues": {":pk": {"S": keys.listing(company_id, "CUSTOMER")}},
        "ProjectionExpression": "PK, SK, GSI1SK, GSI2PK, #status, version", "ExpressionAttributeNames": {"#status": "status"},
    })
    for item in listed:
        wanted = keys.customers_by_status(company_id, str(item.get("status") or "ACTIVE"))
        if item.get("GSI2PK") == wanted:
            continue
        try:
            client.update_item(
                TableName=dynamo.table_name(), Key=dynamo.key(item["PK"], item["SK"]),
                UpdateExpression="SET GSI2PK = :pk, GSI2SK = :sk", ConditionExpression="version = :version",
                ExpressionAttributeValues={":pk": {"S": wanted}, ":sk": {"S": item["GSI1SK"]},
                                           ":version": dynamo.to_attr(item.get("version", 0))})
            updated += 1
        except client.exceptions.ConditionalCheckFailedException:
            pass  # rewritten meanwhile by build_item, which sets the keys itself
    return updated
