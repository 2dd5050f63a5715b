"""Orders: the one routine every order path runs (API now; storefront and dashboard later).

Validate first (nothing written), read every product and the customer's overrides in one batch,
price and total in Decimal, then ONE ``TransactWriteItems``: the order, a conditional decrement per
product, the customer check, the idempotency record, the outbox event and the audit entry. If any
condition fails, nothing at all changes, and the answer comes from the values DynamoDB returns with
the cancellation (no extra read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from distribu import audit, clock, dynamo, ids, keys, outbox, pricing, validation
from distribu.errors import BusinessRuleViolation, Conflict, NotFound, ValidationError
from distribu.idempotency import AlsoWrite, extra_items
from distribu.pagination import IndexQuery, Page, query_page
from distribu.serialize import jsonable

STATUSES = ("SUBMITTED", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED")
MOVES = {"SUBMITTED": {"CONFIRMED", "CANCELLED"}, "CONFIRMED": {"SHIPPED", "CANCELLED"}, "SHIPPED": {"DELIVERED"},
         "DELIVERED": set(), "CANCELLED": set()}
SOURCES = ("API", "STOREFRONT", "DASHBOARD")

# One transaction holds at most 100 items: the order, the customer check, the idempotency record, the
# outbox event and the audit entry take 5, leaving 95 product decrements.
MAX_DISTINCT_PRODUCTS = dynamo.MAX_TRANSACTION_ITEMS - 5
MAX_QUANTITY = 1_000_000
NOT_FOUND = "Order not found."
CENTS = Decimal("0.01")


# --- the request ---------------------------------------------------------------------------------------

class ShippingAddress(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    name: Optional[str] = Field(default=None, max_length=200)
    company: Optional[str] = Field(default=None, max_length=200)
    line1: str = Field(min_length=1, max_length=200)
    line2: Optional[str] = Field(default=None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    region: Optional[str] = Field(default=None, max_length=100)
    postalCode: Optional[str] = Field(default=None, max_length=20)
    country: str = Field(min_length=2, max_length=56)
    phone: Optional[str] = Field(default=None, max_length=40)


class _OrderExtras(BaseModel):
    model_config = ConfigDict(str_strip_whitespace=True, defer_build=True)

    poNumber: Optional[str] = Field(default=None, max_length=100)
    notes: Optional[str] = Field(default=None, max_length=2000)
    shippingAddress: Optional[ShippingAddress] = None


class OrderLineSchema(BaseModel):
    """Documents one line of ``POST /api/v1/orders`` (lines naming the same product are added up)."""

    model_config = ConfigDict(defer_build=True)

    productId: str = Field(min_length=1)
    quantity: int = Field(ge=1, le=MAX_QUANTITY, description="A whole number.")


class OrderCreateSchema(_OrderExtras):
    """Documents ``POST /api/v1/orders`` (the body is checked by :func:`parse_order_request`)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    customerId: str = Field(min_length=1)
    items: list[OrderLineSchema] = Field(min_length=1, description=(
        f"At least one line; at most {MAX_DISTINCT_PRODUCTS} different products."))


class OrderStatusChange(BaseModel):
    """Documents ``PATCH /api/v1/orders/{id}`` (the body is checked by :func:`parse_status`)."""

    model_config = ConfigDict(defer_build=True)

    status: Literal["SUBMITTED", "CONFIRMED", "SHIPPED", "DELIVERED", "CANCELLED"]


@dataclass(frozen=True)
class Line:
    product_id: str
    quantity: int


@dataclass
class OrderRequest:
    lines: list[Line]
    customer_id: str | None = None
    po_number: str | None = None
    notes: str | None = None
    shipping_address: dict[str, Any] | None = None
    extras: dict[str, Any] = field(default_factory=dict)


def _fail(message: str) -> ValidationError:
    return ValidationError(message)


