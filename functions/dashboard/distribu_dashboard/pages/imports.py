"""CSV import and export screens for products (``/dashboard/inventory/import``) and customers
(``/dashboard/customers/import``), and the export links (``.../export``).

They drive the one import machinery (:mod:`distribu.imports` through :mod:`distribu.staff_csv`): "Upload a
CSV file" creates the import and shows the presigned POST form, the browser posts the file straight to S3,
S3 sends it back here (``success_action_redirect``), the csv_import function checks every row, and this
page shows the check's progress and then the preview (counts, every row's problems, the error report),
then the apply's progress. While work runs, htmx polls ``.../progress`` (the status fragment alone) every
second; the fragment stops asking once the import is ready, invalid, applied or failed. Without
JavaScript the page says what is happening and offers a refresh link.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from distribu.errors import BusinessRuleViolation, Conflict
from distribu.lazy import lazy_module
from distribu_dashboard.desk import DeskPage, open_desk

# Loaded on the first import page, not in every cold start of the dashboard.
csvformat = lazy_module("distribu.csvformat")
staff_csv = lazy_module("distribu.staff_csv")

POLL_WHILE = ("VALIDATING", "APPLYING")


@dataclass(frozen=True)
class Area:
    kind: str  # products | customers
    base: str  # /dashboard/inventory
    title: str  # Products
    list_label: str  # Inventory
    matched_by: str  # what an existing row is matched on

    @property
    def header(self) -> tuple[str, ...]:
        return tuple(csvformat.PRODUCT_EXPORT_HEADER if self.kind == "products" else csvformat.CUSTOMER_EXPORT_HEADER)

    @property
    def import_url(self) -> str:
        return self.base + "/import"

    def detail_url(self, import_id: str) -> str:
        return f"{self.import_url}/{import_id}"


AREAS = (
    Area("products", "/dashboard/inventory", "Products", "Inventory", "SKU"),
    Area("customers", "/dashboard/customers", "Customers", "Customers", "email"),
)


def _state(view: dict[str, Any], uploaded: bool) -> str:
    status = view["status"]
    if status == "AWAITING_UPLOAD":
        return "arriving" if uploaded else "upload"
    return status.lower()


def _status_context(page: DeskPage, area: Area, view: dict[str, Any], uploaded: bool) -> dict[str, Any]:
    staff = page.require_staff()
    state = _state(view, uploaded)
    detail = area.detail_url(view["id"])
    upload = None
    if state == "upload":
        upload = staff_csv.upload_form(staff, area.kind, view["id"],
                                       return_url=page.absolute_url(detail + "?uploaded=1"))
    polling = state == "arriving" or view["status"] in POLL_WHILE
    progress = view["progress"]
    total = progress["totalRows"]
    return {"area": area, "view": view, "state": state, "upload": upload, "polling": polling,
            "progress_url": f"{detail}/progress" + ("?uploaded=1" if state == "arriving" else ""),
            "refresh_url": detail + ("?uploaded=1" if state == "arriving" else ""),
            "percent": int(100 * progress["rowsApplied"] / total) if total and state == "applying" else None}


async def _landing(request: Request, area: Area) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    return page.render("imports/index.html", area=area, recent=staff_csv.recent_imports(staff, area.kind))


async def _start(request: Request, area: Area) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    await page.check_csrf()
    view = staff_csv.start_import(staff, area.kind)  # its upload form is signed when it is shown
    return page.redirect(area.detail_url(view["id"]))


async def _detail(request: Request, area: Area) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    import_id = request.path_params["import_id"]
    view = staff_csv.import_status(staff, area.kind, import_id)
    uploaded = request.query_params.get("uploaded") == "1"
    return page.render("imports/detail.html", **_status_context(page, area, view, uploaded))


async def _progress(request: Request, area: Area) -> Response:
    """The status fragment alone (what htmx polls)."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    view = staff_csv.import_status(staff, area.kind, request.path_params["import_id"])
    uploaded = request.query_params.get("uploaded") == "1"
    return page.render("imports/_status.html", **_status_context(page, area, view, uploaded))


async def _apply(request: Request, area: Area) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    await page.check_csrf()
    import_id = request.path_params["import_id"]
    try:
        staff_csv.apply_import(staff, area.kind, import_id)
    except (BusinessRuleViolation, Conflict) as error:
        view = staff_csv.import_status(staff, area.kind, import_id)
        return page.render("imports/detail.html", status=error.status_code, apply_error=error.message,
                           **_status_context(page, area, view, False))
    return page.redirect(area.detail_url(import_id), flash="Applying the import. Its progress shows below.")


async def _export(request: Request, area: Area) -> Response:
    """The CSV of every record of the kind, written to S3 and downloaded from there (a link valid one hour)."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    done = staff_csv.export(staff, area.kind)
    return page.finish(RedirectResponse(done["url"], status_code=303))


def _bound(handler: Callable[[Request, Area], Any], area: Area) -> Callable[[Request], Any]:
    async def endpoint(request: Request) -> Response:
        return await handler(request, area)

    endpoint.__name__ = f"{handler.__name__.strip('_')}_{area.kind}"
    return endpoint


routes = [route for area in AREAS for route in (
    Route(area.import_url, _bound(_landing, area), methods=["GET"]),
    Route(area.import_url, _bound(_start, area), methods=["POST"]),
    Route(area.import_url + "/{import_id:id}", _bound(_detail, area), methods=["GET"]),
    Route(area.import_url + "/{import_id:id}/progress", _bound(_progress, area), methods=["GET"]),
    Route(area.import_url + "/{import_id:id}/apply", _bound(_apply, area), methods=["POST"]),
    Route(area.base + "/export", _bound(_export, area), methods=["GET"]),
)]
