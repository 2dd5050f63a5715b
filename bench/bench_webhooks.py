"""Webhook deliveries per second through webhook_dispatch's real handler to a local receiver, as a ratio to
a bare HTTP POST loop to the same receiver in the same run (goal >= 0.8x), plus DynamoDB round trips per
delivery (exact). Two receivers: one that answers at once, one that takes 25 ms like a real endpoint.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from common import RoundTrips, locked_moto_server_process, report, seed_tenant

DELIVERIES = 200


class Receiver:
    def __init__(self, delay: float) -> None:
        self.count = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                time.sleep(delay)
                receiver.count += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.port = self.server.server_address[1]

    def close(self) -> None:
        self.server.shutdown()


def bare_loop(port: int, body: bytes, count: int) -> float:
    """What a delivery is at the least: a POST on a fresh connection, one after another."""
    started = time.perf_counter()
    for _ in range(count):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("POST", "/hook", body=body, headers={"Content-Type": "application/json"})
        connection.getresponse().read()
        connection.close()
    return count / (time.perf_counter() - started)


def through_dispatch(tenant: dict[str, Any], port: int, count: int) -> tuple[float, float]:
    from distribu import audit, clock, webhook_delivery, webhooks
    from distribu_local.apigateway import LambdaContext
    from distribu_webhook_dispatch.handler import lambda_handler

    company_id = tenant["company"].id
    hook = webhooks.create_webhook(company_id, webhooks.WebhookCreate(url=f"http://127.0.0.1:{port}/hook",
                                                                      events=["order.created"]),
                                   audit.Actor("SYSTEM", "bench", "bench"))
    envelope = json.dumps({"event": "order.created", "timestamp": "2026-01-01T00:00:00.000Z", "data": {"id": "x"}})
    messages = []
    for number in range(count):
        event = {"companyId": company_id, "id": f"bench-{port}-{number}", "eventType": "order.created",
                 "createdAt": clock.now_iso(), "envelope": envelope}
        webhook_delivery.fan_out(event)
        messages.append(webhook_delivery.DeliveryMessage(company_id, hook["id"],
                                                         webhook_delivery.delivery_id(event["id"], hook["id"])))
    batches = [{"Records": [{"messageId": str(index), "receiptHandle": "r", "body": message.body(), "attributes": {},
                             "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                             "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:deliveries",
                             "awsRegion": "us-east-1"} for index, message in enumerate(messages[start:start + 10])]}
               for start in range(0, count, 10)]
    trips = RoundTrips()
    before = trips.count
    started = time.perf_counter()
    for batch in batches:
        result = lambda_handler(batch, LambdaContext(function_name="webhook_dispatch"))
        assert not result["batchItemFailures"], result
    rate = count / (time.perf_counter() - started)
    webhooks.delete_webhook(company_id, hook["id"], audit.Actor("SYSTEM", "bench", "bench"))
    return rate, (trips.count - before) / count


def main() -> None:
    rows = []
    with locked_moto_server_process():
        tenant = seed_tenant(products=1)
        for label, delay in (("instant receiver", 0.0), ("receiver taking 25 ms", 0.025)):
            receiver = Receiver(delay)
            body = json.dumps({"event": "order.created", "data": {"id": "x"}}).encode()
            bare = bare_loop(receiver.port, body, DELIVERIES)
            dispatched, round_trips = through_dispatch(tenant, receiver.port, DELIVERIES)
            rows += [(f"{label}: bare POST loop", f"{bare:.0f}/s (baseline)"),
                     (f"{label}: through webhook_dispatch (batches of 10)", f"{dispatched:.0f}/s = {dispatched / bare:.2f}x"),
                     (f"{label}: DynamoDB round trips per delivery", f"{round_trips:.2f} (batch read + attempt log)")]
            receiver.close()
    report("Webhook delivery throughput", rows)


if __name__ == "__main__":
    main()
