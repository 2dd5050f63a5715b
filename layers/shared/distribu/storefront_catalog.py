"""What a signed-in buyer sees of the catalog: a page of active products at the buyer's own prices, and
the cart beside it, in three DynamoDB round trips whatever the catalog's size.

1. (the page's first batch) the company, the session and the catalog index's head;
2. the cart, the account's address book (for checkout) and the index shards this container does not
   hold yet (none when warm);
3. the page's products and the cart's products, with this customer's price overrides for all of them.

The index (:mod:`distribu.catalog_index`) decides which products match, their order and how many there
are; the rows themselves come fresh from round trip 3, so a price, stock or status change shows at once.
A product deactivated a moment ago may still be counted, but is never shown or sold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Mapping

from distribu import addresses, carts, catalog_index, dynamo, keys
from distribu.buyers import Buyer

PAGE_SIZE = 24
SORTS = {"name": "Name A–Z", "name_desc": "Name Z–A", "price": "Price low→high", "price_desc": "Price high→low",
         "stock": "Stock most first"}
SHORT_DESCRIPTION = 160
MAX_QUERY = 100


@dataclass(frozen=True)
class Offer:
    """One product as this buyer may buy it."""

    id: str
    name: str
    sku: str | None
    category: str | None
    description: str | None
    unit: str
    image_url: str | None
    price: Decimal  # the buyer's (their override, else the catalog price)
    catalog_price: Decimal
    stock: int
    threshold: int

    @property
    def has_custom_price(self) -> bool:
        return self.price != self.catalog_price

    @property
    def stock_state(self) -> str:
        return "out" if self.stock <= 0 else "low" if self.stock <= self.threshold else "ok"

    @property
    def short_description(self) -> str:
        text = " ".join((self.description or "").split())
        return text if len(text) <= SHORT_DESCRIPTION else text[:SHORT_DESCRIPTION].rsplit(" ", 1)[0] + "…"

    @property
    def initial(self) -> str:
        return (self.name[:1] or "?").upper()


@dataclass(frozen=True)
class CartLine:
    offer: Offer
    quantity: int

    @property
    def total(self) -> Decimal:
        return self.offer.price * self.quantity

    @property
    def short_by(self) -> int:
        return max(0, self.quantity - self.offer.stock)


@dataclass
class Cart:
    lines: list[CartLine] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # product ids no longer sold

    @property
    def total(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0"))

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    def quantity_of(self, product_id: str) -> int:
        return next((line.quantity for line in self.lines if line.offer.id == product_id), 0)


@dataclass
class CatalogPage:
    offers: list[Offer]
    total: int
    page: int
    pages: int
    first: int
    last: int
    categories: list[tuple[str, int]]
    cart: Cart
    address_book: list[dict[str, Any]]


def first_reads(company_id: str) -> list[tuple[str, str]]:
    """What the catalog page adds to its first batch (with the company and the session)."""
    return [catalog_index.head_key(company_id)]


def _offer(product: Mapping[str, Any], override: Mapping[str, Any] | None, default_threshold: int) -> Offer:
    catalog_price = dynamo.as_decimal(product["price"])
    threshold = product.get("lowStockThreshold")
    return Offer(
        id=product["id"], name=product["name"], sku=product.get("sku"), category=product.get("category"),
        description=product.get("description"), unit=product.get("unit") or "each", image_url=product.get("imageUrl"),
        price=dynamo.as_decimal(override["price"]) if override else catalog_price, catalog_price=catalog_price,
        stock=int(product["stock"]), threshold=int(threshold) if threshold is not None else default_threshold,
    )


def _sellable(item: Mapping[str, Any] | None) -> bool:
    return bool(item) and item.get("entity") == "PRODUCT" and bool(item.get("isActive", True))


def offers(buyer: Buyer, product_ids: list[str], default_threshold: int,
           also: list[tuple[str, str]] = ()) -> tuple[dict[str, Offer], dict[tuple[str, str], Any]]:
    """The products (active ones only) at this buyer's prices: one batch read of products and overrides
    (two when more than 50 products are asked for). Items of ``also`` come back in the same batch."""
    pk = keys.company(buyer.company_id)
    wanted: list[tuple[str, str]] = []
    for product_id in dict.fromkeys(product_ids):
        wanted += [(pk, keys.product_sk(product_id)), (pk, keys.price_override_sk(buyer.customer_id, product_id))]
    wanted += list(also)
    found: dict[tuple[str, str], Any] = {}
    for start in range(0, len(wanted), 100):
        found.update(dynamo.batch_get(wanted[start:start + 100]))
    result = {}
    for product_id in product_ids:
        product = found.get((pk, keys.product_sk(product_id)))
        if _sellable(product):
            override = found.get((pk, keys.price_override_sk(buyer.customer_id, product_id)))
            result[product_id] = _offer(product, override, default_threshold)
    return result, found


def cart_of(lines: dict[str, int], offers_by_id: Mapping[str, Offer]) -> Cart:
    cart = Cart()
    for product_id, quantity in lines.items():
        offer = offers_by_id.get(product_id)
        if offer is None:
            cart.unavailable.append(product_id)
        else:
            cart.lines.append(CartLine(offer, quantity))
    return cart


def normalise_query(q: str | None) -> str:
    return " ".join((q or "").split())[:MAX_QUERY]


def catalog_page(buyer: Buyer, company_threshold: int, first_batch: Mapping[tuple[str, str], Any], *,
                 q: str | None = None, category: str | None = None, sort: str = "name", page: int = 1) -> CatalogPage:
    """One page of the buyer's catalog and the buyer's cart (round trips 2 and 3 of this module's doc)."""
    company_id = buyer.company_id
    head = first_batch.get(catalog_index.head_key(company_id))
    cart_key = carts.cart_key(buyer)
    book_key = addresses.book_key(company_id, buyer.customer_id)
    second = dynamo.batch_get(catalog_index.stale_shard_keys(company_id, head) + [cart_key, book_key])
    index = catalog_index.assemble(company_id, head, second)
    sort = sort if sort in SORTS else "name"
    matching = catalog_index.browse(index, q=normalise_query(q) or None, category=category or None, active=True,
                                    sort=sort)
    total = len(matching)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(max(1, page), pages)
    window = [entry.id for entry in matching[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]]
    lines = carts.lines_of(second.get(cart_key))
    found, _ = offers(buyer, window + [product_id for product_id in lines if product_id not in window],
                      company_threshold)
    categories = sorted(((name, count) for name, count in index.active_by_category.items() if name and count > 0),
                        key=lambda pair: pair[0].lower())
    shown = [found[product_id] for product_id in window if product_id in found]
    first = (page - 1) * PAGE_SIZE + 1 if total else 0
    return CatalogPage(offers=shown, total=total, page=page, pages=pages, first=first,
                       last=min(total, page * PAGE_SIZE), categories=categories, cart=cart_of(lines, found),
                       address_book=addresses.addresses_in(second.get(book_key)))


def cart_view(buyer: Buyer, company_threshold: int) -> tuple[Cart, list[dict[str, Any]]]:
    """The cart and the address book alone (the htmx partial): one batch of both, then the products."""
    cart_key, book_key = carts.cart_key(buyer), addresses.book_key(buyer.company_id, buyer.customer_id)
    found = dynamo.batch_get([cart_key, book_key])
    lines = carts.lines_of(found.get(cart_key))
    priced, _ = offers(buyer, list(lines), company_threshold)
    return cart_of(lines, priced), addresses.addresses_in(found.get(book_key))


def product_offer(buyer: Buyer, product_id: str, company_threshold: int) -> tuple[Offer | None, Cart]:
    """One product page: the product (None when not sold) and the cart, in one batch."""
    cart_key = carts.cart_key(buyer)
    first, found = offers(buyer, [product_id], company_threshold, also=[cart_key])
    lines = carts.lines_of(found.get(cart_key))
    rest, _ = offers(buyer, [pid for pid in lines if pid != product_id], company_threshold) if lines else ({}, {})
    return first.get(product_id), cart_of(lines, {**rest, **first})
