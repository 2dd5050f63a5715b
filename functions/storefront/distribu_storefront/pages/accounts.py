"""Register, sign in, sign out, set a password from an invitation, and reset a forgotten one."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from distribu import customer_accounts, sessions
from distribu.buyers import Buyer
from distribu.errors import BusinessRuleViolation, DomainError, Forbidden, ValidationError
from distribu.signin_throttle import TooManyAttempts
from distribu_storefront.shop import ShopPage, open_shop, safe_next


def _start(page: ShopPage, buyer: Buyer, target: str, flash: str | None = None) -> Response:
    session = sessions.start_customer_session(page.company.id, customer_id=buyer.customer_id,
                                              contact_id=buyer.contact_id, name=buyer.name, email=buyer.email,
                                              role=buyer.role)
    response = page.redirect(target, flash=flash)
    page.start_session(response, session)
    return response


async def home(request: Request) -> Response:
    page, _ = open_shop(request, signed_in=False)
    return page.redirect(page.url("catalog" if page.signed_in else "login"), status=302)


async def login(request: Request) -> Response:
    page, _ = open_shop(request, signed_in=False)
    target = safe_next(page, request.query_params.get("next"))
    if request.method == "GET":
        if page.signed_in:
            return page.redirect(target, status=302)
        return page.render("accounts/login.html", form=page_form(email=request.query_params.get("email", "")),
                           next=target)
    form = await page.form()
    target = safe_next(page, form.text("next") or None)
    try:
        buyer = customer_accounts.sign_in(page.company.id, form.text("email"), form.get("password"))
        return _start(page, buyer, target)
    except TooManyAttempts as error:
        form.fail(error.message)
        return page.render("accounts/login.html", status=429, form=form, next=target)
    except (customer_accounts.SignInRefused, Forbidden) as error:
        form.fail(error.message)
        return page.render("accounts/login.html", status=401, form=form, next=target)


async def register(request: Request) -> Response:
    page, _ = open_shop(request, signed_in=False)
    if request.method == "GET":
        if page.signed_in:
            return page.redirect(page.url("catalog"), status=302)
        return page.render("accounts/register.html", form=page_form())
    form = await page.form()
    try:
        buyer = customer_accounts.register(page.company.id, name=form.text("name"), email=form.text("email"),
                                           password=form.get("password"))
    except ValidationError as error:
        form.take(error, fields=("name", "email", "password"))
        return page.render("accounts/register.html", status=400, form=form)
    _tell_staff_about(page, buyer)
    return _start(page, buyer, page.url("catalog"), flash=f"Welcome, {buyer.name}! Your account is ready.")


def _tell_staff_about(page: ShopPage, buyer: Buyer) -> None:
    from distribu import notifications

    notifications.new_customer_registered(page.company, name=buyer.name, email=buyer.email,
                                          dashboard_url=page.absolute_url(f"/dashboard/customers/{buyer.customer_id}"))


async def logout(request: Request) -> Response:
    page, _ = open_shop(request, signed_in=False)
    await page.check_csrf()
    if page.session is not None:
        sessions.end(page.session)
    response = page.redirect(page.url("login"), flash="You are signed out.")
    page.end_session(response)
    return response


async def setup_password(request: Request) -> Response:
    page, _ = open_shop(request, signed_in=False)
    token = request.query_params.get("token", "")
    if request.method == "GET":
        email = customer_accounts.link_email(page.company.id, token, "setup") or ""
        return page.render("accounts/setup_password.html", form=page_form(email=email, token=token))
    form = await page.form()
    try:
        buyer = customer_accounts.set_up_password(page.company.id, token=form.text("token"), email=form.text("email"),
                                                  password=form.get("password"), confirm=form.get("confirm"))
    except ValidationError as error:
        form.take(error, fields=("email", "password", "confirm"))
        return page.render("accounts/setup_password.html", status=400, form=form)
    except BusinessRuleViolation as error:
        form.fail(error.message)
        return page.render("accounts/setup_password.html", status=422, form=form)
    return _start(page, buyer, page.url("catalog"), flash="Your password is set. Welcome!")


async def forgot_password(request: Request) -> Response:
    page, _ = open_shop(request, signed_in=False)
    if request.method == "GET":
        return page.render("accounts/forgot_password.html", form=page_form(), sent=False)
    form = await page.form()
    link = customer_accounts.request_password_reset(page.company.id, form.text("email"))
    if link is not None:
        from distribu import notifications

        notifications.password_reset(page.company, link, page.absolute_url(page.url(f"reset-password?token={link.token}")))
    return page.render("accounts/forgot_password.html", form=form, sent=True)


async def reset_password(request: Request) -> Response:
    page, _ = open_shop(request, signed_in=False)
    token = request.query_params.get("token", "")
    if request.method == "GET":
        email = customer_accounts.link_email(page.company.id, token, "reset")
        return page.render("accounts/reset_password.html", form=page_form(token=token), email=email)
    form = await page.form()
    try:
        buyer = customer_accounts.reset_password(page.company.id, token=form.text("token"),
                                                 password=form.get("password"), confirm=form.get("confirm"))
    except ValidationError as error:
        form.take(error, fields=("password", "confirm"))
        email = customer_accounts.link_email(page.company.id, form.text("token"), "reset")
        return page.render("accounts/reset_password.html", status=400, form=form, email=email)
    except BusinessRuleViolation as error:
        form.fail(error.message)
        return page.render("accounts/reset_password.html", status=422, form=form, email=None)
    try:
        return _start(page, buyer, page.url("catalog"), flash="Your new password is set.")
    except DomainError:  # reset worked, but the account is blocked: it may not shop
        return page.redirect(page.url("login"), flash="Your new password is set.")


def page_form(**values: str):  # type: ignore[no-untyped-def]
    from distribu.web.page import Form

    return Form(values)