def _quantity(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise _fail("quantity must be a number")
    if isinstance(value, (float, Decimal)) and value != int(value):
        raise _fail("quantity must be a whole number")
    if int(value) < 1:
        raise _fail("quantity must be at least 1")
    if int(value) > MAX_QUANTITY:
        raise ValidationError("Validation failed.", details=[{"field": "quantity",
                                                               "message": f"must be at most {MAX_QUANTITY}"}])
    return int(value)


def parse_order_request(body: Any, *, customer_required: bool) -> OrderRequest:
    """The documented 400s, in the documented order; then the generic ones for the optional fields."""
    if not isinstance(body, dict):
        raise ValidationError("Invalid JSON body.")
    customer_id = body.get("customerId")
    if customer_required and (not isinstance(customer_id, str) or not customer_id.strip()):
        raise _fail("customerId is required")
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise _fail("At least one item is required")
    merged: dict[str, int] = {}
    for item in items:
        product_id = item.get("productId") if isinstance(item, dict) else None
        if not isinstance(product_id, str) or not product_id.strip():
            raise _fail("productId is required")
        quantity = _quantity(item.get("quantity"))
        merged[product_id.strip()] = merged.get(product_id.strip(), 0) + quantity
    if len(merged) > MAX_DISTINCT_PRODUCTS:
        raise ValidationError("Validation failed.", details=[{
            "field": "items", "message": f"An order can hold at most {MAX_DISTINCT_PRODUCTS} different products."}])
    unknown = sorted(set(body) - {"customerId", "items", "poNumber", "notes", "shippingAddress"})
    if unknown:
        raise ValidationError("Validation failed.",
                              details=[{"field": name, "message": "is not a known field"} for name in unknown])
    extras = validation.parse(_OrderExtras, {name: body[name] for name in ("poNumber", "notes", "shippingAddress")
                                             if name in body})
    return OrderRequest(
        lines=[Line(product_id, quantity) for product_id, quantity in merged.items()],
        customer_id=customer_id.strip() if isinstance(customer_id, str) and customer_id.strip() else None,
        po_number=extras.poNumber or None, notes=extras.notes or None,
        shipping_address=extras.shippingAddress.model_dump(exclude_none=True) if extras.shippingAddress else None,
    )


# --- the order as the API shows it -----------------------------------------------------------------------

def to_api(item: dict[str, Any]) -> dict[str, Any]:
    return jsonable({
        "id": item["id"], "status": item["status"], "poNumber": item.get("poNumber"), "notes": item.get("notes"),
        "total": item["total"], "createdAt": item["createdAt"], "updatedAt": item["updatedAt"],
        "customerId": item.get("customerId"), "shippingAddress": item.get("shippingAddress"),
        "taxRate": item.get("taxRate"),
        "items": [{"id": line["id"], "quantity": int(line["quantity"]), "unitPrice": line["unitPrice"],
                   "productId": line["productId"], "productName": line["productName"],
                   "productSku": line.get("productSku")} for line in item["items"]],
    })


# --- placing an order ---------------------------------------------------------------------------------

def audit_sort_key(put: dict[str, Any]) -> str:
    """The SK of the audit entry a ``Put`` (from :func:`distribu.audit.entry`) writes."""
    return put["Put"]["Item"]["SK"]["S"]


def order_code(order_id: str) -> str:
    """The order's number as people read it: the id's last 8 characters, uppercased (as on its invoice)."""
    return order_id[-8:].upper()


def search_text(order_id: str, po_number: str | None, customer: dict[str, Any] | None) -> str:
    """What the dashboard's order search matches (lowercased): the order's number, its PO and its customer's
    email and name as they were when it was placed."""
    parts = [order_code(order_id), po_number or "", (customer or {}).get("email") or "", (customer or {}).get("name") or ""]
    return "\n".join(parts).lower()


def _stock_message(name: str, stock: int) -> str:
    return f"Not enough stock for {name}. Only {stock} available."


def place_order(company_id: str, request: OrderRequest, actor: audit.Actor, *, source: str,
                created_by_id: str | None = None, placed_by: str | None = None,
                also_write: AlsoWrite | None = None, attempts: int = 3) -> dict[str, Any]:
    """Price, check and write one order atomically with its stock decrements. Returns the order's view.

    ``placed_by`` is the storefront contact who placed it (listed among that contact's own orders). The
    tax rate in force (the customer's override, else the company's) is frozen on the order, so its
    invoice never changes afterwards.
    """
    if source not in SOURCES:
        raise ValueError(source)
    pk = keys.company(company_id)
    product_ids = [line.product_id for line in request.lines]
    impossible = next((product_id for product_id in product_ids if not ids.could_exist(product_id)), None)
    if impossible is not None:  # answered as for any missing product, without a read
        shown = impossible if len(impossible) <= ids.MAX_ID_LENGTH else impossible[:ids.MAX_ID_LENGTH] + "..."
        raise BusinessRuleViolation(f"Product {shown} was not found.")
    if request.customer_id and not ids.could_exist(request.customer_id):
        raise NotFound("Customer not found.")
    company_key = (pk, keys.COMPANY_SK)
    customer_key = (pk, keys.customer_sk(request.customer_id)) if request.customer_id else None
    for _ in range(attempts):
        wanted = [company_key] + ([customer_key] if customer_key else [])
        wanted += [(pk, keys.product_sk(product_id)) for product_id in product_ids]
        if request.customer_id:
            wanted += pricing.override_keys(company_id, request.customer_id, product_ids)
        found = {}
        for start in range(0, len(wanted), 100):  # one batch read up to 49 lines with a customer, 98 without
            found.update(dynamo.batch_get(wanted[start:start + 100]))
        customer = found.get(customer_key) if customer_key else None
        tax_rate = (customer or {}).get("taxRateOverride")
        if tax_rate is None:
            tax_rate = (found.get(company_key) or {}).get("taxRate", Decimal("0"))

        lines, decrements = [], []
        total = Decimal("0")
        now = clock.now_iso()
        for line in request.lines:
            product = found.get((pk, keys.product_sk(line.product_id)))
            if not product or product.get("entity") != "PRODUCT":
                raise BusinessRuleViolation(f"Product {line.product_id} was not found.")
            if not product.get("isActive", True):
                raise BusinessRuleViolation(f"{product['name']} is not available.")
            if int(product["stock"]) < line.quantity:
                raise BusinessRuleViolation(_stock_message(product["name"], int(product["stock"])))
            override = found.get(pricing.override_keys(company_id, request.customer_id, [line.product_id])[0]) \
                if request.customer_id else None
            unit_price = dynamo.as_decimal(override["price"] if override else product["price"]).quantize(CENTS)
            total += unit_price * line.quantity
            lines.append({"id": ids.new_id(), "quantity": line.quantity, "unitPrice": unit_price,
                          "productId": line.product_id, "productName": product["name"],
                          "productSku": product.get("sku")})
            decrements.append(dynamo.update(
                pk, keys.product_sk(line.product_id),
                "SET stock = stock - :quantity, version = version + :one, updatedAt = :now",
                condition="attribute_exists(PK) AND isActive = :true AND stock >= :quantity AND price = :price",
                values={":quantity": line.quantity, ":one": 1, ":now": now, ":true": True, ":price": product["price"]},
            ))

        order_id = ids.new_id()
        order = {
            "PK": pk, "SK": keys.order_sk(order_id), "entity": "ORDER",
            "GSI1PK": keys.listing(company_id, "ORDER"), "GSI1SK": keys.listing_sort(now, order_id),
            "id": order_id, "companyId": company_id, "status": "SUBMITTED", "source": source,
            "poNumber": request.po_number, "notes": request.notes, "shippingAddress": request.shipping_address,
            "total": total.quantize(CENTS, rounding=ROUND_HALF_UP), "customerId": request.customer_id,
            "createdById": created_by_id, "placedById": placed_by, "taxRate": dynamo.as_decimal(tax_rate),
            "items": lines, "createdAt": now, "updatedAt": now,
        }
        if request.customer_id:
            order["GSI2PK"] = keys.customer_orders(company_id, request.customer_id)
            order["GSI2SK"] = keys.listing_sort(now, order_id)
        if placed_by:
            order["GSI3PK"] = keys.orders_placed_by(company_id, placed_by)
            order["GSI3SK"] = keys.listing_sort(now, order_id)
        order["searchText"] = search_text(order_id, request.po_number, customer)
        view = to_api(order)
        placed = audit.entry(company_id, actor, "OrderPlaced", "Order", order_id,
                             {"total": view["total"], "lines": len(lines), "source": source}, at=now)
        # The order lists its own audit entries (at most 4: placed and 3 moves): its timeline is one batch read.
        order["auditTrail"] = [audit_sort_key(placed)]

        writes = [dynamo.put(order, condition="attribute_not_exists(PK)")]
        customer_index = None
        if request.customer_id:
            customer_index = len(writes)
            writes.append(dynamo.condition_check(
                pk, keys.customer_sk(request.customer_id), "attribute_exists(PK) AND #status = :active",
                names={"#status": "status"}, values={":active": "ACTIVE"}))
        first_decrement = len(writes)
        writes += decrements
        if source != "DASHBOARD":
            writes.append(outbox.event(company_id, "order.created", view, at=now))
        writes.append(placed)
        writes += extra_items(also_write, view)

        try:
            dynamo.transact(writes)
            return view
        except dynamo.TransactionCancelled as cancelled:
            reasons = cancelled.reasons
            if customer_index is not None and reasons[customer_index].code == "ConditionalCheckFailed":
                customer = reasons[customer_index].item
                if not customer:
                    raise NotFound("Customer not found.") from None
                raise BusinessRuleViolation("This customer is blocked and cannot place orders.") from None
            price_moved = False
            for offset, line in enumerate(request.lines):
                reason = reasons[first_decrement + offset]
                if reason.code != "ConditionalCheckFailed":
                    continue
                current = reason.item
                if not current:
                    raise BusinessRuleViolation(f"Product {line.product_id} was not found.") from None
                if not current.get("isActive", True):
                    raise BusinessRuleViolation(f"{current['name']} is not available.") from None
                if int(current["stock"]) < line.quantity:
                    raise BusinessRuleViolation(_stock_message(current["name"], int(current["stock"]))) from None
                price_moved = True
            if not price_moved:
                raise Conflict("The order could not be placed right now; try again.") from None
            # A price changed between our read and the write: price the order again.
    raise Conflict("Prices are changing right now; try again.")


# --- reading and moving orders -----------------------------------------------------------------------

def get_item(company_id: str, order_id: str) -> dict[str, Any]:
    return dynamo.get_record(keys.company(company_id), keys.order_sk(order_id), "ORDER", NOT_FOUND)


def get_order(company_id: str, order_id: str) -> dict[str, Any]:
    return to_api(get_item(company_id, order_id))


def parse_status(body: Any) -> str:
    if not isinstance(body, dict):
        raise ValidationError("Invalid JSON body.")
    status = body.get("status")
    if not isinstance(status, str) or status not in STATUSES:
        raise ValidationError("Invalid order status.")
    return status


def change_status(company_id: str, order_id: str, status: str, actor: audit.Actor, *,
                  also_write: AlsoWrite | None = None, attempts: int = 3) -> dict[str, Any]:
    """Move an order along its lifecycle; the write happens only from the status it was read in."""
    if status not in STATUSES:
        raise ValidationError("Invalid order status.")
    for _ in range(attempts):
        current = get_item(company_id, order_id)
        previous = current["status"]
        if previous == status:
            return to_api(current)
        if status not in MOVES[previous]:
            raise BusinessRuleViolation(f"Cannot change order status from {previous} to {status}.")
        now = clock.now_iso()
        moved = {**current, "status": status, "updatedAt": now}
        view = to_api(moved)
        moved_entry = audit.entry(company_id, actor, "OrderStatusChanged", "Order", order_id,
                                  {"from": previous, "to": status}, at=now)
        writes = [dynamo.update(keys.company(company_id), keys.order_sk(order_id),
                                "SET #status = :to, updatedAt = :now, "
                                "auditTrail = list_append(if_not_exists(auditTrail, :none), :entry)",
                                condition="#status = :from", names={"#status": "status"},
                                values={":to": status, ":from": previous, ":now": now, ":none": [],
                                        ":entry": [audit_sort_key(moved_entry)]}),
                  outbox.event(company_id, "order.status_changed", view, at=now)]
        if status in ("SHIPPED", "CANCELLED"):
            writes.append(outbox.event(company_id, f"order.{status.lower()}", view, at=now))
        writes += [moved_entry, *extra_items(also_write, view)]
        try:
            dynamo.transact(writes)
            return view
        except dynamo.TransactionCancelled as cancelled:
            if cancelled.failed_indexes() != [0]:
                raise Conflict("The order could not be updated right now; try again.") from None
            # Someone moved it first: judge the move again from its new status.
    raise Conflict("The order is being changed by someone else; try again.")


def _bound(value: str | None, field_name: str, *, end: bool) -> str | None:
    if not value:
        return None
    try:
        moment = clock.parse_iso(value)
    except ValueError:
        raise ValidationError("Validation failed.", details=[
            {"field": field_name, "message": "must be an ISO 8601 date or datetime"}]) from None
    if end and "T" not in value and " " not in value.strip():  # a bare date means the whole day
        return clock.iso(moment.replace(hour=23, minute=59, second=59, microsecond=999000))
    return clock.iso(moment)


def list_orders(company_id: str, *, limit: int, cursor: str | None, status: str | None = None,
                customer_id: str | None = None, since: str | None = None, until: str | None = None) -> Page:
    low, high = _bound(since, "since", end=False), _bound(until, "until", end=True)
    if customer_id and not ids.could_exist(customer_id):
        return Page([], None)  # no order can name a customer id of that shape
    # Sort keys are "{createdAt}#{id}": "#~" sorts after every id, so `until` includes its last millisecond.
    between = (low or "0", (high or "9999") + "#~") if (low or high) else None
    if customer_id:
        index, pk_name, sk_name = "GSI2", "GSI2PK", "GSI2SK"
        partition = keys.customer_orders(company_id, customer_id)
    else:
        index, pk_name, sk_name = "GSI1", "GSI1PK", "GSI1SK"
        partition = keys.listing(company_id, "ORDER")
    filters, names, values = None, None, None
    if status:
        filters, names, values = "#status = :status", {"#status": "status"}, {":status": status.strip().upper()}
    spec = IndexQuery(
        index=index, pk_name=pk_name, sk_name=sk_name, partition=partition, sk_between=between,
        start_key=lambda sort_key: {pk_name: partition, sk_name: sort_key, "PK": keys.company(company_id),
                                    "SK": keys.order_sk(keys.id_from_listing_sort(sort_key))},
        filter_expression=filters, names=names, values=values,
    )
    page = query_page(spec, limit=limit, cursor=cursor)
    page.items = [to_api(item) for item in page.items]
    return page
