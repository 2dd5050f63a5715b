"""CSV imports: upload -> preview -> apply, for products (upsert by SKU) and customers (by email).

Layout
    record   ``PK=C#{company}, SK=IMPORT#{id}`` (listed on GSI1 ``C#{company}#IMPORT``, newest first)
    upload   ``imports/{company}/{kind}/{id}.csv``        its S3 notification runs the preview
    apply    ``imports/{company}/{kind}/{id}.apply.csv``  a frozen copy of the previewed file; its
                                                          notification runs the apply
    report   ``reports/{company}/{id}/errors.csv``        every problem (the record keeps the first 100)

Statuses
    AWAITING_UPLOAD -> VALIDATING -> READY | INVALID;  READY -> APPLYING -> APPLIED;  any -> FAILED
    (the file is missing, too slow to check, or the work failed three times).

Preview
    The object is streamed (constant memory but for the set of keys seen, to find duplicates), each
    row checked by the API's own models, and compared in windows of 100 rows with what exists (one
    batch read of the uniqueness guards, one of the records they point to). Nothing but the import
    record is written. A worker holds a short lease on the record while it works, so a redelivered
    notification neither runs the preview twice nor strands it if the first worker died.

Apply (the guarantee)
    Nothing is written unless the whole file passed its preview, and a READY import always applies in
    full: every valid row is valid both as a create and as an update, so whatever changed meanwhile
    (someone created the SKU, an order moved the stock) only decides which of the two it becomes.
    100,000 rows cannot be one DynamoDB transaction, so the rows go in order, in transactions of at
    most 100 items; each also moves the import's checkpoint (``appliedThrough``, the last row done)
    on, conditioned on the checkpoint it started from and on holding the lease. A chunk therefore
    commits exactly once, with its rows' records, uniqueness guards and ``product.updated`` /
    ``customer.*`` outbox events; a crash or timeout leaves the record APPLYING at the last
    committed row, and the next attempt (SQS redelivery, the function's own continuation, the API's
    or the CLI's apply) resumes after it. Records created get ids derived from the import id and the
    row number. The last step marks the import APPLIED together with the ``ImportApplied`` audit
    entry and its counts. While APPLYING, readers may see the rows before the checkpoint applied and
    the rest not yet: the record says so, with progress.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from distribu import audit, catalog, clock, csvformat, customers, dynamo, ids, keys, outbox, s3files
from distribu.config import get_settings
from distribu.errors import BusinessRuleViolation, Conflict, ValidationError
from distribu.idempotency import AlsoWrite, extra_items

logger = logging.getLogger(__name__)

KINDS = csvformat.KINDS
SCOPES = {"products": "products:write", "customers": "customers:write"}
STATUSES = ("AWAITING_UPLOAD", "VALIDATING", "READY", "INVALID", "APPLYING", "APPLIED", "FAILED")
NOT_FOUND = "Import not found."

MAX_BYTES = 50 * 1024 * 1024
UPLOAD_EXPIRES_SECONDS = 15 * 60
REPORT_LINK_SECONDS = 60 * 60
INLINE_ERRORS = 100
LEASE_SECONDS = 120
PROGRESS_EVERY_ROWS = 5_000
READ_WINDOW = 100  # rows compared with the table per batch read (BatchGetItem takes 100 keys)
CHUNK_ITEMS = dynamo.MAX_TRANSACTION_ITEMS - 1  # the last item of every chunk is the import's checkpoint
SAFETY_SECONDS = 60.0  # stop with this much of the invocation left, and continue in a fresh one
MAX_ATTEMPTS = 3
ROW_RETRIES = 5

TimeLeft = Optional[Callable[[], float]]


class ImportCreate(BaseModel):
    """Body of ``POST /api/v1/imports``."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, defer_build=True)

    kind: Literal["products", "customers"]
    fileName: Optional[str] = Field(default=None, max_length=255, description="Shown back with the import.")


# --- outcomes of a worker's turn -------------------------------------------------------------------------

DONE = "DONE"  # this worker finished the step
IGNORED = "IGNORED"  # nothing to do (finished already, unknown object)
BUSY = "BUSY"  # another worker holds the lease: try again later
PAUSED = "PAUSED"  # time ran out mid-apply; the work continues from the checkpoint
SUPERSEDED = "SUPERSEDED"  # lost the lease mid-way; whoever holds it carries on


