"""Orders: the filtered list and its CSV exports, one order (timeline, status moves, invoice), New order.

Every verb is the domain's (:mod:`distribu.order_desk`), which checks the role table; the pages read the
form, make one domain call and answer.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from distribu.errors import BusinessRuleViolation, ValidationError
from distribu.lazy import lazy_module
from distribu.web.page import Form
from distribu.web.templating import money
from distribu_dashboard.desk import DeskPage, open_desk

order_desk = lazy_module("distribu.order_desk")
orders = lazy_module("distribu.orders")

ORDERS_URL = "/dashboard/orders"
NEW_URL = ORDERS_URL + "/new"
STATUS_CHOICES = (("SUBMITTED", "Submitted"), ("CONFIRMED", "Confirmed"), ("SHIPPED", "Shipped"),
                  ("DELIVERED", "Delivered"), ("CANCELLED", "Cancelled"))
FILTER_FIELDS = ("q", "status", "since", "until", "min_total", "max_total", "customer")


# --- the list ------------------------------------------------------------------------------------------

def _filters(params) -> "order_desk.OrderFilters":
    return order_desk.OrderFilters.from_params(params)


async def order_list(request: Request) -> Response:
    """One Query page of the order index (see :mod:`distribu.order_desk`), 25 orders, with their customers."""
    filters = _filters(request.query_params)
    page, found = open_desk(request, also_read=lambda company_id: order_desk.first_reads(company_id, filters))
    staff = page.require_staff()
    form = Form(filters.params())
    status, result = 200, None
    try:
        result = order_desk.search_orders(staff, filters, cursor=request.query_params.get("cursor") or None,
                                          first_batch=found)
    except ValidationError as error:
        form.take(error, fields=FILTER_FIELDS)
        status = 400
    return page.render("orders/list.html", status=status, form=form, result=result, filters=filters,
                       status_choices=STATUS_CHOICES)


async def export(request: Request) -> Response:
    """POST ``kind`` (``orders`` or ``order-items``) and the list's filters: the CSV is streamed into S3 a
    page of orders at a time and the browser is sent to its download link."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    filters = _filters(form.values)
    try:
        result = order_desk.export_orders(staff, filters, form.text("kind"))
    except ValidationError as error:
        return page.render("orders/list.html", status=400, form=Form(filters.params()).take(error, fields=FILTER_FIELDS),
                           result=None, filters=filters, status_choices=STATUS_CHOICES)
    return page.finish(RedirectResponse(result["url"], status_code=303))


# --- one order -------------------------------------------------------------------------------------------

def _render_detail(page: DeskPage, order_id: str, found=None, *, status: int = 200, problem: str | None = None
                   ) -> Response:
    staff = page.require_staff()
    detail = order_desk.order_detail(staff, order_id, first_batch=found)
    return page.render("orders/detail.html", status=status, detail=detail, order=detail.order, problem=problem)


async def order_detail(request: Request) -> Response:
    """Three round trips: the session; the company with the order; the order's customer and audit entries."""
    order_id = request.path_params["order_id"]
    page, found = open_desk(request, also_read=lambda company_id: [order_desk.order_key(company_id, order_id)])
    return _render_detail(page, order_id, found)


async def move(request: Request) -> Response:
    """POST ``status``: the move, if the order's lifecycle allows it from where it is (else 422, in place)."""
    page, _ = open_desk(request)
    staff = page.require_staff()
    form = await page.form()
    order_id = request.path_params["order_id"]
    try:
        moved = order_desk.move_order(staff, order_id, form.text("status"))
    except (BusinessRuleViolation, ValidationError) as error:
        return _render_detail(page, order_id, status=422 if isinstance(error, BusinessRuleViolation) else 400,
                              problem=error.message)
    return page.redirect(f"{ORDERS_URL}/{order_id}",
                         flash=f"Order #{orders.order_code(order_id)} is now {moved['status'].title()}.")


async def invoice(request: Request) -> Response:
    page, _ = open_desk(request)
    staff = page.require_staff()
    filename, pdf = order_desk.invoice(staff, request.path_params["order_id"])
    return page.finish(Response(pdf, media_type="application/pdf",
                                headers={"content-disposition": f'attachment; filename="{filename}"'}))


# --- a new order ---------------------------------------------------------------------------------------------

