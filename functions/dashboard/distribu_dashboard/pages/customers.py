"""Customers: the list (search, status, pages) and one customer's page (status, stats, notes and credit
limit, custom prices, contacts, addresses, order history).

There is no "Add customer" button, by design: customers register on the storefront or arrive by CSV import
(or the API). Every verb is :mod:`distribu.customer_desk`, which checks the role table and calls the same
domain verbs as the REST API; a page only reads the form, calls one verb and redirects with a flash, or
shows the form again with each message under its field.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu import notifications
from distribu.errors import ValidationError
from distribu.lazy import lazy_module
from distribu.web.page import Form
from distribu_dashboard.desk import DeskPage, open_desk

customer_desk = lazy_module("distribu.customer_desk")  # loaded by the first customers page, not every cold start

LIST_URL = "/dashboard/customers"
STATUS_FILTERS = (("", "All"), ("ACTIVE", "Active"), ("BLOCKED", "Blocked"))
CONTACT_ROLE_CHOICES = (("BUYER", "Buyer"), ("ADMIN", "Admin"), ("VIEWER", "Viewer"))


def customer_url(customer_id: str) -> str:
    return f"{LIST_URL}/{customer_id}"


async def customer_list(request: Request) -> Response:
    """``?q=`` (email or name), ``?status=ACTIVE|BLOCKED``, ``?cursor=``: one page of the customers index."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    query = request.query_params
    search, status = query.get("q", "").strip()[:100], query.get("status", "").strip().upper()
    status = status if status in ("ACTIVE", "BLOCKED") else ""
    try:
        found = customer_desk.browse(staff, status=status, search=search, cursor=query.get("cursor"))
    except ValidationError:  # a cursor that is not ours: the first page
        return page.redirect(page.url_with(cursor=None), status=302)
    return page.render("customers/list.html", customers=found.items, next_cursor=found.next_cursor, search=search,
                       status_filter=status, status_filters=STATUS_FILTERS)


# --- one customer ---------------------------------------------------------------------------------------------

def _render(page: DeskPage, customer_id: str, *, status: int = 200, account_form: Form | None = None,
            price_form: Form | None = None, row_price_form: tuple[str, Form] | None = None,
            contact_form: Form | None = None, row_contact_form: tuple[str, Form] | None = None,
            found: dict | None = None) -> Response:
    """The customer's page; a form that failed is shown again (with what was typed and its messages)."""
    staff = page.require_staff()
    cursor = page.request.query_params.get("orders") or None
    try:
        profile = customer_desk.profile(staff, customer_id, found, orders_cursor=cursor)
    except ValidationError:  # an orders cursor that is not ours
        return page.redirect(page.url_with(orders=None), status=302)
    customer = profile.customer
    limit = customer.get("creditLimit")
    account = account_form or Form({"notes": customer.get("notes") or "",
                                     "creditLimit": "" if limit is None else f"{limit:.2f}"})
    prices = []
    for price in profile.prices:
        form = row_price_form[1] if row_price_form and row_price_form[0] == price["productId"] \
            else Form({"price": f"{price['price']:.2f}"})
        prices.append({"price": price, "form": form.prefixed(f"price-{price['productId']}-")})
    people = []
    for contact in profile.contacts:
        form = row_contact_form[1] if row_contact_form and row_contact_form[0] == contact["id"] \
            else Form({"role": contact["role"]})
        people.append({"contact": contact, "form": form.prefixed(f"contact-{contact['id']}-")})
    return page.render("customers/detail.html", status=status, customer=customer, lifetime=profile.lifetime,
                       addresses=profile.addresses, prices=prices, contacts=people, orders=profile.orders.items,
                       next_orders=profile.orders.next_cursor, orders_cursor=cursor, account_form=account,
                       price_form=(price_form or Form()).prefixed("new-price-"),
                       contact_form=(contact_form or Form({"role": "BUYER"})).prefixed("new-contact-"),
                       role_choices=CONTACT_ROLE_CHOICES, can_edit=staff.can("customers"))


async def customer_detail(request: Request) -> Response:
    """Four round trips besides the orders, prices and contacts Queries: the session, then one batch of the
    company, the customer, its lifetime totals and its address book."""
    customer_id = request.path_params["customer_id"]
    page, found = open_desk(request, also_read=lambda company_id: customer_desk.profile_keys(company_id, customer_id))
    return _render(page, customer_id, found=found)