class ImportBusy(Exception):
    """Another worker is on this import; the message should come back later."""


class _Superseded(Exception):
    pass


class _OutOfTime(Exception):
    pass


# --- keys --------------------------------------------------------------------------------------------------

def import_sk(import_id: str) -> str:
    return f"IMPORT#{import_id}"


def upload_key(company_id: str, kind: str, import_id: str) -> str:
    return f"imports/{company_id}/{kind}/{import_id}.csv"


def apply_key(company_id: str, kind: str, import_id: str) -> str:
    return f"imports/{company_id}/{kind}/{import_id}.apply.csv"


def report_key(company_id: str, import_id: str) -> str:
    return f"reports/{company_id}/{import_id}/errors.csv"


_OBJECT_KEY = re.compile(r"^imports/(?P<company>[0-9a-z]+)/(?P<kind>products|customers)/(?P<id>[0-9a-z]+)"
                         r"(?P<apply>\.apply)?\.csv$")


@dataclass(frozen=True)
class ObjectRef:
    company_id: str
    kind: str
    import_id: str
    is_apply: bool


def parse_object_key(key: str) -> ObjectRef | None:
    match = _OBJECT_KEY.match(key)
    if not match:
        return None
    return ObjectRef(match["company"], match["kind"], match["id"], bool(match["apply"]))


def derived_id(import_id: str, row: int) -> str:
    """The id of the record a row creates: the same on every attempt, shaped like :func:`ids.new_id`."""
    digest = int.from_bytes(hashlib.sha256(f"{import_id}:{row}".encode()).digest()[:10], "big")
    tail = ""
    for _ in range(16):
        tail = ids._ALPHABET[digest & 31] + tail
        digest >>= 5
    return import_id[:10] + tail


# --- the record ---------------------------------------------------------------------------------------------

def _actor_map(actor: audit.Actor) -> dict[str, Any]:
    return {"type": actor.type, "id": actor.id, "name": actor.name, "onBehalfOf": actor.on_behalf_of}


def _actor(value: dict[str, Any] | None) -> audit.Actor:
    if not value:
        return audit.Actor.system()
    return audit.Actor(value["type"], value["id"], value["name"], value.get("onBehalfOf"))


def _count(item: dict[str, Any], name: str) -> int:
    return int(item.get(name) or 0)


def to_api(item: dict[str, Any]) -> dict[str, Any]:
    """The import as the API shows it: status, progress, preview, problems, and what apply did."""
    status = item["status"]
    preview = item.get("preview")
    report = item.get("errorReportKey")
    applying = status in ("APPLYING", "APPLIED")
    return {
        "id": item["id"], "kind": item["kind"], "status": status, "fileName": item.get("fileName"),
        "createdAt": item["createdAt"], "updatedAt": item["updatedAt"],
        "progress": {"rowsRead": _count(item, "rowsRead"),
                     "totalRows": int(item["totalRows"]) if item.get("totalRows") is not None else None,
                     "rowsApplied": _count(item, "rowsApplied")},
        "preview": {name: int(preview[name]) for name in ("rows", "create", "update", "unchanged", "invalid")}
        if preview else None,
        "errors": [{"row": int(error["row"]), "field": error["field"], "message": error["message"]}
                   for error in item.get("errors") or []],
        "errorCount": _count(item, "errorCount"),
        "errorReportUrl": s3files.download_url(get_settings().imports_bucket, report,
                                               file_name=f"import-{item['id']}-errors.csv",
                                               expires_in=REPORT_LINK_SECONDS) if report else None,
        "ignoredColumns": list(item.get("ignoredColumns") or []),
        "applied": {"created": _count(item, "appliedCreated"), "updated": _count(item, "appliedUpdated"),
                    "unchanged": _count(item, "appliedUnchanged")} if applying else None,
        "appliedAt": item.get("appliedAt"),
        "failure": item.get("failure"),
    }


def _upload_post(key: str, return_url: str | None) -> dict[str, Any]:
    """The presigned POST for an import's file: exactly its key, 1 byte to 50 MB. ``return_url``: where S3
    sends a browser after a plain form post (``success_action_redirect``, fixed by the policy too)."""
    fields: dict[str, str] = {}
    conditions: list[Any] = [["content-length-range", 1, MAX_BYTES]]
    if return_url:
        fields["success_action_redirect"] = return_url
        conditions.append({"success_action_redirect": return_url})
    post = s3files.s3().generate_presigned_post(get_settings().imports_bucket, key, Fields=fields or None,
                                                Conditions=conditions, ExpiresIn=UPLOAD_EXPIRES_SECONDS)
    expires = clock.iso(clock.now() + timedelta(seconds=UPLOAD_EXPIRES_SECONDS))
    return {"method": "POST", "url": post["url"], "fields": post["fields"], "maxBytes": MAX_BYTES,
            "expiresAt": expires}


