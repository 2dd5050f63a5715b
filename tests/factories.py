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


def api_customer(tenant: Tenant, **body: Any) -> dict[str, Any]:
    """A customer created through ``POST /api/v1/customers`` with the tenant's key (the API's view of it)."""
    from tests.conftest import call_api

    response = call_api("POST", "/api/v1/customers", key=tenant.key,
                        json_body={"email": "buyer@northwind.test", "name": "Northwind", **body})
    assert response.status == 201, response.body
    return response.body["data"]


def api_product(tenant: Tenant, sku: str = "W-1", price: float = 10, stock: int = 100) -> dict[str, Any]:
    """A product created through ``POST /api/v1/products`` with the tenant's key (the API's view of it)."""
    from tests.conftest import call_api

    response = call_api("POST", "/api/v1/products", key=tenant.key,
                        json_body={"name": f"Widget {sku}", "sku": sku, "price": price, "stock": stock})
    assert response.status == 201, response.body
    return response.body["data"]


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


# --- dash-settings ---

def api_key(company_id: str, name: str = "ERP sync", *, scopes: list[str] | None = None,
            expires_at: str | None = None) -> tuple[dict[str, Any], str]:
    """An API key made as the CLI makes one (its view, and the key itself)."""
    from distribu import apikeys, audit

    return apikeys.create_api_key(company_id, name, scopes or ["products:read"], audit.Actor("SYSTEM", "cli", "distribu CLI"),
                                  expires_at=expires_at)


def product_price_change(company_id: str, product_id: str, price: str, *, actor_name: str = "Ann") -> dict[str, Any]:
    """A staff member's price change of a product (a ``ProductUpdated`` audit entry)."""
    from distribu import audit, catalog

    return catalog.update_product(company_id, product_id, {"price": Decimal(price)}, audit.Actor("USER", "ann", actor_name))


def audit_entries_at(company_id: str, moments: list[str], *, action: str = "ProductCreated",
                     entity_type: str = "Product", actor_type: str = "USER") -> None:
    """Audit entries dated ``moments`` (ISO datetimes), as the domain writes them (for date filters and pages)."""
    from distribu import audit, dynamo

    actor = audit.Actor(actor_type, "someone", "Someone")
    for start in range(0, len(moments), 50):
        dynamo.transact([audit.entry(company_id, actor, action, entity_type, f"e{index:025d}",
                                     {"after": {"name": f"Item {index}"}}, at=moment)
                         for index, moment in enumerate(moments[start:start + 50], start=start)])


# --- dash-webhooks ---

def webhook(company_id: str, url: str = "https://erp.example.com/hooks/distribu", *,
            events: list[str] | None = None, active: bool = True) -> dict[str, Any]:
    """A webhook, created as the API creates it; the answer holds its ``secret``."""
    from distribu import webhooks

    data = webhooks.WebhookCreate(url=url, events=events or ["customer.created"], isActive=active)
    return webhooks.create_webhook(company_id, data, staff_actor())


def fanned_out(company_id: str, event_type: str) -> list[str]:
    """The newest ``event_type`` event of the company fanned out (as the dispatcher does when the stream
    brings it): one delivery per subscribed webhook, each queued. Returns the deliveries' ids."""
    from distribu import dynamo, keys, webhook_delivery

    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)}, ":prefix": {"S": "EVENT#"}},
        ScanIndexForward=False)
    event = next(item for item in (dynamo.from_item(raw) or {} for raw in response["Items"])
                 if item["eventType"] == event_type)
    webhook_delivery.fan_out(event)
    return [webhook_delivery.delivery_id(event["id"], hook["id"]) for hook in webhook_delivery.subscriptions(company_id)
            if webhook_delivery.receives(hook, event)]


# --- dash-uploads ---

def png_bytes(size: int = 0) -> bytes:
    """A real 1x1 PNG; ``size`` pads it with trailing bytes to exactly that length (decoders ignore them)."""
    import base64

    image = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/eL9GtQAAAABJRU5ErkJggg==")
    return image + b"\0" * max(0, size - len(image))


