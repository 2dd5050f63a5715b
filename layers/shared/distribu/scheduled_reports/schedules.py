"""A schedule: what it sends, when and to whom, checked; the verbs OWNERs and ADMINs use on it (each audited
in the same transaction); and its due times."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Mapping

from distribu import audit, clock, dynamo, ids, keys
from distribu.errors import NotFound, ValidationError
from distribu.permissions import Staff

REPORT_TYPES = ("SALES", "CUSTOMER_SPEND", "INVENTORY_VALUATION", "ORDERS_EXPORT")
REPORT_LABELS = {"SALES": "Sales", "CUSTOMER_SPEND": "Customer spend", "INVENTORY_VALUATION": "Inventory valuation",
                 "ORDERS_EXPORT": "Orders export"}
MODES = ("summary", "line-items")
MODE_LABELS = {"summary": "Summary (one row per order)", "line-items": "Line items (one row per order line)"}
FORMATS = ("csv", "pdf")
CADENCES = ("DAILY", "WEEKLY", "MONTHLY")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MAX_RECIPIENTS = 20
MAX_NAME = 100
NOT_FOUND = "Scheduled report not found."
ENTITY = "SCHEDULED_REPORT"
_EMAIL = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")
_SEPARATORS = re.compile(r"[,;\r\n]+")


# --- the schedule ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Schedule:
    id: str
    company_id: str
    name: str
    report_type: str
    mode: str
    format: str
    cadence: str
    hour: int
    day_of_week: int | None
    day_of_month: int | None
    recipients: tuple[str, ...]
    is_active: bool
    next_due_at: str | None
    last_run_at: str | None = None
    last_run_status: str | None = None
    last_run_error: str | None = None
    created_at: str = ""
    updated_at: str = ""
    version: int = 0

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Schedule":
        return cls(
            id=item["id"], company_id=item["companyId"], name=item.get("name") or "",
            report_type=item["reportType"], mode=item.get("mode") or "summary", format=item["format"],
            cadence=item["cadence"], hour=int(item["hour"]),
            day_of_week=int(item["dayOfWeek"]) if item.get("dayOfWeek") is not None else None,
            day_of_month=int(item["dayOfMonth"]) if item.get("dayOfMonth") is not None else None,
            recipients=tuple(item.get("recipients") or ()), is_active=bool(item.get("isActive")),
            next_due_at=item.get("nextDueAt"), last_run_at=item.get("lastRunAt"),
            last_run_status=item.get("lastRunStatus"), last_run_error=item.get("lastRunError"),
            created_at=item.get("createdAt") or "", updated_at=item.get("updatedAt") or "",
            version=int(item.get("version") or 0))

    @property
    def title(self) -> str:
        """The schedule's name, or what it sends: "Weekly sales report"."""
        return self.name or default_title(self.cadence, self.report_type, self.mode)

    @property
    def report_label(self) -> str:
        label = REPORT_LABELS[self.report_type]
        if self.report_type == "ORDERS_EXPORT":
            label += " (line items)" if self.mode == "line-items" else " (summary)"
        return label

    @property
    def cadence_label(self) -> str:
        """"Daily at 08:00 UTC", "Weekly on Monday at 08:00 UTC", "Monthly on day 1 at 08:00 UTC"."""
        at = f"at {self.hour:02d}:00 UTC"
        if self.cadence == "WEEKLY" and self.day_of_week:
            return f"Weekly on {DAY_NAMES[self.day_of_week - 1]} {at}"
        if self.cadence == "MONTHLY" and self.day_of_month:
            return f"Monthly on day {self.day_of_month} {at}"
        return f"Daily {at}"

    def public(self) -> dict[str, Any]:
        """The schedule as its audit entries and the API-like views show it."""
        return {"name": self.name, "reportType": self.report_type,
                "mode": self.mode if self.report_type == "ORDERS_EXPORT" else None, "format": self.format,
                "cadence": self.cadence, "hour": self.hour, "dayOfWeek": self.day_of_week,
                "dayOfMonth": self.day_of_month, "recipients": list(self.recipients), "isActive": self.is_active}

    def form_values(self) -> dict[str, Any]:
        """The edit form, filled in."""
        return {"name": self.name, "reportType": self.report_type, "mode": self.mode, "format": self.format,
                "cadence": self.cadence, "hour": str(self.hour), "dayOfWeek": str(self.day_of_week or 1),
                "dayOfMonth": str(self.day_of_month or 1), "recipients": "\n".join(self.recipients),
                "isActive": "true" if self.is_active else ""}


