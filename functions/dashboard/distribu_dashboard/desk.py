"""The staff member a dashboard request is for, and the company they work in.

A page reads the session first (its cookie names it), then the company and whatever the page names up
front in one batch. The session carries the user, the company they are working in and their role there;
a role change or removal updates or ends it at once (:mod:`distribu.team`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import quote

from jinja2 import Environment
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request

from distribu import dynamo, keys, sessions, staff_accounts
from distribu.companies import Company
from distribu.permissions import Staff
from distribu.web import templating
from distribu.web.page import Cookies, Page, SignInRequired

STATIC_PREFIX = "/dashboard/static"
SESSION_COOKIE = "staff_session"
COOKIES = Cookies(session=SESSION_COOKIE, csrf="staff_csrf", path="/")

NAV = (("home", "Home", "/dashboard"), ("inventory", "Inventory", "/dashboard/inventory"),
       ("orders", "Orders", "/dashboard/orders"), ("customers", "Customers", "/dashboard/customers"),
       ("reports", "Reports", "/dashboard/reports"), ("settings", "Settings", "/dashboard/settings"))
# Who may not open the settings area (the role table's ``settings`` row: a MEMBER) finds what they can use in
# its place: their own profile, which links to the team page (both under /dashboard/settings).
PROFILE_ENTRY = ("settings", "Profile", "/dashboard/settings/profile")


def nav_for(staff: Staff | None) -> tuple[tuple[str, str, str], ...]:
    """The sections the top bar offers ``staff``: each entry leads to a page their role may open (the domain's
    role table decides; every page still checks it)."""
    if staff is None or staff.can("settings"):
        return NAV
    return tuple(PROFILE_ENTRY if entry[0] == "settings" else entry for entry in NAV)


class IdConvertor(Convertor[str]):
    """``{name:id}`` in a route: one of our ids (26 lowercase Crockford base32 characters, see
    :func:`distribu.ids.new_id`). Words beside ids in the same place (``/customers/import``) reach their own
    routes whatever order the areas are listed in, and an id that cannot exist is a 404 without a read."""

    regex = "[0-9a-hjkmnp-tv-z]{26}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("id", IdConvertor())


@lru_cache(maxsize=1)
def environment() -> Environment:
    return templating.page_environment(Path(__file__).parent / "templates", STATIC_PREFIX)


class DeskPage(Page):
    def __init__(self, request: Request, session: sessions.Session | None, company: Company | None) -> None:
        super().__init__(request, environment(), COOKIES, session)
        self.company = company
        self.staff: Staff | None = staff_accounts.staff_for(session) if session and company else None

    @property
    def nav(self) -> tuple[tuple[str, str, str], ...]:
        return nav_for(self.staff)

    @property
    def settings_crumb(self) -> tuple[str, str]:
        """The top bar's settings entry (a MEMBER's Profile) as a breadcrumb: where the settings' pages hang."""
        _, label, href = next(entry for entry in self.nav if entry[0] == "settings")
        return label, href

    @property
    def section(self) -> str:
        path = self.request.url.path
        for name, _, href in reversed(NAV):
            if path == href or path.startswith(href + "/"):
                return name
        return ""

    def context(self) -> dict[str, Any]:
        return {"page": self, "staff": self.staff, "company": self.company,
                "switchable": bool(self.session and self.session.extra.get("companies", 1) > 1)}

    def require_staff(self) -> Staff:
        if self.staff is None:
            raise SignInRequired("/login")
        return self.staff


def _nothing(company_id: str) -> list[tuple[str, str]]:
    return []


def open_desk(request: Request, *, signed_in: bool = True,
              also_read: Callable[[str], Iterable[tuple[str, str]]] = _nothing,
              ) -> tuple[DeskPage, dict[tuple[str, str], Any]]:
    """The page context and the items ``also_read(company_id)`` names (read with the company)."""
    raw = request.cookies.get(SESSION_COOKIE)
    session = None
    if raw and len(raw) < 100:
        session = sessions.from_item(raw, dynamo.get(*sessions.staff_key(raw)), kind="staff")
    found: dict[tuple[str, str], Any] = {}
    company = None
    if session and session.company_id:
        company_key = (keys.company(session.company_id), keys.COMPANY_SK)
        found = dynamo.batch_get([company_key, *also_read(session.company_id)])
        if found.get(company_key):
            company = Company.from_item(found[company_key])
    page = DeskPage(request, session if company else None, company)
    if signed_in and page.staff is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired("/login" + (f"?next={quote(target, safe='')}" if target != "/dashboard" else ""))
    return page, found


def safe_next(target: str | None) -> str:
    """Only a dashboard path is a place to go back to after signing in (no open redirect)."""
    if target and (target == "/dashboard" or target.startswith("/dashboard/")) and "//" not in target \
            and "\\" not in target:
        return target
    return "/dashboard"
