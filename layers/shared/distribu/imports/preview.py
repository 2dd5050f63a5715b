"""The preview: stream the uploaded file once, check every row with the API's own models, compare it with
what exists in windows of 100 rows, and record the counts and every problem. Nothing but the import's
record (and its error report) is written."""

from __future__ import annotations

import logging
import time
from typing import Any

from distribu import clock, csvformat, s3files
from distribu.config import get_settings
from distribu.imports.records import (BUSY, DONE, IGNORED, LEASE_SECONDS, MAX_BYTES, SAFETY_SECONDS, STATUS_NAME,
                                      SUPERSEDED, LeasedTurn, OutOfTime, Superseded, TimeLeft, record_failure,
                                      report_key, update_record)
from distribu.imports.rules import READ_WINDOW, existing_records

logger = logging.getLogger(__name__)

INLINE_ERRORS = 100
PROGRESS_EVERY_ROWS = 5_000


def claim_validation(company_id: str, import_id: str, owner: str,
                     kind: str | None) -> tuple[str, dict[str, Any] | None]:
    now_s = int(time.time())
    ok, item = update_record(
        company_id, import_id,
        "SET #status = :validating, leaseOwner = :me, leaseUntil = :until, rowsRead = :zero, updatedAt = :now "
        "ADD validationAttempts :one",
        condition="(#status = :awaiting OR (#status = :validating AND leaseUntil < :nows))"
                  + (" AND kind = :kind" if kind else ""),
        names=STATUS_NAME,
        values={":validating": "VALIDATING", ":awaiting": "AWAITING_UPLOAD", ":me": owner,
                ":until": now_s + LEASE_SECONDS, ":zero": 0, ":one": 1, ":now": clock.now_iso(), ":nows": now_s,
                **({":kind": kind} if kind else {})})
    if ok:
        return DONE, item
    if item is None or item.get("entity") != "IMPORT" or (kind and item.get("kind") != kind):
        logger.warning("An upload for an unknown import: %s", import_id)
        return IGNORED, None
    if item["status"] == "VALIDATING" and item.get("leaseOwner") != owner:
        return BUSY, None
    return IGNORED, None  # checked already: a redelivered notification changes nothing


def validate(company_id: str, import_id: str, *, owner: str, time_left: TimeLeft = None,
             kind: str | None = None) -> str:
    """Preview the uploaded file, once: counts to create / update / leave unchanged, and every problem."""
    outcome, item = claim_validation(company_id, import_id, owner, kind)
    if item is None:
        return outcome
    try:
        Preview(item, owner, time_left).run()
    except Superseded:
        return SUPERSEDED
    except Exception as error:
        record_failure(company_id, import_id, owner, "validation", error)
        raise
    return DONE


