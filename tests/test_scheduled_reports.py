"""Scheduled reports: the schedule's rules and roles, due times, and the runner (the Lambda invoked with a
scheduled event, against moto): the email with its file attached, the SYSTEM audit entry, one retry on
failure then the owner told, never two sends for one due time, even with concurrent runners."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import os
import threading
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest

from tests import factories

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def sent_messages(stack: Any) -> list[Any]:
    from moto.backends import get_backend

    return list(get_backend("ses")[stack.account_id]["us-east-1"].sent_messages)


def parsed(message: Any) -> email.message.EmailMessage:
    return email.message_from_string(message.raw_data, policy=email.policy.default)


def attachments(message: Any) -> list[tuple[str, str, bytes]]:
    return [(part.get_filename(), part.get_content_type(), part.get_payload(decode=True))
            for part in parsed(message).iter_attachments()]


def audit_of(company_id: str, action_prefix: str = "ScheduledReport") -> list[dict[str, Any]]:
    from distribu import audit

    return [entry for entry in audit.list_entries(company_id, limit=200) if entry["action"].startswith(action_prefix)]


def schedule_item(company_id: str, schedule_id: str) -> dict[str, Any]:
    from distribu import dynamo, keys

    return dynamo.get(keys.company(company_id), keys.report_schedule_sk(schedule_id)) or {}


def owner(company_id: str) -> Any:
    return factories.staff_of(company_id)


VALID = {"reportType": "SALES", "format": "pdf", "cadence": "WEEKLY", "hour": "7", "dayOfWeek": "1",
         "recipients": "Finance@Acme.test, boss@elsewhere.test\nfinance@acme.test", "isActive": "true"}


# --- rules ----------------------------------------------------------------------------------------------

def test_a_schedule_is_created_with_its_next_due_time_indexed_and_audited(stack, tenant) -> None:
    from distribu import scheduled_reports

    created = scheduled_reports.create_schedule(owner(tenant.company_id), VALID, now=at("2026-12-04T17:50:00"))
    assert created.recipients == ("finance@acme.test", "boss@elsewhere.test")
    assert created.next_due_at == "2026-12-07T07:00:00.000Z"  # the next Monday, 07:00 UTC
    assert created.cadence_label == "Weekly on Monday at 07:00 UTC" and created.title == "Weekly sales report"
    item = schedule_item(tenant.company_id, created.id)
    assert item["GSI2PK"] == "REPORTS#DUE" and item["GSI2SK"].startswith("2026-12-07T07:00:00.000Z#")
    entry = audit_of(tenant.company_id)[0]
    assert entry["action"] == "ScheduledReportCreated" and entry["actorType"] == "USER"
    assert entry["details"]["after"]["recipients"] == ["finance@acme.test", "boss@elsewhere.test"]


@pytest.mark.parametrize("cadence, fields, now, expected", [
    ("DAILY", {"hour": "8"}, "2026-12-04T07:59:59", "2026-12-04T08:00:00"),
    ("DAILY", {"hour": "8"}, "2026-12-04T08:00:00", "2026-12-05T08:00:00"),
    ("WEEKLY", {"hour": "0", "dayOfWeek": "5"}, "2026-12-04T00:00:00", "2026-12-11T00:00:00"),  # a Friday
    ("WEEKLY", {"hour": "23", "dayOfWeek": "7"}, "2026-12-04T10:00:00", "2026-12-06T23:00:00"),
    ("MONTHLY", {"hour": "6", "dayOfMonth": "28"}, "2026-12-28T06:30:00", "2027-01-28T06:00:00"),
    ("MONTHLY", {"hour": "6", "dayOfMonth": "1"}, "2026-12-04T10:00:00", "2027-01-01T06:00:00"),
])
def test_next_due_is_the_first_matching_hour_after_now(cadence, fields, now, expected) -> None:
    from distribu import scheduled_reports

    data = scheduled_reports.check({**VALID, "cadence": cadence, **fields})
    assert scheduled_reports.next_due(cadence, data.hour, data.day_of_week, data.day_of_month, at(now)) == at(expected)


def test_a_report_covers_the_whole_days_before_its_due_day() -> None:
    from datetime import date

    from distribu.scheduled_reports import period

    assert period("DAILY", "2026-12-04T08:00:00.000Z") == (date(2026, 12, 3), date(2026, 12, 3))
    assert period("WEEKLY", "2026-12-07T07:00:00.000Z") == (date(2026, 11, 30), date(2026, 12, 6))
    assert period("MONTHLY", "2027-01-01T06:00:00.000Z") == (date(2026, 12, 1), date(2026, 12, 31))
    assert period("MONTHLY", "2026-03-15T06:00:00.000Z") == (date(2026, 2, 15), date(2026, 3, 14))


def test_every_bad_field_is_named_and_nothing_is_written(stack, tenant) -> None:
    from distribu import scheduled_reports
    from distribu.errors import ValidationError

    with pytest.raises(ValidationError) as raised:
        scheduled_reports.create_schedule(owner(tenant.company_id), {
            "reportType": "PROFIT", "format": "xlsx", "cadence": "HOURLY", "hour": "24",
            "recipients": "ok@acme.test, not-an-email", "name": "x" * 101})
    problems = {detail["field"]: detail["message"] for detail in raised.value.extra["details"]}
    assert problems == {
        "name": "The name can be at most 100 characters.",
        "reportType": "Choose a report: sales, customer spend, inventory valuation or orders export.",
        "format": "Choose CSV or PDF.", "cadence": "Choose daily, weekly or monthly.",
        "hour": "Choose an hour from 0 to 23 (UTC).", "recipients": 'Not a valid email address: "not-an-email".'}
    with pytest.raises(ValidationError) as raised:
        scheduled_reports.create_schedule(owner(tenant.company_id), {
            **VALID, "reportType": "ORDERS_EXPORT", "mode": "both", "cadence": "MONTHLY", "dayOfMonth": "31",
            "recipients": " , "})
    problems = {detail["field"]: detail["message"] for detail in raised.value.extra["details"]}
    assert problems == {"mode": "Choose the summary or the line-items layout.",
                        "dayOfMonth": "Choose a day of the month from 1 to 28.",
                        "recipients": "Add at least one recipient."}
    with pytest.raises(ValidationError) as raised:
        scheduled_reports.create_schedule(owner(tenant.company_id), {
            **VALID, "dayOfWeek": "0", "recipients": ",".join(f"r{n}@acme.test" for n in range(21))})
    problems = {detail["field"]: detail["message"] for detail in raised.value.extra["details"]}
    assert problems == {"dayOfWeek": "Choose a day of the week (1 is Monday, 7 is Sunday).",
                        "recipients": "At most 20 recipients (this list has 21)."}
    assert scheduled_reports.list_schedules(owner(tenant.company_id)) == [] and audit_of(tenant.company_id) == []


def test_only_owners_and_admins_manage_schedules(stack, tenant) -> None:
    from distribu import scheduled_reports
    from distribu.errors import Forbidden

    factories.staff_member(tenant.company_id, "admin@acme.test", role="ADMIN")
    factories.staff_member(tenant.company_id, "member@acme.test", role="MEMBER")
    admin = factories.staff_of(tenant.company_id, "admin@acme.test")
    member = factories.staff_of(tenant.company_id, "member@acme.test")
    made = scheduled_reports.create_schedule(admin, VALID)
    for verb in (lambda: scheduled_reports.list_schedules(member),
                 lambda: scheduled_reports.create_schedule(member, VALID),
                 lambda: scheduled_reports.get_schedule(member, made.id),
                 lambda: scheduled_reports.update_schedule(member, made.id, {**VALID, "hour": "9"}),
                 lambda: scheduled_reports.set_active(member, made.id, False),
                 lambda: scheduled_reports.delete_schedule(member, made.id)):
        with pytest.raises(Forbidden, match="Only owners and admins can manage scheduled reports."):
            verb()
    assert [schedule.id for schedule in scheduled_reports.list_schedules(admin)] == [made.id]
    assert scheduled_reports.get_schedule(admin, made.id).hour == 7


def test_another_companys_schedule_is_not_found(stack, tenant, other_tenant) -> None:
    from distribu import scheduled_reports
    from distribu.errors import NotFound

    theirs = factories.report_schedule(other_tenant.company_id)
    mine = owner(tenant.company_id)
    for verb in (lambda: scheduled_reports.get_schedule(mine, theirs.id),
                 lambda: scheduled_reports.update_schedule(mine, theirs.id, VALID),
                 lambda: scheduled_reports.set_active(mine, theirs.id, False),
                 lambda: scheduled_reports.delete_schedule(mine, theirs.id)):
        with pytest.raises(NotFound, match="Scheduled report not found."):
            verb()
    assert schedule_item(other_tenant.company_id, theirs.id)["isActive"] is True


def test_edit_pause_resume_and_delete(stack, tenant) -> None:
    from distribu import scheduled_reports

    staff = owner(tenant.company_id)
    made = scheduled_reports.create_schedule(staff, VALID, now=at("2026-12-04T17:50:00"))
    renamed = scheduled_reports.update_schedule(staff, made.id, {**VALID, "name": "Monday numbers"},
                                                now=at("2026-12-05T10:00:00"))
    assert renamed.next_due_at == made.next_due_at and renamed.title == "Monday numbers"  # timing kept
    moved = scheduled_reports.update_schedule(staff, made.id, {**VALID, "cadence": "DAILY", "hour": "6"},
                                              now=at("2026-12-05T10:00:00"))
    assert moved.next_due_at == "2026-12-06T06:00:00.000Z" and moved.day_of_week is None
    paused = scheduled_reports.set_active(staff, made.id, False)
    item = schedule_item(tenant.company_id, made.id)
    assert not paused.is_active and "GSI2PK" not in item and "nextDueAt" not in item
    resumed = scheduled_reports.set_active(staff, made.id, True, now=at("2026-12-09T12:00:00"))
    assert resumed.next_due_at == "2026-12-10T06:00:00.000Z"  # what was missed while paused is not sent
    assert schedule_item(tenant.company_id, made.id)["GSI2PK"] == "REPORTS#DUE"
    scheduled_reports.delete_schedule(staff, made.id)
    assert schedule_item(tenant.company_id, made.id) == {}
    assert [entry["action"] for entry in reversed(audit_of(tenant.company_id))] == [
        "ScheduledReportCreated", "ScheduledReportUpdated", "ScheduledReportUpdated", "ScheduledReportPaused",
        "ScheduledReportResumed", "ScheduledReportDeleted"]
    changed = audit_of(tenant.company_id, "ScheduledReportUpdated")[0]["details"]
    assert changed["before"]["cadence"] == "WEEKLY" and changed["after"]["cadence"] == "DAILY"


# --- the runner ----------------------------------------------------------------------------------------------

@pytest.fixture
def shop(stack, tenant) -> dict[str, Any]:
    product = factories.product(tenant.company_id, "Widget Blue", price="8.50", stock=100, sku="WDG-1")
    buyer = factories.customer(tenant.company_id, "buyer@northwind.test", name="Northwind Traders")
    first = factories.order(tenant.company_id, buyer["id"], [(product["id"], 2)], po_number="PO-1")
    second = factories.order(tenant.company_id, buyer["id"], [(product["id"], 3)])
    return {"product": product, "buyer": buyer, "orders": [first, second]}


def _today_report(tenant: Any, **fields: Any) -> Any:
    """A daily schedule due tomorrow at 08:00 UTC: its report covers today, when the test's orders were placed."""
    from distribu import scheduled_reports

    now = datetime.now(UTC)
    schedule = scheduled_reports.create_schedule(owner(tenant.company_id), {
        "reportType": "ORDERS_EXPORT", "mode": "summary", "format": "csv", "cadence": "DAILY", "hour": "8",
        "recipients": "reports@acme.test, cfo@partner.test", **fields}, now=now.replace(hour=12, minute=0))
    due = datetime.fromisoformat(schedule.next_due_at.replace("Z", "+00:00"))
    assert due.date() == now.date() + timedelta(days=1)
    return schedule, due


