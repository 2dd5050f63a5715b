"""Webhooks: the list, creating one (its signing secret shown once, in the answer to the POST), editing,
enabling and disabling, deleting and rotating the secret after a confirmation, the delivery log with a
replay of any delivery, and a signed test ``ping``.

The same domain functions as the API's webhooks router (:mod:`distribu.webhooks`), through their
role-checked dashboard verbs: OWNER and ADMIN; a MEMBER gets 403 and nothing changes. The URL is judged by
the same SSRF guard as the API's. This module only reads forms and picks templates.
"""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu import clock
from distribu.config import get_settings
from distribu.errors import BusinessRuleViolation, Conflict, ValidationError
from distribu.lazy import lazy_module
from distribu.outbox import EVENT_TYPES
from distribu.web.page import Form
from distribu_dashboard.desk import DeskPage, open_desk

webhooks = lazy_module("distribu.webhooks")  # its pydantic models load on the first webhooks page

WEBHOOKS_URL = "/dashboard/settings/webhooks"
FIELDS = ("url", "events")
POLL_FOR = timedelta(minutes=2)
EVENT_GROUPS = (
    ("Orders", (("order.created", "An order is placed on the storefront or through the API"),
                ("order.status_changed", "An order moves to another status"),
                ("order.shipped", "An order is marked shipped"),
                ("order.cancelled", "An order is cancelled"))),
    ("Customers", (("customer.created", "A customer registers, is imported or is created through the API"),
                   ("customer.updated", "A customer's details or status change"))),
    ("Products", (("product.updated", "A product changes (price, stock, details)"),
                  ("product.low_stock", "A product's stock falls to its low-stock threshold"))),
    ("Returns and refunds", (("return.created", "A return is requested"),
                             ("return.approved", "A return is approved"),
                             ("refund.processed", "A refund is processed"))),
)
assert sorted(name for _, group in EVENT_GROUPS for name, _ in group) == sorted(EVENT_TYPES)


def _url(webhook_id: str, action: str = "") -> str:
    return f"{WEBHOOKS_URL}/{webhook_id}" + (f"/{action}" if action else "")


def _form_page(page: DeskPage, form: Form, *, hook: dict | None = None, status: int = 200,
               count: int | None = None) -> Response:
    return page.render("webhooks/form.html", status=status, form=form, hook=hook, event_groups=EVENT_GROUPS,
                       chosen=set(form.getlist("events")), count=count, limit=webhooks.MAX_WEBHOOKS,
                       loopback_allowed=get_settings().is_local)


async def list_webhooks(request: Request) -> Response:
    page, _ = open_desk(request)
    hooks = webhooks.list_for_staff(page.require_staff())
    return page.render("webhooks/list.html", hooks=hooks, limit=webhooks.MAX_WEBHOOKS)


async def new_webhook(request: Request) -> Response:
    page, _ = open_desk(request)
    count = len(webhooks.list_for_staff(page.require_staff()))
    return _form_page(page, Form({"active": "true"}), count=count)


async def create(request: Request) -> Response:
    """POST ``url``, ``events`` (repeated), ``active``: the webhook, and its secret shown this once."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    try:
        hook = webhooks.create_for_staff(staff, url=form.text("url"), events=form.getlist("events"),
                                         active=form.checked("active"))
    except ValidationError as error:
        return _form_page(page, form.take(error, fields=FIELDS), status=400)
    except BusinessRuleViolation as error:
        return _form_page(page, form.fail(error.message), status=422)
    return page.render("webhooks/secret.html", hook=hook, secret=hook["secret"], created=True)


async def detail(request: Request) -> Response:
    """The webhook, its actions and its delivery log (a page at a time, newest first)."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    webhook_id = request.path_params["webhook_id"]
    hook, log = webhooks.with_log_for_staff(staff, webhook_id, cursor=request.query_params.get("cursor"))
    # While a delivery waits for its attempt the log refreshes itself (not for ever: a queue that is not being
    # worked, as when the local stack's workers are off, would keep the page polling).
    recent = clock.iso(clock.now() - POLL_FOR)
    waiting = any(delivery["status"] == "PENDING" and delivery["updatedAt"] >= recent for delivery in log.items)
    return page.render("webhooks/detail.html", hook=hook, deliveries=log.items, next_cursor=log.next_cursor,
                       waiting=waiting)


async def edit_form(request: Request) -> Response:
    page, _ = open_desk(request)
    hook = webhooks.get_for_staff(page.require_staff(), request.path_params["webhook_id"])
    return _form_page(page, Form({"url": hook["url"]}, {"events": hook["events"]}), hook=hook)


