"""Lambda entry point for order events on the low-stock queue.

Orders arrive with the orders issue and the email itself with the webhooks/low-stock issue; until
then each event is read and acknowledged.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = Logger(service="low_stock_mailer")
processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    stream_record = json.loads(record.body)
    event_id = stream_record.get("dynamodb", {}).get("NewImage", {}).get("id", {}).get("S")
    logger.info("Order event received", extra={"eventId": event_id})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor,
                                    context=context)
