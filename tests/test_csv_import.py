"""CSV imports end to end: uploads land in moto's S3, whose notifications moto puts on the imports queue;
the tests hand those very messages to csv_import's real Lambda handler (one per invocation, as the
template's BatchSize 1 does), then drive the API and the CLI.

Covered: the s3:TestEvent and URL-encoded keys, previews that write nothing, bad and duplicate rows,
redelivered notifications, a crash mid-apply and the retry that finishes it, rows changed by someone
else between preview and apply, leases, an apply that runs out of time and continues, 100,000 rows.
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import pytest

from distribu_local.apigateway import LambdaContext
from tests.conftest import Tenant, call_api, make_tenant
from tests.csv_import_driver import (PRODUCTS_HEADER, actor, all_items, apply, audit_actions, client, create_product,
                                     deliver, events, invoke, preview, products_csv, put_object, queue_url, record,
                                     run_cli, upload, view)

# --- the flow -------------------------------------------------------------------------------------------------

def test_products_upload_preview_then_apply_through_real_s3_events(stack, tenant: Tenant) -> None:
    import requests

    same = create_product(tenant, sku="KEEP-1", name="Kept", price=3, stock=7, category="Tools")
    moved = create_product(tenant, sku="MOVE-1", name="Old name", price=1, stock=1)
    started = call_api("POST", "/api/v1/imports", key=tenant.key, json_body={"kind": "products", "fileName": "p.csv"})
    assert started.status == 201, started.body
    created = started.body["data"]
    assert created["status"] == "AWAITING_UPLOAD" and created["kind"] == "products" and created["fileName"] == "p.csv"
    upload_form = created["upload"]
    assert upload_form["method"] == "POST" and upload_form["maxBytes"] == 50 * 1024 * 1024
    assert upload_form["fields"]["key"] == f"imports/{tenant.company_id}/products/{created['id']}.csv"

    text = ("Item Code,Product Name,Desc,Department,UOM,Unit Price,Qty,Active,Warehouse\n"
            "KEEP-1,Kept,,Tools,each,3.00,7,yes,A\n"
            "MOVE-1,New name,Now described,,case,1.25,12,no,B\n"
            "NEW-1,Brand new,,Fasteners,,\"$1,000.00\",5,,C\n")
    response = requests.post(upload_form["url"], data=upload_form["fields"], files={"file": ("p.csv", text.encode())})
    assert response.status_code in (200, 204)

    deliveries = deliver(stack)
    assert [delivery.body.get("Event") for delivery in deliveries][:1] == ["s3:TestEvent"]
    assert not any(delivery.failed for delivery in deliveries)
    got = call_api("GET", f"/api/v1/imports/{created['id']}", key=tenant.key)
    assert got.status == 200
    previewed = got.body["data"]
    assert previewed["status"] == "READY"
    assert previewed["preview"] == {"rows": 3, "create": 1, "update": 1, "unchanged": 1, "invalid": 0}
    assert previewed["progress"]["rowsRead"] == 3 and previewed["progress"]["totalRows"] == 3
    assert previewed["errors"] == [] and previewed["errorCount"] == 0 and previewed["errorReportUrl"] is None
    assert previewed["ignoredColumns"] == ["Warehouse"]
    # Nothing but the import record was written by the preview.
    assert call_api("GET", f"/api/v1/products/{moved['id']}", key=tenant.key).body["data"] == moved
    assert len(all_items(tenant, "PRODUCT#")) == 2

    applied = apply(stack, tenant, created["id"])
    assert applied["status"] == "APPLIED" and applied["appliedAt"]
    assert applied["applied"] == {"created": 1, "updated": 1, "unchanged": 1}
    assert applied["progress"]["rowsApplied"] == 3
    products = {item["sku"]: item for item in all_items(tenant, "PRODUCT#")}
    assert set(products) == {"KEEP-1", "MOVE-1", "NEW-1"}
    assert products["KEEP-1"]["updatedAt"] == same["updatedAt"] and products["KEEP-1"]["version"] == 1
    after = call_api("GET", f"/api/v1/products/{moved['id']}", key=tenant.key).body["data"]
    assert {name: after[name] for name in ("name", "description", "category", "unit", "price", "stock", "isActive")} == {
        "name": "New name", "description": "Now described", "category": None, "unit": "case", "price": 1.25,
        "stock": 12, "isActive": False}
    new = products["NEW-1"]
    assert new["unit"] == "each" and new["isActive"] is True and new["price"] == 1000
    found = call_api("GET", "/api/v1/products", key=tenant.key, query={"search": "new-1"}).body["data"]
    assert [product["id"] for product in found] == [new["id"]]  # listed and searchable like any product
    updated_events = [event["data"]["sku"] for event in events(tenant, "product.updated")]
    assert sorted(updated_events) == ["KEEP-1", "MOVE-1", "MOVE-1", "NEW-1"]  # 2 from the API, 2 from the import
    entries = audit_actions(tenant, "ImportApplied")
    assert len(entries) == 1 and entries[0]["entityType"] == "Import" and entries[0]["entityId"] == created["id"]
    assert entries[0]["details"] == {"importId": created["id"], "kind": "products", "fileName": "p.csv", "rows": 3,
                                     "created": 1, "updated": 1, "unchanged": 1}
    assert entries[0]["actorType"] == "API_KEY" and entries[0]["actorId"] == tenant.key_id


def test_customers_import_upserts_by_lowercased_email_and_ignores_passwords(stack, tenant: Tenant) -> None:
    existing = call_api("POST", "/api/v1/customers", key=tenant.key,
                        json_body={"email": "bob@acme.com", "name": "Bob", "notes": "keep"}).body["data"]
    text = ("E-mail,Full Name,State,Comments,Credit Line,Password\n"
            "BOB@Acme.com,Robert,blocked,,2500,hunter2\n"
            "ann@initech.example,Ann,,VIP,,secret\n")
    import_id, previewed = preview(stack, tenant, "customers", text)
    assert previewed["status"] == "READY" and previewed["ignoredColumns"] == ["Password"]
    assert previewed["preview"] == {"rows": 2, "create": 1, "update": 1, "unchanged": 0, "invalid": 0}
    applied = apply(stack, tenant, import_id)
    assert applied["applied"] == {"created": 1, "updated": 1, "unchanged": 0}
    bob = call_api("GET", f"/api/v1/customers/{existing['id']}", key=tenant.key).body["data"]
    assert (bob["name"], bob["status"], bob["notes"], bob["creditLimit"]) == ("Robert", "BLOCKED", None, 2500)
    ann = [item for item in all_items(tenant, "CUSTOMER#") if item["email"] == "ann@initech.example"][0]
    assert ann["status"] == "ACTIVE" and ann["notes"] == "VIP" and ann["emailVerified"] is False
    assert "passwordHash" not in ann and all("hunter2" not in json.dumps(item, default=str)
                                             for item in all_items(tenant, ""))
    assert [event["data"]["email"] for event in events(tenant, "customer.created")] == ["bob@acme.com", "ann@initech.example"]
    assert [event["data"]["email"] for event in events(tenant, "customer.updated")] == ["bob@acme.com"]
    duplicate = call_api("POST", "/api/v1/customers", key=tenant.key, json_body={"email": "ANN@initech.example"})
    assert duplicate.status == 409  # the import wrote the email guard too


def test_keys_arrive_url_encoded_and_foreign_objects_are_ignored(stack, tenant: Tenant) -> None:
    from distribu import imports

    put_object("imports/price list.csv", "name,price\nWidget,1.50\n")
    put_object(f"imports/{tenant.company_id}/products/not an import.csv", PRODUCTS_HEADER)
    put_object(f"imports/{tenant.company_id}/products/{'0' * 26}.csv", PRODUCTS_HEADER)  # no such import
    import_id = upload(tenant, "products", products_csv(2))
    deliveries = deliver(stack)
    assert deliveries[0].body["Event"] == "s3:TestEvent" and not any(delivery.failed for delivery in deliveries)
    raw_keys = [key for delivery in deliveries for key in delivery.keys]
    assert "imports%2Fprice+list.csv" in raw_keys
    assert imports.upload_key(tenant.company_id, "products", import_id).replace("/", "%2F") in raw_keys
    assert view(tenant, import_id)["status"] == "READY"


def test_invalid_rows_are_all_listed_and_block_the_apply(stack, tenant: Tenant) -> None:
    import requests

    bad = "".join(f"BAD-{number},Item,{'x' if number % 2 else '-1'},1,true\n" for number in range(150))
    text = "sku,name,price,stock,isActive\nGOOD-1,Fine,1,1,true\n" + bad + "GOOD-1,Again,1,1,true\n"
    import_id, previewed = preview(stack, tenant, "products", text)
    assert previewed["status"] == "INVALID"
    assert previewed["preview"] == {"rows": 152, "create": 1, "update": 0, "unchanged": 0, "invalid": 151}
    assert previewed["errorCount"] == 151 and len(previewed["errors"]) == 100
    assert previewed["errors"][:2] == [{"row": 3, "field": "price", "message": "must be at least 0"},
                                       {"row": 4, "field": "price", "message": "must be a number"}]
    report = requests.get(previewed["errorReportUrl"])
    assert report.status_code == 200
    lines = list(csv.reader(io.StringIO(report.text)))
    assert lines[0] == ["row", "field", "message"] and len(lines) == 152
    assert lines[-1] == ["153", "sku", 'Duplicate SKU "GOOD-1" also on row 2']
    refused = call_api("POST", f"/api/v1/imports/{import_id}/apply", key=tenant.key)
    assert refused.status == 422
    assert refused.body == {"error": "This import has invalid rows and cannot be applied; fix the file and upload it again."}
    assert all_items(tenant, "PRODUCT#") == [] and all_items(tenant, "SKU#") == []


@pytest.mark.parametrize("body, message", [
    (b"", "The file is empty: the first row must name the columns."),
    (b"sku,name,price,stock\n", "The file has no rows to import."),
    (b"sku,title\nA,B\n", 'Missing required column "price".'),
])
def test_files_that_cannot_be_imported_say_why(stack, tenant: Tenant, body: bytes, message: str) -> None:
    _, previewed = preview(stack, tenant, "products", body)
    assert previewed["status"] == "INVALID" and previewed["errors"][0]["message"] == message


def test_a_file_over_the_size_limit_and_a_file_that_is_not_utf8(stack, tenant: Tenant, monkeypatch) -> None:
    from distribu import imports

    monkeypatch.setattr(imports.preview, "MAX_BYTES", 60)
    _, previewed = preview(stack, tenant, "products", products_csv(3))
    assert previewed["status"] == "INVALID"
    assert previewed["errors"] == [{"row": 1, "field": "file", "message": "The file is larger than 0 MB; split it into smaller files."}]
    monkeypatch.undo()
    latin1 = "sku,name,price,stock\nA,Caf\xe9,1,1\nB,Plain,1,1\n".encode("latin-1")
    _, previewed = preview(stack, tenant, "products", latin1)
    assert previewed["errors"] == [{"row": 2, "field": "row", "message": 'has characters that are not UTF-8 text; '
                                                                          'save the file as "CSV UTF-8" and upload it again'}]


def test_a_missing_upload_fails_the_import_clearly(stack, tenant: Tenant) -> None:
    from distribu import imports

    import_id = upload(tenant, "products", products_csv(1))
    client("s3").delete_object(Bucket=os.environ["IMPORTS_BUCKET"],
                                     Key=imports.upload_key(tenant.company_id, "products", import_id))
    deliver(stack)
    failed = view(tenant, import_id)
    assert failed["status"] == "FAILED" and failed["failure"] == "The uploaded file is missing; upload it again as a new import."
    response = call_api("POST", f"/api/v1/imports/{import_id}/apply", key=tenant.key)
    assert response.status == 422 and response.body["error"].startswith("This import failed and cannot be applied")


# --- idempotent triggers ---------------------------------------------------------------------------------

def test_a_redelivered_upload_notification_does_not_run_the_preview_again(stack, tenant: Tenant, monkeypatch) -> None:
    from distribu import imports

    import_id = upload(tenant, "products", products_csv(5))
    deliveries = deliver(stack)
    first = record(tenant, import_id)
    assert first["status"] == "READY" and int(first["validationAttempts"]) == 1

    runs = []
    monkeypatch.setattr(imports.preview.Preview, "run", lambda self: runs.append(self))
    for delivery in deliveries:
        assert not invoke(delivery.message).get("batchItemFailures")
    assert runs == [] and record(tenant, import_id) == first


def test_a_redelivered_apply_notification_does_not_apply_twice(stack, tenant: Tenant) -> None:
    import_id, _ = preview(stack, tenant, "products", products_csv(4))
    call_api("POST", f"/api/v1/imports/{import_id}/apply", key=tenant.key)
    sqs = client("sqs")
    message = sqs.receive_message(QueueUrl=queue_url(stack), MaxNumberOfMessages=1)["Messages"][0]
    assert not invoke(message).get("batchItemFailures")
    done = record(tenant, import_id)
    assert done["status"] == "APPLIED"
    assert not invoke(message).get("batchItemFailures")  # the same notification again
    again = call_api("POST", f"/api/v1/imports/{import_id}/apply", key=tenant.key)  # and the API again
    assert again.status == 202 and again.body["data"]["status"] == "APPLIED"
    deliver(stack)
    assert record(tenant, import_id) == done
    assert len(all_items(tenant, "PRODUCT#")) == 4 and len(events(tenant, "product.updated")) == 4
    assert len(audit_actions(tenant, "ImportApplied")) == 1


def test_a_worker_holding_the_import_makes_the_message_come_back_later(stack, tenant: Tenant) -> None:
    from distribu import imports

    import_id = upload(tenant, "products", products_csv(3))
    assert imports.preview.claim_validation(tenant.company_id, import_id, "someone-else", "products")[0] == imports.DONE
    deliveries = [delivery for delivery in deliver(stack) if delivery.keys]
    assert len(deliveries) == 1 and deliveries[0].failed
    assert record(tenant, import_id)["status"] == "VALIDATING"
    # The other worker died: once its lease runs out, the message that comes back does the work.
    imports.records.update_record(tenant.company_id, import_id, "SET leaseUntil = :past", values={":past": 0})
    assert not invoke(deliveries[0].message).get("batchItemFailures")
    assert view(tenant, import_id)["status"] == "READY"


# --- apply: all or nothing, exactly once ---------------------------------------------------------------------

def test_a_crash_mid_apply_is_resumed_by_the_retry_without_duplicates(stack, tenant: Tenant, monkeypatch) -> None:
    from distribu import imports

    import_id, previewed = preview(stack, tenant, "products", products_csv(200))
    assert previewed["preview"]["create"] == 200
    call_api("POST", f"/api/v1/imports/{import_id}/apply", key=tenant.key)
    real, chunks = imports.applying.write_chunk, []

    def crash_after_three(writes: list[dict[str, Any]]) -> None:
        if len(chunks) == 3:
            raise ConnectionError("the function died")
        real(writes)
        chunks.append(len(writes))

    monkeypatch.setattr(imports.applying, "write_chunk", crash_after_three)
    message = client("sqs").receive_message(QueueUrl=queue_url(stack), MaxNumberOfMessages=1)["Messages"][0]
    assert invoke(message)["batchItemFailures"] == [{"itemIdentifier": message["MessageId"]}]
    halfway = record(tenant, import_id)
    assert halfway["status"] == "APPLYING" and int(halfway["leaseUntil"]) == 0  # lease handed back at once
    assert int(halfway["rowsApplied"]) == 99 and int(halfway["appliedThrough"]) == 100  # 3 chunks of 33 rows
    assert "ConnectionError" in halfway["lastError"]
    assert len(all_items(tenant, "PRODUCT#")) == 99 == len(events(tenant, "product.updated"))
    assert view(tenant, import_id)["applied"] == {"created": 99, "updated": 0, "unchanged": 0}

    monkeypatch.setattr(imports.applying, "write_chunk", real)
    assert not invoke(message).get("batchItemFailures")  # SQS hands the message back: the retry
    done = view(tenant, import_id)
    assert done["status"] == "APPLIED" and done["applied"] == {"created": 200, "updated": 0, "unchanged": 0}
    products = all_items(tenant, "PRODUCT#")
    assert len(products) == 200 and len({item["sku"] for item in products}) == 200
    assert {item["id"] for item in products} == {imports.derived_id(import_id, row) for row in range(2, 202)}
    assert len(all_items(tenant, "SKU#")) == 200 and len(events(tenant, "product.updated")) == 200
    entries = audit_actions(tenant, "ImportApplied")
    assert len(entries) == 1 and entries[0]["details"]["created"] == 200


def test_a_chunk_whose_answer_was_lost_is_not_written_twice(stack, tenant: Tenant, monkeypatch) -> None:
    """The transaction committed but its answer never came back (the SDK retries it): the retry fails on
    the checkpoint, which shows the chunk done by this very worker, so the apply carries on."""
    from distribu import imports

    import_id, _ = preview(stack, tenant, "products", products_csv(70))
    real, calls = imports.applying.write_chunk, []

    def commit_then_lose_the_answer(writes: list[dict[str, Any]]) -> None:
        calls.append(1)
        real(writes)
        if len(calls) == 1:
            real(writes)  # the retry of a committed transaction

    monkeypatch.setattr(imports.applying, "write_chunk", commit_then_lose_the_answer)
    applied = apply(stack, tenant, import_id)
    assert applied["status"] == "APPLIED" and applied["applied"]["created"] == 70
    assert len(all_items(tenant, "PRODUCT#")) == 70 and len(events(tenant, "product.updated")) == 70


def test_records_changed_by_others_after_the_preview_are_upserted_not_duplicated(stack, tenant: Tenant,
                                                                                  monkeypatch) -> None:
    from distribu import catalog, imports

    existing = create_product(tenant, sku="SKU-000001", name="Before", price=9, stock=9)
    import_id, previewed = preview(stack, tenant, "products", products_csv(40))
    assert previewed["preview"]["create"] == 39 and previewed["preview"]["update"] == 1
    # Meanwhile: someone creates a SKU the file creates, and an order-like write moves the stock of another.
    taken = create_product(tenant, sku="sku-000002", name="Raced", price=5, stock=5)
    real, calls = imports.applying.write_chunk, []

    def someone_writes_first(writes: list[dict[str, Any]]) -> None:
        if not calls:
            catalog.update_product(tenant.company_id, existing["id"], {"stock": 1}, actor())
        calls.append(1)
        real(writes)

    monkeypatch.setattr(imports.applying, "write_chunk", someone_writes_first)
    applied = apply(stack, tenant, import_id)
    assert applied["status"] == "APPLIED"
    assert applied["applied"] == {"created": 38, "updated": 2, "unchanged": 0}
    products = {item["sku"].lower(): item for item in all_items(tenant, "PRODUCT#")}
    assert len(products) == 40 and len(all_items(tenant, "SKU#")) == 40
    assert products["sku-000002"]["id"] == taken["id"] and products["sku-000002"]["sku"] == "SKU-000002"
    assert products["sku-000001"]["name"] == "Product 1" and int(products["sku-000001"]["stock"]) == 1
    assert len(calls) >= 3  # the chunk that met the moved stock was planned again and retried


def test_an_apply_that_runs_out_of_time_continues_in_a_fresh_invocation(stack, tenant: Tenant) -> None:
    import_id, _ = preview(stack, tenant, "products", products_csv(120))
    assert call_api("POST", f"/api/v1/imports/{import_id}/apply", key=tenant.key).status == 202

    class RunningOut(LambdaContext):
        """A Lambda context whose time runs short after three chunks (the first is always done)."""

        calls = 0

        def get_remaining_time_in_millis(self) -> int:
            self.calls += 1
            return 900_000 if self.calls <= 2 else 30_000

    message = client("sqs").receive_message(QueueUrl=queue_url(stack), MaxNumberOfMessages=1)["Messages"][0]
    assert not invoke(message, RunningOut(function_name="csv_import")).get("batchItemFailures")
    client("sqs").delete_message(QueueUrl=queue_url(stack), ReceiptHandle=message["ReceiptHandle"])
    paused = record(tenant, import_id)
    assert paused["status"] == "APPLYING" and int(paused["rowsApplied"]) == 99 and int(paused["leaseUntil"]) == 0
    rest = deliver(stack)  # the continuation the paused worker fired
    assert [key for delivery in rest for key in delivery.keys] == [
        f"imports%2F{tenant.company_id}%2Fproducts%2F{import_id}.apply.csv"]
    assert view(tenant, import_id)["applied"] == {"created": 120, "updated": 0, "unchanged": 0}
    assert len(all_items(tenant, "PRODUCT#")) == 120


def test_a_stalled_apply_is_restarted_by_asking_again(stack, tenant: Tenant, monkeypatch) -> None:
    from distribu import imports

    import_id, _ = preview(stack, tenant, "products", products_csv(3))
    monkeypatch.setattr(imports.applying, "trigger_apply", lambda item: (_ for _ in ()).throw(ConnectionError("S3 is down")))
    with pytest.raises(ConnectionError):
        imports.request_apply(tenant.company_id, import_id, actor())
    assert record(tenant, import_id)["status"] == "APPLYING" and deliver(stack) == []
    monkeypatch.undo()
    again = call_api("POST", f"/api/v1/imports/{import_id}/apply", key=tenant.key)
    assert again.status == 202 and again.body["data"]["status"] == "APPLYING"
    deliver(stack)
    assert view(tenant, import_id)["status"] == "APPLIED"


# --- the API ---------------------------------------------------------------------------------------------

def test_import_scopes_follow_the_kind(stack) -> None:
    products_only = make_tenant("Scoped Supply", scopes=["products:write"])
    response = call_api("POST", "/api/v1/imports", key=products_only.key, json_body={"kind": "customers"})
    assert response.status == 403
    assert response.body == {"error": 'Insufficient permissions. This key lacks the "customers:write" scope.'}
    allowed = call_api("POST", "/api/v1/imports", key=products_only.key, json_body={"kind": "products"})
    assert allowed.status == 201
    from distribu import imports

    theirs = imports.create_import(products_only.company_id, "customers", actor())
    response = call_api("GET", f"/api/v1/imports/{theirs['id']}", key=products_only.key)
    assert response.status == 403 and "customers:write" in response.body["error"]


@pytest.mark.parametrize("body, detail", [
    ({"kind": "orders"}, "kind"), ({}, "kind"), ({"kind": "products", "extra": 1}, "extra"),
    ({"kind": "products", "fileName": "x" * 256}, "fileName"),
])
def test_bad_import_requests_are_400(stack, tenant: Tenant, body: dict[str, Any], detail: str) -> None:
    response = call_api("POST", "/api/v1/imports", key=tenant.key, json_body=body)
    assert response.status == 400 and response.body["error"] == "Validation failed."
    assert [item["field"] for item in response.body["details"]] == [detail]
    assert call_api("POST", "/api/v1/imports", key=tenant.key, raw_body="{nope").body == {"error": "Invalid JSON body."}


def test_another_companys_import_is_not_found(stack, tenant: Tenant, other_tenant: Tenant) -> None:
    from distribu import imports

    theirs = imports.create_import(other_tenant.company_id, "products", actor())
    for method, path in (("GET", f"/api/v1/imports/{theirs['id']}"), ("POST", f"/api/v1/imports/{theirs['id']}/apply"),
                         ("GET", "/api/v1/imports/nope")):
        response = call_api(method, path, key=tenant.key)
        assert (response.status, response.body) == (404, {"error": "Import not found."})
    assert record(other_tenant, theirs["id"])["status"] == "AWAITING_UPLOAD"


def test_apply_before_the_preview_is_ready_is_refused(stack, tenant: Tenant) -> None:
    created = call_api("POST", "/api/v1/imports", key=tenant.key, json_body={"kind": "products"}).body["data"]
    response = call_api("POST", f"/api/v1/imports/{created['id']}/apply", key=tenant.key)
    assert (response.status, response.body) == (422, {"error": "The file has not been uploaded yet."})


def test_creating_an_import_honours_idempotency_keys(stack, tenant: Tenant) -> None:
    headers = {"Idempotency-Key": "import-1"}
    first = call_api("POST", "/api/v1/imports", key=tenant.key, json_body={"kind": "products"}, headers=headers)
    second = call_api("POST", "/api/v1/imports", key=tenant.key, json_body={"kind": "products"}, headers=headers)
    assert first.status == second.status == 201 and first.body == second.body
    assert second.headers.get("idempotent-replayed") == "true"
    assert len([item for item in all_items(tenant, "IMPORT#")]) == 1


# --- the CLI -----------------------------------------------------------------------------------------------

def test_cli_previews_applies_and_exits_1_on_invalid_rows(stack, tenant: Tenant, tmp_path, capsys) -> None:
    good = tmp_path / "products.csv"
    good.write_text(products_csv(3))
    code, out, _ = run_cli(capsys, "import", "products", str(good), "--company", tenant.slug)
    assert code == 0 and out["status"] == "READY" and out["preview"]["create"] == 3
    assert all_items(tenant, "PRODUCT#") == []
    code, out, _ = run_cli(capsys, "import", "apply", out["id"], "--company", tenant.slug)
    assert code == 0 and out["status"] == "APPLIED" and out["applied"]["created"] == 3

    customers = tmp_path / "customers.csv"
    customers.write_text("email,name\nbuyer@acme.test,Buyer\n")
    code, out, _ = run_cli(capsys, "import", "customers", str(customers), "--company", tenant.slug, "--apply")
    assert code == 0 and out["status"] == "APPLIED" and out["applied"] == {"created": 1, "updated": 0, "unchanged": 0}
    code, shown, _ = run_cli(capsys, "import", "show", out["id"], "--company", tenant.slug)
    assert code == 0 and shown["status"] == "APPLIED"

    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,price,stock\nA,B,cheap,1\n")
    code, out, _ = run_cli(capsys, "import", "products", str(bad), "--company", tenant.slug, "--apply")
    assert code == 1 and out["status"] == "INVALID"
    assert out["errors"] == [{"row": 2, "field": "price", "message": "must be a number"}]
    assert len(all_items(tenant, "PRODUCT#")) == 3

    code, out, err = run_cli(capsys, "import", "products", str(tmp_path / "missing.csv"), "--company", tenant.slug)
    assert code == 1 and out is None and err["error"].startswith("No such file")


def test_cli_waits_for_a_worker_that_holds_the_import(stack, tenant: Tenant, tmp_path, capsys, monkeypatch) -> None:
    """With the local stack running, its function may take the upload first: the CLI then waits for it."""
    from distribu import imports
    from distribu_cli import csv_commands

    real = imports.validate
    calls = []

    def function_got_there_first(company_id: str, import_id: str, **kwargs: Any) -> str:
        calls.append(kwargs["owner"])
        if len(calls) == 1:
            assert real(company_id, import_id, owner="the-function", kind="products") == imports.DONE
            return imports.BUSY
        return real(company_id, import_id, **kwargs)

    monkeypatch.setattr(imports, "validate", function_got_there_first)
    monkeypatch.setattr(csv_commands, "POLL_SECONDS", 0)
    file = tmp_path / "p.csv"
    file.write_text(products_csv(2))
    code, out, _ = run_cli(capsys, "import", "products", str(file), "--company", tenant.slug)
    assert code == 0 and out["status"] == "READY" and len(calls) == 1


# --- scale -----------------------------------------------------------------------------------------------------

def test_a_100000_row_file_is_previewed_streaming_with_progress(stack, tenant: Tenant, monkeypatch) -> None:
    """100,000 rows (about 8 MB) through the real handler. moto writes ~260 rows/s through transactions
    in-process, so applying all of them here would take ~7 minutes: the apply at this size is what
    ``bench/bench_imports.py`` measures (and ``DISTRIBU_SLOW_TESTS=1`` runs it here too)."""
    from distribu import imports

    saved = []
    real_progress = imports.preview.Preview.progress

    def progress(self: Any) -> None:
        saved.append(self.rows_read)
        real_progress(self)

    monkeypatch.setattr(imports.preview.Preview, "progress", progress)
    body = products_csv(100_000) + "SKU-000007,Dup,,,,1,1,\n"
    import_id, previewed = preview(stack, tenant, "products", body)
    assert previewed["status"] == "INVALID"
    assert previewed["preview"] == {"rows": 100_001, "create": 100_000, "update": 0, "unchanged": 0, "invalid": 1}
    assert previewed["errors"] == [{"row": 100_002, "field": "sku", "message": 'Duplicate SKU "SKU-000007" also on row 9'}]
    assert saved == list(range(5_000, 100_001, 5_000))  # progress stored as it went
    assert all_items(tenant, "PRODUCT#") == []

    if os.environ.get("DISTRIBU_SLOW_TESTS") != "1":
        return
    import_id, previewed = preview(stack, tenant, "products", products_csv(100_000))
    applied = apply(stack, tenant, import_id)
    assert applied["applied"] == {"created": 100_000, "updated": 0, "unchanged": 0}
