"""The storefront's routes: ``/store/{slug}/...`` for a company's business customers."""

from __future__ import annotations

from starlette.requests import Request
from starlette.routing import Route

from distribu.web import app as web
from distribu.web.page import Page
from distribu.web.security import content_security_policy
from distribu_storefront import shop
from distribu_storefront.pages import account, accounts, cart, catalog, orders

S = "/store/{slug}"

routes = [
    web.static_route(shop.STATIC_PREFIX),
    Route(S, accounts.home, methods=["GET"]),
    Route(S + "/login", accounts.login, methods=["GET", "POST"]),
    Route(S + "/register", accounts.register, methods=["GET", "POST"]),
    Route(S + "/logout", accounts.logout, methods=["POST"]),
    Route(S + "/setup-password", accounts.setup_password, methods=["GET", "POST"]),
    Route(S + "/forgot-password", accounts.forgot_password, methods=["GET", "POST"]),
    Route(S + "/reset-password", accounts.reset_password, methods=["GET", "POST"]),
    Route(S + "/catalog", catalog.catalog, methods=["GET"]),
    Route(S + "/products/{product_id}", catalog.product, methods=["GET"]),
    Route(S + "/cart", cart.change, methods=["POST"]),
    Route(S + "/checkout", cart.place, methods=["POST"]),
    Route(S + "/quick-order", cart.quick_order, methods=["POST"]),
    Route(S + "/orders", orders.order_list, methods=["GET"]),
    Route(S + "/orders/{order_id}", orders.order_detail, methods=["GET"]),
    Route(S + "/orders/{order_id}/invoice", orders.invoice, methods=["GET"]),
    Route(S + "/orders/{order_id}/reorder", cart.reorder, methods=["POST"]),
    Route(S + "/account", account.account, methods=["GET"]),
    Route(S + "/account/profile", account.profile, methods=["POST"]),
    Route(S + "/account/password", account.password, methods=["POST"]),
    Route(S + "/account/addresses", account.add_address, methods=["POST"]),
    Route(S + "/account/addresses/{address_id}", account.address_action, methods=["POST"]),
    Route(S + "/account/contacts", account.invite, methods=["POST"]),
    Route(S + "/account/contacts/{contact_id}", account.contact_action, methods=["POST"]),
]


def _error_context(request: Request) -> dict[str, object]:
    parts = request.url.path.split("/")
    slug = parts[2] if len(parts) > 2 and parts[1] == "store" else ""
    cookies = shop.cookies_for(slug or "_")
    return {"page": Page(request, shop.environment(), cookies, None), "shop": None, "buyer": None,
            "home_url": f"/store/{slug}" if slug else "/"}


app = web.create_app(routes, env=shop.environment, error_context=_error_context, csp=content_security_policy)
