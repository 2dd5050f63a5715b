"""Scheduled reports: the list, new and edit forms, pause / resume and delete (OWNERs and ADMINs).

The rules, the role check included, are :mod:`distribu.scheduled_reports`'s: a MEMBER gets the 403 page from
every route here, and nothing changes.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu import scheduled_reports as schedules
from distribu.errors import ValidationError
from distribu.web.page import Form
from distribu_dashboard.desk import DeskPage, open_desk

LIST_URL = "/dashboard/reports/scheduled"
FIELDS = ("name", "reportType", "mode", "format", "cadence", "hour", "dayOfWeek", "dayOfMonth", "recipients",
          "isActive")
CHOICES = {
    "reportType": [(kind, schedules.REPORT_LABELS[kind]) for kind in schedules.REPORT_TYPES],
    "mode": [(mode, schedules.MODE_LABELS[mode]) for mode in schedules.MODES],
    "format": [("pdf", "PDF"), ("csv", "CSV")],
    "cadence": [("DAILY", "Daily"), ("WEEKLY", "Weekly"), ("MONTHLY", "Monthly")],
    "hour": [(str(hour), f"{hour:02d}:00 UTC") for hour in range(24)],
    "dayOfWeek": [(str(number), name) for number, name in enumerate(schedules.DAY_NAMES, start=1)],
    "dayOfMonth": [(str(day), str(day)) for day in range(1, 29)],
}


def _edit_url(schedule_id: str) -> str:
    return f"{LIST_URL}/{schedule_id}"


def _submitted(form: Form) -> dict[str, Any]:
    """The form's values for the domain (an unticked box is absent from a form: it means inactive)."""
    return {**{name: form.get(name) for name in FIELDS}, "isActive": form.checked("isActive")}


def _render_form(page: DeskPage, form: Form, *, schedule: schedules.Schedule | None = None, status: int = 200,
                 runs: list[dict[str, Any]] | None = None) -> Response:
    return page.render("scheduled_reports/form.html", status=status, form=form, schedule=schedule,
                       choices=CHOICES, runs=runs or [],
                       action=_edit_url(schedule.id) if schedule else f"{LIST_URL}/new")


async def list_page(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    return page.render("scheduled_reports/index.html", schedules=schedules.list_schedules(staff))


async def new_page(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("reports.schedule")
    form = Form({"reportType": "SALES", "mode": "summary", "format": "pdf", "cadence": "WEEKLY", "hour": "8",
                 "dayOfWeek": "1", "dayOfMonth": "1", "recipients": staff.email, "isActive": "true"})
    return _render_form(page, form)


async def create(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("reports.schedule")
    form = await page.form()
    try:
        made = schedules.create_schedule(staff, _submitted(form))
    except ValidationError as error:
        return _render_form(page, form.take(error, fields=FIELDS), status=400)
    return page.redirect(LIST_URL, flash=_saved_message(made, "Scheduled"))


async def edit_page(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    schedule = schedules.get_schedule(staff, request.path_params["schedule_id"])
    return _render_form(page, Form(schedule.form_values()), schedule=schedule,
                        runs=schedules.runs_of(staff, schedule.id))


async def update(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    schedule = schedules.get_schedule(staff, request.path_params["schedule_id"])
    form = await page.form()
    try:
        saved = schedules.update_schedule(staff, schedule.id, _submitted(form))
    except ValidationError as error:
        return _render_form(page, form.take(error, fields=FIELDS), schedule=schedule, status=400,
                            runs=schedules.runs_of(staff, schedule.id))
    return page.redirect(LIST_URL, flash=_saved_message(saved, "Saved"))


def _saved_message(schedule: schedules.Schedule, verb: str) -> str:
    count = len(schedule.recipients)
    to = f"{count} recipient{'s' if count != 1 else ''}"
    if not schedule.is_active:
        return f"{verb}: {schedule.title}, paused (nothing is sent until you resume it)."
    return f"{verb}: {schedule.title}, next sent {_when(schedule.next_due_at)} to {to}."


def _when(iso: str | None) -> str:
    from distribu.web.templating import datetime_

    return datetime_(iso) if iso else "—"


async def pause(request: Request) -> Response:
    return await _toggle(request, False)


async def resume(request: Request) -> Response:
    return await _toggle(request, True)


async def _toggle(request: Request, active: bool) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("reports.schedule")
    await page.check_csrf()
    schedule = schedules.set_active(staff, request.path_params["schedule_id"], active)
    if active:
        return page.redirect(LIST_URL, flash=f"Resumed: {schedule.title}, next sent {_when(schedule.next_due_at)}.")
    return page.redirect(LIST_URL, flash=f"Paused: {schedule.title}. Nothing is sent until you resume it.")


async def delete(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("reports.schedule")
    await page.check_csrf()
    schedule = schedules.delete_schedule(staff, request.path_params["schedule_id"])
    return page.redirect(LIST_URL, flash=f"Deleted: {schedule.title}. It will not be sent again.")


routes = [
    Route(LIST_URL, list_page, methods=["GET"]),
    Route(LIST_URL + "/new", new_page, methods=["GET"]),
    Route(LIST_URL + "/new", create, methods=["POST"]),
    Route(LIST_URL + "/{schedule_id:id}", edit_page, methods=["GET"]),
    Route(LIST_URL + "/{schedule_id:id}", update, methods=["POST"]),
    Route(LIST_URL + "/{schedule_id:id}/pause", pause, methods=["POST"]),
    Route(LIST_URL + "/{schedule_id:id}/resume", resume, methods=["POST"]),
    Route(LIST_URL + "/{schedule_id:id}/delete", delete, methods=["POST"]),
]
