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


def _seed_customers(company_id: str, actor: Any) -> tuple[bool, str]:
    """Through ``distribu.customers.create_customer`` when that module exists (it is being written).
    Returns whether it ran, and what happened."""
    try:
        from distribu import customers  # type: ignore[attr-defined]
    except ImportError:
        return False, "skipped (distribu.customers does not exist yet)"
    create = getattr(customers, "create_customer", None)
    if create is None:
        return False, "skipped (distribu.customers.create_customer does not exist yet)"
    from distribu.errors import Conflict

    model = getattr(customers, "CustomerCreate", None)
    created = 0
    for fields in CUSTOMERS:
        try:
            data: Any = dict(fields)
            if model is not None and hasattr(model, "model_fields"):
                data = model(**{name: value for name, value in fields.items() if name in model.model_fields})
            create(company_id, data, actor)
            created += 1
        except Conflict:
            pass
        except Exception as failure:  # its shape may still change: say so, do not stop the stack
            return False, f"skipped (create_customer failed: {type(failure).__name__}: {failure})"
    return True, f"{created} created"


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
        demo["customersSeeded"], note = _seed_customers(company_id, actor)
        log.info("seed", f"{COMPANY_NAME}: customers {note}")
        state.save_demo(demo)
    return Demo(company_id, COMPANY_SLUG, OWNER_EMAIL, OWNER_PASSWORD, api_key, created)