def gradient_png(width: int = 240, height: int = 160) -> bytes:
    """A real PNG (a coloured gradient), made without an imaging library: a picture a person can see."""
    import struct
    import zlib

    rows = b"".join(b"\0" + bytes(value for x in range(width)
                                  for value in (40 + x * 200 // width, 90 + y * 120 // height, 200))
                    for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def jpeg_bytes() -> bytes:
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\0" * 64 + b"\xff\xd9"


def webp_bytes() -> bytes:
    return b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\0" * 40


def avif_bytes(*, major: bytes = b"avif", compatible: tuple[bytes, ...] = (b"mif1", b"miaf")) -> bytes:
    body = major + b"\0\0\0\0" + b"".join(compatible)
    return (8 + len(body)).to_bytes(4, "big") + b"ftyp" + body + b"\0" * 32


def html_bytes() -> bytes:
    return b"<!doctype html><html><body><script>alert(1)</script></body></html>"


def gif_bytes() -> bytes:
    return b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"


def csv_text(kind: str, rows: list[dict[str, Any]]) -> str:
    """A CSV file of ``rows`` with the export header of ``kind`` (products or customers)."""
    import csv
    import io

    from distribu import csvformat

    header = csvformat.PRODUCT_EXPORT_HEADER if kind == "products" else csvformat.CUSTOMER_EXPORT_HEADER
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(header), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({name: row.get(name, "") for name in header})
    return out.getvalue()


# --- reports ---

def report_shop(tenant: Any, customers: int = 3) -> dict[str, Any]:
    """A product at 12.50 with plenty of stock and ``customers`` customers (``buyer{n}@shop.test``, "Buyer n"),
    with ``place(customer_number, quantity)`` and ``move(order_id, status)`` going through the API."""
    from tests.conftest import call_api

    made = product(tenant.company_id, "Widget", price="12.50", stock=1_000_000)
    buyers = [customer(tenant.company_id, f"buyer{n}@shop.test", name=f"Buyer {n}", password=None)["id"]
              for n in range(customers)]

    def place(number: int, quantity: int) -> dict[str, Any]:
        response = call_api("POST", "/api/v1/orders", key=tenant.key, json_body={
            "customerId": buyers[number], "items": [{"productId": made["id"], "quantity": quantity}]})
        assert response.status == 201, response.body
        return response.body["data"]

    def move(order_id: str, status: str) -> None:
        response = call_api("PATCH", f"/api/v1/orders/{order_id}", key=tenant.key, json_body={"status": status})
        assert response.status == 200, response.body

    return {"tenant": tenant, "product": made["id"], "customers": buyers, "place": place, "move": move}


# --- scheduled-reports ---
def report_schedule(company_id: str, *, by: str | None = None, **fields: Any) -> Any:
    """A scheduled report made by the company's owner (or the team member ``by``), through the domain's verb.
    Defaults: the orders export (summary) as CSV, daily at 08:00 UTC, to reports@acme.test."""
    from distribu import scheduled_reports

    values = {"reportType": "ORDERS_EXPORT", "mode": "summary", "format": "csv", "cadence": "DAILY", "hour": "8",
              "recipients": "reports@acme.test", "isActive": True, **fields}
    return scheduled_reports.create_schedule(staff_of(company_id, by), values)


def make_report_due(company_id: str, schedule_id: str, due_at: str) -> None:
    """Move a schedule's next due time (as if the clock had reached it): item and index together."""
    from distribu import dynamo, keys

    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company_id), keys.report_schedule_sk(schedule_id)),
        UpdateExpression="SET nextDueAt = :due, GSI2SK = :sort",
        ExpressionAttributeValues={":due": {"S": due_at},
                                   ":sort": {"S": keys.reports_due_sort(due_at, company_id, schedule_id)}})


# --- dash-inventory ---

def products(company_id: str, specs: list[tuple[str, int]], **fields: Any) -> list[dict[str, Any]]:
    """Several products, each ``(name, stock)``; ``fields`` apply to all (category, price, isActive...)."""
    return [product(company_id, name, stock=stock, **fields) for name, stock in specs]


# --- dash-orders ---

def moved_order(company_id: str, order_id: str, *statuses: str) -> dict[str, Any]:
    """An order moved along its lifecycle by staff, one status after another (as the dashboard does)."""
    from distribu import orders

    view: dict[str, Any] = {}
    for status in statuses:
        view = orders.change_status(company_id, order_id, status, staff_actor())
    return view


def events_of(company_id: str, event_type: str) -> list[dict[str, Any]]:
    """The outbox events of one type the company's changes wrote (webhooks are delivered from these)."""
    from distribu import dynamo, keys

    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)}, ":prefix": {"S": "EVENT#"}})
    items = [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]
    return [item for item in items if item.get("eventType") == event_type]


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


def pending_import(company_id: str, kind: str = "customers") -> dict[str, Any]:
    """A CSV import created as the import screen creates it (awaiting its upload)."""
    from distribu import imports

    return imports.create_import(company_id, kind, staff_actor(), file_name=f"{kind}.csv")
