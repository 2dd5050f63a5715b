"""The account's orders: the list, one order, its invoice PDF."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from distribu.lazy import lazy_module
from distribu_storefront.shop import open_shop

# Loaded on first use: the catalog's cold start does not pay for orders and pydantic.
account_orders = lazy_module("distribu.account_orders")


async def order_list(request: Request) -> Response:
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    result = account_orders.list_orders(buyer, cursor=request.query_params.get("cursor") or None)
    return page.render("orders/list.html", orders=result.items, next_cursor=result.next_cursor)


async def order_detail(request: Request) -> Response:
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    order = account_orders.get_order(buyer, request.path_params["order_id"])
    return page.render("orders/detail.html", order=order)


async def invoice(request: Request) -> Response:
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    order = account_orders.get_order(buyer, request.path_params["order_id"])  # 404 unless this person may see it
    from distribu import invoices  # reportlab (and Pillow) load only when a PDF is asked for

    filename, pdf = invoices.invoice_for(page.company.id, order["id"], customer_id=buyer.customer_id)
    return page.finish(Response(pdf, media_type="application/pdf",
                                headers={"content-disposition": f'attachment; filename="{filename}"'}))
