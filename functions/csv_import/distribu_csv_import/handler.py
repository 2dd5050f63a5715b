"""Lambda entry point for S3 notifications of the imports bucket, delivered through SQS.

Each created object is one step of an import (:mod:`distribu.imports`): an upload is previewed, the
frozen copy made by "apply" is applied. The ``s3:TestEvent`` S3 sends when the notification is set up
carries no records; keys arrive URL-encoded. A message whose import another worker holds is reported
as a batch item failure, so SQS hands it back later; everything else is idempotent, so redelivered
notifications change nothing.
"""

from __future__ import annotations

import json
from typing import Any, Callable
from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger

from distribu.sqs_batch import SQSRecord, process_partial_batch

logger = Logger(service="csv_import")


def uploaded_objects(body: dict[str, Any]) -> list[tuple[str, str]]:
    """(bucket, key) of each created object; the test event S3 sends on configuration has none."""
    if body.get("Event") == "s3:TestEvent":
        return []
    return [(record["s3"]["bucket"]["name"], unquote_plus(record["s3"]["object"]["key"]))
            for record in body.get("Records", []) if record.get("eventName", "").startswith("ObjectCreated")]


def _time_left(context: Any) -> Callable[[], float] | None:
    if context is None or not hasattr(context, "get_remaining_time_in_millis"):
        return None
    return lambda: context.get_remaining_time_in_millis() / 1000


def handle_record(record: SQSRecord, lambda_context: Any = None) -> None:
    objects = uploaded_objects(json.loads(record["body"]))
    if not objects:
        return
    from distribu import imports  # only when there is work: the import machinery loads pydantic models

    for bucket, key in objects:
        owner = imports.new_owner(f"lambda:{getattr(lambda_context, 'aws_request_id', 'local')}")
        outcome = imports.handle_object(bucket, key, owner=owner, time_left=_time_left(lambda_context))
        logger.info("Import object handled", extra={"bucket": bucket, "key": key, "outcome": outcome})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # A failed message is reported back (batchItemFailures), even when it is the whole batch of one:
    # SQS then hands just that message back later.
    return process_partial_batch(event, lambda record: handle_record(record, context), logger)