def test_a_due_report_is_emailed_with_its_csv_attached_and_audited_as_system(stack, tenant, shop) -> None:
    from distribu import scheduled_reports

    schedule, due = _today_report(tenant)
    assert scheduled_reports.run_due(due - timedelta(minutes=1)).as_dict()["sent"] == 0  # not due yet
    summary = scheduled_reports.run_due(due + timedelta(minutes=3))
    assert (summary.sent, summary.failed, summary.retrying) == (1, 0, 0)
    [message] = sent_messages(stack)
    mail = parsed(message)
    assert set(message.destinations) == {"reports@acme.test", "cfo@partner.test"}
    today = (due - timedelta(days=1)).date()
    assert mail["Subject"] == f"Daily orders export - Acme Distributors - {today.day} {today.strftime('%b %Y')}"
    body = mail.get_body(("plain",)).get_content()
    assert "Orders: 2" in body and "scheduled it on Distribu (daily at 08:00 UTC)." in body
    [(filename, content_type, content)] = attachments(message)
    assert filename == f"acme-distributors-orders-{today.isoformat()}.csv" and content_type == "text/csv"
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0] == ["orderId", "createdAt", "status", "total", "itemCount", "customerEmail", "customerName",
                       "poNumber", "notes", "shippingCity", "shippingRegion", "shippingCountry"]
    assert sorted(row[0] for row in rows[1:]) == sorted(order["id"] for order in shop["orders"])
    assert {row[3] for row in rows[1:]} == {"17.00", "25.50"}
    [entry] = audit_of(tenant.company_id, "ScheduledReportSent")
    assert (entry["actorType"], entry["actorId"], entry["actorName"]) == ("SYSTEM", "system", "Scheduled reports")
    assert entry["entityId"] == schedule.id and entry["details"]["dueAt"] == schedule.next_due_at
    assert entry["details"]["file"] == filename
    from distribu import audit_text, clock

    assert audit_text.describe(entry) == \
        "Scheduled reports (system) emailed the report Daily orders export to 2 recipients"
    item = schedule_item(tenant.company_id, schedule.id)
    assert item["lastRunStatus"] == "SENT" and item["nextDueAt"] == clock.iso(due + timedelta(days=1))
    # the same due time again, and a run later the same day: nothing more is sent
    assert scheduled_reports.run_due(due + timedelta(minutes=20)).sent == 0
    assert len(sent_messages(stack)) == 1


