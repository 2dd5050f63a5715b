"""The dashboard's routes: ``/dashboard/...`` for staff, plus sign-up, sign-in and invitations."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from distribu.web import app as web
from distribu.web.page import Page
from distribu.web.security import content_security_policy
from distribu_dashboard import desk
from distribu_dashboard.pages import accounts, home, invites, team

# Each area's module lists its own routes (``routes = [...]``); add an area with one line here.
routes = [
    web.static_route(desk.STATIC_PREFIX),
    *accounts.routes,
    *home.routes,
    *team.routes,
    *invites.routes,
]


def _error_context(request: Request) -> dict[str, object]:
    return {"page": Page(request, desk.environment(), desk.COOKIES, None), "staff": None, "company": None,
            "home_url": "/dashboard"}


async def _sign_in_first(request: Request, error: Exception) -> Response:
    assert isinstance(error, desk.SignInRequired)
    if request.headers.get("hx-request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": error.location})
    return RedirectResponse(error.location, status_code=303 if request.method == "POST" else 302)


app = web.create_app(routes, env=desk.environment, error_context=_error_context, csp=content_security_policy)
app.add_exception_handler(desk.SignInRequired, _sign_in_first)
