"""The runner: find what is due with one Query of the due index, claim each due time with one conditional
transaction (at most once), build the file, email it, record the outcome, retry a failure once and tell the
OWNER when the retry fails too."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator, Mapping

from distribu import audit, clock, companies, dynamo, keys
from distribu.scheduled_reports.schedules import ENTITY, Schedule, next_due_iso

logger = logging.getLogger("distribu.scheduled_reports")

RUN_ENTITY = "SCHEDULED_REPORT_RUN"
RETRY_DELAY = timedelta(minutes=5)
RUN_KEPT_SECONDS = 90 * 24 * 3600
SYSTEM = audit.Actor.system("Scheduled reports")


@dataclass
class Run:
    """One claimed due time of a schedule, as the runner sends it."""

    company_id: str
    schedule_id: str
    due_at: str
    attempt: int
    token: str
    settings: dict[str, Any]

    @property
    def sk(self) -> str:
        return keys.report_run_sk(self.schedule_id, self.due_at)

    @property
    def schedule(self) -> Schedule:
        return Schedule.from_item(self.settings)


@dataclass
class RunSummary:
    sent: int = 0
    failed: int = 0
    retrying: int = 0
    skipped: int = 0
    left_for_next_time: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"sent": self.sent, "failed": self.failed, "retrying": self.retrying, "skipped": self.skipped,
                "leftForNextTime": self.left_for_next_time}


def due(now: datetime) -> Iterator[dict[str, Any]]:
    """Everything due at ``now``: active schedules and runs waiting for their retry, oldest first (a Query
    of the due index up to now; its size depends on what is due, not on how many companies there are)."""
    yield from dynamo.query_all({
        "IndexName": "GSI2", "ScanIndexForward": True, "KeyConditionExpression": "GSI2PK = :pk AND GSI2SK <= :now",
        "ExpressionAttributeValues": {":pk": {"S": keys.REPORTS_DUE}, ":now": {"S": clock.iso(now) + "#~"}}})


_SETTINGS = ("id", "companyId", "name", "reportType", "mode", "format", "cadence", "hour", "dayOfWeek",
             "dayOfMonth", "recipients", "isActive", "nextDueAt", "createdAt", "updatedAt", "version")


def claim_schedule(item: Mapping[str, Any], now: datetime) -> Run | None:
    """Take the schedule's due time for this runner, or ``None`` when another runner (or an edit) got there
    first: the schedule moves on to its next due time only if it still holds the one read, and the run
    item of that due time is created only if it does not exist. One transaction, so both or neither."""
    company_id, schedule_id, due_at = item["companyId"], item["id"], item.get("nextDueAt")
    if not due_at or not item.get("isActive"):
        return None
    schedule = Schedule.from_item(item)
    following = next_due_iso(schedule, max(now, clock.parse_iso(due_at)))
    token = secrets.token_hex(8)
    stamp = clock.now_iso()
    settings = {name: item.get(name) for name in _SETTINGS}
    run_item = {
        "PK": keys.company(company_id), "SK": keys.report_run_sk(schedule_id, due_at), "entity": RUN_ENTITY,
        "companyId": company_id, "scheduleId": schedule_id, "dueAt": due_at, "status": "RUNNING", "attempt": 1,
        "token": token, "claimedAt": stamp, "settings": settings,
        "expiresAt": int(now.timestamp()) + RUN_KEPT_SECONDS,
    }
    try:
        dynamo.transact([
            _move_on(company_id, schedule_id, due_at, following, stamp),
            dynamo.put(run_item, condition="attribute_not_exists(PK)"),
        ], attempts=1)
    except dynamo.TransactionCancelled as cancelled:
        if cancelled.failed_indexes() == [1]:
            # The due time was sent already, yet the schedule still holds it (an edit saved over the claim):
            # move it on, so that it is not stuck there.
            try:
                dynamo.transact([_move_on(company_id, schedule_id, due_at, following, stamp)], attempts=1)
            except dynamo.TransactionCancelled:
                pass
        return None
    except Exception as error:  # real DynamoDB: a conflicting transaction on the same item
        if "TransactionConflict" in str(error) or "TransactionInProgress" in str(error):
            return None
        raise
    return Run(company_id, schedule_id, due_at, 1, token, settings)


def _move_on(company_id: str, schedule_id: str, due_at: str, following: str, stamp: str) -> dict[str, Any]:
    """The schedule's due time moves from ``due_at`` to ``following``, only if it still holds ``due_at``; its
    version moves too, so that an edit made from what was read before fails instead of putting it back."""
    return dynamo.update(keys.company(company_id), keys.report_schedule_sk(schedule_id),
                         "SET nextDueAt = :next, GSI2SK = :sort, lastClaimedAt = :now, version = version + :one",
                         condition="nextDueAt = :due AND isActive = :true AND entity = :entity",
                         values={":next": following, ":due": due_at, ":true": True, ":entity": ENTITY, ":now": stamp,
                                 ":one": 1, ":sort": keys.reports_due_sort(following, company_id, schedule_id)})


def claim_retry(item: Mapping[str, Any], now: datetime) -> Run | None:
    """Take a failed run's one retry, while its schedule still exists and is active; a retry whose
    schedule was paused or deleted is dropped instead."""
    if item.get("status") != "RETRY" or int(item.get("attempt") or 0) != 1:
        return None
    company_id, schedule_id, due_at = item["companyId"], item["scheduleId"], item["dueAt"]
    token = secrets.token_hex(8)
    run_sk = keys.report_run_sk(schedule_id, due_at)
    try:
        dynamo.transact([
            dynamo.update(keys.company(company_id), run_sk,
                          "SET #status = :running, attempt = :two, #token = :token, claimedAt = :now "
                          "REMOVE GSI2PK, GSI2SK",
                          condition="#status = :retry AND attempt = :one",
                          names={"#status": "status", "#token": "token"},
                          values={":running": "RUNNING", ":two": 2, ":token": token, ":now": clock.iso(now),
                                  ":retry": "RETRY", ":one": 1}),
            dynamo.condition_check(keys.company(company_id), keys.report_schedule_sk(schedule_id),
                                   "isActive = :true", values={":true": True}),
        ], attempts=1)
    except dynamo.TransactionCancelled as cancelled:
        if cancelled.failed_indexes() == [1]:  # the schedule is paused or gone: the retry is dropped
            try:
                dynamo.transact([dynamo.update(
                    keys.company(company_id), run_sk, "SET #status = :dropped REMOVE GSI2PK, GSI2SK",
                    condition="#status = :retry", names={"#status": "status"},
                    values={":dropped": "DROPPED", ":retry": "RETRY"})], attempts=1)
            except dynamo.TransactionCancelled:
                pass  # another runner dropped it
        return None
    except Exception as error:
        if "TransactionConflict" in str(error) or "TransactionInProgress" in str(error):
            return None
        raise
    return Run(company_id, schedule_id, due_at, 2, token, dict(item.get("settings") or {}))


def _finish(run: Run, now: datetime, status: str, action: str, details: dict[str, Any],
            run_changes: dict[str, Any], schedule_error: str | None, *, retry_at: str | None = None) -> None:
    """The run's outcome, its audit entry (SYSTEM) and the schedule's last-run fields, in one transaction
    conditioned on this runner's claim; without the schedule part when the schedule was deleted meanwhile."""
    stamp = clock.now_iso()
    values: dict[str, Any] = {":status": status, ":token": run.token, ":running": "RUNNING", ":now": stamp}
    names = {"#status": "status", "#token": "token"}
    sets = ["#status = :status", "finishedAt = :now"]
    for index, (name, value) in enumerate(run_changes.items()):
        sets.append(f"#c{index} = :v{index}")
        names[f"#c{index}"] = name
        values[f":v{index}"] = value
    expression = "SET " + ", ".join(sets)
    if retry_at:
        expression += ", GSI2PK = :due_pk, GSI2SK = :due_sort"
        values[":due_pk"] = keys.REPORTS_DUE
        values[":due_sort"] = keys.reports_due_sort(retry_at, run.company_id, f"{run.schedule_id}#{run.due_at}")
    run_update = dynamo.update(keys.company(run.company_id), run.sk, expression,
                               condition="#status = :running AND #token = :token", names=names, values=values)
    entry = audit.entry(run.company_id, SYSTEM, action, "ScheduledReport", run.schedule_id, details, at=stamp)
    schedule_values: dict[str, Any] = {":at": stamp, ":status": status, ":due": run.due_at}
    schedule_values[":one"] = 1
    schedule_expression = ("SET lastRunAt = :at, lastRunStatus = :status, lastRunDueAt = :due, "
                           "version = version + :one")
    if schedule_error:
        schedule_expression += ", lastRunError = :error"
        schedule_values[":error"] = schedule_error
    else:
        schedule_expression += " REMOVE lastRunError"
    schedule_update = dynamo.update(keys.company(run.company_id), keys.report_schedule_sk(run.schedule_id),
                                    schedule_expression, condition="attribute_exists(PK)", values=schedule_values)
    try:
        dynamo.transact([run_update, entry, schedule_update])
    except dynamo.TransactionCancelled as cancelled:
        if cancelled.failed_indexes() != [2]:
            raise
        dynamo.transact([run_update, entry])  # the schedule was deleted while its report was being sent


