"""The orders a storefront person may see: every order of the account (ADMIN, VIEWER) or only the ones
it placed (BUYER). Another account's order, or another company's, is simply not found."""

from __future__ import annotations

from typing import Any

from distribu import keys, orders
from distribu.buyers import Buyer
from distribu.errors import NotFound
from distribu.pagination import IndexQuery, Page, query_page

PAGE_SIZE = 20


def list_orders(buyer: Buyer, *, cursor: str | None, limit: int = PAGE_SIZE) -> Page:
    """Newest first, one Query per page (GSI2: the account's orders; GSI3: one person's)."""
    if buyer.sees_all_orders:
        index, pk_name, sk_name = "GSI2", "GSI2PK", "GSI2SK"
        partition = keys.customer_orders(buyer.company_id, buyer.customer_id)
    else:
        index, pk_name, sk_name = "GSI3", "GSI3PK", "GSI3SK"
        partition = keys.orders_placed_by(buyer.company_id, buyer.principal_id)
    spec = IndexQuery(
        index=index, pk_name=pk_name, sk_name=sk_name, partition=partition,
        start_key=lambda sort_key: {pk_name: partition, sk_name: sort_key, "PK": keys.company(buyer.company_id),
                                    "SK": keys.order_sk(keys.id_from_listing_sort(sort_key))},
    )
    page = query_page(spec, limit=limit, cursor=cursor)
    page.items = [orders.to_api(item) for item in page.items]
    return page


def get_order(buyer: Buyer, order_id: str) -> dict[str, Any]:
    """One order this person may see, as the API shows it (404 for any other)."""
    if not order_id or len(order_id) > 40:
        raise NotFound(orders.NOT_FOUND)
    item = orders.get_item(buyer.company_id, order_id)
    if item.get("customerId") != buyer.customer_id:
        raise NotFound(orders.NOT_FOUND)
    if not buyer.sees_all_orders and item.get("placedById") != buyer.principal_id:
        raise NotFound(orders.NOT_FOUND)
    return orders.to_api(item)
