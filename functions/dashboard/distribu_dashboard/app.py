"""The dashboard's routes: ``/dashboard/...`` for staff, plus sign-up, sign-in and invitations."""

from __future__ import annotations

from starlette.requests import Request

from distribu.web import app as web
from distribu.web.page import Page
from distribu.web.security import content_security_policy
from distribu_dashboard import desk
from distribu_dashboard.pages import (accounts, customers, home, images, imports, inventory, invites, orders, reports,
                                     scheduled_reports, settings, team, webhooks)

# Each area's module lists its own routes (``routes = [...]``); add an area with one line here.
routes = [
    web.static_route(desk.STATIC_PREFIX),
    *accounts.routes,
    *home.routes,
    *orders.routes,
    *team.routes,
    *settings.routes,
    *reports.routes,
    *inventory.routes,
    *customers.routes,
    *invites.routes,
    *webhooks.routes,
    *images.routes,
    *imports.routes,
    *scheduled_reports.routes,
]


def _error_context(request: Request) -> dict[str, object]:
    return {"page": Page(request, desk.environment(), desk.COOKIES, None), "staff": None, "company": None,
            "home_url": "/dashboard"}


def _csp() -> str:
    """Uploads (product images, CSV imports) post straight to S3: its origin may take forms and fetches."""
    from distribu.config import get_settings
    from distribu.s3files import post_origins

    settings = get_settings()
    origins = post_origins((settings.images_bucket, settings.imports_bucket))
    return content_security_policy(form_action=origins, connect=origins)


app = web.create_app(routes, env=desk.environment, error_context=_error_context, csp=_csp)
