"""Test data, made through the domain package's own verbs (never written around them)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

STAFF_PASSWORD = "correct-horse-1"
BUYER_PASSWORD = "buyer-password-1"


@dataclass
class Tenant:
    company_id: str
    slug: str
    key: str
    key_id: str


def make_tenant(name: str, scopes: list[str] | None = None, rate_limit: int = 1000) -> Tenant:
    """A company with its OWNER (``owner@{name without spaces}.test``) and an API key."""
    from distribu import apikeys, audit, companies

    company = companies.create_company(name, owner_email(name), STAFF_PASSWORD)
    view, raw = apikeys.create_api_key(company.id, "tests", scopes or list(apikeys.SCOPES),
                                       audit.Actor("USER", "owner", "Owner"), rate_limit=rate_limit)
    return Tenant(company.id, company.slug, raw, view["id"])


def owner_email(company_name: str) -> str:
    return f"owner@{company_name.lower().replace(' ', '')}.test"


def staff_actor() -> Any:
    from distribu import audit

    return audit.Actor("USER", "tests", "Test staff")


def product(company_id: str, name: str = "Widget Blue", *, price: str | Decimal = "8.50", stock: int = 42,
            **fields: Any) -> dict[str, Any]:
    from distribu import catalog

    data = catalog.ProductCreate(name=name, price=Decimal(str(price)), stock=stock, **fields)
    return catalog.create_product(company_id, data, staff_actor())


def customer(company_id: str, email: str = "buyer@northwind.test", *, name: str = "Northwind Traders",
             password: str | None = BUYER_PASSWORD, status: str = "ACTIVE", **fields: Any) -> dict[str, Any]:
    """A customer; with a password it can sign in to the storefront (as if it had registered)."""
    from distribu import customers, passwords

    return customers.create_customer(
        company_id, customers.CustomerCreate(email=email, name=name, status=status, **fields), staff_actor(),
        password_hash=passwords.hash_password(password) if password else None)


def price_override(company_id: str, customer_id: str, product_id: str, price: str) -> dict[str, Any]:
    from distribu import pricing

    return pricing.set_override(company_id, customer_id, product_id, Decimal(price), staff_actor())


def order(company_id: str, customer_id: str | None, lines: list[tuple[str, int]], *, source: str = "API",
          **extras: Any) -> dict[str, Any]:
    from distribu import orders

    request = orders.OrderRequest(lines=[orders.Line(product_id, quantity) for product_id, quantity in lines],
                                  customer_id=customer_id, **extras)
    return orders.place_order(company_id, request, staff_actor(), source=source)


def staff_member(company_id: str, email: str, *, role: str = "MEMBER", name: str = "Team Member",
                 password: str = STAFF_PASSWORD) -> Any:
    """A staff user on the company's team: invited by its owner and accepted, as the team page does it."""
    from distribu import team

    _, token = team.invite(staff_of(company_id), email=email, role=role)
    user, _ = team.accept_as_new_user(token, name=name, password=password)
    return user


def staff_of(company_id: str, email: str | None = None) -> Any:
    """The :class:`distribu.permissions.Staff` of a team member (the owner when no email is given), as a
    dashboard session would carry it."""
    from distribu import companies, staff_accounts
    from distribu.permissions import Staff

    member = next(m for m in companies.members(company_id) if (m["email"] == email if email else m["role"] == "OWNER"))
    profile = staff_accounts.user_by_email(member["email"]) or {}
    return Staff(member["userId"], member["email"], profile.get("name") or "", company_id, member["role"])


def contact(company_id: str, customer_id: str, email: str, *, role: str = "BUYER", name: str = "",
            password: str | None = BUYER_PASSWORD) -> dict[str, Any]:
    """A contact of a customer; with a password it has set it already (through its emailed link)."""
    from distribu import contacts, customer_accounts

    view, link = contacts.invite_contact(company_id, customer_id, email=email, name=name, role=role,
                                         actor=staff_actor())
    if password:
        customer_accounts.set_up_password(company_id, token=link.token, email=email, password=password,
                                          confirm=password)
    return view


def address(company_id: str, customer_id: str, **fields: str) -> dict[str, Any]:
    from distribu import addresses

    values = {"name": "Receiving", "line1": "1 Dock Road", "city": "Springfield", "country": "US", **fields}
    return addresses.add_address(company_id, customer_id, values, staff_actor())


# --- dash-customers ---

def customer_with_history(company_id: str, email: str = "buyer@northwind.test", *, name: str = "Northwind Traders",
                          orders: int = 2) -> dict[str, Any]:
    """A customer with a shipping address, a contact, a custom price (15% over the catalog's 10.00) and
    ``orders`` orders of one 10.00 product each (only counted in its stats once the stream is drained).
    Returns the ids: customer, product, contact, orders, address."""
    customer_view = customer(company_id, email, name=name, creditLimit=Decimal("5000"), notes="Pays on time.")
    sku = "SKU-" + customer_view["id"][-6:].upper()
    product_view = product(company_id, f"Crate of {name}", price="10.00", stock=500, sku=sku)
    price_override(company_id, customer_view["id"], product_view["id"], "11.50")
    contact_view = contact(company_id, customer_view["id"], "contact." + email, role="BUYER", name="Second Buyer")
    address_view = address(company_id, customer_view["id"], line1=f"{name} Dock 7")
    placed = [order(company_id, customer_view["id"], [(product_view["id"], 1 + n)], po_number=f"PO-{name[:3].upper()}-{n}")
              for n in range(orders)]
    return {"customer": customer_view, "product": product_view, "sku": sku, "contact": contact_view,
            "orders": placed, "address": address_view}


def pending_invitation(company_id: str, email: str, *, role: str = "MEMBER") -> Any:
    """An open team invitation sent by the company's owner (not accepted): the Invitation."""
    from distribu import team

    invitation, _ = team.invite(staff_of(company_id), email=email, role=role)
    return invitation
