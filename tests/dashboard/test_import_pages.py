"""The CSV import and export screens through the real dashboard handler, driving the real import machinery:
the file is posted to S3 (moto) with the page's presigned form, the bucket's notification goes through
the queue to the csv_import function, and the page shows the check's progress, the preview, the apply and
its progress. Also: the error report, exports, tenant isolation, CSRF and the role table."""

from __future__ import annotations

import base64
import csv
import io
import json
import os
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from distribu_local.apigateway import LambdaContext
from tests import factories
from tests.dashboard.conftest import signed_in
from tests.web_client import Browser

PRODUCTS = "/dashboard/inventory/import"
CUSTOMERS = "/dashboard/customers/import"


def _deliver(stack: Any) -> int:
    """Hand every message of the imports queue to the csv_import function, as the queue trigger does."""
    from distribu.aws import client
    from distribu_csv_import.handler import lambda_handler

    sqs, url, handled = client("sqs"), stack.queue_url("ImportUploadsQueue"), 0
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=1).get("Messages", [])
        if not messages:
            return handled
        message = messages[0]
        event = {"Records": [{"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                              "body": message["Body"], "attributes": {}, "messageAttributes": {},
                              "eventSource": "aws:sqs", "awsRegion": "us-east-1",
                              "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ImportUploadsQueue"}]}
        result = lambda_handler(event, LambdaContext(function_name="csv_import", timeout_seconds=900))
        assert not result.get("batchItemFailures"), result
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        handled += 1


def _start(client: Browser, base: str) -> tuple[str, Any]:
    """Press "Upload a CSV file": the import exists, its page shows the upload form."""
    client.get(base)
    started = client.post(base, {})
    assert started.status == 303 and started.location.startswith(base + "/"), started.text
    page = client.follow(started)
    assert page.status == 200, page.text
    return started.location, page


def _post_file(page: Any, content: str) -> str:
    """The browser's plain form post of the file to S3; S3 (moto) answers with the way back."""
    form = page.soup.find("form", attrs={"data-csv-upload": True})
    fields = {field["name"]: field.get("value", "") for field in form.find_all("input", type="hidden")}
    response = requests.post(form["action"], data=fields, files={"file": ("upload.csv", content.encode(), "text/csv")},
                             allow_redirects=False)
    assert response.status_code == 303, response.text
    back = urlsplit(response.headers["Location"])
    return f"{back.path}?{back.query}"


def _import(client: Browser, stack: Any, base: str, content: str) -> tuple[str, Any]:
    """Start, upload, check: the detail URL and the status fragment once the check is done."""
    detail, page = _start(client, base)
    back = _post_file(page, content)
    assert back.startswith(detail + "?uploaded=1")
    arriving = client.get(back)
    status = arriving.soup.find(id="import-status")
    assert "Checking your file" in arriving.text and status["hx-trigger"] == "every 1s"
    assert status["hx-get"] == detail + "/progress?uploaded=1"
    assert _deliver(stack) >= 1
    return detail, client.get(status["hx-get"])


def _products(company_id: str) -> dict[str, dict[str, Any]]:
    from distribu import catalog

    return {item["sku"]: item for item in catalog.list_products(company_id, limit=100, cursor=None).items}


def _product_rows() -> list[dict[str, Any]]:
    return [{"sku": "CSV-1", "name": "Crate small", "price": "4.50", "stock": "10"},
            {"sku": "CSV-2", "name": "Crate large", "price": "9.00", "stock": "3", "category": "Storage"},
            {"sku": "WB-1", "name": "Widget Blue", "price": "8.50", "stock": "99"}]


def test_the_landing_page_explains_and_starts_an_import_with_a_presigned_form(owner: Browser, tenant) -> None:
    landing = owner.get(PRODUCTS)
    assert landing.status == 200
    assert "Import products from a CSV file" in landing.text and "matched to existing products by SKU" in landing.text
    assert "sku,name,description,category,unit,price,stock,isActive" in landing.text
    assert landing.soup.find("a", href="/dashboard/inventory/export") is not None
    detail, page = _start(owner, PRODUCTS)
    form = page.soup.find("form", attrs={"data-csv-upload": True})
    assert form["enctype"] == "multipart/form-data" and form.find("input", type="file")["name"] == "file"
    fields = {field["name"]: field.get("value", "") for field in form.find_all("input", type="hidden")}
    conditions = json.loads(base64.b64decode(fields["policy"]))["conditions"]
    import_id = detail.rsplit("/", 1)[1]
    assert {"key": f"imports/{tenant.company_id}/products/{import_id}.csv"} in conditions
    assert ["content-length-range", 1, 50 * 1024 * 1024] in conditions
    assert {"success_action_redirect": fields["success_action_redirect"]} in conditions
    assert urlsplit(fields["success_action_redirect"]).path == detail
    csp = page.headers["content-security-policy"]
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(form["action"]))
    assert origin in next(part for part in csp.split("; ") if part.startswith("form-action")).split()


