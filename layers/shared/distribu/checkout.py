"""Storefront checkout: the cart as submitted becomes an order through the one order routine.

Stock, prices, events and the low-stock email behave exactly as for an API order (``source``
``STOREFRONT``). Each rendering of the checkout form carries a fresh token used as an idempotency key
(per signed-in person), recorded in the order's own transaction together with the cart's removal: a
double click, a retried POST or a back-and-resubmit places one order, never two.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

from distribu import addresses, carts, dynamo, orders
from distribu.buyers import Buyer
from distribu.errors import Conflict, ValidationError
from distribu.idempotency import IdempotencyGuard, Replay

MAX_LINES = carts.MAX_LINES
WAIT_FOR_TWIN_SECONDS = 5.0


def new_token() -> str:
    return secrets.token_urlsafe(18)


def parse_lines(product_ids: list[str], quantities: list[str]) -> list[dict[str, Any]]:
    """Repeated ``productId`` / ``quantity`` fields, pair by pair; a quantity of 0 drops the line."""
    if len(product_ids) != len(quantities):
        raise ValidationError("Validation failed.", details=[{"field": "items", "message": "Every line needs a quantity."}])
    items = []
    for product_id, raw in zip(product_ids, quantities):
        text = (raw or "").strip()
        try:
            quantity: Any = int(text)
        except ValueError:
            try:
                quantity = float(text)
            except ValueError:
                quantity = text or None
        if quantity == 0:
            continue
        items.append({"productId": product_id, "quantity": quantity})
    return items


def _fingerprint(buyer: Buyer, items: list[dict[str, Any]], po_number: str, notes: str, address_id: str) -> str:
    body = json.dumps({"items": items, "po": po_number, "notes": notes, "address": address_id}, sort_keys=True,
                      default=str)
    return hashlib.sha256(f"{buyer.principal_id}\n{body}".encode()).hexdigest()


def checkout(buyer: Buyer, *, token: str, product_ids: list[str], quantities: list[str], po_number: str = "",
             notes: str = "", address_id: str = "") -> dict[str, Any]:
    """Place the buyer's order (403 for a VIEWER). Returns the order as the API shows it; a repeat of the
    same submission returns the order the first one placed."""
    buyer.require_ordering()
    items = parse_lines(product_ids, quantities)
    if len(items) > MAX_LINES:
        raise ValidationError("Validation failed.", details=[{
            "field": "items", "message": f"An order can hold at most {MAX_LINES} different products."}])
    body = {"customerId": buyer.customer_id, "items": items}
    if po_number.strip():
        body["poNumber"] = po_number
    if notes.strip():
        body["notes"] = notes
    request = orders.parse_order_request(body, customer_required=True)
    if address_id:
        request.shipping_address = addresses.snapshot(addresses.get_address(buyer.company_id, buyer.customer_id, address_id))
    if not token or len(token) > 100:
        raise ValidationError("This checkout form has expired. Reload the page and place the order again.")
    guard = IdempotencyGuard(buyer.company_id, f"CHECKOUT#{buyer.principal_id}", token,
                             _fingerprint(buyer, items, po_number, notes, address_id))
    try:
        guard.acquire()
    except Replay as replay:
        return replay.body["data"]
    except Conflict:
        return _wait_for_twin(guard)

    def also_write(view: dict[str, Any]) -> list[dict[str, Any]]:
        return guard.recorder(201)(view) + [carts.delete_item(buyer)]

    try:
        order = orders.place_order(buyer.company_id, request, buyer.actor(), source="STOREFRONT",
                                   placed_by=buyer.contact_id, also_write=also_write)
    except Exception:
        guard.release()
        raise
    guard.finish(201, {"data": order})
    return order


def _wait_for_twin(guard: IdempotencyGuard) -> dict[str, Any]:
    """The same submission is being placed right now (a double click): wait for it and show its order."""
    deadline = time.monotonic() + WAIT_FOR_TWIN_SECONDS
    while time.monotonic() < deadline:
        record = dynamo.get(guard.pk, guard.sk) or {}
        if record.get("state") == "COMPLETED":
            return json.loads(record["response"])["data"]
        if not record:
            break  # the first attempt failed and let go: nothing was placed
        time.sleep(0.1)
    raise Conflict("Your order is still being placed. Check your orders in a moment before trying again.")