def test_an_edit_saved_over_a_claim_fails_and_a_schedule_never_sticks_to_a_sent_due_time(stack, tenant,
                                                                                        shop) -> None:
    from distribu import scheduled_reports
    from distribu.errors import ValidationError

    schedule, due = _today_report(tenant)
    staff = owner(tenant.company_id)
    read_before_the_run = scheduled_reports.get_schedule(staff, schedule.id)
    assert scheduled_reports.run_due(due + timedelta(minutes=1)).sent == 1
    with pytest.raises(ValidationError, match="changed or deleted meanwhile"):
        scheduled_reports.schedules._replace(staff, read_before_the_run,
                                             {**schedule_item(tenant.company_id, schedule.id),
                                              "version": read_before_the_run.version},
                                             scheduled_reports.check(read_before_the_run.form_values()),
                                             due, "ScheduledReportUpdated")
    # Were the sent due time put back all the same, the runner sends nothing and moves the schedule on.
    factories.make_report_due(tenant.company_id, schedule.id, schedule.next_due_at)
    summary = scheduled_reports.run_due(due + timedelta(minutes=20))
    assert (summary.sent, summary.skipped) == (0, 1) and len(sent_messages(stack)) == 1
    assert schedule_item(tenant.company_id, schedule.id)["nextDueAt"] > schedule.next_due_at