class Preview(LeasedTurn):
    def __init__(self, item: dict[str, Any], owner: str, time_left: TimeLeft) -> None:
        super().__init__(item, owner, time_left)
        self.counts = {"create": 0, "update": 0, "unchanged": 0, "invalid": 0}
        self.inline: list[dict[str, Any]] = []
        self.error_count = 0
        self.report: s3files.CsvUpload | None = None
        self.rows_read = 0

    def problem(self, problem: csvformat.Problem) -> None:
        self.error_count += 1
        if len(self.inline) < INLINE_ERRORS:
            self.inline.append(problem.as_dict())
        if self.report is None:
            self.report = s3files.CsvUpload(
                get_settings().imports_bucket, report_key(self.company_id, self.import_id),
                content_disposition=f'attachment; filename="import-{self.import_id}-errors.csv"')
            self.report.write(("row", "field", "message"))
        self.report.write((problem.row, csvformat.text_cell(problem.field), csvformat.text_cell(problem.message)))

    def classify(self, window: list[csvformat.ParsedRow]) -> None:
        if not window:
            return
        existing = existing_records(self.company_id, self.rules, [row.key for row in window if row.key])
        for row in window:
            self.counts[self.rules.classify(row, existing.get(row.key or ""))] += 1

    def progress(self) -> None:
        if self.time_left is not None and self.time_left() < SAFETY_SECONDS:
            raise OutOfTime()
        ok, _ = update_record(self.company_id, self.import_id,
                              "SET rowsRead = :rows, leaseUntil = :until, updatedAt = :now",
                              condition="leaseOwner = :me AND #status = :validating", names=STATUS_NAME,
                              values={":rows": self.rows_read, ":until": int(time.time()) + LEASE_SECONDS,
                                      ":now": clock.now_iso(), ":me": self.owner, ":validating": "VALIDATING"})
        if not ok:
            raise Superseded()

    def run(self) -> None:
        bucket = get_settings().imports_bucket
        try:
            opened = s3files.open_text(bucket, self.item["objectKey"])
        except s3files.s3().exceptions.NoSuchKey:
            self.finish_failed("The uploaded file is missing; upload it again as a new import.")
            return
        try:
            self.read(opened)
        except OutOfTime:
            if self.report:
                self.report.abort()
            self.finish_failed("The file could not be checked within the time limit; split it into smaller files.")
            return
        except BaseException:
            if self.report:
                self.report.abort()
            raise
        finally:
            opened.text.close()
        if self.report:
            self.report.finish()
        self.finish(opened)

    def read(self, opened: s3files.OpenedObject) -> None:
        if opened.size > MAX_BYTES:
            self.problem(csvformat.Problem(1, csvformat.FILE, f"The file is larger than {MAX_BYTES // 2**20} MB; "
                                                              "split it into smaller files."))
            return
        try:
            self.file = csvformat.ImportFile(self.kind, opened.text)
            for problem in self.file.header.problems:
                self.problem(problem)
            if self.file.header.problems:
                return
            window: list[csvformat.ParsedRow] = []
            last_row = 1
            for row in self.file.rows():
                self.rows_read += 1
                last_row = row.row
                if row.problems:
                    self.counts["invalid"] += 1
                    for problem in row.problems:
                        self.problem(problem)
                else:
                    window.append(row)
                if len(window) >= READ_WINDOW:
                    self.classify(window)
                    window = []
                if self.rows_read % PROGRESS_EVERY_ROWS == 0:
                    self.progress()
            self.classify(window)
            if self.rows_read == 0:
                self.problem(csvformat.Problem(last_row + 1, csvformat.FILE, "The file has no rows to import."))
        except csvformat.FileProblem as trouble:
            self.problem(trouble.problem)

    def finish(self, opened: s3files.OpenedObject) -> None:
        status = "READY" if self.error_count == 0 else "INVALID"
        preview = {"rows": self.rows_read, **self.counts}
        header = getattr(self, "file", None)
        values: dict[str, Any] = {
            ":status": status, ":rows": self.rows_read, ":preview": preview, ":errors": self.inline,
            ":count": self.error_count, ":invalid": self.counts["invalid"], ":etag": opened.etag,
            ":size": opened.size, ":ignored": header.header.ignored if header else [], ":now": clock.now_iso(),
            ":me": self.owner, ":validating": "VALIDATING",
        }
        expression = ("SET #status = :status, rowsRead = :rows, totalRows = :rows, preview = :preview, "
                      "errors = :errors, errorCount = :count, invalidRows = :invalid, etag = :etag, "
                      "sizeBytes = :size, ignoredColumns = :ignored, validatedAt = :now, updatedAt = :now")
        if self.report:
            expression += ", errorReportKey = :report"
            values[":report"] = report_key(self.company_id, self.import_id)
        ok, _ = update_record(self.company_id, self.import_id, expression + " REMOVE leaseOwner, leaseUntil",
                              condition="leaseOwner = :me AND #status = :validating", names=STATUS_NAME, values=values)
        if not ok:
            raise Superseded()

    def finish_failed(self, message: str) -> None:
        ok, _ = update_record(self.company_id, self.import_id,
                              "SET #status = :failed, failure = :failure, rowsRead = :rows, updatedAt = :now "
                              "REMOVE leaseOwner, leaseUntil",
                              condition="leaseOwner = :me AND #status = :validating", names=STATUS_NAME,
                              values={":failed": "FAILED", ":failure": message, ":rows": self.rows_read,
                                      ":now": clock.now_iso(), ":me": self.owner, ":validating": "VALIDATING"})
        if not ok:
            raise Superseded()
