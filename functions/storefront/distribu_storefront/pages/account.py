"""The account page: profile, password, shipping addresses and (for the account's admins) its sign-ins."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from distribu import addresses, contacts, customer_accounts, notifications, sessions
from distribu.errors import BusinessRuleViolation, ValidationError
from distribu.web.page import Form
from distribu_storefront.shop import ShopPage, open_shop


def _render(page: ShopPage, status: int = 200, **forms: Form) -> Response:
    buyer = page.require_buyer()
    book = addresses.list_addresses(page.company.id, buyer.customer_id)
    people = contacts.list_contacts(page.company.id, buyer.customer_id) if buyer.manages_contacts else []
    defaults = {"profile_form": Form({"name": buyer.name}), "password_form": Form(), "address_form": Form(),
                "contact_form": Form({"role": "BUYER"})}
    chosen = {**defaults, **forms}
    for name, form in chosen.items():  # four forms on one page: element ids must not collide
        form.prefixed(name.removesuffix("_form") + "-")
    return page.render("account/index.html", status=status, addresses=book, contacts=people,
                       one_line=addresses.one_line, **chosen)


async def account(request: Request) -> Response:
    page, _ = open_shop(request)
    return _render(page)


async def profile(request: Request) -> Response:
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    form = await page.form()
    try:
        name = customer_accounts.rename(buyer, form.text("name"))
    except ValidationError as error:
        return _render(page, 400, profile_form=form.take(error, fields=("name",)))
    assert page.session is not None
    sessions.rename(page.session, name)
    return page.redirect(page.url("account"), flash="Your name is saved.")


async def password(request: Request) -> Response:
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    form = await page.form()
    try:
        customer_accounts.change_password(buyer, current=form.get("current"), password=form.get("password"),
                                          confirm=form.get("confirm"), keep_session=page.session)
    except ValidationError as error:
        return _render(page, 400, password_form=form.take(error, fields=("current", "password", "confirm")))
    return page.redirect(page.url("account"), flash="Your password is changed. Other devices are signed out.")


async def add_address(request: Request) -> Response:
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    form = await page.form()
    try:
        addresses.add_address(page.company.id, buyer.customer_id, form.values, buyer.actor(),
                              make_default=form.checked("isDefault"))
    except ValidationError as error:
        return _render(page, 400, address_form=form.take(error, fields=addresses.FIELDS))
    except BusinessRuleViolation as error:
        return _render(page, 422, address_form=form.fail(error.message))
    return page.redirect(page.url("account") + "#addresses", flash="The address is saved.")


async def address_action(request: Request) -> Response:
    """``POST /account/addresses/{id}`` with ``action`` = ``default`` or ``delete``."""
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    form = await page.form()
    address_id = request.path_params["address_id"]
    if form.text("action") == "delete":
        addresses.delete_address(page.company.id, buyer.customer_id, address_id, buyer.actor())
        message = "The address is removed."
    else:
        addresses.make_default(page.company.id, buyer.customer_id, address_id, buyer.actor())
        message = "That is now your default shipping address."
    return page.redirect(page.url("account") + "#addresses", flash=message)


async def invite(request: Request) -> Response:
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    form = await page.form()
    try:
        contact, link = contacts.invite_by_buyer(buyer, email=form.text("email"), name=form.text("name"),
                                                 role=form.text("role"))
    except ValidationError as error:
        return _render(page, 400, contact_form=form.take(error, fields=("email", "name", "role")))
    notifications.contact_invited(page.company, account_name=buyer.name or buyer.email, link=link,
                                  url=page.absolute_url(page.url(f"setup-password?token={link.token}")),
                                  invited_by=buyer.name or buyer.email)
    return page.redirect(page.url("account") + "#contacts",
                         flash=f"{contact['email']} is invited: we emailed a link to set a password.")


async def contact_action(request: Request) -> Response:
    """``POST /account/contacts/{id}``: ``role``, or ``action`` = ``deactivate`` / ``activate``."""
    page, _ = open_shop(request)
    buyer = page.require_buyer()
    form = await page.form()
    contact_id = request.path_params["contact_id"]
    action = form.text("action")
    if action in ("deactivate", "activate"):
        contact = contacts.update_by_buyer(buyer, contact_id, active=action == "activate")
        message = f"{contact['email']} is {'active again' if contact['active'] else 'deactivated and signed out'}."
    else:
        contact = contacts.update_by_buyer(buyer, contact_id, role=form.text("role"))
        message = f"{contact['email']} is now {contact['role'].title()}."
    return page.redirect(page.url("account") + "#contacts", flash=message)
