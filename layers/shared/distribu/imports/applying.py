"""The apply: a READY import's rows written in order, in transactions that each move its checkpoint on, so
every row commits exactly once however often the work is interrupted and resumed (see the package's
docstring for the guarantee)."""

from __future__ import annotations

import time
from typing import Any

from distribu import audit, clock, csvformat, dynamo, keys, product_images, s3files
from distribu.config import get_settings
from distribu.errors import BusinessRuleViolation, Conflict
from distribu.idempotency import AlsoWrite, extra_items
from distribu.imports.records import (BUSY, DONE, IGNORED, LEASE_SECONDS, PAUSED, SAFETY_SECONDS, STATUS_NAME,
                                      SUPERSEDED, LeasedTurn, OutOfTime, Superseded, TimeLeft, actor_map, actor_of,
                                      apply_key, count_of, derived_id, get_item, import_sk, lease_live,
                                      record_failure, to_api, update_record)
from distribu.imports.rules import READ_WINDOW, Existing, existing_records

CHUNK_ITEMS = dynamo.MAX_TRANSACTION_ITEMS - 1  # the last item of every chunk is the import's checkpoint
ROW_RETRIES = 5


_CANNOT_APPLY = {
    "AWAITING_UPLOAD": "The file has not been uploaded yet.",
    "VALIDATING": "The file is still being checked; apply it once its preview is ready.",
    "INVALID": "This import has invalid rows and cannot be applied; fix the file and upload it again.",
}


def request_apply(company_id: str, import_id: str, actor: audit.Actor, *,
                  also_write: AlsoWrite | None = None) -> dict[str, Any]:
    """READY -> APPLYING, then start the work (the frozen copy's notification). Idempotent: an import
    applying or applied already is returned as it is, and a stalled apply (no live lease) is restarted."""
    for _ in range(3):
        item = get_item(company_id, import_id)
        status = item["status"]
        if status in ("APPLYING", "APPLIED"):
            if status == "APPLYING" and not lease_live(item):
                trigger_apply(item, restart=True)
            return to_api(item)
        if status == "FAILED":
            raise BusinessRuleViolation(f"This import failed and cannot be applied: {item.get('failure')}")
        if status != "READY":
            raise BusinessRuleViolation(_CANNOT_APPLY[status])
        now = clock.now_iso()
        moved = {**item, "status": "APPLYING", "updatedAt": now, "appliedThrough": 1, "rowsApplied": 0,
                 "appliedCreated": 0, "appliedUpdated": 0, "appliedUnchanged": 0}
        view = to_api(moved)
        writes = [dynamo.update(
            keys.company(company_id), import_sk(import_id),
            "SET #status = :applying, applyKey = :key, appliedThrough = :one, rowsApplied = :zero, "
            "appliedCreated = :zero, appliedUpdated = :zero, appliedUnchanged = :zero, appliedBy = :actor, "
            "applyRequestedAt = :now, updatedAt = :now",
            condition="#status = :ready", names=STATUS_NAME,
            values={":applying": "APPLYING", ":ready": "READY", ":one": 1, ":zero": 0, ":now": now,
                    ":key": apply_key(company_id, item["kind"], import_id), ":actor": actor_map(actor)}),
            *extra_items(also_write, view)]
        try:
            dynamo.transact(writes)
        except dynamo.TransactionCancelled as cancelled:
            if cancelled.failed_indexes() == [0]:
                continue  # someone moved it first: answer from its new status
            raise Conflict("The import is being changed by someone else; try again.") from None
        trigger_apply(moved)
        return view
    raise Conflict("The import is being changed by someone else; try again.")


def trigger_apply(item: dict[str, Any], *, restart: bool = False) -> None:
    """Freeze the previewed file as the apply object, whose notification starts the work. Copying with
    ``CopySourceIfMatch`` means a file replaced after its preview is never applied. A restart notifies
    the frozen copy again."""
    bucket = get_settings().imports_bucket
    target = apply_key(item["companyId"], item["kind"], item["id"])
    client = s3files.s3()
    if restart:
        try:
            notify_again(target)
            return
        except client.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
                raise
    try:
        client.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": item["objectKey"]},
                           CopySourceIfMatch=item["etag"], ContentType="text/csv; charset=utf-8",
                           MetadataDirective="REPLACE")
    except client.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("PreconditionFailed", "412", "NoSuchKey", "404"):
            raise
        update_record(item["companyId"], item["id"], "SET #status = :failed, failure = :failure, updatedAt = :now",
                      condition="#status = :applying", names=STATUS_NAME,
                      values={":failed": "FAILED", ":applying": "APPLYING", ":now": clock.now_iso(),
                              ":failure": _REPLACED})
        raise BusinessRuleViolation(_REPLACED) from None


