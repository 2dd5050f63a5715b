"""The audit log: newest first, a page at a time, filtered by actor type, entity type, action and dates; each
entry in words with its before/after on demand; the filtered entries as CSV (streamed, a page of entries
at a time, every cell neutralised against spreadsheet formulas).

Reads go through :func:`distribu.audit.search`, which picks the index of the most selective filter and never
reads the whole log.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, Iterator
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from distribu import audit, audit_text, clock
from distribu.errors import ValidationError
from distribu.lazy import lazy_module
from distribu.web.page import Form
from distribu_dashboard.desk import open_desk

csvformat = lazy_module("distribu.csvformat")  # its pydantic models load on the first export, not on a cold start

AUDIT_URL = "/dashboard/settings/audit"
EXPORT_URL = AUDIT_URL + "/export.csv"
FILTER_FIELDS = ("actor_type", "entity_type", "action", "since", "until")
ACTOR_CHOICES = (("USER", "Staff"), ("CUSTOMER", "Customer"), ("API_KEY", "API key"), ("SYSTEM", "System"))
CSV_HEADER = ["when", "actorType", "actorName", "actorId", "onBehalfOf", "action", "entityType", "entityId",
              "description", "details"]
# A Lambda answer holds at most 6 MB: the export stops before that and says so in its last row.
MAX_EXPORT_BYTES = 5_000_000


def _filters(request: Request) -> tuple[audit.Filters, Form]:
    values = {name: request.query_params.get(name, "").strip()[:40] for name in FILTER_FIELDS}
    return audit.Filters(**values), Form(values)


def _entry_view(entry: dict[str, Any]) -> dict[str, Any]:
    details = entry.get("details") or {}
    return {"id": entry.get("id"), "when": entry.get("createdAt"), "text": audit_text.describe(entry),
            "action": entry.get("action"), "actor_type": entry.get("actorType"),
            "entity": f"{entry.get('entityType', '')} {entry.get('entityId', '')}".strip(),
            "before": details.get("before") if isinstance(details.get("before"), dict) else None,
            "after": details.get("after") if isinstance(details.get("after"), dict) else None,
            "details": json.dumps(details, indent=2, sort_keys=True, ensure_ascii=False) if details else ""}


async def audit_page(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("settings")
    filters, form = _filters(request)
    entries: list[dict[str, Any]] = []
    next_cursor = None
    status = 200
    try:
        found = audit.search(staff.company_id, filters, cursor=request.query_params.get("cursor") or None)
        entries, next_cursor = [_entry_view(entry) for entry in found.items], found.next_cursor
    except ValidationError as error:
        form.take(error, fields=FILTER_FIELDS + ("cursor",))
        status = 400
    export_query = urlencode({name: getattr(filters, name) for name in FILTER_FIELDS if getattr(filters, name)})
    return page.render("audit/list.html", status=status, entries=entries, next_cursor=next_cursor, form=form,
                       filtered=filters.active, actor_choices=ACTOR_CHOICES,
                       entity_choices=[(name, name) for name in audit.ENTITY_TYPES],
                       action_choices=[(name, name) for name in audit.ACTIONS],
                       export_url=EXPORT_URL + (f"?{export_query}" if export_query else ""))


def _csv_line(cells: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue()


def _rows(company_id: str, filters: audit.Filters) -> Iterator[bytes]:
    written = 0
    chunk = "\ufeff" + _csv_line(CSV_HEADER)  # the BOM: spreadsheets read the file as UTF-8
    for entry in audit.every_entry(company_id, filters):
        line = _csv_line([csvformat.text_cell(value) for value in (
            entry.get("createdAt"), entry.get("actorType"), entry.get("actorName"), entry.get("actorId"),
            entry.get("actorOnBehalfOf"), entry.get("action"), entry.get("entityType"), entry.get("entityId"),
            audit_text.describe(entry),
            json.dumps(entry.get("details") or {}, sort_keys=True, ensure_ascii=False, default=str))])
        if written + len(chunk) + len(line) > MAX_EXPORT_BYTES:
            chunk += _csv_line([csvformat.text_cell("Export stopped at 5 MB: choose a shorter date range for the "
                                                    "rest.")])
            break
        chunk += line
        if len(chunk) >= 64_000:
            written += len(chunk.encode())
            yield chunk.encode()
            chunk = ""
    if chunk:
        yield chunk.encode()


async def export_csv(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    staff.require("settings")
    filters, _ = _filters(request)
    filters.check()  # a bad filter is the 400 page, before any byte is sent
    name = f"audit-log-{clock.now_iso()[:10]}.csv"
    response = StreamingResponse(_rows(staff.company_id, filters), media_type="text/csv; charset=utf-8",
                                 headers={"content-disposition": f'attachment; filename="{name}"'})
    return page.finish(response)


routes = [
    Route(AUDIT_URL, audit_page, methods=["GET"]),
    Route(EXPORT_URL, export_csv, methods=["GET"]),
]