async def update_account(request: Request) -> Response:
    """POST ``notes`` and ``creditLimit`` (blank clears either)."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    customer_id = request.path_params["customer_id"]
    try:
        customer_desk.update_account(staff, customer_id, notes=form.get("notes"), credit_limit=form.text("creditLimit"))
    except ValidationError as error:
        return _render(page, customer_id, status=400, account_form=form.take(error, fields=("notes", "creditLimit")))
    return page.redirect(customer_url(customer_id) + "#account", flash="Notes and credit limit saved.")


async def change_status(request: Request) -> Response:
    """POST ``status`` = ``BLOCKED`` (ends every storefront session of the account at once) or ``ACTIVE``."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    customer_id = request.path_params["customer_id"]
    customer = customer_desk.set_status(staff, customer_id, form.text("status"))
    if customer["status"] == "BLOCKED":
        message = (f"{customer['email']} is blocked: they and their contacts were signed out of the storefront "
                   "and cannot sign in or order.")
    else:
        message = f"{customer['email']} is active again and can sign in and order."
    return page.redirect(customer_url(customer_id), flash=message)


async def set_price(request: Request) -> Response:
    """POST ``sku`` and ``price``: add a custom price (or change the one the product already has)."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    customer_id = request.path_params["customer_id"]
    try:
        price = customer_desk.set_custom_price(staff, customer_id, sku=form.text("sku"), price=form.text("price"))
    except ValidationError as error:
        return _render(page, customer_id, status=400, price_form=form.take(error, fields=("sku", "price")))
    return page.redirect(customer_url(customer_id) + "#pricing",
                         flash=f"{price['productName']} now costs this customer {price['price']:.2f}.")


async def change_price(request: Request) -> Response:
    """POST ``price`` for one product this customer already has a custom price for."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    customer_id, product_id = request.path_params["customer_id"], request.path_params["product_id"]
    try:
        price = customer_desk.set_custom_price(staff, customer_id, product_id=product_id, price=form.text("price"))
    except ValidationError as error:
        return _render(page, customer_id, status=400, row_price_form=(product_id, form.take(error, fields=("price",))))
    return page.redirect(customer_url(customer_id) + "#pricing",
                         flash=f"{price['productName']} now costs this customer {price['price']:.2f}.")


async def remove_price(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    await page.check_csrf()
    customer_id, product_id = request.path_params["customer_id"], request.path_params["product_id"]
    customer_desk.remove_custom_price(staff, customer_id, product_id)
    return page.redirect(customer_url(customer_id) + "#pricing",
                         flash="The custom price is removed: the customer pays the catalog price from now on.")


async def invite_contact(request: Request) -> Response:
    """POST ``email``, ``name`` and ``role``: the contact is saved, then emailed its 7-day set-password link."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    customer_id = request.path_params["customer_id"]
    try:
        contact, link = customer_desk.invite_contact(staff, customer_id, email=form.text("email"),
                                                     name=form.text("name"), role=form.text("role"))
    except ValidationError as error:
        return _render(page, customer_id, status=400, contact_form=form.take(error, fields=("email", "name", "role")))
    assert page.company is not None
    customer = customer_desk.customer_of(staff, customer_id)
    notifications.contact_invited(
        page.company, account_name=customer.get("name") or customer["email"], link=link,
        url=page.absolute_url(f"/store/{page.company.slug}/setup-password?token={link.token}"),
        invited_by=f"{staff.name or staff.email} at {page.company.name}")
    return page.redirect(customer_url(customer_id) + "#contacts",
                         flash=f"{contact['email']} is invited: we emailed a link to set a password (valid 7 days).")


async def change_contact(request: Request) -> Response:
    """POST ``role``, or ``action`` = ``deactivate`` (signed out at once) / ``activate``."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    customer_id, contact_id = request.path_params["customer_id"], request.path_params["contact_id"]
    action = form.text("action")
    try:
        if action in ("deactivate", "activate"):
            contact = customer_desk.change_contact(staff, customer_id, contact_id, active=action == "activate")
            message = (f"{contact['email']} is active again." if contact["active"]
                       else f"{contact['email']} is deactivated and signed out.")
        else:
            contact = customer_desk.change_contact(staff, customer_id, contact_id, role=form.text("role"))
            message = f"{contact['email']} is now {contact['role'].title()}."
    except ValidationError as error:
        return _render(page, customer_id, status=400, row_contact_form=(contact_id, form.take(error, fields=("role",))))
    return page.redirect(customer_url(customer_id) + "#contacts", flash=message)


ONE = LIST_URL + "/{customer_id:id}"
routes = [
    Route(LIST_URL, customer_list, methods=["GET"]),
    Route(ONE, customer_detail, methods=["GET"]),
    Route(ONE, update_account, methods=["POST"]),
    Route(ONE + "/status", change_status, methods=["POST"]),
    Route(ONE + "/prices", set_price, methods=["POST"]),
    Route(ONE + "/prices/{product_id:id}", change_price, methods=["POST"]),
    Route(ONE + "/prices/{product_id:id}/remove", remove_price, methods=["POST"]),
    Route(ONE + "/contacts", invite_contact, methods=["POST"]),
    Route(ONE + "/contacts/{contact_id:id}", change_contact, methods=["POST"]),
]
