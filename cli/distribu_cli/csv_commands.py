"""``distribu import ...`` and ``distribu export ...``: CSV files through the same code the functions run.

``import products FILE`` creates the import, uploads FILE to the imports bucket (whose notification
would start the preview in the cloud or in the local stack) and then runs the preview itself through
the same routine; whoever takes the import's lease first does the work and the other waits for it.
``--apply`` goes on to apply the same way. The preview is printed as JSON; the exit code is 1 when
rows are invalid (or the import failed).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

POLL_SECONDS = 0.5
WAIT_SECONDS = 15 * 60
KINDS = ("products", "customers")
EXPORT_KINDS = ("products", "customers", "orders", "order-items")


def _company_id(slug: str) -> str:
    from distribu import companies

    return companies.get_company_by_slug(slug).id


def _actor() -> Any:
    from distribu import audit

    return audit.Actor("SYSTEM", "cli", "distribu CLI")


def _use_imports_bucket() -> str:
    """``IMPORTS_BUCKET``, or the stack's imports bucket found next to ``TABLE_NAME`` (the local stack
    names it ``{stack}-imports-{account}``)."""
    from distribu import config
    from distribu.aws import client
    from distribu.errors import ValidationError

    bucket = os.environ.get("IMPORTS_BUCKET")
    if not bucket:
        table = os.environ.get("TABLE_NAME", "")
        stack = table[:-len("-Table")] if table.endswith("-Table") else table
        names = [entry["Name"] for entry in client("s3").list_buckets().get("Buckets", [])]
        found = [name for name in names if stack and name.startswith(f"{stack}-imports-")]
        if len(found) != 1:
            raise ValidationError("Set IMPORTS_BUCKET to the stack's ImportsBucketName output.")
        bucket = found[0]
        os.environ["IMPORTS_BUCKET"] = bucket
    config.get_settings.cache_clear()
    return bucket


def _drive(company_id: str, import_id: str, work: Callable[[str], str], finished: set[str]) -> dict[str, Any]:
    """Run ``work`` (a preview or an apply) here unless another worker holds the import; then wait for
    it, taking over if its lease runs out."""
    from distribu import imports

    owner = imports.new_owner("cli")
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        outcome = work(owner)
        item = imports.get_item(company_id, import_id)
        if item["status"] in finished or outcome == imports.DONE:
            return item
        if time.monotonic() > deadline:
            return item
        time.sleep(POLL_SECONDS)


def _finished(item: dict[str, Any], ok: str) -> Any:
    """The import as JSON; exit code 1 unless it reached ``ok``."""
    from distribu import imports

    view = imports.to_api(item)
    if item["status"] != ok:
        print(json.dumps(view, indent=2, default=str))
        raise SystemExit(1)
    return view


def import_file(args: argparse.Namespace) -> Any:
    from distribu import imports, s3files
    from distribu.errors import ValidationError

    path = Path(args.file)
    if not path.is_file():
        raise ValidationError(f'No such file: "{args.file}".')
    if path.stat().st_size > imports.MAX_BYTES:
        raise ValidationError(f"The file is larger than {imports.MAX_BYTES // 2**20} MB; split it into smaller files.")
    bucket = _use_imports_bucket()
    company_id = _company_id(args.company)
    view = imports.create_import(company_id, args.kind, _actor(), file_name=path.name)
    with path.open("rb") as body:
        s3files.s3().put_object(Bucket=bucket, Key=imports.upload_key(company_id, args.kind, view["id"]), Body=body,
                                ContentType="text/csv")
    item = _drive(company_id, view["id"],
                  lambda owner: imports.validate(company_id, view["id"], owner=owner, kind=args.kind),
                  {"READY", "INVALID", "FAILED"})
    if not args.apply:
        return _finished(item, "READY")
    _finished(item, "READY")
    return _apply(company_id, view["id"])


def _apply(company_id: str, import_id: str) -> Any:
    from distribu import imports

    imports.request_apply(company_id, import_id, _actor())
    item = _drive(company_id, import_id, lambda owner: imports.apply(company_id, import_id, owner=owner),
                  {"APPLIED", "FAILED"})
    return _finished(item, "APPLIED")


def apply_import(args: argparse.Namespace) -> Any:
    _use_imports_bucket()
    return _apply(_company_id(args.company), args.import_id)


def show_import(args: argparse.Namespace) -> Any:
    from distribu import imports

    _use_imports_bucket()
    return imports.get_import(_company_id(args.company), args.import_id)


def export_kind(args: argparse.Namespace) -> Any:
    from distribu import exports, s3files

    bucket = _use_imports_bucket()
    result = exports.export(_company_id(args.company), args.kind, since=args.since, until=args.until)
    if args.out:
        key = exports.export_key(_company_id(args.company), args.kind, result["id"])
        body = s3files.s3().get_object(Bucket=bucket, Key=key)["Body"]
        with open(args.out, "wb") as out:
            for chunk in body.iter_chunks(1024 * 1024):
                out.write(chunk)
        result["out"] = str(args.out)
    return result


def register(groups: Any) -> None:
    """Adds ``import`` and ``export`` to the CLI's command groups (without importing the domain package:
    the kinds are restated here, and a test checks they match)."""
    importing = groups.add_parser("import", help="CSV imports: preview, then apply (all rows or none)")
    actions = importing.add_subparsers(dest="action", required=True)
    for kind in KINDS:
        command = actions.add_parser(kind, help=f"upload and preview a {kind} CSV (exit 1 if rows are invalid)")
        command.add_argument("file", metavar="FILE")
        command.add_argument("--company", required=True, metavar="SLUG")
        command.add_argument("--apply", action="store_true", help="apply it if every row is valid")
        command.set_defaults(run=import_file, kind=kind)
    command = actions.add_parser("apply", help="apply (or resume applying) a previewed import")
    command.add_argument("import_id", metavar="IMPORT_ID")
    command.add_argument("--company", required=True, metavar="SLUG")
    command.set_defaults(run=apply_import)
    command = actions.add_parser("show", help="an import's status, progress and preview")
    command.add_argument("import_id", metavar="IMPORT_ID")
    command.add_argument("--company", required=True, metavar="SLUG")
    command.set_defaults(run=show_import)

    exporting = groups.add_parser("export", help="export a CSV to S3 and print a download link")
    exporting.add_argument("kind", choices=EXPORT_KINDS)
    exporting.add_argument("--company", required=True, metavar="SLUG")
    exporting.add_argument("--out", metavar="FILE", help="also save the file here")
    exporting.add_argument("--since", metavar="ISO8601", help="orders only")
    exporting.add_argument("--until", metavar="ISO8601", help="orders only")
    exporting.set_defaults(run=export_kind)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through `distribu`")
