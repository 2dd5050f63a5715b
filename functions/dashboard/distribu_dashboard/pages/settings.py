"""Settings: the index, the company form and deleting the company (OWNER and ADMIN; deletion the OWNER only).

The API keys, the audit log, the team and the webhooks are areas of their own (their own modules and
addresses under ``/dashboard/settings``). Every verb checks the role table itself (:mod:`distribu.companies`,
:mod:`distribu.apikeys`, :mod:`distribu.audit`); a MEMBER gets 403 on every page and form of the area
(their profile and password live at ``/dashboard/settings/profile``, :mod:`.accounts`).
"""

from __future__ import annotations

from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu import companies
from distribu.errors import Conflict, ValidationError
from distribu.web.page import Form
from distribu_dashboard.desk import DeskPage, open_desk

SETTINGS_URL = "/dashboard/settings"
COMPANY_URL = SETTINGS_URL + "/company"
DELETE_URL = COMPANY_URL + "/delete"
COMPANY_FIELDS = ("name", "slug", "tax_percent", "low_stock_threshold", "rate_limit_per_minute", "sender_name")


async def index(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("settings")
    return page.render("settings/index.html", can_delete=staff.can("company.delete"))


def _percent(rate: Decimal) -> str:
    """0.0825 -> "8.25"; 0 -> "0"."""
    text = f"{(rate * 100).quantize(Decimal('0.01')):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _company_form(company: companies.Company) -> Form:
    return Form({"name": company.name, "slug": company.slug, "tax_percent": _percent(company.tax_rate),
                 "low_stock_threshold": str(company.low_stock_threshold),
                 "rate_limit_per_minute": str(company.rate_limit_per_minute), "sender_name": company.sender_name})


def _render_company(page: DeskPage, form: Form | None = None, status: int = 200) -> Response:
    staff = page.require_staff()
    staff.require("settings")
    assert page.company is not None
    return page.render("settings/company.html", status=status, form=form or _company_form(page.company),
                       can_delete=staff.can("company.delete"))


async def company_page(request: Request) -> Response:
    page, _ = open_desk(request)
    return _render_company(page)


async def save_company(request: Request) -> Response:
    """POST the company form: one domain call; each problem shown under its field, nothing saved."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("settings")
    form = await page.form()
    assert page.company is not None
    old_slug = page.company.slug
    change = companies.SettingsChange(**{name: form.text(name) for name in COMPANY_FIELDS})
    try:
        company = companies.update_settings(staff, change)
    except ValidationError as error:
        return _render_company(page, form.take(error, fields=COMPANY_FIELDS), 400)
    except Conflict as error:
        return _render_company(page, form.fail(error.message), 409)
    message = "Company settings saved."
    if company.slug != old_slug:
        message += f" Your storefront is now at /store/{company.slug}; links to /store/{old_slug} no longer work."
    return page.redirect(COMPANY_URL, flash=message)


def _render_delete(page: DeskPage, form: Form | None = None, status: int = 200) -> Response:
    staff = page.require_staff()
    staff.require("company.delete")
    return page.render("settings/delete.html", status=status, form=form or Form())


async def delete_page(request: Request) -> Response:
    page, _ = open_desk(request)
    return _render_delete(page)


async def delete_company(request: Request) -> Response:
    """POST ``confirmation`` (the company's name, typed): the company is deleted and everyone signed out of it."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("company.delete")
    form = await page.form()
    try:
        deleted = companies.delete_company(staff, confirmation=form.get("confirmation"))
    except ValidationError as error:
        return _render_delete(page, form.take(error, fields=("confirmation",)), 400)
    response = page.redirect("/login", flash=f"{deleted.company.name} was deleted, with all its data. Everyone "
                                              "was signed out of it.")
    page.end_session(response)
    return response


routes = [
    Route(SETTINGS_URL, index, methods=["GET"]),
    Route(COMPANY_URL, company_page, methods=["GET"]),
    Route(COMPANY_URL, save_company, methods=["POST"]),
    Route(DELETE_URL, delete_page, methods=["GET"]),
    Route(DELETE_URL, delete_company, methods=["POST"]),
]