def upload_form(company_id: str, import_id: str, *, return_url: str | None = None) -> dict[str, Any] | None:
    """A fresh presigned POST for an import still awaiting its file (a page shown again), else None."""
    item = get_item(company_id, import_id)
    if item["status"] != "AWAITING_UPLOAD":
        return None
    return _upload_post(item["objectKey"], return_url)


def create_import(company_id: str, kind: str, actor: audit.Actor, *, file_name: str | None = None,
                  also_write: AlsoWrite | None = None, return_url: str | None = None) -> dict[str, Any]:
    """A new import awaiting its upload, and the presigned POST to upload it with (size-limited)."""
    if kind not in KINDS:
        raise ValidationError("Validation failed.",
                              details=[{"field": "kind", "message": "must be products or customers"}])
    import_id = ids.new_id()
    now = clock.now_iso()
    key = upload_key(company_id, kind, import_id)
    item = {
        "PK": keys.company(company_id), "SK": import_sk(import_id), "entity": "IMPORT",
        "GSI1PK": keys.listing(company_id, "IMPORT"), "GSI1SK": keys.listing_sort(now, import_id),
        "id": import_id, "companyId": company_id, "kind": kind, "status": "AWAITING_UPLOAD",
        "fileName": file_name, "objectKey": key, "createdBy": _actor_map(actor), "createdAt": now, "updatedAt": now,
    }
    view = {**to_api(item), "upload": _upload_post(key, return_url)}
    writes = [dynamo.put(item, condition="attribute_not_exists(PK)"), *extra_items(also_write, view)]
    dynamo.transact(writes)
    return view


def get_item(company_id: str, import_id: str) -> dict[str, Any]:
    return dynamo.get_record(keys.company(company_id), import_sk(import_id), "IMPORT", NOT_FOUND)


def get_import(company_id: str, import_id: str) -> dict[str, Any]:
    return to_api(get_item(company_id, import_id))


def _update(company_id: str, import_id: str, expression: str, *, condition: str | None = None,
            names: dict[str, str] | None = None,
            values: dict[str, Any] | None = None) -> tuple[bool, dict[str, Any] | None]:
    """One conditional update of the record: (True, new item) or (False, the item as it is)."""
    client = dynamo.dynamodb()
    request: dict[str, Any] = {
        **dynamo.update(keys.company(company_id), import_sk(import_id), expression, condition=condition,
                        names=names, values=values)["Update"],
        "ReturnValues": "ALL_NEW",
    }
    try:
        return True, dynamo.from_item(client.update_item(**request)["Attributes"])
    except client.exceptions.ConditionalCheckFailedException as failure:
        return False, dynamo.from_item(failure.response.get("Item"))


_STATUS = {"#status": "status"}


def _lease_live(item: dict[str, Any]) -> bool:
    return bool(item.get("leaseOwner")) and int(item.get("leaseUntil") or 0) >= int(time.time())


# --- the worker's entry point ---------------------------------------------------------------------------

def handle_object(bucket: str, key: str, *, owner: str, time_left: TimeLeft = None) -> str:
    """What an S3 notification for ``key`` asks for: a preview (an upload) or an apply (the frozen copy).

    Raises :class:`ImportBusy` when another worker is on it, so the message comes back later.
    """
    ref = parse_object_key(key)
    if ref is None or bucket != get_settings().imports_bucket:
        logger.warning("Ignoring an object that is not an import: %s/%s", bucket, key)
        return IGNORED
    if ref.is_apply:
        outcome = apply(ref.company_id, ref.import_id, owner=owner, time_left=time_left)
        if outcome == PAUSED:
            _notify_again(apply_key(ref.company_id, ref.kind, ref.import_id))
    else:
        outcome = validate(ref.company_id, ref.import_id, owner=owner, time_left=time_left, kind=ref.kind)
    if outcome == BUSY:
        raise ImportBusy(f"import {ref.import_id} is being worked on elsewhere")
    return outcome