def test_products_upload_preview_apply_with_live_progress(owner: Browser, tenant, stack) -> None:
    from distribu import audit

    factories.product(tenant.company_id, "Widget Blue", sku="WB-1", stock=42)
    detail, ready = _import(owner, stack, PRODUCTS, factories.csv_text("products", _product_rows()))
    status = ready.soup.find(id="import-status")
    assert status["data-state"] == "ready" and not status.has_attr("hx-trigger")  # polling stops
    assert "3 rows 2 to create 1 to update 0 unchanged" in ready.text and "No problems found" in ready.text
    assert set(_products(tenant.company_id)) == {"WB-1"}  # nothing written before apply
    applied = owner.post(detail + "/apply", {})
    assert applied.status == 303 and applied.location == detail
    applying = owner.follow(applied)
    assert "Applying the import" in applying.text and "Applying…" in applying.text
    polled = applying.soup.find(id="import-status")
    assert polled["hx-get"] == detail + "/progress" and polled["hx-trigger"] == "every 1s"
    assert applying.soup.find("progress") is not None
    _deliver(stack)
    done = owner.get(polled["hx-get"])
    assert done.soup.find(id="import-status")["data-state"] == "applied"
    assert not done.soup.find(id="import-status").has_attr("hx-trigger")
    assert "The import is applied: 2 created, 1 updated, 0 unchanged." in done.text
    products = _products(tenant.company_id)
    assert set(products) == {"CSV-1", "CSV-2", "WB-1"} and products["WB-1"]["stock"] == 99
    recent = owner.get(PRODUCTS).soup.select("table.recent-imports tbody tr")
    assert [row.find("a")["href"] for row in recent] == [detail]
    assert "Applied" in recent[0].get_text() and owner.get(CUSTOMERS).soup.select("table.recent-imports") == []
    [entry] = [e for e in audit.list_entries(tenant.company_id) if e["action"] == "ImportApplied"]
    assert entry["actorType"] == "USER" and entry["actorId"] == factories.staff_of(tenant.company_id).user_id


def test_every_rows_problem_is_shown_the_report_downloads_and_apply_is_refused(owner: Browser, tenant, stack) -> None:
    rows = [{"sku": "OK-1", "name": "Fine", "price": "1.00", "stock": "1"},
            {"sku": "BAD-1", "name": "", "price": "-3", "stock": "1.5"},
            {"sku": "OK-1", "name": "Again", "price": "2.00", "stock": "2"}]
    detail, invalid = _import(owner, stack, PRODUCTS, factories.csv_text("products", rows))
    assert invalid.soup.find(id="import-status")["data-state"] == "invalid"
    problems = [[cell.get_text(" ", strip=True) for cell in row.find_all("td")]
                for row in invalid.soup.select("table.import-problems tbody tr")]
    assert {row[0] for row in problems} == {"3", "4"} and {"name", "price", "stock"} <= {row[1] for row in problems}
    assert any(row[0] == "4" and row[1] == "sku" for row in problems)  # the duplicate SKU
    assert "problems found. Nothing can be applied" in invalid.text
    report_link = invalid.soup.find("a", string=lambda text: text and "Download the error report" in text)["href"]
    report = requests.get(report_link)
    assert report.status_code == 200
    report_rows = list(csv.reader(io.StringIO(report.text)))
    assert len(report_rows) - 1 == len(problems)
    refused = owner.post(detail + "/apply", {})
    assert refused.status == 422 and "invalid rows and cannot be applied" in refused.text
    assert _products(tenant.company_id) == {}


