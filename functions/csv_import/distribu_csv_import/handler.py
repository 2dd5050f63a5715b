"""Lambda entry point for S3 notifications of uploads to the imports bucket, delivered through SQS.

The import pipeline arrives with the CSV issue; until then each upload notification is parsed
(``s3:TestEvent`` skipped, keys URL-decoded) and acknowledged.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

logger = Logger(service="csv_import")
processor = BatchProcessor(event_type=EventType.SQS)


def uploaded_objects(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of each created object; the test event S3 sends on configuration has none."""
    if body.get("Event") == "s3:TestEvent":
        return []
    return [(record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))
            for record in body.get("Records", []) if record.get("eventName", "").startswith("ObjectCreated")]


def handle_record(record: SQSRecord) -> None:
    for bucket, key in uploaded_objects(json.loads(record.body)):
        logger.info("Upload received", extra={"bucket": bucket, "key": key})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor,
                                    context=context)