def _notify_again(key: str) -> None:
    """Fire an object's notification again (it is copied onto itself), for a fresh invocation."""
    bucket = get_settings().imports_bucket
    s3files.s3().copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": key},
                             MetadataDirective="REPLACE", Metadata={"notified": clock.now_iso()},
                             ContentType="text/csv; charset=utf-8")


def _record_failure(company_id: str, import_id: str, owner: str, phase: str, error: BaseException) -> None:
    """An unexpected error: give the lease back so a retry runs at once; past the attempts, FAILED."""
    message = f"{type(error).__name__}: {error}"[:500]
    try:
        item = get_item(company_id, import_id)
        attempts = _count(item, f"{phase}Attempts")
        if phase == "validation" and attempts >= MAX_ATTEMPTS:
            _update(company_id, import_id,
                    "SET #status = :failed, failure = :failure, lastError = :error, updatedAt = :now "
                    "REMOVE leaseOwner, leaseUntil", condition="leaseOwner = :me", names=_STATUS,
                    values={":failed": "FAILED", ":me": owner, ":now": clock.now_iso(), ":error": message,
                            ":failure": "The file could not be checked; upload it again as a new import."})
        else:
            _update(company_id, import_id, "SET leaseUntil = :zero, lastError = :error, updatedAt = :now",
                    condition="leaseOwner = :me",
                    values={":zero": 0, ":me": owner, ":error": message, ":now": clock.now_iso()})
    except Exception:  # noqa: BLE001 - the original error is what gets raised
        logger.exception("Could not record the failure of import %s", import_id)


# --- preview ---------------------------------------------------------------------------------------------

@dataclass
class Existing:
    guard: dict[str, Any]
    record: dict[str, Any] | None  # None: a guard without its record (never written so, but survivable)


@dataclass
class Plan:
    action: str  # create | update | unchanged
    writes: list[dict[str, Any]] = field(default_factory=list)


def optional_defaults(model: Any) -> dict[str, Any]:
    """What a row may leave out, and what it then gets: the create model's defaults."""
    return {name: spec.default for name, spec in model.model_fields.items() if not spec.is_required()}


class KindRules:
    """How one kind of record is matched, compared and written."""

    guard_attr: str
    guard_entity: str
    record_fields: tuple[str, ...]
    defaults: dict[str, Any]

    def guard_sk(self, key: str) -> str:
        raise NotImplementedError

    def record_sk(self, record_id: str) -> str:
        raise NotImplementedError

    def plan(self, company_id: str, row: csvformat.ParsedRow, existing: Existing | None, now: str,
             new_id: Callable[[], str]) -> Plan:
        raise NotImplementedError

    def classify(self, row: csvformat.ParsedRow, existing: Existing | None) -> str:
        """What :meth:`plan` would do, without building the writes (the preview)."""
        current = existing.record if existing else None
        if current is None:
            return "create"
        return "update" if self.updated_fields(current, row) else "unchanged"

    def updated_fields(self, current: dict[str, Any], row: csvformat.ParsedRow) -> dict[str, Any] | None:
        """The record's fields with the row applied, or None when the row changes nothing."""
        before = {name: current.get(name) for name in self.record_fields}
        after = {**before, **row.values}
        return None if after == before else after

    def _guard_put(self, company_id: str, key_sk: str, record_id: str, extra: dict[str, Any],
                   existing: Existing | None, *, refresh: bool = False) -> dict[str, Any]:
        item = {"PK": keys.company(company_id), "SK": key_sk, "entity": self.guard_entity, self.guard_attr: record_id,
                **extra}
        if refresh:  # same guard, new spelling: it must still be ours
            return dynamo.put(item, condition=f"{self.guard_attr} = :mine", values={":mine": record_id})
        if existing is None:
            return dynamo.put(item, condition="attribute_not_exists(PK)")
        # An orphaned guard (its record is gone) is taken over only if it is still that orphan.
        return dynamo.put(item, condition=f"{self.guard_attr} = :stale",
                          values={":stale": existing.guard.get(self.guard_attr)})


