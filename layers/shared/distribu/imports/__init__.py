"""CSV imports: upload -> preview -> apply, for products (upsert by SKU) and customers (by email).

Modules: ``records`` (the import record, its keys, view and lease), ``rules`` (how a row of each kind is
matched and written), ``preview``, ``applying``, ``worker`` (the S3 notification's entry point).

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

from distribu.imports.applying import apply, request_apply
from distribu.imports.preview import validate
from distribu.imports.records import (BUSY, DONE, IGNORED, KINDS, MAX_BYTES, NOT_FOUND, PAUSED, SCOPES, STATUSES,
                                      SUPERSEDED, ImportBusy, ImportCreate, apply_key, create_import, derived_id,
                                      get_import, get_item, import_sk, parse_object_key, report_key, to_api,
                                      upload_form, upload_key)
from distribu.imports.worker import handle_object, new_owner

__all__ = [
    "BUSY", "DONE", "IGNORED", "KINDS", "MAX_BYTES", "NOT_FOUND", "PAUSED", "SCOPES", "STATUSES", "SUPERSEDED",
    "ImportBusy", "ImportCreate", "apply", "apply_key", "create_import", "derived_id", "get_import", "get_item",
    "handle_object", "import_sk", "new_owner", "parse_object_key", "report_key", "request_apply", "to_api",
    "upload_form", "upload_key", "validate",
]