def test_line_items_as_pdf(stack, tenant, shop) -> None:
    from distribu import scheduled_reports

    schedule, due = _today_report(tenant, mode="line-items", format="pdf", name="Lines for the warehouse")
    assert scheduled_reports.run_due(due + timedelta(minutes=1)).sent == 1
    [message] = sent_messages(stack)
    [(filename, content_type, content)] = attachments(message)
    assert content_type == "application/pdf" and filename.endswith(".pdf") and "order-items" in filename
    assert content.startswith(b"%PDF-") and b"DejaVuSans" in content
    assert parsed(message)["Subject"].startswith("Lines for the warehouse - Acme Distributors - ")
    text = parsed(message).get_body(("plain",)).get_content()
    assert "Lines: 2" in text and "Total: $42.50" in text


@pytest.mark.parametrize("report_type", ["SALES", "CUSTOMER_SPEND", "INVENTORY_VALUATION"])
def test_the_reports_as_csv_and_pdf_read_the_same_figures_as_the_reports_page(stack, tenant, shop, projections,
                                                                               report_type) -> None:
    from distribu import reports, scheduled_reports

    projections.drain()  # the rollups and the catalog index the reports read
    csv_schedule, due = _today_report(tenant, reportType=report_type, format="csv")
    _today_report(tenant, reportType=report_type, format="pdf")
    assert scheduled_reports.run_due(due + timedelta(minutes=1)).sent == 2
    files = {kind: (name, content) for message in sent_messages(stack) for name, kind, content in attachments(message)}
    today = (due - timedelta(days=1)).date().isoformat()
    csv_name, csv_content = files["text/csv"]
    pdf_name, pdf_content = files["application/pdf"]
    assert pdf_content.startswith(b"%PDF-") and len(pdf_content) > 1000
    rows = list(csv.reader(io.StringIO(csv_content.decode())))
    text = parsed(sent_messages(stack)[0]).get_body(("plain",)).get_content()
    if report_type == "SALES":
        assert csv_name == f"acme-distributors-sales-{today}.csv"
        assert rows == [["date", "orderCount", "revenue"], [today, "2", "42.50"], ["total", "2", "42.50"]]
        assert csv_content.decode() == reports.sales_csv(
            reports.sales_report(tenant.company_id, reports.resolve_range(from_=today, to=today)))
        assert "Orders: 2" in text and "Revenue: $42.50" in text and "Average order value: $21.25" in text
    elif report_type == "CUSTOMER_SPEND":
        assert csv_name == f"acme-distributors-customer-spend-{today}.csv"
        assert rows[0] == ["customerId", "email", "name", "orderCount", "revenue", "lastOrderAt"]
        assert rows[1][:5] == [shop["buyer"]["id"], "buyer@northwind.test", "Northwind Traders", "2", "42.50"]
        assert "Customers who ordered: 1" in text
    else:
        assert csv_name == f"acme-distributors-inventory-valuation-{due.date().isoformat()}.csv"
        assert rows[0] == ["productId", "sku", "name", "category", "stock", "price", "value"]
        assert rows[1][1:] == ["WDG-1", "Widget Blue", "", "95", "8.50", "807.50"]
        assert "Stock value: $807.50" in text
    assert csv_schedule.id in {entry["entityId"] for entry in audit_of(tenant.company_id, "ScheduledReportSent")}