class ProductRules(KindRules):
    guard_attr = "productId"
    guard_entity = "SKU"
    record_fields = catalog.PRODUCT_FIELDS
    defaults = optional_defaults(catalog.ProductCreate)

    def guard_sk(self, key: str) -> str:
        return keys.sku_guard_sk(key)

    def record_sk(self, record_id: str) -> str:
        return keys.product_sk(record_id)

    def plan(self, company_id: str, row: csvformat.ParsedRow, existing: Existing | None, now: str,
             new_id: Callable[[], str]) -> Plan:
        current = existing.record if existing else None
        if current is None:
            product_id = new_id()
            fields = {**self.defaults, **row.values}
            item = catalog.build_item(company_id, product_id, fields, now, now, 1)
            return Plan("create", [
                dynamo.put(item, condition="attribute_not_exists(PK)"),
                self._guard_put(company_id, self.guard_sk(fields["sku"]), product_id, {"sku": fields["sku"]},
                                existing),
                outbox.event(company_id, "product.updated", catalog.to_api(item), at=now),
            ])
        after = self.updated_fields(current, row)
        if after is None:
            return Plan("unchanged")
        version = int(current.get("version", 0))
        item = catalog.build_item(company_id, current["id"], after, current["createdAt"], now, version + 1)
        writes = [dynamo.put_if_version(item, version)]
        if after.get("sku") != current.get("sku"):  # the same SKU in other letter case
            writes.append(self._guard_put(company_id, self.guard_sk(after["sku"]), current["id"],
                                          {"sku": after["sku"]}, existing, refresh=True))
        writes.append(outbox.event(company_id, "product.updated", catalog.to_api(item), at=now))
        return Plan("update", writes)


class CustomerRules(KindRules):
    guard_attr = "customerId"
    guard_entity = "EMAIL"
    record_fields = customers.FIELDS
    defaults = optional_defaults(customers.CustomerCreate)

    def guard_sk(self, key: str) -> str:
        return keys.email_guard_sk(key)

    def record_sk(self, record_id: str) -> str:
        return keys.customer_sk(record_id)

    def plan(self, company_id: str, row: csvformat.ParsedRow, existing: Existing | None, now: str,
             new_id: Callable[[], str]) -> Plan:
        current = existing.record if existing else None
        if current is None:
            customer_id = new_id()
            fields = {**self.defaults, **row.values}
            # Imported customers have no password and are unverified until they set one.
            item = customers.build_item(company_id, customer_id, fields, now, now, 1, {"emailVerified": False})
            return Plan("create", [
                dynamo.put(item, condition="attribute_not_exists(PK)"),
                self._guard_put(company_id, self.guard_sk(fields["email"]), customer_id, {}, existing),
                outbox.event(company_id, "customer.created", customers.to_api(item), at=now),
            ])
        after = self.updated_fields(current, row)
        if after is None:
            return Plan("unchanged")
        version = int(current.get("version", 0))
        kept = {name: current.get(name) for name in ("emailVerified", "passwordHash")}
        item = customers.build_item(company_id, current["id"], after, current["createdAt"], now, version + 1, kept)
        return Plan("update", [
            dynamo.put_if_version(item, version),
            outbox.event(company_id, "customer.updated", customers.to_api(item), at=now),
        ])


RULES: dict[str, KindRules] = {"products": ProductRules(), "customers": CustomerRules()}


def _existing(company_id: str, rules: KindRules, row_keys: list[str]) -> dict[str, Existing]:
    """What the table holds for these keys: two batch reads (the guards, then their records)."""
    pk = keys.company(company_id)
    guards = dynamo.batch_get([(pk, rules.guard_sk(key)) for key in row_keys])
    by_key: dict[str, dict[str, Any]] = {}
    for key in row_keys:
        guard = guards.get((pk, rules.guard_sk(key)))
        if guard:
            by_key[key] = guard
    records = dynamo.batch_get([(pk, rules.record_sk(guard[rules.guard_attr])) for guard in by_key.values()])
    return {key: Existing(guard, records.get((pk, rules.record_sk(guard[rules.guard_attr]))))
            for key, guard in by_key.items()}


