"""Building what the queues hand the workers: products and orders made through the API, and their outbox
items as the pipe delivers them (one stream record per SQS message)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.conftest import Tenant, call_api


def product(tenant: Tenant, sku: str, stock: int, threshold: int | None = None) -> str:
    body: dict[str, Any] = {"name": f"Item {sku}", "sku": sku, "price": 2, "stock": stock}
    if threshold is not None:
        body["lowStockThreshold"] = threshold
    response = call_api("POST", "/api/v1/products", key=tenant.key, json_body=body)
    assert response.status == 201, response.body
    return response.body["data"]["id"]


def place_order(tenant: Tenant, lines: dict[str, int]) -> str:
    customer = call_api("POST", "/api/v1/customers", key=tenant.key,
                        json_body={"email": f"buyer-{uuid.uuid4().hex[:12]}@shop.test"})
    assert customer.status == 201, customer.body
    customer_id = customer.body["data"]["id"]
    order = call_api("POST", "/api/v1/orders", key=tenant.key, json_body={
        "customerId": customer_id, "items": [{"productId": pid, "quantity": qty} for pid, qty in lines.items()]})
    assert order.status == 201, order.body
    return order.body["data"]["id"]


def event_record(tenant: Tenant, event_type: str, resource_id: str) -> str:
    """The stream record of the ``event_type`` outbox item about one resource, as the pipe puts it on a queue."""
    from distribu import dynamo, keys

    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :e)",
        ExpressionAttributeValues={":pk": {"S": keys.company(tenant.company_id)}, ":e": {"S": "EVENT#"}})
    [raw] = [item for item in response["Items"] if item["eventType"]["S"] == event_type
             and json.loads(item["envelope"]["S"])["data"]["id"] == resource_id]
    return json.dumps({"eventName": "INSERT", "dynamodb": {"NewImage": raw}})


def order_created_record(tenant: Tenant, order_id: str) -> str:
    """The stream record of the order's ``order.created`` outbox item."""
    return event_record(tenant, "order.created", order_id)


def sqs_event(bodies: list[str], queue: str = "Queue") -> dict[str, Any]:
    return {"Records": [{"messageId": f"m-{number}", "receiptHandle": f"r-{number}", "body": body, "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": f"arn:aws:sqs:us-east-1:123456789012:{queue}", "awsRegion": "us-east-1"}
                        for number, body in enumerate(bodies)]}
