"""The import's record: its keys and objects, what the API shows of it, its creation, and the lease a
worker holds on it while it previews or applies."""

from __future__ import annotations

import hashlib
import logging
import re
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from distribu import audit, clock, csvformat, dynamo, ids, keys, s3files
from distribu.config import get_settings
from distribu.errors import ValidationError
from distribu.idempotency import AlsoWrite, extra_items
from distribu.imports.rules import RULES, KindRules

logger = logging.getLogger(__name__)

KINDS = csvformat.KINDS
SCOPES = {"products": "products:write", "customers": "customers:write"}
STATUSES = ("AWAITING_UPLOAD", "VALIDATING", "READY", "INVALID", "APPLYING", "APPLIED", "FAILED")
NOT_FOUND = "Import not found."

MAX_BYTES = 50 * 1024 * 1024
UPLOAD_EXPIRES_SECONDS = 15 * 60
REPORT_LINK_SECONDS = 60 * 60
LEASE_SECONDS = 120
SAFETY_SECONDS = 60.0  # stop with this much of the invocation left, and continue in a fresh one
MAX_ATTEMPTS = 3

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


class Superseded(Exception):
    """This worker lost the lease mid-way: stop, whoever holds it now carries on."""


class OutOfTime(Exception):
    """Too little of the invocation is left to go on safely."""


# --- keys --------------------------------------------------------------------------------------------------

def import_sk(import_id: str) -> str:
    return f"IMPORT#{import_id}"


def _imports_of(company_id: str) -> str:
    return f"imports/{company_id}/"


def _reports_of(company_id: str) -> str:
    return f"reports/{company_id}/"


def company_files(company_id: str) -> list[tuple[str, str]]:
    """(bucket, key prefix) of every file kept for the company's imports: the uploads, their frozen copies
    and the error reports."""
    bucket = get_settings().imports_bucket
    return [(bucket, _imports_of(company_id)), (bucket, _reports_of(company_id))]


def upload_key(company_id: str, kind: str, import_id: str) -> str:
    return f"{_imports_of(company_id)}{kind}/{import_id}.csv"


def apply_key(company_id: str, kind: str, import_id: str) -> str:
    return f"{_imports_of(company_id)}{kind}/{import_id}.apply.csv"


def report_key(company_id: str, import_id: str) -> str:
    return f"{_reports_of(company_id)}{import_id}/errors.csv"


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

def actor_map(actor: audit.Actor) -> dict[str, Any]:
    return {"type": actor.type, "id": actor.id, "name": actor.name, "onBehalfOf": actor.on_behalf_of}


def actor_of(value: dict[str, Any] | None) -> audit.Actor:
    if not value:
        return audit.Actor.system()
    return audit.Actor(value["type"], value["id"], value["name"], value.get("onBehalfOf"))


def count_of(item: dict[str, Any], name: str) -> int:
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
        "progress": {"rowsRead": count_of(item, "rowsRead"),
                     "totalRows": int(item["totalRows"]) if item.get("totalRows") is not None else None,
                     "rowsApplied": count_of(item, "rowsApplied")},
        "preview": {name: int(preview[name]) for name in ("rows", "create", "update", "unchanged", "invalid")}
        if preview else None,
        "errors": [{"row": int(error["row"]), "field": error["field"], "message": error["message"]}
                   for error in item.get("errors") or []],
        "errorCount": count_of(item, "errorCount"),
        "errorReportUrl": s3files.download_url(get_settings().imports_bucket, report,
                                               file_name=f"import-{item['id']}-errors.csv",
                                               expires_in=REPORT_LINK_SECONDS) if report else None,
        "ignoredColumns": list(item.get("ignoredColumns") or []),
        "applied": {"created": count_of(item, "appliedCreated"), "updated": count_of(item, "appliedUpdated"),
                    "unchanged": count_of(item, "appliedUnchanged")} if applying else None,
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
        "fileName": file_name, "objectKey": key, "createdBy": actor_map(actor), "createdAt": now, "updatedAt": now,
    }
    view = {**to_api(item), "upload": _upload_post(key, return_url)}
    writes = [dynamo.put(item, condition="attribute_not_exists(PK)"), *extra_items(also_write, view)]
    dynamo.transact(writes)
    return view


def get_item(company_id: str, import_id: str) -> dict[str, Any]:
    return dynamo.get_record(keys.company(company_id), import_sk(import_id), "IMPORT", NOT_FOUND)


def get_import(company_id: str, import_id: str) -> dict[str, Any]:
    return to_api(get_item(company_id, import_id))


def update_record(company_id: str, import_id: str, expression: str, *, condition: str | None = None,
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


STATUS_NAME = {"#status": "status"}


def lease_live(item: dict[str, Any]) -> bool:
    return bool(item.get("leaseOwner")) and int(item.get("leaseUntil") or 0) >= int(time.time())


class LeasedTurn:
    """A worker's turn on one import whose lease it holds: the record, its kind's rules, and the time left."""

    def __init__(self, item: dict[str, Any], owner: str, time_left: TimeLeft) -> None:
        self.item = item
        self.company_id: str = item["companyId"]
        self.import_id: str = item["id"]
        self.kind: str = item["kind"]
        self.rules: KindRules = RULES[self.kind]
        self.owner = owner
        self.time_left = time_left


def record_failure(company_id: str, import_id: str, owner: str, phase: str, error: BaseException) -> None:
    """An unexpected error: give the lease back so a retry runs at once; past the attempts, FAILED."""
    message = f"{type(error).__name__}: {error}"[:500]
    try:
        item = get_item(company_id, import_id)
        attempts = count_of(item, f"{phase}Attempts")
        if phase == "validation" and attempts >= MAX_ATTEMPTS:
            update_record(company_id, import_id,
                          "SET #status = :failed, failure = :failure, lastError = :error, updatedAt = :now "
                          "REMOVE leaseOwner, leaseUntil", condition="leaseOwner = :me", names=STATUS_NAME,
                          values={":failed": "FAILED", ":me": owner, ":now": clock.now_iso(), ":error": message,
                                  ":failure": "The file could not be checked; upload it again as a new import."})
        else:
            update_record(company_id, import_id, "SET leaseUntil = :zero, lastError = :error, updatedAt = :now",
                          condition="leaseOwner = :me",
                          values={":zero": 0, ":me": owner, ":error": message, ":now": clock.now_iso()})
    except Exception:  # noqa: BLE001 - the original error is what gets raised
        logger.exception("Could not record the failure of import %s", import_id)
