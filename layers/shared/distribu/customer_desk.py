"""What staff do with a customer account in the dashboard: find it, read its profile (stats, custom prices,
contacts, addresses, orders), block or activate it, keep its notes and credit limit, set its prices and
manage its contacts.

Each verb checks the role table (:mod:`distribu.permissions`: every role may view and work with customers)
and then calls the same domain verbs the REST API calls (:mod:`distribu.customers`, :mod:`distribu.pricing`,
:mod:`distribu.contacts`), so a rule lives in one place whichever door the request came through. A record of
another company is just as missing as one that does not exist: every read is under the staff member's own
company partition.

Costs do not grow with the number of customers or orders: the list is one page of the customers' index
(a filtered page reads a bounded stretch, :data:`distribu.pagination.MAX_EXAMINED_PER_PAGE`), the stats are
one rollup item kept from the stream (:func:`distribu.rollups.customer_lifetime`), and the order history is
one page of the customer's orders index (GSI2), newest first.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

from distribu import addresses, contacts, dynamo, keys, rollups
from distribu.customer_accounts import AccountLink
from distribu.errors import NotFound, ValidationError
from distribu.lazy import lazy_module
from distribu.pagination import Page
from distribu.permissions import Staff

# their pydantic models load on the first change, not on the dashboard's cold start
customers = lazy_module("distribu.customers")
pricing = lazy_module("distribu.pricing")

PAGE_SIZE = 25
ORDERS_PAGE_SIZE = 10
STATUS_CHOICES = ("ACTIVE", "BLOCKED")
CONTACT_ROLES = ("ADMIN", "BUYER", "VIEWER")
NO_PRODUCT_WITH_SKU = "No product has this SKU."
MONEY_MESSAGE = "Enter an amount of at least 0 with at most 2 decimal places, like 250 or 99.95."


def _problem(field: str, message: str) -> ValidationError:
    return ValidationError("Validation failed.", details=[{"field": field, "message": message}])


def money_from_text(field: str, text: str, *, required: bool) -> Decimal | None:
    """A form's amount (``"1,250.5"``, ``"$99"``) as the API's Money, or the field's problem."""
    cleaned = (text or "").strip().replace(",", "").lstrip("$").strip()
    if not cleaned:
        if required:
            raise _problem(field, "Enter an amount.")
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise _problem(field, MONEY_MESSAGE) from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")) \
            or amount >= Decimal("1e12"):
        raise _problem(field, MONEY_MESSAGE)
    return amount.quantize(Decimal("0.01"))


# --- reading ------------------------------------------------------------------------------------------------

def browse(staff: Staff, *, status: str | None = None, search: str | None = None, cursor: str | None = None,
           limit: int | None = None) -> Page:
    """One page of the company's customers, newest first, optionally one status and a search of email
    and name (a status outside ACTIVE / BLOCKED shows every customer)."""
    staff.require("view")
    wanted = (status or "").strip().upper()
    return customers.list_customers(staff.company_id, limit=limit or PAGE_SIZE, cursor=cursor or None,
                                    status=wanted if wanted in STATUS_CHOICES else None,
                                    search=(search or "").strip()[:100] or None)


def profile_keys(company_id: str, customer_id: str) -> list[tuple[str, str]]:
    """The items a profile needs besides its Queries, for the page's first batch (with its company)."""
    return [(keys.company(company_id), keys.customer_sk(customer_id)),
            rollups.customer_lifetime_key(company_id, customer_id), addresses.book_key(company_id, customer_id)]


@dataclass(frozen=True)
class Profile:
    customer: dict[str, Any]
    lifetime: rollups.CustomerLifetime
    addresses: list[dict[str, Any]]
    prices: list[dict[str, Any]]
    contacts: list[dict[str, Any]]
    orders: Page


def customer_of(staff: Staff, customer_id: str, found: Mapping[tuple[str, str], Any] | None = None) -> dict[str, Any]:
    """The customer as the API shows it (404 for another company's or a missing one)."""
    staff.require("view")
    key = (keys.company(staff.company_id), keys.customer_sk(customer_id))
    item = found.get(key) if found is not None and key in found else customers.get_item(staff.company_id, customer_id)
    if not item or item.get("entity") != "CUSTOMER":
        raise NotFound(customers.NOT_FOUND)
    return customers.to_api(item)


def profile(staff: Staff, customer_id: str, found: Mapping[tuple[str, str], Any] | None = None, *,
            orders_cursor: str | None = None) -> Profile:
    """Everything the detail page shows. ``found``: the :func:`profile_keys` items already read (else read
    here, one batch). Then three Queries: custom prices (with their products, one batch), contacts, and one
    page of orders."""
    staff.require("view")
    if found is None:
        found = dynamo.batch_get(profile_keys(staff.company_id, customer_id))
    customer = customer_of(staff, customer_id, found)
    lifetime = rollups.lifetime_of(customer_id, found.get(rollups.customer_lifetime_key(staff.company_id, customer_id)))
    book = found.get(addresses.book_key(staff.company_id, customer_id))
    return Profile(customer=customer, lifetime=lifetime, addresses=addresses.addresses_in(book),
                   prices=sorted(pricing.list_overrides(staff.company_id, customer_id),
                                 key=lambda price: ((price.get("productName") or "").lower(), price["productId"])),
                   contacts=contacts.list_contacts(staff.company_id, customer_id),
                   orders=order_history(staff, customer_id, cursor=orders_cursor, checked=True))


