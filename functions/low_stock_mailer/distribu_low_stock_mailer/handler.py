"""Lambda entry point for order events on the low-stock queue: one email per order (storefront and API
orders, the ones that emit ``order.created``) listing every ordered product now at or below its
low-stock threshold. Redelivered events send nothing twice."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from distribu import low_stock, stream
from distribu.sqs_batch import SQSRecord, process_partial_batch

logger = Logger(service="low_stock_mailer")


def handle_record(record: SQSRecord) -> None:
    event_item = stream.new_image(stream.parse(record["body"])) or {}
    if event_item.get("entity") != "EVENT" or event_item.get("eventType") != "order.created":
        return
    sent = low_stock.mail_for_order(event_item)
    logger.info("Order checked for low stock", extra={"eventId": event_item["id"], "emailed": sent})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_batch(event, handle_record, logger)
