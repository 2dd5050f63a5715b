"""``make run`` end to end: the local stack in its own process, on free ports, with a temporary state folder.

The stack sets ``AWS_ENDPOINT_URL`` and friends process-wide, so it runs as a subprocess
(``python -m distribu_local.stack``): the other tests, which use in-process ``mock_aws``, never see it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from typing import Any, Iterator

import pytest

from tests.local_stack_driver import ROOT, Running, wait_for


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    def watched() -> dict[str, str]:
        return {name: value for name, value in os.environ.items() if name.startswith(("AWS_", "DISTRIBU_"))}

    saved = watched()
    running = Running(tmp_path_factory.mktemp("local-state"), tmp_path_factory.mktemp("local-logs"))
    running.start()
    try:
        yield running
    finally:
        running.stop()
        assert watched() == saved  # nothing leaked into this process


def quiet(local: Running) -> dict[str, Any]:
    """Wait until every queue is empty and the counters stopped moving; return the counters."""
    def settled() -> dict[str, Any] | None:
        first = local.status()
        time.sleep(0.4)
        second = local.status()
        busy = any(queue.get("visible") or queue.get("inFlight") for name, queue in second["queues"].items()
                   if "DeadLetter" not in name)
        moved = {name: value for name, value in first.items() if name != "queues"} != \
                {name: value for name, value in second.items() if name != "queues"}
        return None if busy or moved else second

    return wait_for(settled, 15, "the pumps to go quiet", interval=0)


# --- the tests, in order: the last one restarts the stack -------------------------------------------------
def test_seeded_products_are_listed_page_by_page(local: Running) -> None:
    key = local.demo()["apiKey"]
    assert key in local.log(), "the API key is printed"
    assert f'curl -s {local.url}/api/v1/products -H "Authorization: Bearer {key}"' in local.log()
    assert "owner@demo.test / demo-password-1" in local.log()
    seen: list[dict[str, Any]] = []
    cursor = None
    for _ in range(10):
        status, body = local.json("GET", "/api/v1/products?limit=12" + (f"&cursor={cursor}" if cursor else ""),
                                  key=key)
        assert status == 200, body
        assert len(body["data"]) <= 12
        seen += body["data"]
        cursor = body["pagination"]["nextCursor"]
        if not body["pagination"]["hasMore"]:
            break
        assert len(body["data"]) == 12 and cursor
    assert len(seen) == 30 and len({product["id"] for product in seen}) == 30
    assert {"Fasteners", "Tools", "Electrical", "Plumbing", "Safety", "Packaging"} <= \
        {product["category"] for product in seen}
    stocks = [product["stock"] for product in seen]
    assert stocks.count(0) == 2 and sum(1 for stock in stocks if 1 <= stock <= 5) >= 3
    local.created["product_count"] = len(seen)


def test_a_created_product_can_be_read_back(local: Running) -> None:
    key = local.demo()["apiKey"]
    status, created = local.json("POST", "/api/v1/products", key=key,
                                 body={"name": "Local stack widget", "sku": "LOCAL-1", "price": 2.5, "stock": 7})
    assert status == 201, created
    status, fetched = local.json("GET", f"/api/v1/products/{created['data']['id']}", key=key)
    assert status == 200 and fetched == created
    local.created["product"] = created["data"]


def catalog_head(local: Running) -> dict[str, Any] | None:
    """The demo company's catalog index head, straight from the embedded DynamoDB."""
    demo = local.demo()
    item = local.aws("dynamodb").get_item(TableName="distribu-local-Table", Key={
        "PK": {"S": f"C#{demo['companyId']}"}, "SK": {"S": "CATIDX"}}).get("Item")
    return item


def test_product_changes_reach_the_catalog_index_through_the_projections_pipe(local: Running) -> None:
    def built() -> dict[str, Any] | None:
        head = catalog_head(local)
        return head if head and int(head["active"]["N"]) == local.created["product_count"] + 1 else None

    head = wait_for(built, 15, "the seeded and the created product to reach the catalog index")
    status = quiet(local)
    assert status["pipes"]["ProjectionsPipe"]["matched"] >= local.created["product_count"] + 1
    trigger = status["triggers"]["ProjectionsFunction/ProjectionsQueue"]
    assert trigger["succeeded"] >= 1 and trigger["failed"] == trigger["errors"] == 0
    assert (int(head["healthy"]["N"]), int(head["low"]["N"]), int(head["out"]["N"])) == (24, 5, 2)


def test_storefront_dashboard_and_docs_answer_with_html(local: Running) -> None:
    for path in ("/store/demo-distributors/login", "/login", "/signup", "/api/v1/docs"):
        status, headers, body = local.get(path)
        assert status == 200, (path, body[:300])
        assert headers["content-type"].startswith("text/html") and b"<" in body, path
    assert b"Demo Distributors" in local.get("/store/demo-distributors/login")[2]
    for path, location in (("/", "/login"), ("/dashboard", "/login"), ("/store/demo-distributors",
                                                                        "/store/demo-distributors/login")):
        status, headers, _ = local.get(path)
        assert status == 302 and headers["location"] == location, path
    assert local.get("/store/no-such-store")[0] == 404


