"""The dashboard's routes: ``/dashboard/...`` for staff, plus sign-up, sign-in and invitations."""

from __future__ import annotations

from starlette.requests import Request

from distribu.web import app as web
from distribu.web.areas import Area
from distribu.web.page import Page
from distribu.web.security import content_security_policy
from distribu_dashboard import desk

PAGES = "distribu_dashboard.pages."

# Each area's module lists its own routes (``routes = [...]``) and is imported on the first request to one
# of the addresses given here (distribu.web.areas); add an area with one line. Areas sharing a subtree are
# asked in this order.
routes = [
    web.static_route(desk.STATIC_PREFIX),
    Area(PAGES + "accounts", at=("/", "/login", "/signup", "/logout", "/forgot-password", "/reset-password",
                                 "/dashboard/companies", "/dashboard/settings/profile",
                                 "/dashboard/settings/password")),
    Area(PAGES + "home", at=("/dashboard",)),
    Area(PAGES + "orders", within=("/dashboard/orders",)),
    Area(PAGES + "inventory", within=("/dashboard/inventory",)),
    Area(PAGES + "images", within=("/dashboard/inventory",)),
    Area(PAGES + "customers", within=("/dashboard/customers",)),
    Area(PAGES + "imports", within=("/dashboard/inventory", "/dashboard/customers")),
    Area(PAGES + "scheduled_reports", within=("/dashboard/reports/scheduled",)),
    Area(PAGES + "reports", within=("/dashboard/reports",)),
    Area(PAGES + "team", within=("/dashboard/settings/team",)),
    Area(PAGES + "webhooks", within=("/dashboard/settings/webhooks",)),
    Area(PAGES + "api_keys", within=("/dashboard/settings/api-keys",)),
    Area(PAGES + "audit_log", within=("/dashboard/settings/audit",)),
    Area(PAGES + "settings", within=("/dashboard/settings",)),
    Area(PAGES + "invites", within=("/invite",)),
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
