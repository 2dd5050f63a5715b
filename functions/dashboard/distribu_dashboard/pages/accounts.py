"""Staff sign-up, sign-in, sign-out, password reset, the company switcher, profile and password."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu import notifications, sessions, staff_accounts
from distribu.errors import BusinessRuleViolation, Forbidden, ValidationError
from distribu.signin_throttle import TooManyAttempts
from distribu.web.page import Form
from distribu_dashboard.desk import DeskPage, open_desk, safe_next


def _start(page: DeskPage, user: staff_accounts.User, target: str, *, company_id: str | None = None,
           flash: str | None = None) -> Response:
    """Open a session in the requested company, else the first the user belongs to."""
    memberships = staff_accounts.memberships(user.email)
    if not memberships:
        form = Form({"email": user.email}).fail(staff_accounts.NO_COMPANY)
        return page.render("accounts/login.html", status=403, form=form, next=target)
    chosen = next((m for m in memberships if m.company_id == company_id), memberships[0])
    session = sessions.start_staff_session(user_id=user.id, email=user.email, name=user.name,
                                           company_id=chosen.company_id, role=chosen.role, companies=len(memberships))
    response = page.redirect(target, flash=flash)
    page.start_session(response, session)
    return response


async def root(request: Request) -> Response:
    page, _ = open_desk(request, signed_in=False)
    return page.redirect("/dashboard" if page.staff else "/login", status=302)


async def login(request: Request) -> Response:
    page, _ = open_desk(request, signed_in=False)
    target = safe_next(request.query_params.get("next"))
    if request.method == "GET":
        if page.staff:
            return page.redirect(target, status=302)
        return page.render("accounts/login.html", form=Form(), next=target)
    form = await page.form()
    target = safe_next(form.text("next"))
    try:
        user = staff_accounts.sign_in(form.text("email"), form.get("password"))
    except TooManyAttempts as error:
        return page.render("accounts/login.html", status=429, form=form.fail(error.message), next=target)
    except staff_accounts.SignInRefused as error:
        return page.render("accounts/login.html", status=401, form=form.fail(error.message), next=target)
    return _start(page, user, target)


async def signup(request: Request) -> Response:
    page, _ = open_desk(request, signed_in=False)
    if request.method == "GET":
        if page.staff:
            return page.redirect("/dashboard", status=302)
        return page.render("accounts/signup.html", form=Form())
    form = await page.form()
    try:
        user, membership = staff_accounts.sign_up(company_name=form.text("companyName"), name=form.text("name"),
                                                  email=form.text("email"), password=form.get("password"))
    except ValidationError as error:
        form.take(error, fields=("companyName", "name", "email", "password"))
        return page.render("accounts/signup.html", status=400, form=form)
    except BusinessRuleViolation as error:
        return page.render("accounts/signup.html", status=422, form=form.fail(error.message))
    return _start(page, user, "/dashboard", company_id=membership.company_id,
                  flash=f"Welcome to Distribu! {membership.company_name} is ready. Its storefront is at "
                        f"/store/{membership.slug}.")


async def logout(request: Request) -> Response:
    page, _ = open_desk(request, signed_in=False)
    await page.check_csrf()
    if page.session is not None:
        sessions.end(page.session)
    response = page.redirect("/login", flash="You are signed out.")
    page.end_session(response)
    return response


async def forgot_password(request: Request) -> Response:
    page, _ = open_desk(request, signed_in=False)
    if request.method == "GET":
        return page.render("accounts/forgot_password.html", form=Form(), sent=False)
    form = await page.form()
    found = staff_accounts.request_password_reset(form.text("email"))
    if found is not None:
        token, user = found
        notifications.staff_password_reset(user.email, user.name, page.absolute_url(f"/reset-password?token={token}"))
    return page.render("accounts/forgot_password.html", form=form, sent=True)


async def reset_password(request: Request) -> Response:
    page, _ = open_desk(request, signed_in=False)
    if request.method == "GET":
        token = request.query_params.get("token", "")
        return page.render("accounts/reset_password.html", form=Form({"token": token}),
                           email=staff_accounts.reset_email(token))
    form = await page.form()
    try:
        user = staff_accounts.reset_password(token=form.text("token"), password=form.get("password"),
                                             confirm=form.get("confirm"))
    except ValidationError as error:
        form.take(error, fields=("password", "confirm"))
        return page.render("accounts/reset_password.html", status=400, form=form,
                           email=staff_accounts.reset_email(form.text("token")))
    except BusinessRuleViolation as error:
        return page.render("accounts/reset_password.html", status=422, form=form.fail(error.message), email=None)
    return _start(page, user, "/dashboard", flash="Your new password is set.")


async def companies(request: Request) -> Response:
    """The company switcher: every company the user belongs to; POST ``companyId`` switches."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    if request.method == "POST":
        form = await page.form()
        try:
            membership = staff_accounts.membership_in(staff.email, form.text("companyId"))
        except Forbidden:
            raise
        assert page.session is not None
        sessions.update_staff_session(page.session, company_id=membership.company_id, role=membership.role)
        return page.redirect("/dashboard", flash=f"You are working in {membership.company_name}.")
    return page.render("accounts/companies.html", memberships=staff_accounts.memberships(staff.email))


async def profile(request: Request) -> Response:
    page, _ = open_desk(request)
    page.require_staff()
    return _render_profile(page)


def _render_profile(page: DeskPage, status: int = 200, **forms: Form) -> Response:
    staff = page.require_staff()
    defaults = {"profile_form": Form({"name": staff.name}), "password_form": Form()}
    return page.render("accounts/profile.html", status=status, **{**defaults, **forms})


async def save_profile(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    try:
        name = staff_accounts.rename(staff, form.text("name"))
    except ValidationError as error:
        return _render_profile(page, 400, profile_form=form.take(error, fields=("name",)))
    assert page.session is not None
    sessions.rename(page.session, name)
    return page.redirect("/dashboard/settings/profile", flash="Your name is saved.")


async def change_password(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    try:
        staff_accounts.change_password(staff, current=form.get("current"), password=form.get("password"),
                                       confirm=form.get("confirm"), keep_session=page.session)
    except ValidationError as error:
        return _render_profile(page, 400, password_form=form.take(error, fields=("current", "password", "confirm")))
    return page.redirect("/dashboard/settings/profile", flash="Your password is changed. Other devices are signed out.")


routes = [
    Route("/", root, methods=["GET"]),
    Route("/login", login, methods=["GET", "POST"]),
    Route("/signup", signup, methods=["GET", "POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/forgot-password", forgot_password, methods=["GET", "POST"]),
    Route("/reset-password", reset_password, methods=["GET", "POST"]),
    Route("/dashboard/companies", companies, methods=["GET", "POST"]),
    Route("/dashboard/settings/profile", profile, methods=["GET"]),
    Route("/dashboard/settings/profile", save_profile, methods=["POST"]),
    Route("/dashboard/settings/password", change_password, methods=["POST"]),
]
