"""The cart: add and change lines (with or without JavaScript), quick order by SKU, reorder, checkout."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from distribu import carts, storefront_catalog
from distribu.lazy import lazy_module
from distribu.buyers import Buyer
from distribu.errors import BusinessRuleViolation, Conflict, DomainError, NotFound, ValidationError
from distribu.web.page import Form
from distribu_storefront.pages.catalog import render_catalog
from distribu_storefront.shop import ShopPage, open_shop

# Loaded on first use: the catalog's cold start does not pay for orders and pydantic.
account_orders = lazy_module("distribu.account_orders")
checkout = lazy_module("distribu.checkout")


def _back(page: ShopPage, target: str | None) -> str:
    if target and target.startswith(page.url() + "/") and "//" not in target:
        return target
    return page.url("catalog")


def _cart_partial(page: ShopPage, note: str | None = None, error: str | None = None) -> Response:
    buyer = page.require_buyer()
    cart, address_book = storefront_catalog.cart_view(buyer, page.company.low_stock_threshold)
    form = Form({"addressId": next((a["id"] for a in address_book if a.get("isDefault")), "")})
    return page.render("catalog/_cart.html", cart=cart, note=note, error=error, address_book=address_book,
                       checkout_form=form, checkout_token=checkout.new_token())


async def change(request: Request) -> Response:
    """``POST /cart``: ``productId``, ``quantity`` and ``action`` (``add`` adds to the line, ``set`` sets it;
    0 removes). htmx gets the cart back; a plain form goes back where it came from."""
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    form = await page.form()
    note, error = None, None
    try:
        if form.text("action") == "set" or form.text("action") == "remove":
            quantity = "0" if form.text("action") == "remove" else form.text("quantity")
            _, note = carts.set_quantity(buyer, form.text("productId"), quantity)
        else:
            _, note = carts.add(buyer, form.text("productId"), form.text("quantity") or "1")
    except (ValidationError, BusinessRuleViolation) as problem:
        error = (problem.extra.get("details") or [{}])[0].get("message") or problem.message
    if page.is_htmx:
        return _cart_partial(page, note=note, error=error)
    if error:
        return page.redirect(_back(page, form.text("next")), flash=error, kind="error")
    return page.redirect(_back(page, form.text("next")), flash=note or "Your cart is updated.",
                         kind="warning" if note else "success")


async def place(request: Request) -> Response:
    """``POST /checkout``: repeated ``productId``/``quantity``, ``poNumber``, ``notes``, ``addressId``."""
    page, found = open_shop(request, also_read=storefront_catalog.first_reads)
    buyer = page.require_buyer()
    form = await page.form()
    product_ids, quantities = form.getlist("productId"), form.getlist("quantity")
    try:
        order = checkout.checkout(buyer, token=form.text("checkoutToken"), product_ids=product_ids,
                                  quantities=quantities, po_number=form.text("poNumber"), notes=form.text("notes"),
                                  address_id=form.text("addressId"))
    except (BusinessRuleViolation, ValidationError, NotFound, Conflict) as problem:
        _keep_what_was_sent(buyer, product_ids, quantities)
        if isinstance(problem, ValidationError):
            form.take(problem, fields=("poNumber", "notes", "addressId"))
        else:
            form.fail(problem.message)
        if page.is_htmx:
            return _cart_partial(page, error=form.message or "Please correct the order below.")
        return render_catalog(page, found, status=422 if not isinstance(problem, ValidationError) else 400,
                              checkout_form=form)
    return page.redirect(page.url(f"orders/{order['id']}"),
                         flash=f"Thank you! Your order {order['id'][-8:].upper()} is placed.")


def _keep_what_was_sent(buyer: Buyer, product_ids: list[str], quantities: list[str]) -> None:
    """A failed checkout keeps the cart as the person sent it (quantities they typed included)."""
    lines: dict[str, int] = {}
    for product_id, raw in zip(product_ids, quantities):
        try:
            quantity = int(raw)
        except ValueError:
            continue
        if product_id and quantity > 0:
            lines[product_id] = quantity
    if lines:
        try:
            carts.replace(buyer, lines)
        except DomainError:
            pass


async def quick_order(request: Request) -> Response:
    """``POST /quick-order``: ``lines`` of ``SKU quantity``; what cannot be added is listed line by line."""
    page, found = open_shop(request, also_read=storefront_catalog.first_reads)
    buyer = page.require_buyer()
    form = await page.form()
    try:
        added, problems = carts.quick_order(buyer, form.get("lines"))
    except ValidationError as problem:
        form.take(problem, fields=("lines",))
        return render_catalog(page, found, status=400, quick_form=form)
    if problems:
        return render_catalog(page, found, status=200 if added else 422, quick_form=form, problems=problems)
    return page.redirect(page.url("catalog"), flash=f"Added to your cart: {', '.join(added)}.")


async def reorder(request: Request) -> Response:
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    await page.check_csrf()
    order = account_orders.get_order(buyer, request.path_params["order_id"])
    added, problems = carts.reorder(buyer, order)
    if problems:
        text = ("Added what is available. " if added else "Nothing could be added. ") + " ".join(problems)
        return page.redirect(page.url("catalog"), flash=text, kind="warning")
    return page.redirect(page.url("catalog"), flash="The order's products are in your cart at today's prices.")
