"""Partial batch responses for the SQS-triggered functions.

Each record is handled on its own; those that raise are reported in ``batchItemFailures``, so SQS hands
back just them (the event source mappings set ``ReportBatchItemFailures``) and the rest are done.

Powertools' BatchProcessor has this contract, but importing it loads asyncio and every Powertools event
data class: about 60 ms, 17% of a queue function's whole cold start against its baseline
(``bench/bench_cold_start.py``). What these functions use of it is the loop below.
"""

from __future__ import annotations

from typing import Any, Callable

SQSRecord = dict[str, Any]


def process_partial_batch(event: dict[str, Any], handle: Callable[[SQSRecord], None], logger: Any, *,
                          concurrency: int = 1) -> dict[str, list[dict[str, str]]]:
    """Handle every record of ``event``, ``concurrency`` at a time, and answer the failed ones' ids.

    A batch where every record failed is answered the same way (all ids), which SQS treats as a failed
    batch: every message comes back after its visibility timeout, and on to the DLQ after maxReceiveCount.
    """
    records: list[SQSRecord] = event.get("Records") or []

    def attempt(record: SQSRecord) -> str | None:
        try:
            handle(record)
        except Exception:
            logger.exception("Record failed; SQS will hand it back", extra={"messageId": record.get("messageId")})
            return str(record["messageId"])
        return None

    if concurrency > 1 and len(records) > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=min(concurrency, len(records))) as pool:
            failed = list(pool.map(attempt, records))
    else:
        failed = [attempt(record) for record in records]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed if message_id]}


def process_grouped_batch(event: dict[str, Any], group_of: Callable[[SQSRecord], str],
                          handle_group: Callable[[list[SQSRecord]], None], logger: Any) -> dict[str, list[dict[str, str]]]:
    """Like :func:`process_partial_batch`, for work done per group of records (one read and one write for
    all of a company's records, say): the records are grouped by ``group_of`` in arrival order, each
    group is handled at once, and a group that raises fails all of its records (and only them). A
    record whose group cannot be told fails alone."""
    records: list[SQSRecord] = event.get("Records") or []
    groups: dict[str, list[SQSRecord]] = {}
    failed: list[str] = []
    for record in records:
        try:
            groups.setdefault(group_of(record), []).append(record)
        except Exception:
            logger.exception("Record unreadable; SQS will hand it back", extra={"messageId": record.get("messageId")})
            failed.append(str(record["messageId"]))
    for group, members in groups.items():
        try:
            handle_group(members)
        except Exception:
            logger.exception("Group failed; SQS will hand its records back",
                             extra={"group": group, "messageIds": [record.get("messageId") for record in members]})
            failed += [str(record["messageId"]) for record in members]
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in failed]}