async def edit(request: Request) -> Response:
    """POST ``url`` and ``events`` (repeated)."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    webhook_id = request.path_params["webhook_id"]
    hook = webhooks.get_for_staff(staff, webhook_id)
    form = await page.form()
    try:
        webhooks.update_for_staff(staff, webhook_id, url=form.text("url"), events=form.getlist("events"))
    except ValidationError as error:
        return _form_page(page, form.take(error, fields=FIELDS), hook=hook, status=400)
    except Conflict as error:
        return _form_page(page, form.fail(error.message), hook=hook, status=409)
    return page.redirect(_url(webhook_id), flash="Webhook saved.")


def _set_active(active: bool):  # noqa: ANN202 - a route endpoint
    async def endpoint(request: Request) -> Response:
        page, _ = open_desk(request)
        staff = page.require_staff()
        await page.check_csrf()
        webhook_id = request.path_params["webhook_id"]
        try:
            hook = webhooks.set_active_for_staff(staff, webhook_id, active)
        except Conflict as error:
            return page.redirect(_url(webhook_id), flash=error.message, kind="error")
        text = (f"Webhook enabled: {hook['url']} receives its events again." if active else
                f"Webhook disabled: {hook['url']} receives nothing until you enable it.")
        return page.redirect(_url(webhook_id), flash=text)
    return endpoint


async def confirm_delete(request: Request) -> Response:
    page, _ = open_desk(request)
    hook = webhooks.get_for_staff(page.require_staff(), request.path_params["webhook_id"])
    return page.render("webhooks/confirm.html", hook=hook, action="delete")


async def delete(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    await page.check_csrf()
    hook = webhooks.delete_for_staff(staff, request.path_params["webhook_id"])
    return page.redirect(WEBHOOKS_URL, flash=f"Webhook deleted: {hook['url']} receives nothing more.")


async def confirm_rotate(request: Request) -> Response:
    page, _ = open_desk(request)
    hook = webhooks.get_for_staff(page.require_staff(), request.path_params["webhook_id"])
    return page.render("webhooks/confirm.html", hook=hook, action="rotate",
                       grace_hours=int(webhooks.ROTATION_GRACE.total_seconds() // 3600))


async def rotate(request: Request) -> Response:
    """The new secret, shown this once; both secrets sign until the grace window ends."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    await page.check_csrf()
    webhook_id = request.path_params["webhook_id"]
    try:
        hook = webhooks.rotate_for_staff(staff, webhook_id)
    except Conflict as error:
        return page.redirect(_url(webhook_id), flash=error.message, kind="error")
    return page.render("webhooks/secret.html", hook=hook, secret=hook["secret"], created=False)


async def send_test(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    await page.check_csrf()
    webhook_id = request.path_params["webhook_id"]
    try:
        webhooks.send_test_event_for_staff(staff, webhook_id)
    except BusinessRuleViolation as error:
        return page.redirect(_url(webhook_id), flash=error.message, kind="error")
    return page.redirect(_url(webhook_id), flash="Test event sent: a signed “ping” is on its way. Its answer "
                                                 "appears in the delivery log below within seconds.")


async def replay(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    await page.check_csrf()
    webhook_id = request.path_params["webhook_id"]
    try:
        delivery = webhooks.replay_for_staff(staff, webhook_id, request.path_params["delivery_id"])
    except BusinessRuleViolation as error:
        return page.redirect(_url(webhook_id), flash=error.message, kind="error")
    return page.redirect(_url(webhook_id), flash=f"Delivery of “{delivery['event']}” queued again: a new attempt "
                                                 "is made now and appears in the log below.")


routes = [
    Route(WEBHOOKS_URL, list_webhooks, methods=["GET"]),
    Route(WEBHOOKS_URL, create, methods=["POST"]),
    Route(WEBHOOKS_URL + "/new", new_webhook, methods=["GET"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}", detail, methods=["GET"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}/edit", edit_form, methods=["GET"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}/edit", edit, methods=["POST"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}/enable", _set_active(True), methods=["POST"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}/disable", _set_active(False), methods=["POST"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}/delete", confirm_delete, methods=["GET"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}/delete", delete, methods=["POST"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}/rotate", confirm_rotate, methods=["GET"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}/rotate", rotate, methods=["POST"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}/test", send_test, methods=["POST"]),
    Route(WEBHOOKS_URL + "/{webhook_id:id}/deliveries/{delivery_id}/replay", replay, methods=["POST"]),
]
