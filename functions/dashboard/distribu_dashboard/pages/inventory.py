"""Inventory: the product list (search, category, status, sort, pages), add and edit every field,
activate/deactivate, delete with a confirmation, and bulk stock (Set or Delta) on the selected rows.

The list is read from the catalog index, like the storefront's catalog: the session; the company and the
index's head; the shards this container does not hold yet (none when warm); the page's products, fresh.
Three round trips when warm whatever the catalog's size. Every change goes through :mod:`distribu.inventory`
(the API's own catalog verbs, with the role table checked).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from distribu import catalog_index, dynamo, keys
from distribu.errors import Conflict, ValidationError
from distribu.lazy import lazy_module
from distribu.web.page import Form
from distribu_dashboard.desk import DeskPage, open_desk

# pydantic and the catalog's models load with the first request that needs them, not with every cold start
catalog = lazy_module("distribu.catalog")
inventory = lazy_module("distribu.inventory")
validation = lazy_module("distribu.validation")

LIST_URL = "/dashboard/inventory"
PAGE_SIZE = 25
FIELDS = ("name", "sku", "description", "category", "unit", "price", "stock", "isActive", "lowStockThreshold")
SORTS = {"name": "Category, then name", "name_desc": "Name Z–A", "sku": "SKU", "price": "Price low→high",
         "price_desc": "Price high→low", "stock_asc": "Stock least first", "stock": "Stock most first",
         "newest": "Newest first"}
# status -> (active, stock state) for catalog_index.browse. Stock states count active products only, as the
# home page's inventory health panel does (its links land here).
STATUSES = {"all": ("All products", None, None), "active": ("Active", True, None),
            "inactive": ("Inactive", False, None), "healthy": ("Healthy stock", True, "healthy"),
            "low": ("Low stock", True, "low"), "out": ("Out of stock", True, "out")}
BULK_MODES = (("set", "Set stock to"), ("delta", "Change stock by (+/−)"))
LIST_PARAMS = ("q", "category", "status", "sort", "page")
MAX_QUERY = 100


def _edit_url(product_id: str) -> str:
    return f"{LIST_URL}/{product_id}/edit"


# --- the list -----------------------------------------------------------------------------------------------

def _filters(params: Mapping[str, str]) -> dict[str, Any]:
    page_text = str(params.get("page") or "1")
    return {
        "q": " ".join((params.get("q") or "").split())[:MAX_QUERY],
        "category": (params.get("category") or "").strip()[:100],
        "status": params.get("status") if params.get("status") in STATUSES else "all",
        "sort": params.get("sort") if params.get("sort") in SORTS else "name",
        "page": int(page_text) if page_text.isdigit() and len(page_text) < 7 else 1,
    }


def _row(product: Mapping[str, Any], default_threshold: int) -> dict[str, Any]:
    own = product.get("lowStockThreshold")
    threshold = int(own) if own is not None else default_threshold
    stock = int(product["stock"])
    return {"id": product["id"], "name": product["name"], "sku": product.get("sku"),
            "category": product.get("category"), "unit": product.get("unit") or "each",
            "price": dynamo.as_decimal(product["price"]), "stock": stock, "threshold": threshold,
            "own_threshold": own is not None, "is_active": bool(product.get("isActive", True)),
            "image_url": product.get("imageUrl"),
            "state": "out" if stock <= 0 else "low" if stock <= threshold else "ok"}


def _list_page(page: DeskPage, found: Mapping[tuple[str, str], Any], params: Mapping[str, str], *,
               status: int = 200, bulk_form: Form | None = None) -> Response:
    staff = page.require_staff()
    assert page.company is not None
    company_id = staff.company_id
    head = found.get(catalog_index.head_key(company_id))
    stale = catalog_index.stale_shard_keys(company_id, head)
    shards: dict[tuple[str, str], Any] = {}
    for start in range(0, len(stale), 100):
        shards.update(dynamo.batch_get(stale[start:start + 100]))
    index = catalog_index.assemble(company_id, head, shards)
    chosen = _filters(params)
    _, active, stock_state = STATUSES[chosen["status"]]
    matching = catalog_index.browse(index, q=chosen["q"] or None, category=chosen["category"] or None,
                                    active=active, stock_state=stock_state, sort=chosen["sort"])
    total = len(matching)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    current = min(max(1, chosen["page"]), pages)
    window = [entry.id for entry in matching[(current - 1) * PAGE_SIZE: current * PAGE_SIZE]]
    pk = keys.company(company_id)
    products = dynamo.batch_get([(pk, keys.product_sk(product_id)) for product_id in window])
    default = page.company.low_stock_threshold
    rows = [_row(products[(pk, keys.product_sk(product_id))], default) for product_id in window
            if (products.get((pk, keys.product_sk(product_id))) or {}).get("entity") == "PRODUCT"]
    categories = sorted((name for name, totals in index.valuation.by_category.items() if name and totals.product_count),
                        key=str.lower)
    selected = set(bulk_form.getlist("productId")) if bulk_form else set()
    return page.render(
        "inventory/list.html", status=status, rows=rows, total=total, pages=pages, current=current,
        first=(current - 1) * PAGE_SIZE + 1 if total else 0, last=min(total, current * PAGE_SIZE),
        filters=chosen, filter_form=Form({name: chosen[name] for name in ("q", "category", "status", "sort")}),
        categories=categories, statuses=[(key, label) for key, (label, _, _) in STATUSES.items()],
        sorts=list(SORTS.items()), bulk_form=bulk_form or Form({"mode": "set"}), bulk_modes=BULK_MODES,
        selected=selected, catalog_size=len(index), default_threshold=default,
        back_fields={name: chosen[name] for name in LIST_PARAMS if chosen[name] not in ("", None, "all", "name", 1)})


def _list_reads(company_id: str) -> list[tuple[str, str]]:
    return [catalog_index.head_key(company_id)]


async def product_list(request: Request) -> Response:
    page, found = open_desk(request, also_read=_list_reads)
    return _list_page(page, found, request.query_params)


# --- add and edit -------------------------------------------------------------------------------------------

def _number(text: str) -> Any:
    """A price as typed ("8.50", "$1,234.50") as a Decimal; anything else as it is, for the model to refuse."""
    cleaned = text.replace("$", "").replace(",", "").strip()
    try:
        return Decimal(cleaned) if cleaned else None
    except InvalidOperation:
        return text


def _whole(text: str) -> Any:
    cleaned = text.strip()
    if cleaned.lstrip("-").isdigit() and len(cleaned) < 16:
        return int(cleaned)
    return cleaned or None


MESSAGES = {"price": "Enter a price of 0 or more with at most 2 decimals, e.g. 8.50.",
            "stock": "Enter a whole number of 0 or more.",
            "lowStockThreshold": "Enter a whole number of 0 or more, or leave it empty for the company default."}


def _parse_product(form: Form) -> catalog.ProductCreate:
    """The form as the API's create model sees it (every field; images are the image page's)."""
    description = str(form.get("description")).replace("\r\n", "\n")  # browsers send textarea lines as CRLF
    data = {"name": form.text("name"), "sku": form.text("sku"), "description": description,
            "category": form.text("category"), "unit": form.text("unit") or "each",
            "price": _number(form.text("price")), "stock": _whole(form.text("stock")),
            "isActive": form.checked("isActive"), "lowStockThreshold": _whole(form.text("lowStockThreshold"))}
    try:
        return validation.parse(catalog.ProductCreate, data)
    except ValidationError as error:
        for detail in error.extra.get("details") or []:
            field = detail.get("field")
            if field in MESSAGES and data.get(field) is not None and not isinstance(data[field], (int, Decimal)):
                detail["message"] = MESSAGES[field]  # typed text that is not a number at all
            elif field in ("price", "stock") and data.get(field) is None:
                detail["message"] = "This field is required."
        raise


def _product_form(product: Mapping[str, Any]) -> Form:
    threshold = product.get("lowStockThreshold")
    values = {"name": product["name"], "sku": product.get("sku") or "", "description": product.get("description") or "",
              "category": product.get("category") or "", "unit": product.get("unit") or "each",
              "price": f"{dynamo.as_decimal(product['price']):.2f}", "stock": str(product["stock"]),
              "isActive": "true" if product.get("isActive", True) else "",
              "lowStockThreshold": "" if threshold is None else str(threshold)}
    values["original"] = json.dumps({name: values[name] for name in FIELDS}, separators=(",", ":"))
    return Form(values)


def _units(current: str) -> list[tuple[str, str]]:
    units = [(unit, unit) for unit in catalog.UNITS]
    if current and current not in catalog.UNITS:
        units.insert(0, (current, current))  # set through the API or a CSV: kept as it is
    return units


def _form_page(page: DeskPage, form: Form, *, product: Mapping[str, Any] | None = None, status: int = 200) -> Response:
    page.require_staff()
    assert page.company is not None
    return page.render("inventory/form.html", status=status, form=form, product=product, units=_units(form.text("unit")),
                       fields=FIELDS, default_threshold=page.company.low_stock_threshold)


async def new_form(request: Request) -> Response:
    page, _ = open_desk(request)
    return _form_page(page, Form({"unit": "each", "isActive": "true"}))


async def create(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    try:
        product = inventory.add_product(staff, _parse_product(form))
    except ValidationError as error:
        return _form_page(page, form.take(error, fields=FIELDS), status=400)
    except Conflict as error:  # a duplicate SKU is the SKU field's problem
        if error.message == catalog.SKU_TAKEN:
            return _form_page(page, form.error("sku", catalog.SKU_TAKEN), status=409)
        raise
    return page.redirect(_edit_url(product["id"]), flash=f"Added {product['name']}. It is "
                         + ("on the storefront now." if product["isActive"] else "inactive: not on the storefront."))


async def edit_form(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    product = inventory.product_of(staff, request.path_params["product_id"])
    return _form_page(page, _product_form(product), product=product)


def _changed_fields(form: Form, parsed: catalog.ProductCreate) -> dict[str, Any]:
    """Only what the person changed in the form (against the values it was shown with), so that what changed
    meanwhile elsewhere (an order's stock, a colleague's price) is kept. Without the original, every field."""
    values = parsed.model_dump(exclude={"imageUrl"})
    try:
        original = json.loads(str(form.get("original") or "null"))
    except ValueError:
        original = None
    if not isinstance(original, dict):
        return values
    shown = dict(form.values)
    shown["isActive"] = "true" if form.checked("isActive") else ""

    def same(name: str) -> bool:
        def norm(value: Any) -> str:
            return str(value or "").replace("\r\n", "\n").strip()
        return norm(shown.get(name)) == norm(original.get(name))

    return {name: value for name, value in values.items() if not same(name)}


async def update(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    product_id = request.path_params["product_id"]
    product = inventory.product_of(staff, product_id)  # another company's: 404 before the form is read
    form = await page.form()
    try:
        parsed = _parse_product(form)
        saved = inventory.edit_product(staff, product_id, _changed_fields(form, parsed))
    except ValidationError as error:
        return _form_page(page, form.take(error, fields=FIELDS), product=product, status=400)
    except Conflict as error:
        if error.message == catalog.SKU_TAKEN:
            return _form_page(page, form.error("sku", catalog.SKU_TAKEN), product=product, status=409)
        raise
    return page.redirect(_edit_url(product_id), flash=f"Saved {saved['name']}.")


async def set_active(request: Request) -> Response:
    """POST ``isActive`` (true or false)."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    active = form.checked("isActive")
    saved = inventory.set_active(staff, request.path_params["product_id"], active)
    message = (f"{saved['name']} is active: customers see it on the storefront." if active else
               f"{saved['name']} is inactive: hidden from the storefront, kept here.")
    return page.redirect(_edit_url(saved["id"]), flash=message)


