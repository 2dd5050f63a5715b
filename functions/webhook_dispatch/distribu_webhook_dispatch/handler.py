"""Lambda entry point for the fan-out queue, the delivery queue and the maintenance schedule.

- Fan-out queue: the table's stream records, carried by the pipe. An outbox event becomes one delivery
  per subscribed webhook; a product change that crosses its low-stock threshold becomes a
  ``product.low_stock`` event (in the outbox, so it fans out the same way).
- Delivery queue: one delivery attempt per message. Records of a batch are delivered concurrently, so
  a slow endpoint never holds up another; failed records are reported as partial batch failures.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger

from distribu import low_stock, stream, webhook_delivery
from distribu.sqs_batch import SQSRecord, process_partial_batch

logger = Logger(service="webhook_dispatch")
BATCH_SIZE = 10  # the event source mappings' BatchSize in template.yaml: every record gets its own thread


def handle_stream_record(record: dict[str, Any]) -> None:
    new = stream.new_image(record) or {}
    if record.get("eventName") == "INSERT" and new.get("entity") == "EVENT":
        count = webhook_delivery.fan_out(new)
        log = logger.info if count else logger.debug
        log("Fanned out", extra={"eventId": new["id"], "eventType": new["eventType"], "deliveries": count})
    elif record.get("eventName") == "MODIFY" and new.get("entity") == "PRODUCT":
        old = stream.old_image(record) or {}
        if low_stock.emit_low_stock_event(old, new):
            logger.info("Low stock", extra={"productId": new["id"], "stock": int(new["stock"])})


def handle_delivery(body: dict[str, Any]) -> None:
    message = webhook_delivery.DeliveryMessage(**body)
    outcome = webhook_delivery.deliver(message)
    logger.info("Delivery", extra={"deliveryId": message.deliveryId, "outcome": outcome})


def handle_record(record: SQSRecord) -> None:
    body = json.loads(record["body"])
    if "deliveryId" in body:
        handle_delivery(body)
    else:
        handle_stream_record(body)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" not in event:  # the maintenance schedule: disabling happens as deliveries fail
        logger.info("Maintenance run", extra={"job": event.get("job")})
        return {"job": event.get("job"), "ok": True}
    return process_partial_batch(event, handle_record, logger, concurrency=BATCH_SIZE)
