"""The scheduled-reports pages through the real dashboard handler: list, new, edit, pause, resume and delete;
each field's message under it with what was typed kept; CSRF refused; MEMBERs refused (403, nothing
changes); another company's schedule is a 404 on every route."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.dashboard.conftest import signed_in
from tests.web_client import Browser, form_fields

LIST = "/dashboard/reports/scheduled"
NEW = LIST + "/new"


def _schedules(company_id: str) -> list[Any]:
    from distribu import scheduled_reports

    return scheduled_reports.list_schedules(factories.staff_of(company_id))


def _state(company_id: str) -> list[tuple[Any, ...]]:
    """What the page could change: every schedule's fields, and the audit trail's length."""
    from distribu import audit

    return [tuple(sorted(schedule.public().items(), key=str)) + (schedule.next_due_at,)
            for schedule in _schedules(company_id)] + [len(audit.list_entries(company_id, limit=500))]


def test_the_owner_schedules_a_report_and_sees_it_listed(owner: Browser, tenant) -> None:
    empty = owner.get(LIST)
    assert empty.status == 200 and "No scheduled reports yet." in empty.text
    form = owner.get(NEW)
    assert form.status == 200
    assert form.value_of("recipients") == factories.owner_email("Acme Distributors")
    assert form.value_of("cadence") == "WEEKLY" and form.value_of("format") == "pdf"
    fields = form_fields(form.soup.find("form", attrs={"action": NEW}), reportType="ORDERS_EXPORT",
                         mode="line-items", format="csv", cadence="MONTHLY", hour="6", dayOfMonth="1",
                         recipients="warehouse@acme.test\nBooks@Partner.test", name="Lines for the warehouse")
    sent = owner.post(NEW, fields)
    assert sent.status == 303 and sent.location == LIST, sent.text
    listed = owner.follow(sent)
    assert "Scheduled: Lines for the warehouse, next sent" in listed.text and "to 2 recipients" in listed.text
    assert "Lines for the warehouse" in listed.text and "Monthly on day 1 at 06:00 UTC" in listed.text
    assert "warehouse@acme.test and 1 more" in listed.text and "Not sent yet" in listed.text
    [made] = _schedules(tenant.company_id)
    assert (made.report_type, made.mode, made.format, made.cadence, made.hour, made.day_of_month) == (
        "ORDERS_EXPORT", "line-items", "csv", "MONTHLY", 6, 1)
    assert made.recipients == ("warehouse@acme.test", "books@partner.test") and made.is_active


def test_each_field_shows_its_message_and_keeps_what_was_typed(owner: Browser, tenant) -> None:
    owner.get(NEW)
    bad = owner.post(NEW, {"reportType": "PROFIT", "format": "xlsx", "cadence": "WEEKLY", "hour": "25",
                           "dayOfWeek": "9", "recipients": "ok@acme.test, nope", "name": "n" * 101,
                           "isActive": "true"})
    assert bad.status == 400
    assert bad.field_error("reportType") == ("Choose a report: sales, customer spend, inventory valuation or "
                                             "orders export.")
    assert bad.field_error("format") == "Choose CSV or PDF."
    assert bad.field_error("hour") == "Choose an hour from 0 to 23 (UTC)."
    assert bad.field_error("dayOfWeek") == "Choose a day of the week (1 is Monday, 7 is Sunday)."
    assert bad.field_error("recipients") == 'Not a valid email address: "nope".'
    assert bad.field_error("name") == "The name can be at most 100 characters."
    assert bad.value_of("recipients") == "ok@acme.test, nope" and bad.value_of("cadence") == "WEEKLY"
    assert "Please correct the fields marked below." in bad.text
    empty = owner.post(NEW, {"reportType": "SALES", "format": "pdf", "cadence": "MONTHLY", "hour": "8",
                             "dayOfMonth": "29", "recipients": ""})
    assert empty.status == 400 and empty.field_error("recipients") == "Add at least one recipient."
    assert empty.field_error("dayOfMonth") == "Choose a day of the month from 1 to 28."
    assert _schedules(tenant.company_id) == []


def test_edit_pause_resume_and_delete(owner: Browser, tenant) -> None:
    made = factories.report_schedule(tenant.company_id, recipients="a@acme.test")
    page = owner.get(f"{LIST}/{made.id}")
    assert page.status == 200 and "Daily orders export" in page.text and "Recent runs" in page.text
    assert page.value_of("recipients") == "a@acme.test" and page.value_of("hour") == "8"
    form = page.soup.find("form", attrs={"action": f"{LIST}/{made.id}"})
    bad = owner.post(f"{LIST}/{made.id}", form_fields(form, recipients="not-an-address"))
    assert bad.status == 400 and bad.field_error("recipients") == 'Not a valid email address: "not-an-address".'
    assert bad.value_of("recipients") == "not-an-address"
    saved = owner.post(f"{LIST}/{made.id}", form_fields(form, reportType="SALES", format="pdf", cadence="WEEKLY",
                                                        dayOfWeek="5", hour="17", recipients="a@acme.test b@acme.test"))
    assert saved.status == 303 and "Saved: Weekly sales report, next sent" in owner.follow(saved).text
    [changed] = _schedules(tenant.company_id)
    assert (changed.report_type, changed.cadence, changed.day_of_week, changed.hour) == ("SALES", "WEEKLY", 5, 17)
    assert changed.recipients == ("a@acme.test", "b@acme.test")

    paused = owner.post(f"{LIST}/{made.id}/pause")
    assert paused.status == 303
    listed = owner.follow(paused)
    assert "Paused: Weekly sales report. Nothing is sent until you resume it." in listed.text
    assert "Paused" in listed.text and "Resume" in listed.text
    assert not _schedules(tenant.company_id)[0].is_active
    resumed = owner.follow(owner.post(f"{LIST}/{made.id}/resume"))
    assert "Resumed: Weekly sales report, next sent" in resumed.text and _schedules(tenant.company_id)[0].is_active

    # unticking "Active" in the form pauses too
    form = owner.get(f"{LIST}/{made.id}").soup.find("form", attrs={"action": f"{LIST}/{made.id}"})
    fields = [(name, value) for name, value in form_fields(form) if name != "isActive"]
    assert "paused (nothing is sent" in owner.follow(owner.post(f"{LIST}/{made.id}", fields)).text
    assert not _schedules(tenant.company_id)[0].is_active

    deleted = owner.follow(owner.post(f"{LIST}/{made.id}/delete"))
    assert "Deleted: Weekly sales report. It will not be sent again." in deleted.text
    assert _schedules(tenant.company_id) == [] and owner.get(f"{LIST}/{made.id}").status == 404


def test_an_admin_manages_schedules_too(stack, tenant) -> None:
    factories.staff_member(tenant.company_id, "admin@acme.test", role="ADMIN")
    admin = signed_in(stack, "admin@acme.test")
    assert admin.get(NEW).status == 200
    sent = admin.post(NEW, {"reportType": "INVENTORY_VALUATION", "format": "csv", "cadence": "DAILY", "hour": "3",
                            "recipients": "bank@lender.test", "isActive": "true"})
    assert sent.status == 303
    assert [schedule.report_type for schedule in _schedules(tenant.company_id)] == ["INVENTORY_VALUATION"]


def test_a_member_is_refused_everywhere_and_nothing_changes(stack, tenant) -> None:
    made = factories.report_schedule(tenant.company_id)
    factories.staff_member(tenant.company_id, "member@acme.test", role="MEMBER")
    member = signed_in(stack, "member@acme.test")
    before = _state(tenant.company_id)
    for url in (LIST, NEW, f"{LIST}/{made.id}"):
        refused = member.get(url)
        assert refused.status == 403, url
        assert "Only owners and admins can manage scheduled reports." in refused.text
    valid = {"reportType": "SALES", "format": "pdf", "cadence": "DAILY", "hour": "8", "recipients": "x@acme.test",
             "isActive": "true"}
    for url, data in ((NEW, valid), (f"{LIST}/{made.id}", valid), (f"{LIST}/{made.id}/pause", {}),
                      (f"{LIST}/{made.id}/resume", {}), (f"{LIST}/{made.id}/delete", {})):
        assert member.post(url, data).status == 403, url
    assert _state(tenant.company_id) == before


def test_forms_without_a_valid_csrf_token_are_refused(owner: Browser, tenant) -> None:
    made = factories.report_schedule(tenant.company_id)
    before = _state(tenant.company_id)
    valid = {"reportType": "SALES", "format": "pdf", "cadence": "DAILY", "hour": "8", "recipients": "x@acme.test",
             "isActive": "true"}
    for url, data in ((NEW, valid), (f"{LIST}/{made.id}", valid), (f"{LIST}/{made.id}/pause", {}),
                      (f"{LIST}/{made.id}/delete", {})):
        assert owner.post(url, data, csrf=None).status == 403, url
        assert owner.post(url, data, csrf="forged-token").status == 403, url
    assert _state(tenant.company_id) == before


def test_another_companys_schedule_is_not_found_on_every_route(owner: Browser, tenant, other_tenant) -> None:
    theirs = factories.report_schedule(other_tenant.company_id, recipients="ops@globex.test")
    before = _state(other_tenant.company_id)
    assert owner.get(f"{LIST}/{theirs.id}").status == 404
    valid = {"reportType": "SALES", "format": "pdf", "cadence": "DAILY", "hour": "8", "recipients": "x@acme.test",
             "isActive": "true"}
    for url, data in ((f"{LIST}/{theirs.id}", valid), (f"{LIST}/{theirs.id}/pause", {}),
                      (f"{LIST}/{theirs.id}/resume", {}), (f"{LIST}/{theirs.id}/delete", {})):
        assert owner.post(url, data).status == 404, url
    assert "ops@globex.test" not in owner.get(LIST).text
    assert _state(other_tenant.company_id) == before
    assert owner.get(f"{LIST}/not-an-id").status == 404


@pytest.mark.parametrize("path", [LIST, NEW])
def test_signed_out_people_are_sent_to_sign_in(stack, path) -> None:
    response = Browser(stack).get(path)
    assert response.status in (302, 303) and response.location.startswith("/login")


def test_the_reports_page_links_owners_and_admins_to_their_schedules(owner: Browser, stack, tenant) -> None:
    link = owner.get("/dashboard/reports").soup.find("a", attrs={"href": LIST})
    assert link is not None and link.get_text(strip=True) == "Scheduled reports"
    factories.staff_member(tenant.company_id, "member@acme.test", role="MEMBER")
    member_page = signed_in(stack, "member@acme.test").get("/dashboard/reports")
    assert member_page.status == 200 and member_page.soup.find("a", attrs={"href": LIST}) is None