def _claim_validation(company_id: str, import_id: str, owner: str,
                      kind: str | None) -> tuple[str, dict[str, Any] | None]:
    now_s = int(time.time())
    ok, item = _update(
        company_id, import_id,
        "SET #status = :validating, leaseOwner = :me, leaseUntil = :until, rowsRead = :zero, updatedAt = :now "
        "ADD validationAttempts :one",
        condition="(#status = :awaiting OR (#status = :validating AND leaseUntil < :nows))"
                  + (" AND kind = :kind" if kind else ""),
        names=_STATUS,
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
    outcome, item = _claim_validation(company_id, import_id, owner, kind)
    if item is None:
        return outcome
    try:
        _Preview(item, owner, time_left).run()
    except _Superseded:
        return SUPERSEDED
    except Exception as error:
        _record_failure(company_id, import_id, owner, "validation", error)
        raise
    return DONE


class _Preview:
    def __init__(self, item: dict[str, Any], owner: str, time_left: TimeLeft) -> None:
        self.item = item
        self.company_id = item["companyId"]
        self.import_id = item["id"]
        self.kind = item["kind"]
        self.rules = RULES[self.kind]
        self.owner = owner
        self.time_left = time_left
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
        existing = _existing(self.company_id, self.rules, [row.key for row in window if row.key])
        for row in window:
            self.counts[self.rules.classify(row, existing.get(row.key or ""))] += 1

    def progress(self) -> None:
        if self.time_left is not None and self.time_left() < SAFETY_SECONDS:
            raise _OutOfTime()
        ok, _ = _update(self.company_id, self.import_id, "SET rowsRead = :rows, leaseUntil = :until, updatedAt = :now",
                        condition="leaseOwner = :me AND #status = :validating", names=_STATUS,
                        values={":rows": self.rows_read, ":until": int(time.time()) + LEASE_SECONDS,
                                ":now": clock.now_iso(), ":me": self.owner, ":validating": "VALIDATING"})
        if not ok:
            raise _Superseded()

    def run(self) -> None:
        bucket = get_settings().imports_bucket
        try:
            opened = s3files.open_text(bucket, self.item["objectKey"])
        except s3files.s3().exceptions.NoSuchKey:
            self.finish_failed("The uploaded file is missing; upload it again as a new import.")
            return
        try:
            self.read(opened)
        except _OutOfTime:
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
        ok, _ = _update(self.company_id, self.import_id, expression + " REMOVE leaseOwner, leaseUntil",
                        condition="leaseOwner = :me AND #status = :validating", names=_STATUS, values=values)
        if not ok:
            raise _Superseded()

    def finish_failed(self, message: str) -> None:
        ok, _ = _update(self.company_id, self.import_id,
                        "SET #status = :failed, failure = :failure, rowsRead = :rows, updatedAt = :now "
                        "REMOVE leaseOwner, leaseUntil",
                        condition="leaseOwner = :me AND #status = :validating", names=_STATUS,
                        values={":failed": "FAILED", ":failure": message, ":rows": self.rows_read,
                                ":now": clock.now_iso(), ":me": self.owner, ":validating": "VALIDATING"})
        if not ok:
            raise _Superseded()


# --- apply ---------------------------------------------------------------------------------------------------

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
            if status == "APPLYING" and not _lease_live(item):
                _trigger_apply(item, restart=True)
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
            condition="#status = :ready", names=_STATUS,
            values={":applying": "APPLYING", ":ready": "READY", ":one": 1, ":zero": 0, ":now": now,
                    ":key": apply_key(company_id, item["kind"], import_id), ":actor": _actor_map(actor)}),
            *extra_items(also_write, view)]
        try:
            dynamo.transact(writes)
        except dynamo.TransactionCancelled as cancelled:
            if cancelled.failed_indexes() == [0]:
                continue  # someone moved it first: answer from its new status
            raise Conflict("The import is being changed by someone else; try again.") from None
        _trigger_apply(moved)
        return view
    raise Conflict("The import is being changed by someone else; try again.")


def _trigger_apply(item: dict[str, Any], *, restart: bool = False) -> None:
    """Freeze the previewed file as the apply object, whose notification starts the work. Copying with
    ``CopySourceIfMatch`` means a file replaced after its preview is never applied. A restart notifies
    the frozen copy again."""
    bucket = get_settings().imports_bucket
    target = apply_key(item["companyId"], item["kind"], item["id"])
    client = s3files.s3()
    if restart:
        try:
            _notify_again(target)
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
        _update(item["companyId"], item["id"], "SET #status = :failed, failure = :failure, updatedAt = :now",
                condition="#status = :applying", names=_STATUS,
                values={":failed": "FAILED", ":applying": "APPLYING", ":now": clock.now_iso(), ":failure": _REPLACED})
        raise BusinessRuleViolation(_REPLACED) from None


_REPLACED = "The uploaded file was replaced or removed after its preview; start a new import."