def default_title(cadence: str, report_type: str, mode: str = "summary") -> str:
    what = REPORT_LABELS.get(report_type, "Report").lower()
    if report_type == "ORDERS_EXPORT":
        what += " (line items)" if mode == "line-items" else ""
    else:
        what += " report"
    return f"{cadence.title()} {what}"


@dataclass(frozen=True)
class ScheduleInput:
    name: str
    report_type: str
    mode: str
    format: str
    cadence: str
    hour: int
    day_of_week: int | None
    day_of_month: int | None
    recipients: tuple[str, ...]
    is_active: bool


def _int_in(value: Any, low: int, high: int) -> int | None:
    text = str(value if value is not None else "").strip()
    if not re.fullmatch(r"\d{1,2}", text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def _valid_address(text: str) -> bool:
    return len(text) <= 254 and _EMAIL.match(text) is not None


def parse_recipients(value: Any) -> tuple[list[str], list[str]]:
    """Addresses separated by commas, semicolons or lines (or spaces, when every word is an address):
    (the valid ones lowercased, once each; the entries that are not addresses, as typed)."""
    if isinstance(value, (list, tuple)):
        value = ",".join(str(part) for part in value)
    good: list[str] = []
    bad: list[str] = []
    for entry in _SEPARATORS.split(str(value or "")):
        entry = " ".join(entry.split())
        if not entry:
            continue
        words = [word.lower() for word in entry.split(" ")]
        if not all(_valid_address(word) for word in words):
            bad.append(entry)
            continue
        for address in words:
            if address not in good:
                good.append(address)
    return good, bad


def check(values: Mapping[str, Any]) -> ScheduleInput:
    """What a form or request sent, checked field by field: every problem at once, under its field
    (``400 Validation failed.`` with ``details``); nothing is written when there is one."""
    problems: list[dict[str, str]] = []

    def problem(field_name: str, message: str) -> None:
        problems.append({"field": field_name, "message": message})

    name = " ".join(str(values.get("name") or "").split())
    if len(name) > MAX_NAME:
        problem("name", f"The name can be at most {MAX_NAME} characters.")
    report_type = str(values.get("reportType") or "").strip().upper()
    if report_type not in REPORT_TYPES:
        problem("reportType", "Choose a report: sales, customer spend, inventory valuation or orders export.")
    mode = str(values.get("mode") or "summary").strip().lower()
    if report_type == "ORDERS_EXPORT" and mode not in MODES:
        problem("mode", "Choose the summary or the line-items layout.")
    if report_type != "ORDERS_EXPORT" or mode not in MODES:
        mode = "summary"
    file_format = str(values.get("format") or "").strip().lower()
    if file_format not in FORMATS:
        problem("format", "Choose CSV or PDF.")
    cadence = str(values.get("cadence") or "").strip().upper()
    if cadence not in CADENCES:
        problem("cadence", "Choose daily, weekly or monthly.")
    hour = _int_in(values.get("hour"), 0, 23)
    if hour is None:
        problem("hour", "Choose an hour from 0 to 23 (UTC).")
    day_of_week = day_of_month = None
    if cadence == "WEEKLY":
        day_of_week = _int_in(values.get("dayOfWeek"), 1, 7)
        if day_of_week is None:
            problem("dayOfWeek", "Choose a day of the week (1 is Monday, 7 is Sunday).")
    if cadence == "MONTHLY":
        day_of_month = _int_in(values.get("dayOfMonth"), 1, 28)
        if day_of_month is None:
            problem("dayOfMonth", "Choose a day of the month from 1 to 28.")
    recipients, bad = parse_recipients(values.get("recipients"))
    if bad:
        shown = ", ".join(f'"{part[:60]}"' for part in bad[:3]) + (" and more" if len(bad) > 3 else "")
        problem("recipients", f"Not a valid email address: {shown}.")
    elif not recipients:
        problem("recipients", "Add at least one recipient.")
    elif len(recipients) > MAX_RECIPIENTS:
        problem("recipients", f"At most {MAX_RECIPIENTS} recipients (this list has {len(recipients)}).")
    active = values.get("isActive", True)
    is_active = active if isinstance(active, bool) else str(active).strip().lower() in ("on", "true", "1", "yes")
    if problems:
        raise ValidationError("Validation failed.", details=problems)
    assert hour is not None
    return ScheduleInput(name, report_type, mode, file_format, cadence, hour, day_of_week, day_of_month,
                         tuple(recipients), is_active)


# --- time ----------------------------------------------------------------------------------------------

def next_due(cadence: str, hour: int, day_of_week: int | None, day_of_month: int | None,
             after: datetime) -> datetime:
    """The first due time strictly after ``after`` (UTC, on the hour)."""
    after = after.astimezone(timezone.utc)
    base = after.replace(hour=hour, minute=0, second=0, microsecond=0)
    if cadence == "WEEKLY":
        candidate = base + timedelta(days=((day_of_week or 1) - base.isoweekday()) % 7)
        return candidate if candidate > after else candidate + timedelta(days=7)
    if cadence == "MONTHLY":
        candidate = base.replace(day=day_of_month or 1)
        if candidate > after:
            return candidate
        year, month = (base.year + 1, 1) if base.month == 12 else (base.year, base.month + 1)
        return candidate.replace(year=year, month=month)
    return base if base > after else base + timedelta(days=1)


def next_due_iso(data: ScheduleInput | Schedule, after: datetime) -> str:
    hour = data.hour
    return clock.iso(next_due(data.cadence, hour, data.day_of_week, data.day_of_month, after))


def period(cadence: str, due_at: str) -> tuple[date, date]:
    """The whole UTC days a report due at ``due_at`` covers: (first day, last day), the due day excluded."""
    due_day = clock.parse_iso(due_at).date()
    last = due_day - timedelta(days=1)
    if cadence == "WEEKLY":
        return due_day - timedelta(days=7), last
    if cadence == "MONTHLY":
        year, month = (due_day.year - 1, 12) if due_day.month == 1 else (due_day.year, due_day.month - 1)
        return due_day.replace(year=year, month=month, day=min(due_day.day, 28)), last
    return last, last


# --- items ---------------------------------------------------------------------------------------------

def schedule_item(company_id: str, schedule_id: str, data: ScheduleInput, *, next_due_at: str | None,
                   created_at: str, updated_at: str, version: int, created_by: str,
                   keep: Mapping[str, Any] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "PK": keys.company(company_id), "SK": keys.report_schedule_sk(schedule_id), "entity": ENTITY,
        "id": schedule_id, "companyId": company_id, "name": data.name or None, "reportType": data.report_type,
        "mode": data.mode, "format": data.format, "cadence": data.cadence, "hour": data.hour,
        "dayOfWeek": data.day_of_week, "dayOfMonth": data.day_of_month, "recipients": list(data.recipients),
        "isActive": data.is_active, "nextDueAt": next_due_at, "createdAt": created_at, "updatedAt": updated_at,
        "createdBy": created_by, "version": version,
    }
    for name in ("lastRunAt", "lastRunStatus", "lastRunError", "lastRunDueAt"):
        if keep and keep.get(name) is not None:
            item[name] = keep[name]
    if data.is_active and next_due_at:
        item["GSI2PK"] = keys.REPORTS_DUE
        item["GSI2SK"] = keys.reports_due_sort(next_due_at, company_id, schedule_id)
    return item


def _get_item(company_id: str, schedule_id: str) -> dict[str, Any]:
    if not ids.could_exist(schedule_id):
        raise NotFound(NOT_FOUND)
    return dynamo.get_record(keys.company(company_id), keys.report_schedule_sk(schedule_id), ENTITY, NOT_FOUND)


def _changed_meanwhile() -> ValidationError:
    return ValidationError("This scheduled report was changed or deleted meanwhile. Reload the page and try again.")


# --- the verbs (OWNER and ADMIN) -------------------------------------------------------------------------

def list_schedules(staff: Staff) -> list[Schedule]:
    """The company's schedules, newest first (one Query of its partition)."""
    staff.require("reports.schedule")
    found = [Schedule.from_item(item)
             for item in dynamo.query_prefix(keys.company(staff.company_id), keys.report_schedule_sk(""))]
    return sorted(found, key=lambda schedule: (schedule.created_at, schedule.id), reverse=True)


def get_schedule(staff: Staff, schedule_id: str) -> Schedule:
    staff.require("reports.schedule")
    return Schedule.from_item(_get_item(staff.company_id, schedule_id))


def create_schedule(staff: Staff, values: Mapping[str, Any], *, now: datetime | None = None) -> Schedule:
    """A new schedule, due first at the first matching hour after now; audited ``ScheduledReportCreated``."""
    staff.require("reports.schedule")
    data = check(values)
    moment = now or clock.now()  # ``now``: when the next due time is counted from (tests move it)
    stamp = clock.now_iso()
    schedule_id = ids.new_id()
    item = schedule_item(staff.company_id, schedule_id, data,
                          next_due_at=next_due_iso(data, moment) if data.is_active else None,
                          created_at=stamp, updated_at=stamp, version=1, created_by=staff.user_id)
    schedule = Schedule.from_item(item)
    dynamo.transact([
        dynamo.put(item, condition="attribute_not_exists(PK)"),
        audit.entry(staff.company_id, staff.actor(), "ScheduledReportCreated", "ScheduledReport", schedule_id,
                    {"after": {"name": schedule.title, **schedule.public()}}, at=stamp),
    ])
    return schedule


def update_schedule(staff: Staff, schedule_id: str, values: Mapping[str, Any], *,
                    now: datetime | None = None) -> Schedule:
    """Change what, when or to whom; the next due time is worked out again from now when the cadence
    changed or the schedule was resumed. Audited ``ScheduledReportUpdated`` with what changed."""
    staff.require("reports.schedule")
    current_item = _get_item(staff.company_id, schedule_id)
    current = Schedule.from_item(current_item)
    data = check(values)
    return _replace(staff, current, current_item, data, now or clock.now(), "ScheduledReportUpdated")


def set_active(staff: Staff, schedule_id: str, active: bool, *, now: datetime | None = None) -> Schedule:
    """Pause (leaves the runner's index: nothing is sent) or resume (due next at the first matching hour
    after now: what was missed while paused is not sent)."""
    staff.require("reports.schedule")
    current_item = _get_item(staff.company_id, schedule_id)
    current = Schedule.from_item(current_item)
    if current.is_active == active:
        return current
    data = check({**current.form_values(), "isActive": active})
    return _replace(staff, current, current_item, data, now or clock.now(),
                    "ScheduledReportResumed" if active else "ScheduledReportPaused")


def _replace(staff: Staff, current: Schedule, current_item: dict[str, Any], data: ScheduleInput,
             moment: datetime, action: str) -> Schedule:
    timing_changed = (data.cadence, data.hour, data.day_of_week, data.day_of_month) != \
        (current.cadence, current.hour, current.day_of_week, current.day_of_month)
    if not data.is_active:
        next_due_at = None
    elif timing_changed or not current.is_active or not current.next_due_at:
        next_due_at = next_due_iso(data, moment)
    else:
        next_due_at = current.next_due_at
    stamp = clock.now_iso()
    item = schedule_item(staff.company_id, current.id, data, next_due_at=next_due_at,
                          created_at=current.created_at, updated_at=stamp, version=current.version + 1,
                          created_by=current_item.get("createdBy") or "", keep=current_item)
    updated = Schedule.from_item(item)
    changes = audit.diff({"name": current.title, **current.public()}, {"name": updated.title, **updated.public()})
    try:
        dynamo.transact([
            dynamo.put_if_version(item, current.version),
            audit.entry(staff.company_id, staff.actor(), action, "ScheduledReport", current.id, changes, at=stamp),
        ])
    except dynamo.TransactionCancelled:
        raise _changed_meanwhile() from None
    return updated


def delete_schedule(staff: Staff, schedule_id: str) -> Schedule:
    """Gone for good (its past runs stay until they expire); a retry still waiting is not sent."""
    staff.require("reports.schedule")
    current = Schedule.from_item(_get_item(staff.company_id, schedule_id))
    try:
        dynamo.transact([
            dynamo.delete(keys.company(staff.company_id), keys.report_schedule_sk(schedule_id),
                          condition="attribute_exists(PK)"),
            audit.entry(staff.company_id, staff.actor(), "ScheduledReportDeleted", "ScheduledReport", schedule_id,
                        {"before": {"name": current.title, **current.public()}}),
        ])
    except dynamo.TransactionCancelled:
        raise NotFound(NOT_FOUND) from None
    return current


def runs_of(staff: Staff, schedule_id: str, limit: int = 10) -> list[dict[str, Any]]:
    """The schedule's most recent runs (its page's history)."""
    staff.require("reports.schedule")
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.company(staff.company_id)},
                                   ":prefix": {"S": f"REPORTRUN#{schedule_id}#"}},
        ScanIndexForward=False, Limit=limit)
    return [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]
