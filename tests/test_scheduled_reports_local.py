"""A scheduled report end to end through ``make run``'s local stack: the owner schedules it on the dashboard,
the stack's Scheduler fires the template's rate() schedule (every 2 s here, DISTRIBU_LOCAL_SCHEDULE_SECONDS)
into the ScheduledReportsFunction's real handler, and the email with its file attached appears on the
local mail page, once."""

from __future__ import annotations

import csv
import http.cookiejar
import io
import re
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator

import pytest
from bs4 import BeautifulSoup

from tests.local_stack_driver import Running, wait_for


class FastSchedules(Running):
    def environment(self) -> dict[str, str]:
        return {**super().environment(), "DISTRIBU_LOCAL_SCHEDULE_SECONDS": "2"}


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    running = FastSchedules(tmp_path_factory.mktemp("local-state"), tmp_path_factory.mktemp("local-logs"))
    running.start()
    try:
        yield running
    finally:
        running.stop()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Staff:
    """A browser of the dashboard over real HTTP: cookies kept, redirects not followed."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
                                                  _NoRedirect())
        self.token = ""

    def request(self, path: str, data: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        body = None
        if data is not None:
            body = urllib.parse.urlencode({**data, "csrf_token": self.token}).encode()
        try:
            with self.opener.open(urllib.request.Request(self.url + path, data=body), timeout=30) as answer:
                status, headers, content = answer.status, dict(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            status, headers, content = error.code, dict(error.headers), error.read()
        found = re.search(rb'name="csrf_token" value="([^"]+)"', content)
        if found:
            self.token = found.group(1).decode()
        return status, {name.lower(): value for name, value in headers.items()}, content


def test_a_scheduled_report_is_emailed_with_its_file_on_the_local_mail_page(local: Running) -> None:
    demo = local.demo()
    staff = Staff(local.url)
    staff.request("/login")
    status, headers, _ = staff.request("/login", {"email": demo["ownerEmail"], "password": demo["ownerPassword"]})
    assert status == 303, headers
    assert staff.request("/dashboard/reports/scheduled/new")[0] == 200
    status, headers, body = staff.request("/dashboard/reports/scheduled/new", {
        "reportType": "INVENTORY_VALUATION", "format": "csv", "cadence": "DAILY", "hour": "6",
        "recipients": "bank@lender.test, owner@demo.test", "name": "Stock for the bank", "isActive": "true"})
    assert status == 303 and headers["location"] == "/dashboard/reports/scheduled", body[:500]
    status, _, listed = staff.request("/dashboard/reports/scheduled")
    assert status == 200 and b"Stock for the bank" in listed
    schedule_id = re.search(rb'/dashboard/reports/scheduled/([0-9a-z]{26})"', listed).group(1).decode()

    # The clock reaches its due time: as a runner would find it, a minute ago.
    due = (datetime.now(timezone.utc) - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:00.000Z")
    dynamodb = local.aws("dynamodb")
    key = {"PK": {"S": f"C#{demo['companyId']}"}, "SK": {"S": f"REPORTSCHEDULE#{schedule_id}"}}
    dynamodb.update_item(TableName="distribu-local-Table", Key=key,
                         UpdateExpression="SET nextDueAt = :due, GSI2SK = :sort",
                         ExpressionAttributeValues={":due": {"S": due},
                                                    ":sort": {"S": f"{due}#{demo['companyId']}#{schedule_id}"}})

    def delivered() -> list[dict[str, Any]]:
        return [message for message in local.json("GET", "/_local/mail.json")[1]
                if message["subject"].startswith("Stock for the bank - Demo Distributors")]

    [message] = wait_for(delivered, 30, "the scheduled report on the local mail page", interval=0.5)
    assert sorted(message["to"]) == ["bank@lender.test", "owner@demo.test"]
    assert "Stock value: $" in message["text"]
    [attached] = message["attachments"]
    assert attached["contentType"] == "text/csv" and attached["filename"].startswith(
        "demo-distributors-inventory-valuation-")

    status, _, page = local.get("/_local/mail")
    link = BeautifulSoup(page, "html.parser").find("a", string=attached["filename"])
    assert status == 200 and link is not None
    status, headers, content = local.get(link["href"])
    assert status == 200 and headers["content-type"].startswith("text/csv")
    assert headers["content-disposition"] == f'attachment; filename="{attached["filename"]}"'
    rows = list(csv.reader(io.StringIO(content.decode())))
    assert rows[0] == ["productId", "sku", "name", "category", "stock", "price", "value"] and len(rows) == 31
    assert len(content) == attached["size"]

    item = dynamodb.get_item(TableName="distribu-local-Table", Key=key)["Item"]
    assert item["lastRunStatus"]["S"] == "SENT" and item["nextDueAt"]["S"] > due
    schedules = local.status()["schedules"]
    fired = schedules["ScheduledReportsFunction/DueReports"]
    assert fired["invocations"] >= 1 and fired["errors"] == 0 and fired["everySeconds"] == 2
    # More runs of the schedule: the due time is not sent again.
    wait_for(lambda: local.status()["schedules"]["ScheduledReportsFunction/DueReports"]["invocations"]
             >= fired["invocations"] + 2, 15, "two more runs")
    assert len(delivered()) == 1
    status, _, edit = staff.request(f"/dashboard/reports/scheduled/{schedule_id}")
    assert status == 200 and b"Sent" in edit and attached["filename"].encode() in edit
