"""Carts: kept on the server per signed-in person, so a cart survives reloads, devices and sign-outs.

A cart is one item (``C#{company}`` / ``CART#{customer}#{person}``) holding product id -> quantity. It
holds wishes, not reservations: stock is checked (and quantities capped) when a line is added and again,
atomically, when the order is placed. Checking out deletes the cart in the order's own transaction.
"""

from __future__ import annotations

from typing import Any, Mapping

from distribu import clock, dynamo, keys
from distribu.buyers import Buyer
from distribu.errors import BusinessRuleViolation, ValidationError

MAX_LINES = 94  # what one storefront order holds: a transaction of 100 items less the order, the
# customer check, the idempotency record, the event, the audit entry and the cart's removal
MAX_QUANTITY = 1_000_000


def cart_key(buyer: Buyer) -> tuple[str, str]:
    return keys.company(buyer.company_id), keys.cart_sk(buyer.customer_id, buyer.principal_id)


def lines_of(item: Mapping[str, Any] | None) -> dict[str, int]:
    """Product id -> quantity, in the order the lines were first added."""
    if not item:
        return {}
    order = list(item.get("order") or [])
    quantities = {product_id: int(quantity) for product_id, quantity in (item.get("lines") or {}).items()}
    ordered = [product_id for product_id in order if product_id in quantities]
    ordered += [product_id for product_id in quantities if product_id not in ordered]
    return {product_id: quantities[product_id] for product_id in ordered if quantities[product_id] > 0}


def _save(buyer: Buyer, lines: dict[str, int]) -> dict[str, int]:
    pk, sk = cart_key(buyer)
    if not lines:
        dynamo.dynamodb().delete_item(TableName=dynamo.table_name(), Key=dynamo.key(pk, sk))
        return {}
    dynamo.dynamodb().put_item(TableName=dynamo.table_name(), Item=dynamo.to_item({
        "PK": pk, "SK": sk, "entity": "CART", "customerId": buyer.customer_id, "principalId": buyer.principal_id,
        "lines": lines, "order": list(lines), "updatedAt": clock.now_iso(),
    }))
    return lines


def read(buyer: Buyer) -> dict[str, int]:
    return lines_of(dynamo.get(*cart_key(buyer)))


def _quantity(raw: Any, *, allow_zero: bool) -> int:
    try:
        quantity = int(str(raw).strip())
    except (TypeError, ValueError):
        raise ValidationError("Validation failed.", details=[{"field": "quantity", "message": "Enter a whole number."}]) from None
    if quantity < (0 if allow_zero else 1) or quantity > MAX_QUANTITY:
        raise ValidationError("Validation failed.", details=[{"field": "quantity", "message": "Enter a quantity of at least 1."}])
    return quantity


def _product(buyer: Buyer, product_id: str) -> dict[str, Any]:
    item = dynamo.get(keys.company(buyer.company_id), keys.product_sk(product_id)) if product_id else None
    if not item or item.get("entity") != "PRODUCT" or not item.get("isActive", True):
        raise BusinessRuleViolation("This product is no longer available.")
    return item


def add(buyer: Buyer, product_id: str, quantity: Any) -> tuple[int, str | None]:
    """Add ``quantity`` of a product, capped at its stock. Returns the line's quantity and a note when
    it was capped. Out of stock (or inactive) products cannot be added."""
    buyer.require_ordering()
    wanted = _quantity(quantity, allow_zero=False)
    product = _product(buyer, product_id)
    stock = int(product["stock"])
    if stock <= 0:
        raise BusinessRuleViolation(f"{product['name']} is out of stock.")
    lines = read(buyer)
    if product_id not in lines and len(lines) >= MAX_LINES:
        raise BusinessRuleViolation(f"A cart can hold at most {MAX_LINES} different products. Place this order first.")
    total = lines.get(product_id, 0) + wanted
    note = None
    if total > stock:
        total, note = stock, f"Only {stock} of {product['name']} available: your cart holds {stock}."
    lines[product_id] = total
    _save(buyer, lines)
    return total, note


def set_quantity(buyer: Buyer, product_id: str, quantity: Any) -> tuple[int, str | None]:
    """Set a line's quantity (0 removes it), capped at stock."""
    buyer.require_ordering()
    wanted = _quantity(quantity, allow_zero=True)
    lines = read(buyer)
    if wanted == 0:
        lines.pop(product_id, None)
        _save(buyer, lines)
        return 0, None
    product = _product(buyer, product_id)
    stock = int(product["stock"])
    note = None
    if wanted > stock:
        wanted = stock
        note = (f"{product['name']} is out of stock." if stock <= 0
                else f"Only {stock} of {product['name']} available: your cart holds {stock}.")
    if wanted <= 0:
        lines.pop(product_id, None)
    else:
        if product_id not in lines and len(lines) >= MAX_LINES:
            raise BusinessRuleViolation(f"A cart can hold at most {MAX_LINES} different products.")
        lines[product_id] = wanted
    _save(buyer, lines)
    return max(wanted, 0), note