_REPLACED = "The uploaded file was replaced or removed after its preview; start a new import."


def _take_apply_lease(company_id: str, import_id: str, owner: str) -> tuple[str, dict[str, Any] | None]:
    now_s = int(time.time())
    ok, item = update_record(
        company_id, import_id, "SET leaseOwner = :me, leaseUntil = :until, updatedAt = :now",
        condition="#status = :applying AND (attribute_not_exists(leaseUntil) OR leaseUntil < :nows "
                  "OR leaseOwner = :me)",
        names=STATUS_NAME, values={":applying": "APPLYING", ":me": owner, ":until": now_s + LEASE_SECONDS,
                                   ":nows": now_s, ":now": clock.now_iso()})
    if ok:
        return DONE, item
    if item and item.get("status") == "APPLYING":
        return BUSY, None
    return IGNORED, None


def apply(company_id: str, import_id: str, *, owner: str, time_left: TimeLeft = None) -> str:
    """Apply (or resume applying) an import whose apply was requested. See the module's docstring."""
    outcome, item = _take_apply_lease(company_id, import_id, owner)
    if item is None:
        return outcome
    try:
        return Apply(item, owner, time_left).run()
    except Superseded:
        return SUPERSEDED
    except Exception as error:
        record_failure(company_id, import_id, owner, "apply", error)
        raise