def deliver(run: Run, now: datetime | None = None) -> str:
    """Build the report's file and email it; record the outcome. Returns ``SENT``, ``RETRY`` or ``FAILED``."""
    from distribu import report_files  # only the runner builds files

    schedule = run.schedule
    try:
        company = companies.get_company(run.company_id)
        document = report_files.build(schedule, company, run.due_at)
        subject, text = _email_text(schedule, company.name, run.due_at, document)
        from distribu import emails

        message_id = emails.send_with_attachment(list(schedule.recipients), subject, text,
                                                 filename=document.filename, content=document.content,
                                                 content_type=document.content_type)
    except Exception as error:  # noqa: BLE001 - any failure is recorded, retried once, then reported
        logger.exception("Scheduled report %s due %s failed (attempt %d)", run.schedule_id, run.due_at, run.attempt)
        return _failed(run, error, now or clock.now())
    moment = now or clock.now()
    _finish(run, moment, "SENT", "ScheduledReportSent",
            {"dueAt": run.due_at, "attempt": run.attempt, "name": schedule.title, "reportType": schedule.report_type,
             "format": schedule.format, "recipients": list(schedule.recipients), "file": document.filename,
             "bytes": len(document.content), "messageId": message_id},
            {"messageId": message_id, "file": document.filename, "bytes": len(document.content)}, None)
    return "SENT"


