"""Driving CSV imports in tests as Lambda's poller would: the imports queue's messages (moto puts S3's
notifications there) handed to csv_import's real handler one at a time, the API and the CLI beside it, and
the reads the tests check the table with. Shared by the import and export tests."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

import pytest

from distribu_local.apigateway import LambdaContext
from tests.conftest import Tenant, call_api

PRODUCTS_HEADER = "sku,name,description,category,unit,price,stock,isActive\n"


# --- the queue, as Lambda's poller drives it -------------------------------------------------------------

def client(service: str) -> Any:
    """The domain package's own cached client (moto intercepts it whichever mock is active)."""
    from distribu.aws import client as cached

    return cached(service)


def queue_url(stack: Any) -> str:
    return stack.queue_url("ImportUploadsQueue")


def sqs_event(message: dict[str, Any]) -> dict[str, Any]:
    return {"Records": [{
        "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
        "attributes": {}, "messageAttributes": {}, "md5OfBody": message.get("MD5OfBody"), "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:ImportUploadsQueue", "awsRegion": "us-east-1"}]}


def invoke(message: dict[str, Any], context: Any = None) -> dict[str, Any]:
    from distribu_csv_import.handler import lambda_handler

    return lambda_handler(sqs_event(message), context or LambdaContext(function_name="csv_import", timeout_seconds=900))


@dataclass
class Delivery:
    message: dict[str, Any]
    body: dict[str, Any]
    result: dict[str, Any]

    @property
    def failed(self) -> bool:
        return bool(self.result.get("batchItemFailures"))

    @property
    def keys(self) -> list[str]:
        return [record["s3"]["object"]["key"] for record in self.body.get("Records", [])]


def deliver(stack: Any, context: Any = None) -> list[Delivery]:
    """Every message on the imports queue, each to its own invocation; succeeded ones are deleted."""
    sqs = client("sqs")
    deliveries = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url(stack), MaxNumberOfMessages=1).get("Messages", [])
        if not messages:
            return deliveries
        message = messages[0]
        result = invoke(message, context)
        deliveries.append(Delivery(message, json.loads(message["Body"]), result))
        if not result.get("batchItemFailures"):
            sqs.delete_message(QueueUrl=queue_url(stack), ReceiptHandle=message["ReceiptHandle"])


# --- imports -----------------------------------------------------------------------------------------------

def actor() -> Any:
    from distribu import audit

    return audit.Actor("USER", "staff-1", "Staff One")


def put_object(key: str, body: str | bytes) -> None:
    client("s3").put_object(Bucket=os.environ["IMPORTS_BUCKET"], Key=key,
                                  Body=body.encode() if isinstance(body, str) else body)


def upload(tenant: Tenant, kind: str, body: str | bytes) -> str:
    """A new import and its file in the bucket (the notification waits on the queue)."""
    from distribu import imports

    view = imports.create_import(tenant.company_id, kind, actor(), file_name=f"{kind}.csv")
    put_object(imports.upload_key(tenant.company_id, kind, view["id"]), body)
    return view["id"]


def record(tenant: Tenant, import_id: str) -> dict[str, Any]:
    from distribu import imports

    return imports.get_item(tenant.company_id, import_id)


def view(tenant: Tenant, import_id: str) -> dict[str, Any]:
    from distribu import imports

    return imports.to_api(record(tenant, import_id))


def preview(stack: Any, tenant: Tenant, kind: str, body: str | bytes) -> tuple[str, dict[str, Any]]:
    import_id = upload(tenant, kind, body)
    assert not any(delivery.failed for delivery in deliver(stack))
    return import_id, view(tenant, import_id)


def apply(stack: Any, tenant: Tenant, import_id: str) -> dict[str, Any]:
    response = call_api("POST", f"/api/v1/imports/{import_id}/apply", key=tenant.key)
    assert response.status == 202, response.body
    assert not any(delivery.failed for delivery in deliver(stack))
    return view(tenant, import_id)


def products_csv(count: int, *, start: int = 0, prefix: str = "SKU", price: str = "2.50") -> str:
    rows = [f"{prefix}-{number:06d},Product {number},,Tools,each,{price},{number % 50},true\n"
            for number in range(start, start + count)]
    return PRODUCTS_HEADER + "".join(rows)


def all_items(tenant: Tenant, prefix: str) -> list[dict[str, Any]]:
    """Every item of the tenant's partition whose sort key starts with ``prefix`` ("" for all)."""
    from distribu import dynamo, keys

    if prefix:
        return dynamo.query_prefix(keys.company(tenant.company_id), prefix)
    return list(dynamo.query_all({"KeyConditionExpression": "PK = :pk",
                                  "ExpressionAttributeValues": {":pk": {"S": keys.company(tenant.company_id)}}}))


def events(tenant: Tenant, event_type: str) -> list[dict[str, Any]]:
    return [json.loads(item["envelope"]) for item in all_items(tenant, "EVENT#") if item["eventType"] == event_type]


def audit_actions(tenant: Tenant, action: str) -> list[dict[str, Any]]:
    from distribu import audit

    return [entry for entry in audit.list_entries(tenant.company_id, limit=1000) if entry["action"] == action]


def create_product(tenant: Tenant, **body: Any) -> dict[str, Any]:
    response = call_api("POST", "/api/v1/products", key=tenant.key,
                        json_body={"name": "Existing", "price": 1, "stock": 1, **body})
    assert response.status == 201, response.body
    return response.body["data"]


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, Any]:
    from distribu_cli.main import main

    try:
        code = main(list(argv))
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    captured = capsys.readouterr()
    out = json.loads(captured.out) if captured.out.strip() else None
    err = json.loads(captured.err) if captured.err.strip() else None
    return code, out, err