def test_a_failure_is_retried_once_then_the_owner_is_told(stack, tenant, shop, monkeypatch) -> None:
    from distribu import emails, scheduled_reports

    schedule, due = _today_report(tenant)
    real = emails.send_with_attachment
    calls: list[str] = []

    def failing(*args: Any, **kwargs: Any) -> str:
        calls.append("attempt")
        raise RuntimeError("SES said no")

    monkeypatch.setattr(emails, "send_with_attachment", failing)
    first = scheduled_reports.run_due(due + timedelta(minutes=1))
    assert (first.sent, first.retrying, first.failed) == (0, 1, 0) and calls == ["attempt"]
    assert scheduled_reports.run_due(due + timedelta(minutes=4)).as_dict()["retrying"] == 0  # retry not due yet
    assert calls == ["attempt"]
    second = scheduled_reports.run_due(due + timedelta(minutes=16))
    assert (second.sent, second.retrying, second.failed) == (0, 0, 1) and calls == ["attempt", "attempt"]
    [told] = sent_messages(stack)
    assert told.destinations["ToAddresses"] == [factories.owner_email("Acme Distributors")]
    assert told.subject == "Scheduled report failed: Daily orders export"
    assert "We tried twice. The last error was:\nSES said no" in told.body
    failures = audit_of(tenant.company_id, "ScheduledReportFailed")
    assert [entry["details"]["attempt"] for entry in reversed(failures)] == [1, 2]
    assert all(entry["actorType"] == "SYSTEM" for entry in failures)
    from distribu import audit_text

    assert audit_text.describe(failures[-1]) == ("Scheduled reports (system) could not send the report Daily orders "
                                                  "export (retrying): SES said no")
    assert schedule_item(tenant.company_id, schedule.id)["lastRunStatus"] == "FAILED"
    monkeypatch.setattr(emails, "send_with_attachment", real)
    assert scheduled_reports.run_due(due + timedelta(hours=2)).as_dict() == {
        "sent": 0, "failed": 0, "retrying": 0, "skipped": 0, "leftForNextTime": 0}  # no third attempt
    assert calls == ["attempt", "attempt"]