def _render_new(page: DeskPage, found, draft, *, status: int = 200, form: Form | None = None,
                problem: str | None = None, cap: bool = True, notices: list[str] | None = None) -> Response:
    staff = page.require_staff()
    assert page.company is not None
    view = order_desk.prepare(staff, draft, default_threshold=page.company.low_stock_threshold,
                              first_batch=found, cap=cap)
    form = form or Form()
    for name, message in draft.errors.items():
        form.error(name, message)
    form.values.update({"customer": draft.customer_id or "", "address_id": draft.address_id or "",
                        "po_number": draft.po_number, "notes": draft.notes, "q": draft.q,
                        "customer_q": draft.customer_q if not draft.customer_id else ""})
    return page.render("orders/new.html", status=status, view=view, form=form, problem=problem,
                       notices=(notices or []) + view.notices)


async def new_order(request: Request) -> Response:
    """The empty new-order page (``?customer={id}`` starts it for a customer)."""
    page, found = open_desk(request, also_read=order_desk.picker_reads)
    params = request.query_params
    draft = order_desk.read_draft({"customer": params.get("customer"), "q": params.get("q")}, [])
    return _render_new(page, found, draft)


async def new_order_post(request: Request) -> Response:
    """Every button of the new-order form posts the whole form (so nothing typed is lost without JavaScript):
    ``action`` is ``place``, ``add:{product id}``, ``remove:{product id}``, ``customer:{id}``, ``no_customer``
    or ``refresh`` (searches again; the form's default button)."""
    page, found = open_desk(request, also_read=order_desk.picker_reads)
    staff = page.require_staff()
    form = await page.form()
    draft = order_desk.read_draft(form.values, form.getlist("line"))
    action = form.text("action") or "refresh"
    kept = Form({name: value for name, value in form.values.items() if name.startswith("qty_")})
    notices: list[str] = []
    if action == "place":
        try:
            placed = order_desk.place(staff, draft)
        except ValidationError as error:
            kept.take(error, fields=("lines", "po_number", "notes", "address_id", *draft.errors))
            return _render_new(page, found, draft, status=400, form=kept, cap=False)
        except BusinessRuleViolation as error:  # a shortfall, a blocked customer...: in place, lines kept
            return _render_new(page, found, draft, status=422, form=kept, problem=error.message, cap=False)
        return page.redirect(f"{ORDERS_URL}/{placed['id']}",
                             flash=f"Order #{orders.order_code(placed['id'])} is placed: {money(placed['total'])} "
                                   "before tax.")
    if action.startswith("add:"):
        product_id = action[4:]
        problem = order_desk.add_line(draft, product_id, order_desk.parse_quantity(form.values.get(f"add_qty_{product_id}")))
        if problem:
            kept.error(f"add_qty_{product_id}", problem)
        kept.values.pop(f"qty_{product_id}", None)
    elif action.startswith("remove:"):
        draft.lines.pop(action[7:], None)
        draft.errors.pop(f"qty_{action[7:]}", None)
    elif action.startswith("customer:"):
        draft.customer_id, draft.address_id, draft.customer_q = order_desk._id_or_none(action[9:]), None, ""
        notices.append("Prices are now this customer's.")
    elif action == "no_customer":
        draft.customer_id, draft.address_id = None, None
        notices.append("The order is for no customer; prices are the catalog's.")
    return _render_new(page, found, draft, form=kept, notices=notices)


async def picker(request: Request) -> Response:
    """The picker's rows alone (htmx, as the search is typed): the catalog index, then one batch read of the
    products shown with the customer's prices. No catalog Query, whatever the catalog's size."""
    page, found = open_desk(request, also_read=order_desk.picker_reads)
    staff = page.require_staff()
    assert page.company is not None
    params = request.query_params
    draft = order_desk.read_draft({"customer": params.get("customer"), "q": params.get("q")}, [])
    view = order_desk.prepare(staff, draft, default_threshold=page.company.low_stock_threshold, first_batch=found,
                              search_customers=False)
    return page.render("orders/_picker.html", view=view, form=Form())


routes = [
    Route(ORDERS_URL, order_list, methods=["GET"]),
    Route(ORDERS_URL + "/export", export, methods=["POST"]),
    Route(NEW_URL, new_order, methods=["GET"]),
    Route(NEW_URL, new_order_post, methods=["POST"]),
    Route(NEW_URL + "/picker", picker, methods=["GET"]),
    Route(ORDERS_URL + "/{order_id:id}", order_detail, methods=["GET"]),
    Route(ORDERS_URL + "/{order_id:id}/status", move, methods=["POST"]),
    Route(ORDERS_URL + "/{order_id:id}/invoice", invoice, methods=["GET"]),
]