def _error_text(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text[:500]


def _failed(run: Run, error: BaseException, now: datetime) -> str:
    schedule = run.schedule
    reason = _error_text(error)
    details = {"dueAt": run.due_at, "attempt": run.attempt, "name": schedule.title,
               "reportType": schedule.report_type, "format": schedule.format, "error": reason}
    if run.attempt < 2:
        retry_at = clock.iso(now + RETRY_DELAY)
        _finish(run, now, "RETRY", "ScheduledReportFailed", {**details, "retryAt": retry_at},
                {"error": reason, "retryAt": retry_at}, reason, retry_at=retry_at)
        return "RETRY"
    _finish(run, now, "FAILED", "ScheduledReportFailed", {**details, "retryAt": None}, {"error": reason}, reason)
    _tell_owner(run, reason)
    return "FAILED"


def _tell_owner(run: Run, reason: str) -> None:
    """The OWNER hears about a report that failed twice (a failed email is logged, never raised)."""
    from distribu import emails

    schedule = run.schedule
    try:
        company = companies.get_company(run.company_id)
        owners = companies.staff_emails(run.company_id, roles=("OWNER",))
        if not owners:
            return
        text = (f'The scheduled report "{schedule.title}" of {company.name}, due {_when(run.due_at)}, could not be '
                f"sent to {', '.join(schedule.recipients)}.\n\n"
                f"We tried twice. The last error was:\n{reason}\n\n"
                "The next one goes out at its usual time. Check the schedule in the dashboard: "
                "Reports > Scheduled reports.\n")
        emails.send(owners, f"Scheduled report failed: {schedule.title}", text)
    except Exception:  # noqa: BLE001
        logger.exception("Could not tell the owner of %s that a scheduled report failed", run.company_id)


def _when(due_at: str) -> str:
    moment = clock.parse_iso(due_at)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _email_text(schedule: Schedule, company_name: str, due_at: str, document: Any) -> tuple[str, str]:
    subject = f"{schedule.title} - {company_name} - {document.period_label}"
    text = (f"{schedule.title} for {company_name}\n"
            f"{schedule.report_label}, {document.period_label}.\n\n"
            f"{document.summary}\n\n"
            f"The report is attached as {document.filename}.\n\n"
            f"You receive this because an owner or admin of {company_name} scheduled it on Distribu "
            f"({schedule.cadence_label[0].lower() + schedule.cadence_label[1:]}). Ask them to remove you from the "
            "recipients to stop it.\n")
    return subject, text


def run_due(now: datetime | None = None, *, time_left: Callable[[], float] = lambda: float("inf"),
            reserve_seconds: float = 30.0) -> RunSummary:
    """Send everything due at ``now``. Stops claiming when less than ``reserve_seconds`` are left: what is
    not claimed stays in the index for the next run."""
    moment = now or clock.now()
    summary = RunSummary()
    for item in due(moment):
        if time_left() < reserve_seconds:
            summary.left_for_next_time += 1
            continue
        run = claim_retry(item, moment) if item.get("entity") == RUN_ENTITY else claim_schedule(item, moment)
        if run is None:
            summary.skipped += 1
            continue
        outcome = deliver(run, moment if now is not None else None)
        summary.details.append({"companyId": run.company_id, "scheduleId": run.schedule_id, "dueAt": run.due_at,
                                "attempt": run.attempt, "outcome": outcome})
        if outcome == "SENT":
            summary.sent += 1
        elif outcome == "RETRY":
            summary.retrying += 1
        else:
            summary.failed += 1
    return summary