class Apply(LeasedTurn):
    def __init__(self, item: dict[str, Any], owner: str, time_left: TimeLeft) -> None:
        super().__init__(item, owner, time_left)
        self.checkpoint = int(item.get("appliedThrough") or 1)
        self.committed = 0  # chunks this worker committed
        self.totals = {"created": count_of(item, "appliedCreated"), "updated": count_of(item, "appliedUpdated"),
                       "unchanged": count_of(item, "appliedUnchanged"), "rows": count_of(item, "rowsApplied")}

    def run(self) -> str:
        opened = s3files.open_text(get_settings().imports_bucket, self.item["applyKey"])
        try:
            file = csvformat.ImportFile(self.kind, opened.text)
            if file.header.problems:
                return self.fail("The file no longer passes its checks; upload it again as a new import.")
            window: list[csvformat.ParsedRow] = []
            for row in file.rows(skip_through=self.checkpoint, check_duplicates=False):
                if row.problems:
                    return self.fail(f"Row {row.row} no longer passes its checks "
                                     f"({row.problems[0].field} {row.problems[0].message}); upload it again.")
                window.append(row)
                if len(window) >= READ_WINDOW:
                    self.apply_window(window)
                    window = []
            self.apply_window(window)
        except OutOfTime:
            self.release()
            return PAUSED
        except csvformat.FileProblem as trouble:
            return self.fail(trouble.problem.message)
        finally:
            opened.text.close()
        self.finish()
        return DONE

    def apply_window(self, window: list[csvformat.ParsedRow]) -> None:
        """The window's rows in as few transactions as fit, each moving the checkpoint on."""
        remaining = window
        existing: dict[str, Existing] | None = None
        retries = 0
        while remaining:
            # Out of time: stop at a checkpoint, but only after some progress (a too-short timeout must
            # not pause-and-continue forever).
            if self.committed and self.time_left is not None and self.time_left() < SAFETY_SECONDS:
                raise OutOfTime()
            if existing is None:
                existing = existing_records(self.company_id, self.rules, [row.key for row in remaining if row.key])
            now = clock.now_iso()
            writes: list[dict[str, Any]] = []
            counts = {"create": 0, "update": 0, "unchanged": 0}
            released: list[tuple[str, str]] = []
            taken = 0
            for row in remaining:
                plan = self.rules.plan(self.company_id, row, existing.get(row.key or ""), now,
                                       lambda row=row: derived_id(self.import_id, row.row))
                if taken and len(writes) + len(plan.writes) > CHUNK_ITEMS:
                    break
                writes += plan.writes
                released += plan.released_images
                counts[plan.action] += 1
                taken += 1
            end = remaining[taken - 1].row
            writes.append(dynamo.update(
                keys.company(self.company_id), import_sk(self.import_id),
                "SET appliedThrough = :end, leaseUntil = :until, updatedAt = :now "
                "ADD rowsApplied :rows, appliedCreated :created, appliedUpdated :updated, appliedUnchanged :unchanged",
                condition="#status = :applying AND appliedThrough = :start AND leaseOwner = :me", names=STATUS_NAME,
                values={":end": end, ":until": int(time.time()) + LEASE_SECONDS, ":now": now, ":rows": taken,
                        ":created": counts["create"], ":updated": counts["update"],
                        ":unchanged": counts["unchanged"], ":applying": "APPLYING", ":start": self.checkpoint,
                        ":me": self.owner}))
            try:
                write_chunk(writes)
            except dynamo.TransactionCancelled as cancelled:
                mine = cancelled.reasons[-1] if cancelled.reasons else None
                if mine is not None and mine.code == "ConditionalCheckFailed":
                    record = mine.item or {}
                    if not (record.get("leaseOwner") == self.owner and record.get("status") == "APPLYING"
                            and int(record.get("appliedThrough") or 0) == end):
                        raise Superseded() from None
                    # Our own earlier attempt committed (its answer was lost): carry on from it.
                else:
                    retries += 1
                    if retries > ROW_RETRIES:
                        raise Conflict("Records kept changing while the import was applied; it will resume.") from None
                    existing = None  # someone changed these rows meanwhile: read them again and re-plan
                    continue
            for product_id, url in released:  # as the API's edit does: no image left behind
                product_images.forget(self.company_id, product_id, url)
            self.checkpoint = end
            self.committed += 1
            self.totals["created"] += counts["create"]
            self.totals["updated"] += counts["update"]
            self.totals["unchanged"] += counts["unchanged"]
            self.totals["rows"] += taken
            remaining = remaining[taken:]

    def finish(self) -> None:
        now = clock.now_iso()
        details = {"importId": self.import_id, "kind": self.kind, "fileName": self.item.get("fileName"),
                   "rows": self.totals["rows"], "created": self.totals["created"],
                   "updated": self.totals["updated"], "unchanged": self.totals["unchanged"]}
        try:
            dynamo.transact([
                dynamo.update(keys.company(self.company_id), import_sk(self.import_id),
                              "SET #status = :applied, appliedAt = :now, updatedAt = :now "
                              "REMOVE leaseOwner, leaseUntil",
                              condition="#status = :applying AND leaseOwner = :me", names=STATUS_NAME,
                              values={":applied": "APPLIED", ":applying": "APPLYING", ":now": now, ":me": self.owner}),
                audit.entry(self.company_id, actor_of(self.item.get("appliedBy")), "ImportApplied", "Import",
                            self.import_id, details, at=now),
            ])
        except dynamo.TransactionCancelled:
            current = get_item(self.company_id, self.import_id)
            if current["status"] != "APPLIED":
                raise Superseded() from None

    def release(self) -> None:
        update_record(self.company_id, self.import_id, "SET leaseUntil = :zero, updatedAt = :now",
                      condition="leaseOwner = :me", values={":zero": 0, ":me": self.owner, ":now": clock.now_iso()})

    def fail(self, message: str) -> str:
        update_record(self.company_id, self.import_id,
                      "SET #status = :failed, failure = :failure, updatedAt = :now REMOVE leaseOwner, leaseUntil",
                      condition="leaseOwner = :me AND #status = :applying", names=STATUS_NAME,
                      values={":failed": "FAILED", ":failure": message, ":now": clock.now_iso(), ":me": self.owner,
                              ":applying": "APPLYING"})
        return DONE


def write_chunk(writes: list[dict[str, Any]]) -> None:
    """One chunk of an apply: its rows' writes and the checkpoint, all or nothing. (A seam for tests
    that crash an apply half-way.)"""
    dynamo.transact(writes)


def notify_again(key: str) -> None:
    """Fire an object's notification again (it is copied onto itself), for a fresh invocation."""
    bucket = get_settings().imports_bucket
    s3files.s3().copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                             MetadataDirective="REPLACE", Metadata={"notified": clock.now_iso()},
                             ContentType="text/csv; charset=utf-8")
