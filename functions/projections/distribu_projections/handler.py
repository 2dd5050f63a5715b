"""Lambda entry point for the projections queue: the table's product, order and company stream records
(one per SQS message, as the pipe sends them) applied to the catalog index and the sales rollups.

A batch's records are applied per company, each company's in one read and one transaction; a company
whose write fails after its retries hands just its records back to SQS (partial batch response), and
the other companies' are done. Applying a record twice, late, or out of order changes nothing it should
not, so redelivery is always safe.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from distribu import projections, stream
from distribu.sqs_batch import SQSRecord, process_grouped_batch

logger = Logger(service="projections")


def company_of(record: SQSRecord) -> str:
    return projections.company_of(stream.parse(record["body"]))


def handle_company(records: list[SQSRecord]) -> None:
    parsed = [stream.parse(record["body"]) for record in records]
    company_id = projections.company_of(parsed[0])
    written = projections.project(company_id, parsed)
    logger.info("Projected", extra={"companyId": company_id, "records": len(parsed), "itemsWritten": written})


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_grouped_batch(event, company_of, handle_company, logger)
