"""CSV import and export for staff in the dashboard: the role table checked, then the one import machinery
(:mod:`distribu.imports`, the csv_import function) and the one export (:mod:`distribu.exports`) that the API
and the CLI drive too. Nothing here reads or writes CSV.

| kind      | role-table action | who (section 1)        |
|-----------|-------------------|------------------------|
| products  | catalog           | OWNER, ADMIN, MEMBER   |
| customers | customers         | OWNER, ADMIN, MEMBER   |

An import of one kind is never shown or applied through the other kind's pages, and another company's
import is not found (its record lives in the other company's partition).
"""

from __future__ import annotations

from typing import Any

from distribu import exports, imports, keys
from distribu.errors import NotFound
from distribu.pagination import IndexQuery, query_page
from distribu.permissions import Staff

RECENT = 5

ACTIONS = {"products": "catalog", "customers": "customers"}


def require(staff: Staff, kind: str) -> None:
    if kind not in ACTIONS:
        raise NotFound("Page not found.")
    staff.require(ACTIONS[kind])


def _item(staff: Staff, kind: str, import_id: str) -> dict[str, Any]:
    require(staff, kind)
    item = imports.get_item(staff.company_id, import_id)
    if item["kind"] != kind:
        raise NotFound(imports.NOT_FOUND)
    return item


def start_import(staff: Staff, kind: str, *, return_url: str | None = None,
                 file_name: str | None = None) -> dict[str, Any]:
    """A new import awaiting its file, with the presigned POST that sends the browser back to ``return_url``."""
    require(staff, kind)
    return imports.create_import(staff.company_id, kind, staff.actor(), file_name=file_name, return_url=return_url)


def import_status(staff: Staff, kind: str, import_id: str) -> dict[str, Any]:
    """The import as the API shows it: status, progress, preview counts, problems, error report link."""
    return imports.to_api(_item(staff, kind, import_id))


def upload_form(staff: Staff, kind: str, import_id: str, *, return_url: str) -> dict[str, Any] | None:
    _item(staff, kind, import_id)
    return imports.upload_form(staff.company_id, import_id, return_url=return_url)


def apply_import(staff: Staff, kind: str, import_id: str) -> dict[str, Any]:
    """Apply a previewed import, all rows or none (the work runs in the csv_import function)."""
    _item(staff, kind, import_id)
    return imports.request_apply(staff.company_id, import_id, staff.actor())


def recent_imports(staff: Staff, kind: str, *, limit: int = RECENT) -> list[dict[str, Any]]:
    """The company's latest imports of this kind, newest first (one Query of the imports' listing)."""
    require(staff, kind)
    company_id = staff.company_id
    spec = IndexQuery(
        index="GSI1", pk_name="GSI1PK", sk_name="GSI1SK", partition=keys.listing(company_id, "IMPORT"),
        start_key=lambda sort_key: {"GSI1PK": keys.listing(company_id, "IMPORT"), "GSI1SK": sort_key,
                                    "PK": keys.company(company_id),
                                    "SK": imports.import_sk(keys.id_from_listing_sort(sort_key))},
        filter_expression="#kind = :kind", names={"#kind": "kind"}, values={":kind": kind})
    return [imports.to_api(item) for item in query_page(spec, limit=limit, cursor=None).items]


def export(staff: Staff, kind: str) -> dict[str, Any]:
    """The company's products or customers as a CSV file, with a download link valid one hour."""
    staff.require("view")
    if kind not in ACTIONS:
        raise NotFound("Page not found.")
    return exports.export(staff.company_id, kind)