def test_unknown_paths_and_methods_are_404_json(local: Running) -> None:
    for method, path in (("GET", "/nope"), ("GET", "/api/v2/products"), ("DELETE", "/dashboard"),
                         ("GET", "/api/v1")):
        status, headers, body = local.request(method, path)
        assert status == 404, (method, path)
        assert headers["content-type"] == "application/json" and json.loads(body) == {"error": "Not found."}


def raw_request(local: Running, text: str) -> tuple[str, bytes]:
    """What the gateway answers to ``text`` sent as is (http.client cannot send two Host headers)."""
    with socket.create_connection(("127.0.0.1", local.http_port), timeout=30) as connection:
        connection.sendall(text.encode())
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return head.decode("latin-1"), body


def test_the_gateway_names_no_server_software_and_answers_two_hosts_with_a_json_400(local: Running) -> None:
    key = local.demo()["apiKey"]
    for path in ("/api/v1/products", "/api/v1/nope", "/_local/mail.json", "/nope", "/login"):
        status, headers, _ = local.get(path, key=key)
        assert "server" not in headers, (path, headers.get("server"))
    for path in ("/api/v1/products/", "/api/v1/products", "/store/demo-distributors/", "/nope"):
        head, body = raw_request(local, f"GET {path} HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n"
                                        "Connection: close\r\n\r\n")
        assert head.startswith("HTTP/1.1 400"), (path, head)
        assert "application/json" in head.lower() and json.loads(body) == {
            "error": "Bad request: more than one Host header."}
        assert "werkzeug" not in head.lower()


def test_api_answers_are_never_sniffed_and_authenticated_ones_never_cached(local: Running) -> None:
    key = local.demo()["apiKey"]
    for path, sent_key in (("/api/v1/products", key), ("/api/v1/webhooks", key), ("/api/v1/products", "dk_wrong"),
                           ("/api/v1/openapi.json", None), ("/api/v1/nope", None)):
        _, headers, _ = local.get(path, key=sent_key)
        assert headers["x-content-type-options"] == "nosniff", path
        assert (headers.get("cache-control") == "no-store") is (sent_key is not None), path


def test_the_cli_finds_the_stack_by_its_port_or_by_its_state_folder(local: Running) -> None:
    recorded = json.loads((local.state_dir / "stack.json").read_text())
    assert (recorded["awsEndpoint"], recorded["httpUrl"]) == (local.aws_endpoint, local.url)
    bare = {name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "DISTRIBU_"))}
    bare["PYTHONPATH"] = os.pathsep.join(str(ROOT / part) for part in ("local", "layers/shared", "cli"))
    for found_by in ({"DISTRIBU_LOCAL_AWS_PORT": str(local.aws_port)},
                     {"DISTRIBU_LOCAL_STATE_DIR": str(local.state_dir)}):
        completed = subprocess.run([sys.executable, "-m", "distribu_cli.main", "api-key", "list", "--company",
                                    "demo-distributors"], env={**bare, **found_by}, cwd=ROOT, capture_output=True,
                                   text=True, timeout=120)
        assert completed.returncode == 0, (found_by, completed.stderr)
        assert any(key["name"] for key in json.loads(completed.stdout)), found_by


def test_emails_sent_through_ses_are_listed(local: Running) -> None:
    status, before = local.json("GET", "/_local/mail.json")
    assert status == 200 and isinstance(before, list)
    ses = local.aws("ses")
    ses.send_email(Source="noreply@example.com", Destination={"ToAddresses": ["buyer@northwind.test"]},
                   Message={"Subject": {"Data": "Your <order> shipped"}, "Body": {"Text": {"Data": "Tracking: 42"}}})
    ses.send_raw_email(RawMessage={"Data": "From: noreply@example.com\r\nTo: owner@demo.test\r\n"
                                           "Subject: Low stock\r\n\r\nFlat Washer M8 is low.\r\n"})
    status, after = local.json("GET", "/_local/mail.json")
    assert status == 200 and len(after) == len(before) + 2
    newest, previous = after[0], after[1]
    assert newest["subject"] == "Low stock" and newest["to"] == ["owner@demo.test"]
    assert newest["text"].strip() == "Flat Washer M8 is low." and newest["from"] == "noreply@example.com"
    assert previous["subject"] == "Your <order> shipped" and previous["text"] == "Tracking: 42"
    assert set(newest) >= {"to", "from", "subject", "text", "time"}
    status, headers, page = local.get("/_local/mail")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"Your &lt;order&gt; shipped" in page and b"<order>" not in page