def test_a_retry_that_succeeds_sends_once_and_tells_nobody(stack, tenant, shop, monkeypatch) -> None:
    from distribu import emails, scheduled_reports

    schedule, due = _today_report(tenant)
    real = emails.send_with_attachment
    monkeypatch.setattr(emails, "send_with_attachment", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("busy")))
    assert scheduled_reports.run_due(due + timedelta(minutes=1)).retrying == 1
    monkeypatch.setattr(emails, "send_with_attachment", real)
    assert scheduled_reports.run_due(due + timedelta(minutes=7)).sent == 1
    [message] = sent_messages(stack)
    assert set(message.destinations) == {"reports@acme.test", "cfo@partner.test"}
    assert [entry["action"] for entry in reversed(audit_of(tenant.company_id))][-2:] == [
        "ScheduledReportFailed", "ScheduledReportSent"]
    assert schedule_item(tenant.company_id, schedule.id)["lastRunStatus"] == "SENT"
    assert "lastRunError" not in schedule_item(tenant.company_id, schedule.id)


def test_a_retry_of_a_paused_schedule_is_dropped(stack, tenant, shop, monkeypatch) -> None:
    from distribu import emails, scheduled_reports

    schedule, due = _today_report(tenant)
    monkeypatch.setattr(emails, "send_with_attachment", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("busy")))
    assert scheduled_reports.run_due(due + timedelta(minutes=1)).retrying == 1
    scheduled_reports.set_active(owner(tenant.company_id), schedule.id, False)
    summary = scheduled_reports.run_due(due + timedelta(minutes=10))
    assert (summary.sent, summary.failed, summary.skipped) == (0, 0, 1)
    assert list(scheduled_reports.due(due + timedelta(days=3))) == []  # nothing left in the index
    assert sent_messages(stack) == []


