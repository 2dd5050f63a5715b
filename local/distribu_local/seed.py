"""The demo company a fresh local stack starts with, created through the domain package.

Idempotent: run on every start, it creates only what is missing. The raw API key cannot be read back
from the table (only its hash is stored), so it is kept in the state folder and reused while it still
authenticates.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from distribu_local import log
from distribu_local.state import StateDir

COMPANY_NAME = "Demo Distributors"
COMPANY_SLUG = "demo-distributors"
OWNER_EMAIL = "owner@demo.test"
OWNER_PASSWORD = "demo-password-1"
OWNER_NAME = "Demo owner"
KEY_NAME = "Local demo key"
BUYER_EMAIL = "buyer@northwind.test"  # the demo storefront sign-in (Northwind Traders)
BUYER_PASSWORD = "demo-buyer-1"
BUYER_CONTACT_EMAIL = "nancy@northwind.test"  # a BUYER contact of Northwind, same password

# name, sku, category, unit, price, stock
PRODUCTS: list[tuple[str, str, str, str, str, int]] = [
    ("Hex Bolt M8 x 40 mm, zinc (box of 100)", "FAS-HB-0840", "Fasteners", "box", "14.90", 240),
    ("Hex Nut M8, zinc (box of 200)", "FAS-HN-08", "Fasteners", "box", "9.75", 310),
    ("Flat Washer M8 (box of 500)", "FAS-FW-08", "Fasteners", "box", "11.20", 4),
    ("Wood Screw 4 x 50 mm, Torx (box of 200)", "FAS-WS-0450", "Fasteners", "box", "12.40", 180),
    ("Concrete Anchor 10 x 80 mm (box of 50)", "FAS-CA-1080", "Fasteners", "box", "27.50", 0),
    ("Threaded Rod M10 x 1 m", "FAS-TR-10", "Fasteners", "each", "3.10", 95),
    ("Cordless Drill 18 V, 2 batteries", "TLS-CD-18", "Tools", "each", "149.00", 12),
    ("Impact Driver Bit Set, 32 pieces", "TLS-BS-32", "Tools", "each", "24.90", 3),
    ("Claw Hammer 450 g, fibreglass handle", "TLS-CH-450", "Tools", "each", "18.50", 40),
    ("Tape Measure 8 m", "TLS-TM-8", "Tools", "each", "9.90", 75),
    ("Adjustable Wrench 250 mm", "TLS-AW-250", "Tools", "each", "16.80", 28),
    ("Utility Knife with 10 blades", "TLS-UK-10", "Tools", "each", "7.40", 1),
    ("Cable NYM-J 3 x 1.5 mm2 (50 m roll)", "ELE-NYM-315", "Electrical", "roll", "46.00", 60),
    ("Junction Box IP65, 100 x 100 mm", "ELE-JB-100", "Electrical", "each", "4.60", 220),
    ("LED Panel 60 x 60, 40 W, 4000 K", "ELE-LP-6040", "Electrical", "each", "38.90", 35),
    ("Circuit Breaker B16, 1-pole", "ELE-CB-B16", "Electrical", "each", "5.95", 0),
    ("Wago Connector 221-413 (box of 50)", "ELE-WG-413", "Electrical", "box", "17.25", 5),
    ("Copper Pipe 15 mm (3 m length)", "PLM-CP-15", "Plumbing", "each", "21.40", 48),
    ("Compression Elbow 15 mm (pack of 10)", "PLM-CE-15", "Plumbing", "box", "13.60", 90),
    ("PTFE Thread Tape (pack of 10 rolls)", "PLM-PT-10", "Plumbing", "box", "6.30", 150),
    ("Ball Valve 3/4 inch, brass", "PLM-BV-34", "Plumbing", "each", "11.90", 2),
    ("Flexible Hose 1/2 inch, 500 mm", "PLM-FH-500", "Plumbing", "each", "5.10", 130),
    ("Safety Glasses, clear, anti-fog", "SAF-SG-CL", "Safety", "each", "4.20", 400),
    ("Work Gloves, nitrile coated (12 pairs)", "SAF-WG-12", "Safety", "case", "19.80", 70),
    ("Hard Hat EN 397, white", "SAF-HH-WH", "Safety", "each", "12.50", 55),
    ("Hearing Protection Earmuffs, SNR 30", "SAF-EM-30", "Safety", "each", "15.90", 30),
    ("Stretch Film 500 mm x 300 m", "PKG-SF-500", "Packaging", "roll", "16.40", 85),
    ("Shipping Box 400 x 300 x 200 mm (bundle of 20)", "PKG-SB-432", "Packaging", "case", "22.00", 120),
    ("Packing Tape 48 mm x 66 m, brown (6 rolls)", "PKG-PT-48", "Packaging", "box", "8.90", 210),
    ("Euro Pallet 1200 x 800 mm, used", "PKG-EP-1208", "Packaging", "pallet", "14.00", 16),
]

CUSTOMERS: list[dict[str, str]] = [
    {"name": "Northwind Traders", "email": "buyer@northwind.test", "contactName": "Nancy Davolio"},
    {"name": "Contoso Supply", "email": "orders@contoso.test", "contactName": "Kim Abercrombie"},
]


@dataclass(frozen=True)
class Demo:
    company_id: str
    slug: str
    owner_email: str
    owner_password: str
    api_key: str
    created: bool  # False when the demo company was already there
    buyer_email: str = BUYER_EMAIL
    buyer_password: str = BUYER_PASSWORD


def _api_key_valid(raw_key: str | None, company_id: str) -> bool:
    if not raw_key:
        return False
    from distribu import apikeys, dynamo, keys

    item = dynamo.get(keys.api_key_pk(apikeys.hash_key(raw_key)), keys.API_KEY_SK)
    return bool(item and item.get("companyId") == company_id and item.get("status") == "ACTIVE"
                and not item.get("expiresAt"))


def _seed_products(company_id: str, actor: Any) -> int:
    from distribu import catalog

    if catalog.list_products(company_id, limit=1, cursor=None).items:
        return 0
    for name, sku, category, unit, price, stock in PRODUCTS:
        catalog.create_product(company_id, catalog.ProductCreate(
            name=name, sku=sku, category=category, unit=unit, price=Decimal(price), stock=stock,
            description=f"{name}. Demo product in {category.lower()}."), actor)
    return len(PRODUCTS)


def _seed_customers(company_id: str, actor: Any) -> str:
    """The demo customers; Northwind can sign in to the storefront (see :func:`_seed_demo_buyer`)."""
    from distribu import customers, passwords
    from distribu.errors import Conflict

    created = 0
    for fields in CUSTOMERS:
        password_hash = passwords.hash_password(BUYER_PASSWORD) if fields["email"] == BUYER_EMAIL else None
        try:
            customers.create_customer(company_id, customers.CustomerCreate(email=fields["email"], name=fields["name"]),
                                      actor, password_hash=password_hash, email_verified=password_hash is not None)
            created += 1
        except Conflict:
            pass
    return f"{created} created"


def _seed_demo_buyer(company_id: str, actor: Any) -> str:
    """Northwind's storefront life: a custom price, a shipping address, a BUYER contact (Nancy, same
    password) and three earlier orders, so every storefront page has something to show at once."""
    from distribu import addresses, contacts, dynamo, keys, orders, passwords, pricing
    from distribu.errors import ValidationError

    guard = dynamo.get(keys.company(company_id), keys.email_guard_sk(BUYER_EMAIL))
    if not guard:
        return "skipped (no demo buyer)"
    customer_id = guard["customerId"]
    skus = {sku: None for _, sku, *_ in PRODUCTS}
    found = dynamo.batch_get((keys.company(company_id), keys.sku_guard_sk(sku)) for sku in skus)
    product_of = {item["sku"]: item["productId"] for item in found.values()}
    pricing.set_override(company_id, customer_id, product_of["FAS-HB-0840"], Decimal("12.90"), actor)
    addresses.add_address(company_id, customer_id, {
        "name": "Receiving dock", "company": "Northwind Traders", "line1": "12 Harbour Road", "city": "Portland",
        "region": "OR", "postalCode": "97209", "country": "US", "phone": "+1 503 555 0100"}, actor, make_default=True)
    try:
        contact, _ = contacts.invite_contact(company_id, customer_id, email=BUYER_CONTACT_EMAIL, name="Nancy Davolio",
                                             role="BUYER", actor=actor)
        dynamo.dynamodb().update_item(
            TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company_id), keys.contact_sk(customer_id, contact["id"])),
            UpdateExpression="SET passwordHash = :hash, emailVerified = :true",
            ExpressionAttributeValues={":hash": {"S": passwords.hash_password(BUYER_PASSWORD)}, ":true": {"BOOL": True}})
    except ValidationError:
        pass  # already there
    shipping = addresses.snapshot(addresses.list_addresses(company_id, customer_id)[0])
    history = [(("FAS-HB-0840", 10), ("FAS-HN-08", 10), ("PLM-PT-10", 5)), (("TLS-TM-8", 4), ("SAF-SG-CL", 20)),
               (("PKG-SB-432", 6), ("PKG-PT-48", 12))]
    moves = (("CONFIRMED", "SHIPPED", "DELIVERED"), ("CONFIRMED", "SHIPPED"), ())
    buyer_actor = type(actor)("CUSTOMER", customer_id, "Northwind Traders")
    for number, (lines, statuses) in enumerate(zip(history, moves), start=1):
        order = orders.place_order(company_id, orders.OrderRequest(
            lines=[orders.Line(product_of[sku], quantity) for sku, quantity in lines], customer_id=customer_id,
            po_number=f"NW-{4400 + number}", shipping_address=shipping), buyer_actor, source="STOREFRONT")
        for status in statuses:
            orders.change_status(company_id, order["id"], status, actor)
    return "custom price, address, contact and 3 orders"


def ensure_read_models() -> list[str]:
    """Rebuild the read models (catalog index, sales rollups) of every company that has none at the current
    version: restored state can predate them, and the stream pump starts after the restore, so nothing
    else would ever fill them in. Returns the companies rebuilt. (A local table is small: it is scanned.)"""
    from distribu import dynamo, projections

    client, rebuilt = dynamo.dynamodb(), []
    request: dict[str, Any] = {"TableName": dynamo.table_name(), "FilterExpression": "entity = :company",
                               "ExpressionAttributeValues": {":company": {"S": "COMPANY"}}, "ProjectionExpression": "id"}
    while True:
        response = client.scan(**request)
        for item in response.get("Items", []):
            company_id = item["id"]["S"]
            if projections.needs_rebuild(company_id):
                projections.rebuild(company_id)
                rebuilt.append(company_id)
        if not response.get("LastEvaluatedKey"):
            return rebuilt
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def seed(state: StateDir) -> Demo:
    from distribu import apikeys, audit, companies, dynamo, keys

    created = False
    company_id = companies.company_id_for_slug(COMPANY_SLUG)
    if company_id is None:
        company = companies.create_company(COMPANY_NAME, OWNER_EMAIL, OWNER_PASSWORD, slug=COMPANY_SLUG,
                                           owner_name=OWNER_NAME)
        company_id = company.id
        created = True
    user = dynamo.get(keys.user_pk(OWNER_EMAIL), keys.USER_PROFILE_SK) or {}
    actor = audit.Actor("USER", user.get("id", "owner"), OWNER_NAME)

    saved = state.demo()
    if saved.get("companyId") != company_id:
        saved = {}
    api_key = saved.get("apiKey")
    if not _api_key_valid(api_key, company_id):
        _, api_key = apikeys.create_api_key(company_id, KEY_NAME, list(apikeys.SCOPES), actor)
    assert api_key is not None
    demo = {"companyId": company_id, "slug": COMPANY_SLUG, "ownerEmail": OWNER_EMAIL,
            "ownerPassword": OWNER_PASSWORD, "apiKey": api_key, "customersSeeded": bool(saved.get("customersSeeded"))}
    state.save_demo(demo)  # at once: the key can never be read back

    products = _seed_products(company_id, actor)
    if products:
        log.info("seed", f"{COMPANY_NAME}: {products} products")
    if not demo["customersSeeded"]:
        note = _seed_customers(company_id, actor)
        log.info("seed", f"{COMPANY_NAME}: customers {note}; demo buyer: {_seed_demo_buyer(company_id, actor)}")
        demo["customersSeeded"] = True
        state.save_demo(demo)
    return Demo(company_id, COMPANY_SLUG, OWNER_EMAIL, OWNER_PASSWORD, api_key, created, BUYER_EMAIL, BUYER_PASSWORD)