def replace(buyer: Buyer, lines: dict[str, int]) -> dict[str, int]:
    """Keep what the person submitted (a checkout that failed keeps the cart as it was sent)."""
    buyer.require_ordering()
    return _save(buyer, {product_id: quantity for product_id, quantity in list(lines.items())[:MAX_LINES]
                         if quantity > 0})


def clear(buyer: Buyer) -> None:
    _save(buyer, {})


def delete_item(buyer: Buyer) -> dict[str, Any]:
    """The cart's removal, for the order's own transaction."""
    return dynamo.delete(*cart_key(buyer))


# --- quick order and reorder ------------------------------------------------------------------------

MAX_QUICK_LINES = 100


def _add_many(buyer: Buyer, wanted: list[tuple[str, int, str]]) -> tuple[list[str], list[str]]:
    """Add (product id, quantity, label) lines: capped at stock, unavailable ones reported. One read of the
    cart and the products, one write. Returns (what was added, what could not be)."""
    pk = keys.company(buyer.company_id)
    cart_key_ = cart_key(buyer)
    found = {}
    product_keys = [(pk, keys.product_sk(product_id)) for product_id, _, _ in wanted]
    everything = [cart_key_] + product_keys
    for start in range(0, len(everything), 100):
        found.update(dynamo.batch_get(everything[start:start + 100]))
    lines = lines_of(found.get(cart_key_))
    added, problems = [], []
    for product_id, quantity, label in wanted:
        product = found.get((pk, keys.product_sk(product_id)))
        if not product or product.get("entity") != "PRODUCT" or not product.get("isActive", True):
            problems.append(f"{label}: no longer available.")
            continue
        stock = int(product["stock"])
        if stock <= 0:
            problems.append(f"{label}: {product['name']} is out of stock.")
            continue
        if product_id not in lines and len(lines) >= MAX_LINES:
            problems.append(f"{label}: the cart is full ({MAX_LINES} products).")
            continue
        total = lines.get(product_id, 0) + quantity
        if total > stock:
            problems.append(f"{label}: only {stock} of {product['name']} available; your cart holds {stock}.")
            total = stock
        lines[product_id] = total
        added.append(f"{product['name']} × {quantity}")
    _save(buyer, lines)
    return added, problems


def quick_order(buyer: Buyer, text: str) -> tuple[list[str], list[str]]:
    """Pasted lines of ``SKU quantity`` (or ``SKU,quantity``; quantity 1 when left out) go to the cart.
    Unknown SKUs, bad quantities and shortfalls are reported per line; the rest is added."""
    buyer.require_ordering()
    pk = keys.company(buyer.company_id)
    parsed: list[tuple[int, str, int]] = []
    problems: list[str] = []
    rows = [row for row in (text or "").splitlines()]
    if len([row for row in rows if row.strip()]) > MAX_QUICK_LINES:
        raise ValidationError("Validation failed.", details=[{"field": "lines",
                                                               "message": f"Paste at most {MAX_QUICK_LINES} lines at once."}])
    for number, row in enumerate(rows, start=1):
        parts = row.replace(",", " ").replace(";", " ").replace("\t", " ").split()
        if not parts:
            continue
        sku, quantity_text = parts[0], parts[1] if len(parts) > 1 else "1"
        if len(parts) > 2:
            problems.append(f"Line {number} ({row.strip()}): write a SKU and a quantity.")
            continue
        try:
            quantity = int(quantity_text)
            if not 1 <= quantity <= MAX_QUANTITY:
                raise ValueError
        except ValueError:
            problems.append(f"Line {number} ({sku}): the quantity must be a whole number of at least 1.")
            continue
        parsed.append((number, sku, quantity))
    if not parsed and not problems:
        raise ValidationError("Validation failed.", details=[{"field": "lines",
                                                               "message": "Paste one line per product: SKU and quantity."}])
    guards = dynamo.batch_get({(pk, keys.sku_guard_sk(sku)) for _, sku, _ in parsed}) if parsed else {}
    wanted = []
    for number, sku, quantity in parsed:
        guard = guards.get((pk, keys.sku_guard_sk(sku)))
        if not guard:
            problems.append(f"Line {number} ({sku}): no product has this SKU.")
            continue
        wanted.append((guard["productId"], quantity, f"Line {number} ({sku})"))
    added, shortfalls = _add_many(buyer, wanted) if wanted else ([], [])
    return added, problems + shortfalls


def reorder(buyer: Buyer, order: dict[str, Any]) -> tuple[list[str], list[str]]:
    """An earlier order's lines go to the cart again, at today's prices and capped at today's stock."""
    buyer.require_ordering()
    wanted = [(line["productId"], int(line["quantity"]), line["productName"]) for line in order["items"]]
    return _add_many(buyer, wanted)