def test_an_outbox_event_is_piped_to_the_fanout_queue_and_consumed(local: Running) -> None:
    key = local.demo()["apiKey"]
    fanout = "WebhookDispatchFunction/EventFanoutQueue"
    before = quiet(local)
    # A failed transaction (duplicate SKU) first: it must invent no event and must not break the pipe.
    status, body = local.json("POST", "/api/v1/products", key=key,
                              body={"name": "Duplicate", "sku": "FAS-HB-0840", "price": 1, "stock": 1})
    assert status == 409, body
    status, body = local.json("POST", "/api/v1/products", key=key,
                              body={"name": "Piped widget", "sku": "LOCAL-PIPE", "price": 3, "stock": 9})
    assert status == 201, body

    def carried() -> dict[str, Any] | None:
        now = local.status()
        done = now["triggers"][fanout]["succeeded"] >= before["triggers"][fanout]["succeeded"] + 1
        return now if done and not any(now["queues"][name]["visible"] or now["queues"][name]["inFlight"]
                                       for name in ("EventFanoutQueue", "LowStockQueue")) else None

    after = wait_for(carried, 15, "the product.updated event to reach webhook_dispatch")
    time.sleep(0.5)
    after = local.status()
    assert after["pipes"]["EventsPipe"]["matched"] == before["pipes"]["EventsPipe"]["matched"] + 1
    assert after["pipes"]["LowStockPipe"]["matched"] == before["pipes"]["LowStockPipe"]["matched"]
    assert after["triggers"][fanout]["succeeded"] == before["triggers"][fanout]["succeeded"] + 1
    assert after["triggers"][fanout]["errors"] == before["triggers"][fanout]["errors"] == 0
    assert after["queues"]["EventFanoutDeadLetterQueue"]["visible"] == 0


def test_an_upload_reaches_csv_import_through_the_bucket_notification(local: Running) -> None:
    trigger = "CsvImportFunction/ImportUploadsQueue"
    before = quiet(local)["triggers"][trigger]
    assert before["succeeded"] >= 1  # the s3:TestEvent sent when the notification was configured
    local.aws("s3").put_object(Bucket="distribu-local-imports-123456789012", Key="imports/price list.csv",
                               Body=b"name,price\nWidget,1.50\n")
    wait_for(lambda: local.status()["triggers"][trigger]["succeeded"] == before["succeeded"] + 1, 15,
             "csv_import to receive the upload")
    assert local.status()["triggers"][trigger]["errors"] == 0


def test_data_and_the_api_key_survive_a_restart(local: Running) -> None:
    key = local.demo()["apiKey"]
    product = local.created["product"]
    sqs = local.aws("sqs")
    dead_letters = sqs.get_queue_url(QueueName="distribu-local-EventFanoutDeadLetterQueue")["QueueUrl"]
    sqs.send_message(QueueUrl=dead_letters, MessageBody='{"parked": 1}',
                     MessageAttributes={"reason": {"DataType": "String", "StringValue": "test"}})
    # A state from before the read models: no catalog index at all.
    quiet(local)
    dynamodb = local.aws("dynamodb")
    partition = f"C#{local.demo()['companyId']}"
    index_items = dynamodb.query(TableName="distribu-local-Table", KeyConditionExpression="PK = :pk AND begins_with(SK, :i)",
                                 ExpressionAttributeValues={":pk": {"S": partition}, ":i": {"S": "CATIDX"}})["Items"]
    assert len(index_items) > 1
    for item in index_items:
        dynamodb.delete_item(TableName="distribu-local-Table", Key={"PK": item["PK"], "SK": item["SK"]})
    local.stop()
    assert "final snapshot" in local.log() and (local.state_dir / "snapshot.json").exists()
    local.start()
    assert "restored" in local.log()
    assert local.demo()["apiKey"] == key and key in local.log()
    status, fetched = local.json("GET", f"/api/v1/products/{product['id']}", key=key)
    assert status == 200 and fetched["data"] == product
    status, body = local.json("GET", "/api/v1/products?limit=100", key=key)
    assert status == 200
    assert len(body["data"]) == local.created["product_count"] + 2  # no second demo catalog
    head = catalog_head(local)  # rebuilt at start, before anything could pass the stream
    assert head is not None and int(head["active"]["N"]) == sum(1 for product in body["data"] if product["isActive"])
    assert local.aws("s3").get_object(Bucket="distribu-local-imports-123456789012",
                                      Key="imports/price list.csv")["Body"].read() == b"name,price\nWidget,1.50\n"
    # Waiting messages are kept too (a dead-letter queue has no consumer).
    sqs = local.aws("sqs")
    parked = sqs.receive_message(QueueUrl=dead_letters, MessageAttributeNames=["All"],
                                 WaitTimeSeconds=0)["Messages"]
    assert [(message["Body"], message["MessageAttributes"]["reason"]["StringValue"]) for message in parked] == \
        [('{"parked": 1}', "test")]
    # Restored items and objects fired nothing: only the fresh s3:TestEvents reached csv_import.
    time.sleep(0.5)
    status_now = local.status()
    assert status_now["pipes"]["EventsPipe"]["matched"] == 0
    assert status_now["triggers"]["CsvImportFunction/ImportUploadsQueue"]["messages"] <= 2