def _take_apply_lease(company_id: str, import_id: str, owner: str) -> tuple[str, dict[str, Any] | None]:
    now_s = int(time.time())
    ok, item = _update(
        company_id, import_id, "SET leaseOwner = :me, leaseUntil = :until, updatedAt = :now",
        condition="#status = :applying AND (attribute_not_exists(leaseUntil) OR leaseUntil < :nows "
                  "OR leaseOwner = :me)",
        names=_STATUS, values={":applying": "APPLYING", ":me": owner, ":until": now_s + LEASE_SECONDS,
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
        return _Apply(item, owner, time_left).run()
    except _Superseded:
        return SUPERSEDED
    except Exception as error:
        _record_failure(company_id, import_id, owner, "apply", error)
        raise


class _Apply:
    def __init__(self, item: dict[str, Any], owner: str, time_left: TimeLeft) -> None:
        self.item = item
        self.company_id = item["companyId"]
        self.import_id = item["id"]
        self.kind = item["kind"]
        self.rules = RULES[self.kind]
        self.owner = owner
        self.time_left = time_left
        self.checkpoint = int(item.get("appliedThrough") or 1)
        self.committed = 0  # chunks this worker committed
        self.totals = {"created": _count(item, "appliedCreated"), "updated": _count(item, "appliedUpdated"),
                       "unchanged": _count(item, "appliedUnchanged"), "rows": _count(item, "rowsApplied")}

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
        except _OutOfTime:
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
                raise _OutOfTime()
            if existing is None:
                existing = _existing(self.company_id, self.rules, [row.key for row in remaining if row.key])
            now = clock.now_iso()
            writes: list[dict[str, Any]] = []
            counts = {"create": 0, "update": 0, "unchanged": 0}
            taken = 0
            for row in remaining:
                plan = self.rules.plan(self.company_id, row, existing.get(row.key or ""), now,
                                       lambda row=row: derived_id(self.import_id, row.row))
                if taken and len(writes) + len(plan.writes) > CHUNK_ITEMS:
                    break
                writes += plan.writes
                counts[plan.action] += 1
                taken += 1
            end = remaining[taken - 1].row
            writes.append(dynamo.update(
                keys.company(self.company_id), import_sk(self.import_id),
                "SET appliedThrough = :end, leaseUntil = :until, updatedAt = :now "
                "ADD rowsApplied :rows, appliedCreated :created, appliedUpdated :updated, appliedUnchanged :unchanged",
                condition="#status = :applying AND appliedThrough = :start AND leaseOwner = :me", names=_STATUS,
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
                        raise _Superseded() from None
                    # Our own earlier attempt committed (its answer was lost): carry on from it.
                else:
                    retries += 1
                    if retries > ROW_RETRIES:
                        raise Conflict("Records kept changing while the import was applied; it will resume.") from None
                    existing = None  # someone changed these rows meanwhile: read them again and re-plan
                    continue
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
                              condition="#status = :applying AND leaseOwner = :me", names=_STATUS,
                              values={":applied": "APPLIED", ":applying": "APPLYING", ":now": now, ":me": self.owner}),
                audit.entry(self.company_id, _actor(self.item.get("appliedBy")), "ImportApplied", "Import",
                            self.import_id, details, at=now),
            ])
        except dynamo.TransactionCancelled:
            current = get_item(self.company_id, self.import_id)
            if current["status"] != "APPLIED":
                raise _Superseded() from None

    def release(self) -> None:
        _update(self.company_id, self.import_id, "SET leaseUntil = :zero, updatedAt = :now",
                condition="leaseOwner = :me", values={":zero": 0, ":me": self.owner, ":now": clock.now_iso()})

    def fail(self, message: str) -> str:
        _update(self.company_id, self.import_id,
                "SET #status = :failed, failure = :failure, updatedAt = :now REMOVE leaseOwner, leaseUntil",
                condition="leaseOwner = :me AND #status = :applying", names=_STATUS,
                values={":failed": "FAILED", ":failure": message, ":now": clock.now_iso(), ":me": self.owner,
                        ":applying": "APPLYING"})
        return DONE


def write_chunk(writes: list[dict[str, Any]]) -> None:
    """One chunk of an apply: its rows' writes and the checkpoint, all or nothing. (A seam for tests
    that crash an apply half-way.)"""
    dynamo.transact(writes)


def new_owner(prefix: str) -> str:
    """A lease owner id: unique per worker run."""
    return f"{prefix}:{uuid.uuid4().hex[:12]}"