def test_customers_import_shows_duplicates_and_applies(owner: Browser, tenant, stack) -> None:
    from distribu import customers

    duplicate = factories.csv_text("customers", [{"email": "bob@acme.test", "name": "Bob"},
                                                 {"email": "BOB@acme.test", "name": "Bobby"}])
    _, invalid = _import(owner, stack, CUSTOMERS, duplicate)
    assert 'Duplicate email "bob@acme.test" also on row 2' in invalid.text
    good = factories.csv_text("customers", [{"email": "bob@acme.test", "name": "Bob", "creditLimit": "500"},
                                            {"email": "ann@acme.test", "name": "Ann"}])
    detail, ready = _import(owner, stack, CUSTOMERS, good)
    assert "2 rows 2 to create 0 to update 0 unchanged" in ready.text
    owner.post(detail + "/apply", {})
    _deliver(stack)
    assert "2 created, 0 updated" in owner.get(detail).text
    listed = customers.list_customers(tenant.company_id, limit=10, cursor=None).items
    assert sorted(item["email"] for item in listed) == ["ann@acme.test", "bob@acme.test"]


@pytest.mark.parametrize("base,kind,expected_header", [
    ("/dashboard/inventory", "products", "sku,name,description,category,unit,price,stock,isActive"),
    ("/dashboard/customers", "customers", "email,name,status,notes,creditLimit"),
])
def test_the_export_links_download_the_csv(owner: Browser, tenant, base, kind, expected_header) -> None:
    factories.product(tenant.company_id, "Widget Blue", sku="WB-1")
    factories.customer(tenant.company_id, "buyer@northwind.test")
    response = owner.get(base + "/export")
    assert response.status == 303
    download = requests.get(response.location)
    lines = download.text.splitlines()
    assert lines[0] == expected_header and len(lines) == 2
    assert ("WB-1" if kind == "products" else "buyer@northwind.test") in lines[1]


def test_an_import_belongs_to_its_company_and_its_kind(owner: Browser, tenant, other_tenant, stack) -> None:
    from distribu import imports

    theirs = imports.create_import(other_tenant.company_id, "products", factories.staff_actor())["id"]
    owner.get(PRODUCTS)
    for path in (f"{PRODUCTS}/{theirs}", f"{PRODUCTS}/{theirs}/progress"):
        assert owner.get(path).status == 404, path
    assert owner.post(f"{PRODUCTS}/{theirs}/apply", {}).status == 404
    assert imports.get_item(other_tenant.company_id, theirs)["status"] == "AWAITING_UPLOAD"
    detail, _ = _start(owner, PRODUCTS)
    mine = detail.rsplit("/", 1)[1]
    assert owner.get(f"{CUSTOMERS}/{mine}").status == 404  # a products import is not a customers import
    assert owner.get(f"{PRODUCTS}/{'0' * 26}").status == 404


def test_starting_and_applying_need_the_csrf_token(owner: Browser, tenant, stack) -> None:
    from distribu import imports

    owner.get(PRODUCTS)
    assert owner.post(PRODUCTS, {}, csrf="forged").status == 403
    detail, ready = _import(owner, stack, PRODUCTS, factories.csv_text("products", _product_rows()[:1]))
    import_id = detail.rsplit("/", 1)[1]
    assert owner.post(detail + "/apply", {}, csrf=None).status == 403
    assert imports.get_item(tenant.company_id, import_id)["status"] == "READY"


@pytest.mark.parametrize("role", ["ADMIN", "MEMBER"])
def test_every_role_may_import_and_export_as_the_role_table_says(stack, tenant, role) -> None:
    """Imports are ``catalog`` (products) and ``customers`` work: OWNER, ADMIN and MEMBER alike."""
    factories.staff_member(tenant.company_id, f"{role.lower()}@acme.test", role=role)
    browser = signed_in(stack, f"{role.lower()}@acme.test")
    for base in (PRODUCTS, CUSTOMERS):
        detail, page = _start(browser, base)
        assert "Choose the file" in page.text
    assert browser.get("/dashboard/customers/export").status == 303


def test_signed_out_visitors_are_sent_to_sign_in(client: Browser) -> None:
    for path in (PRODUCTS, CUSTOMERS, "/dashboard/inventory/export", f"{PRODUCTS}/{'0' * 26}/progress"):
        response = client.get(path)
        assert response.status == 302 and response.location.startswith("/login?next="), path
