"""Lambda entry point for the fan-out queue, the delivery queue and the maintenance schedule.

Webhook subscriptions arrive with the webhooks issue: until then an event that reaches the fan-out
queue is read, checked and acknowledged (no company has a webhook to deliver to).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = Logger(service="webhook_dispatch")
processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    stream_record = json.loads(record.body)
    image = stream_record.get("dynamodb", {}).get("NewImage", {})
    logger.info("Event received", extra={"eventType": image.get("eventType", {}).get("S"),
                                         "entity": image.get("entity", {}).get("S")})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if "Records" not in event:  # the maintenance schedule
        logger.info("Maintenance run", extra={"job": event.get("job")})
        return {"job": event.get("job"), "disabledWebhooks": 0}
    return process_partial_response(event=event, record_handler=handle_record, processor=processor,
                                    context=context)