def order_history(staff: Staff, customer_id: str, *, cursor: str | None = None, limit: int | None = None,
                  checked: bool = False) -> Page:
    """One page of the customer's orders, newest first (its orders index, never a scan)."""
    from distribu import orders  # pydantic models: loaded only by the pages that need them

    staff.require("view")
    if not checked:
        customer_of(staff, customer_id)
    return orders.list_orders(staff.company_id, limit=limit or ORDERS_PAGE_SIZE, cursor=cursor or None,
                              customer_id=customer_id)


# --- changing -----------------------------------------------------------------------------------------------

def set_status(staff: Staff, customer_id: str, status: str) -> dict[str, Any]:
    """Block or activate the account. Blocking ends the open storefront sessions of the customer and of
    every contact at once (:func:`distribu.customers.update_customer`); a blocked account cannot sign in."""
    staff.require("customers")
    wanted = (status or "").strip().upper()
    if wanted not in STATUS_CHOICES:
        raise ValidationError("Choose Active or Blocked.", details=[{"field": "status",
                                                                    "message": "Choose Active or Blocked."}])
    return customers.update_customer(staff.company_id, customer_id, {"status": wanted}, staff.actor())


def update_account(staff: Staff, customer_id: str, *, notes: str, credit_limit: str) -> dict[str, Any]:
    """Notes (internal, at most 2000 characters) and credit limit (recorded, not enforced); blank clears."""
    staff.require("customers")
    problems: list[dict[str, str]] = []
    limit = None
    try:
        limit = money_from_text("creditLimit", credit_limit, required=False)
    except ValidationError as error:
        problems += error.extra["details"]
    text = (notes or "").replace("\r\n", "\n").strip()
    if len(text) > 2000:
        problems.append({"field": "notes", "message": f"Use at most 2000 characters (this is {len(text):,})."})
    if problems:
        raise ValidationError("Validation failed.", details=problems)
    from distribu.validation import parse

    changes = parse(customers.CustomerUpdate, {"notes": text or None, "creditLimit": limit}).changes()
    return customers.update_customer(staff.company_id, customer_id, changes, staff.actor())


def product_by_sku(staff: Staff, sku: str) -> dict[str, Any]:
    """The company's product with this SKU (any case), or the field's problem."""
    staff.require("view")
    text = (sku or "").strip()
    if not text:
        raise _problem("sku", "Enter the product's SKU.")
    if len(text) > 100:
        raise _problem("sku", NO_PRODUCT_WITH_SKU)
    guard = dynamo.get(keys.company(staff.company_id), keys.sku_guard_sk(text))
    if not guard or guard.get("entity") != "SKU":
        raise _problem("sku", NO_PRODUCT_WITH_SKU)
    return guard


def set_custom_price(staff: Staff, customer_id: str, *, price: str, sku: str | None = None,
                     product_id: str | None = None) -> dict[str, Any]:
    """Add or change the customer's price of one product (named by SKU on the add form, by id on a row's
    edit form). The catalog price is unchanged for everyone else."""
    staff.require("customers")
    problems: list[dict[str, str]] = []
    amount = None
    try:
        amount = money_from_text("price", price, required=True)
    except ValidationError as error:
        problems += error.extra["details"]
    if product_id is None:
        try:
            product_id = product_by_sku(staff, sku or "")["productId"]
        except ValidationError as error:
            problems = error.extra["details"] + problems
    if problems:
        raise ValidationError("Validation failed.", details=problems)
    customer_of(staff, customer_id)
    assert amount is not None and product_id is not None
    return pricing.set_override(staff.company_id, customer_id, product_id, amount, staff.actor())


def remove_custom_price(staff: Staff, customer_id: str, product_id: str) -> None:
    """Back to the catalog price, at once."""
    staff.require("customers")
    pricing.delete_override(staff.company_id, customer_id, product_id, staff.actor())


def invite_contact(staff: Staff, customer_id: str, *, email: str, name: str, role: str
                   ) -> tuple[dict[str, Any], AccountLink]:
    """A new sign-in under the account, with a 7-day link to set its password (the caller emails it)."""
    staff.require("customers")
    customer_of(staff, customer_id)
    return contacts.invite_contact(staff.company_id, customer_id, email=email, name=name, role=role,
                                   actor=staff.actor())


def change_contact(staff: Staff, customer_id: str, contact_id: str, *, role: str | None = None,
                   active: bool | None = None) -> dict[str, Any]:
    """A contact's role, or deactivate / activate it (a deactivated contact is signed out at once)."""
    staff.require("customers")
    return contacts.update_contact(staff.company_id, customer_id, contact_id, actor=staff.actor(), role=role,
                                   active=active)