def test_a_paused_schedule_is_not_due(stack, tenant) -> None:
    from distribu import scheduled_reports

    schedule = factories.report_schedule(tenant.company_id)
    scheduled_reports.set_active(owner(tenant.company_id), schedule.id, False)
    assert scheduled_reports.run_due(datetime.now(UTC) + timedelta(days=2)).sent == 0
    assert sent_messages(stack) == []


def test_the_lambda_runs_due_reports_from_a_scheduled_event(stack, tenant, other_tenant) -> None:
    from distribu_local.apigateway import LambdaContext
    from distribu_local.pumps import scheduled_event
    from distribu_scheduled_reports.handler import lambda_handler

    mine = factories.report_schedule(tenant.company_id, format="pdf", reportType="ORDERS_EXPORT")
    theirs = factories.report_schedule(other_tenant.company_id, recipients="ops@globex.test")
    later = factories.report_schedule(tenant.company_id, recipients="later@acme.test")
    past = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:00.000Z")
    factories.make_report_due(tenant.company_id, mine.id, past)
    factories.make_report_due(other_tenant.company_id, theirs.id, past)
    [trigger] = [schedule for schedule in stack.schedules() if schedule.function == "ScheduledReportsFunction"]
    assert trigger.every_seconds == 15 * 60
    result = lambda_handler(scheduled_event(stack, trigger), LambdaContext(function_name="scheduled-reports",
                                                                            timeout_seconds=300))
    assert result == {"sent": 2, "failed": 0, "retrying": 0, "skipped": 0, "leftForNextTime": 0}
    # (moto lists a raw message's recipients from its Destinations and from its To header: each twice)
    by_recipient = {frozenset(message.destinations): message for message in sent_messages(stack)}
    assert set(by_recipient) == {frozenset({"reports@acme.test"}), frozenset({"ops@globex.test"})}
    [(name, kind, content)] = attachments(by_recipient[frozenset({"reports@acme.test"})])
    assert kind == "application/pdf" and name.startswith("acme-distributors-orders-") and content[:5] == b"%PDF-"
    [(name, kind, _)] = attachments(by_recipient[frozenset({"ops@globex.test"})])
    assert kind == "text/csv" and name.startswith("globex-wholesale-orders-")
    assert [entry["entityId"] for entry in audit_of(tenant.company_id, "ScheduledReportSent")] == [mine.id]
    assert [entry["entityId"] for entry in audit_of(other_tenant.company_id, "ScheduledReportSent")] == [theirs.id]
    assert "lastRunStatus" not in schedule_item(tenant.company_id, later.id)
    again = lambda_handler(scheduled_event(stack, trigger), LambdaContext(function_name="scheduled-reports"))
    assert again["sent"] == 0 and len(sent_messages(stack)) == 2


def test_the_lambda_retries_a_failure_once_then_tells_the_owner(stack, tenant, monkeypatch) -> None:
    from distribu import dynamo, emails, keys
    from distribu_local.apigateway import LambdaContext
    from distribu_local.pumps import scheduled_event
    from distribu_scheduled_reports.handler import lambda_handler

    made = factories.report_schedule(tenant.company_id)
    due = (datetime.now(UTC) - timedelta(minutes=2)).strftime("%Y-%m-%dT%H:%M:00.000Z")
    factories.make_report_due(tenant.company_id, made.id, due)
    [trigger] = [schedule for schedule in stack.schedules() if schedule.function == "ScheduledReportsFunction"]
    monkeypatch.setattr(emails, "send_with_attachment",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("Daily sending quota exceeded")))

    def tick() -> dict[str, Any]:
        return lambda_handler(scheduled_event(stack, trigger), LambdaContext(function_name="scheduled-reports",
                                                                             timeout_seconds=300))

    assert tick() == {"sent": 0, "failed": 0, "retrying": 1, "skipped": 0, "leftForNextTime": 0}
    assert tick()["retrying"] == 0 and sent_messages(stack) == []  # the retry waits 5 minutes
    # 5 minutes pass: the run waiting for its retry is due
    run_key = dynamo.key(keys.company(tenant.company_id), keys.report_run_sk(made.id, due))
    dynamo.dynamodb().update_item(TableName=dynamo.table_name(), Key=run_key, UpdateExpression="SET GSI2SK = :sort",
                                  ExpressionAttributeValues={":sort": {"S": keys.reports_due_sort(
                                      due, tenant.company_id, f"{made.id}#{due}")}})
    assert tick() == {"sent": 0, "failed": 1, "retrying": 0, "skipped": 0, "leftForNextTime": 0}
    assert tick()["failed"] == 0  # once
    [told] = sent_messages(stack)
    assert told.destinations["ToAddresses"] == [factories.owner_email("Acme Distributors")]
    assert "Daily sending quota exceeded" in told.body
    failures = audit_of(tenant.company_id, "ScheduledReportFailed")
    assert [(entry["actorType"], entry["details"]["attempt"]) for entry in reversed(failures)] == [
        ("SYSTEM", 1), ("SYSTEM", 2)]


