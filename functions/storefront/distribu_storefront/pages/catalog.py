"""The catalog (with the cart and checkout beside it) and a product's own page."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from distribu import storefront_catalog
from distribu.lazy import lazy_module
from distribu.errors import NotFound
from distribu.web.page import Form
from distribu_storefront.shop import ShopPage, open_shop

# Loaded on first use: the catalog's cold start does not pay for orders and pydantic.
checkout = lazy_module("distribu.checkout")


def _page_number(raw: str | None) -> int:
    try:
        return max(1, min(int(raw or "1"), 100_000))
    except ValueError:
        return 1


def render_catalog(page: ShopPage, first_batch: dict, *, status: int = 200, checkout_form: Form | None = None,
                   quick_form: Form | None = None, problems: list[str] | None = None) -> Response:
    """The catalog page as the query string asks, with the cart; also used to show a failed checkout or
    quick order in place."""
    buyer = page.require_buyer()
    params = page.request.query_params
    sort = params.get("sort", "name")
    result = storefront_catalog.catalog_page(
        buyer, page.company.low_stock_threshold, first_batch, q=params.get("q"), category=params.get("category"),
        sort=sort, page=_page_number(params.get("page")))
    address_book = result.address_book
    form = checkout_form or Form({"addressId": next((a["id"] for a in address_book if a.get("isDefault")), "")})
    return page.render("catalog/list.html", status=status, result=result, q=params.get("q", ""),
                       category=params.get("category", ""), sort=sort if sort in storefront_catalog.SORTS else "name",
                       sorts=storefront_catalog.SORTS, cart=result.cart, address_book=address_book,
                       checkout_form=form, checkout_token=checkout.new_token(), quick_form=quick_form or Form(),
                       problems=problems or [])


async def catalog(request: Request) -> Response:
    page, found = open_shop(request, also_read=storefront_catalog.first_reads)
    return render_catalog(page, found)


async def product(request: Request) -> Response:
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    offer, cart = storefront_catalog.product_offer(buyer, request.path_params["product_id"],
                                                   page.company.low_stock_threshold)
    if offer is None:
        raise NotFound("This product is not in the catalog (any more).")
    return page.render("catalog/product.html", offer=offer, cart=cart)
