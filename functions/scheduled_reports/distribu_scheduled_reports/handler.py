"""Lambda entry point for the EventBridge schedule (every 15 minutes): send every scheduled report that is
due, and the retries that are due, each at most once (see :mod:`distribu.scheduled_reports`). What does
not fit in this invocation's time stays due for the next one."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from distribu import scheduled_reports

logger = Logger(service="scheduled_reports")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    def time_left() -> float:
        return context.get_remaining_time_in_millis() / 1000 if context is not None else float("inf")

    summary = scheduled_reports.run_due(time_left=time_left)
    result = summary.as_dict()
    logger.info("Scheduled reports run", extra={**result, "runs": summary.details[:50]})
    return result