def test_a_runner_short_of_time_leaves_the_rest_for_next_time(stack, tenant) -> None:
    from distribu import scheduled_reports

    made = factories.report_schedule(tenant.company_id)
    factories.make_report_due(tenant.company_id, made.id, "2026-01-01T08:00:00.000Z")
    summary = scheduled_reports.run_due(time_left=lambda: 10.0)
    assert summary.left_for_next_time == 1 and summary.sent == 0
    assert scheduled_reports.run_due().sent == 1


# --- concurrency: real threads against a moto server ----------------------------------------------------------

@pytest.fixture
def server() -> Iterator[Any]:
    import boto3

    from distribu_local.motoserver import MotoServer
    from distribu_local.template import Stack
    from tests.conftest import reset_caches

    moto = MotoServer("127.0.0.1", 0)
    moto.start()
    saved = dict(os.environ)
    os.environ.update({"AWS_ENDPOINT_URL": moto.endpoint, "DISTRIBU_ENV": "local"})
    stack = Stack(parameters={"SessionSecret": "concurrency-secret-0123456789abcdef"})
    stack.create_resources(boto3.Session(region_name="us-east-1"))
    os.environ.update(stack.function_environment())
    reset_caches()
    try:
        yield moto
    finally:
        moto.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_caches()


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_runners_send_each_due_time_once(server, round_) -> None:
    from distribu import scheduled_reports

    tenant = factories.make_tenant(f"Race Co {round_}")
    schedules = [factories.report_schedule(tenant.company_id, recipients=f"race{round_}-{n}@acme.test")
                 for n in range(3)]
    past = (datetime.now(UTC) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:00.000Z")
    for schedule in schedules:
        factories.make_report_due(tenant.company_id, schedule.id, past)
    start = threading.Barrier(8)
    results: list[Any] = []

    def runner() -> None:
        start.wait()
        results.append(scheduled_reports.run_due())

    threads = [threading.Thread(target=runner) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sum(result.sent for result in results) == 3 and sum(result.failed for result in results) == 0
    sent = [message for message in _server_messages() if any(f"race{round_}-" in d for d in message["destinations"])]
    by_recipient: dict[str, int] = {}
    for message in sent:
        for destination in set(message["destinations"]):
            by_recipient[destination] = by_recipient.get(destination, 0) + 1
    assert by_recipient == {f"race{round_}-{n}@acme.test": 1 for n in range(3)}
    assert len(audit_of(tenant.company_id, "ScheduledReportSent")) == 3


def _server_messages() -> list[dict[str, Any]]:
    """What the moto server (in this process, on its own thread) has sent."""
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    backend = get_backend("ses")[DEFAULT_ACCOUNT_ID]["us-east-1"]
    return [{"destinations": list(message.destinations)} for message in backend.sent_messages
            if type(message).__name__ == "RawMessage"]
