"""The dashboard's routes: ``/dashboard/...`` for staff, plus sign-up, sign-in and invitations."""

from __future__ import annotations

from starlette.requests import Request

from distribu.web import app as web
from distribu.web.page import Page
from distribu.web.security import content_security_policy
from distribu_dashboard import desk
from distribu_dashboard.pages import accounts, customers, home, invites, team

# Each area's module lists its own routes (``routes = [...]``); add an area with one line here.
routes = [
    web.static_route(desk.STATIC_PREFIX),
    *accounts.routes,
    *home.routes,
    *team.routes,
    *customers.routes,
    *invites.routes,
]


def _error_context(request: Request) -> dict[str, object]:
    return {"page": Page(request, desk.environment(), desk.COOKIES, None), "staff": None, "company": None,
            "home_url": "/dashboard"}


app = web.create_app(routes, env=desk.environment, error_context=_error_context, csp=content_security_policy)