# --- delete ---------------------------------------------------------------------------------------------------

async def delete_confirm(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    product = inventory.product_of(staff, request.path_params["product_id"])
    return page.render("inventory/delete.html", product=product)


async def delete(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    await page.check_csrf()
    product = inventory.remove_product(staff, request.path_params["product_id"])
    return page.redirect(LIST_URL, flash=f"Deleted {product['name']}.")


# --- bulk stock --------------------------------------------------------------------------------------------

def _bulk_problems(form: Form) -> tuple[list[str], str, int | None]:
    product_ids = [product_id for product_id in dict.fromkeys(form.getlist("productId")) if product_id]
    mode = form.text("mode")
    value = _whole(form.text("value"))
    if not product_ids:
        form.fail("Select at least one product (tick its box in the list).")
    if len(product_ids) > inventory.MAX_ROWS:
        form.fail(f"Select at most {inventory.MAX_ROWS} products at a time.")
    if mode not in ("set", "delta"):
        form.error("mode", "Choose Set or Change.")
    if not isinstance(value, int):
        form.error("value", "Enter a whole number." if mode == "set" else "Enter a whole number, e.g. 10 or -10.")
    elif mode == "set" and value < 0:
        form.error("value", "Stock cannot be below 0.")
    elif abs(value) > catalog.MAX_STOCK:
        form.error("value", f"Enter at most {catalog.MAX_STOCK:,}.")
    return product_ids, mode, value if isinstance(value, int) else None


def _bulk_message(result: inventory.BulkResult, value: int) -> str:
    count = result.count("updated")
    noun = "product" if count == 1 else "products"
    if not count:
        return "Nothing to change: the selected products already had that stock."
    if result.mode == "set":
        text = f"Stock set to {value:,} for {count} {noun}."
    else:
        text = f"Stock changed by {value:+,} for {count} {noun}."
    clamped = sum(1 for row in result.rows if row.clamped)
    if clamped:
        text += f" {clamped} would have gone below 0 and {'is' if clamped == 1 else 'are'} now 0."
    unchanged = result.count("unchanged")
    if unchanged:
        text += f" {unchanged} already had that stock."
    return text


async def bulk(request: Request) -> Response:
    """POST repeated ``productId``, ``mode`` (set | delta) and ``value``; the list's filters come along so the
    person lands back where they were."""
    page, found = open_desk(request, also_read=_list_reads)
    staff = page.require_staff()
    form = await page.form()
    params = {name: form.text(name) for name in LIST_PARAMS}
    product_ids, mode, value = _bulk_problems(form)
    if form.has_errors or value is None:
        return _list_page(page, found, params, status=400, bulk_form=form)
    try:
        result = inventory.bulk_adjust_stock(staff, product_ids, mode, value)
    except ValidationError as error:
        return _list_page(page, found, params, status=400, bulk_form=form.take(error, aliases={"items": "value", "items.0.value": "value"}))
    back = {name: params[name] for name in LIST_PARAMS if params[name]}
    return page.redirect(LIST_URL + (f"?{urlencode(back)}" if back else ""), flash=_bulk_message(result, value))


routes = [
    Route(LIST_URL, product_list, methods=["GET"]),
    Route(LIST_URL + "/new", new_form, methods=["GET"]),
    Route(LIST_URL + "/new", create, methods=["POST"]),
    Route(LIST_URL + "/bulk", bulk, methods=["POST"]),
    Route(LIST_URL + "/{product_id:id}/edit", edit_form, methods=["GET"]),
    Route(LIST_URL + "/{product_id:id}/edit", update, methods=["POST"]),
    Route(LIST_URL + "/{product_id:id}/active", set_active, methods=["POST"]),
    Route(LIST_URL + "/{product_id:id}/delete", delete_confirm, methods=["GET"]),
    Route(LIST_URL + "/{product_id:id}/delete", delete, methods=["POST"]),
]
