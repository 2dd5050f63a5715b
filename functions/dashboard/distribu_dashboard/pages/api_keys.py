"""API keys: the list (prefix, scopes, created by, last used, status), creating one (shown exactly once, in
the answer to the POST, never stored anywhere it could be shown again) and revoking one after a confirmation.

The same domain functions as the CLI (:mod:`distribu.apikeys`), through their role-checked dashboard verbs.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from datetime import timedelta

from distribu import apikeys, clock
from distribu.errors import NotFound, ValidationError
from distribu.web.page import Form
from distribu_dashboard.desk import DeskPage, open_desk

KEYS_URL = "/dashboard/settings/api-keys"
DEFAULT_SCOPES = ("products:read",)
SCOPE_HINTS = {
    "products:read": "List and read products", "products:write": "Create, edit and delete products",
    "orders:read": "List and read orders", "orders:write": "Place orders and change their status",
    "customers:read": "List and read customers", "customers:write": "Create and edit customers",
    "reports:read": "Sales, customer and inventory reports", "webhooks:read": "List and read webhooks",
    "webhooks:write": "Create, edit and delete webhooks",
}


def expires_label(expires_at: str | None) -> str:
    """How a person reads an expiry: a key made to expire after a day ("2099-12-31") is stored as the next
    midnight, and reads "end of Dec 31, 2099 (UTC)"; any other moment (the CLI takes one) reads as itself."""
    if not expires_at:
        return "Never"
    moment = clock.parse_iso(expires_at)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        day = moment - timedelta(days=1)
        return f"End of {day:%b} {day.day}, {day:%Y} (UTC)"
    return f"{moment:%b} {moment.day}, {moment:%Y}, {moment:%H:%M} UTC"


def _with_labels(key: dict) -> dict:
    return {**key, "expires_label": expires_label(key.get("expiresAt")),
            "all_scopes": set(key["scopes"]) == set(apikeys.SCOPES)}


def _render(page: DeskPage, form: Form | None = None, status: int = 200) -> Response:
    staff = page.require_staff()
    listed = [_with_labels(key) for key in apikeys.list_for_staff(staff)]
    form = form or Form({}, {"scopes": list(DEFAULT_SCOPES)})
    return page.render("api_keys/list.html", status=status, keys=listed, form=form, scopes=apikeys.SCOPES,
                       scope_hints=SCOPE_HINTS, chosen=set(form.getlist("scopes")))


async def list_keys(request: Request) -> Response:
    page, _ = open_desk(request)
    return _render(page)


async def create(request: Request) -> Response:
    """POST ``name``, ``scopes`` (repeated), ``expires_on`` (optional date): the key, shown once."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("settings")
    form = await page.form()
    assert page.company is not None
    try:
        view, raw_key = apikeys.create_for_staff(staff, name=form.text("name"), scopes=form.getlist("scopes"),
                                                 expires_on=form.text("expires_on"),
                                                 rate_limit=page.company.rate_limit_per_minute)
    except ValidationError as error:
        return _render(page, form.take(error, fields=("name", "scopes", "expires_on")), 400)
    return page.render("api_keys/created.html", key=_with_labels(view), raw_key=raw_key,
                       api_base=page.absolute_url("/api/v1"))


def _key_of(staff_keys: list[dict], key_id: str) -> dict:
    for key in staff_keys:
        if key["id"] == key_id:
            return key
    raise NotFound("API key not found.")


async def confirm_revoke(request: Request) -> Response:
    """The confirmation (works without JavaScript): what revoking does, and the button."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    key = _key_of(apikeys.list_for_staff(staff), request.path_params["key_id"])
    return page.render("api_keys/revoke.html", key=key)


async def revoke(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("settings")
    await page.check_csrf()
    key = apikeys.revoke_for_staff(staff, request.path_params["key_id"])
    return page.redirect(KEYS_URL, flash=f"The key “{key['name']}” ({key['prefix']}…) is revoked: calls with it "
                                         "now get 401.")


routes = [
    Route(KEYS_URL, list_keys, methods=["GET"]),
    Route(KEYS_URL, create, methods=["POST"]),
    Route(KEYS_URL + "/{key_id:id}/revoke", confirm_revoke, methods=["GET"]),
    Route(KEYS_URL + "/{key_id:id}/revoke", revoke, methods=["POST"]),
]
