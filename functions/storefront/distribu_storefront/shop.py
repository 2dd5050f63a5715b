"""The store a request is for, and who is signed in to it.

Every storefront page starts here: the slug in the URL names the company (a per-container cache avoids
reading the slug's item on every request), and the company item and the visitor's session are read in
one batch together with whatever else the page names up front, so a page pays one round trip before
its own reads.
"""

from __future__ import annotations

import time
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

from jinja2 import Environment
from starlette.requests import Request

from distribu import companies, customer_accounts, dynamo, keys, sessions
from distribu.buyers import Buyer
from distribu.companies import Company
from distribu.errors import NotFound
from distribu.web import templating
from distribu.web.page import Cookies, Page, SignInRequired

STATIC_PREFIX = "/store/_static"
SESSION_COOKIE = "customer_session"
SLUG_CACHE_SECONDS = 60.0
_slugs: dict[str, tuple[str, float]] = {}


@lru_cache(maxsize=1)
def environment() -> Environment:
    return templating.page_environment(Path(__file__).parent / "templates", STATIC_PREFIX)


def cookies_for(slug: str) -> Cookies:
    """Scoped to the store's path: signing in to one store never signs you in (or out) of another."""
    return Cookies(session=SESSION_COOKIE, csrf="customer_csrf", path=f"/store/{slug}")


def company_id_for(slug: str) -> str:
    cached = _slugs.get(slug)
    if cached and cached[1] > time.monotonic():
        return cached[0]
    if not slug or len(slug) > 60 or slug != slug.lower():
        raise NotFound("There is no store at this address.")
    company_id = companies.company_id_for_slug(slug)
    if not company_id:
        raise NotFound("There is no store at this address.")
    _slugs[slug] = (company_id, time.monotonic() + SLUG_CACHE_SECONDS)
    return company_id


class ShopPage(Page):
    def __init__(self, request: Request, session: sessions.Session | None, company: Company) -> None:
        super().__init__(request, environment(), cookies_for(company.slug), session)
        self.company = company
        self.buyer: Buyer | None = customer_accounts.current_buyer(company.id, session) if session else None

    def url(self, path: str = "") -> str:
        return f"/store/{self.company.slug}" + (f"/{path.lstrip('/')}" if path else "")

    def context(self) -> dict[str, Any]:
        return {"page": self, "shop": self.company, "buyer": self.buyer, "url": self.url}

    def require_buyer(self) -> Buyer:
        if self.buyer is None:
            raise SignInRequired(self.url("login"))
        return self.buyer


def _nothing(company_id: str) -> list[tuple[str, str]]:
    return []


def open_shop(request: Request, *, signed_in: bool = True,
              also_read: Callable[[str], Iterable[tuple[str, str]]] = _nothing,
              ) -> tuple[ShopPage, dict[tuple[str, str], Any]]:
    """The page context, and the items ``also_read(company_id)`` names, read in the same batch as the
    company and the session.

    ``signed_in`` pages send a visitor without a session to the sign-in page (and back afterwards).
    """
    slug = request.path_params["slug"]
    raw_session = request.cookies.get(SESSION_COOKIE)
    for attempt in range(2):
        company_id = company_id_for(slug)
        company_key = (keys.company(company_id), keys.COMPANY_SK)
        session_key = sessions.customer_key(company_id, raw_session) if raw_session else None
        wanted = [company_key] + ([session_key] if session_key else []) + list(also_read(company_id))
        found = dynamo.batch_get(wanted)
        company_item = found.get(company_key)
        if company_item and company_item.get("slug") == slug:
            break
        _slugs.pop(slug, None)  # the cached slug went stale (renamed, or another company took it): look again
    else:
        raise NotFound("There is no store at this address.")
    company = Company.from_item(company_item)
    session = sessions.from_item(raw_session, found.get(session_key), kind="customer") if session_key else None
    if session and session.company_id != company_id:
        session = None
    page = ShopPage(request, session, company)
    if signed_in and session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(page.url("login") + f"?next={_quote(target)}")
    return page, found


def _quote(value: str) -> str:
    from urllib.parse import quote

    return quote(value, safe="")


def safe_next(page: ShopPage, target: str | None) -> str:
    """Only a path inside this store is a place to go back to after signing in (no open redirect)."""
    if target and target.startswith(page.url() + "/") and "//" not in target and "\\" not in target:
        return target
    return page.url("catalog")
