"""The dashboard's orders through the real handler: the filtered list and its pagination, the CSV exports, one
order (timeline, the moves its lifecycle allows, the invoice), New order (picker, customer prices, capped
quantities, the shortfall shown in place with the lines kept), CSRF, roles and tenant isolation."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from tests import factories
from tests.dashboard.conftest import signed_in
from tests.web_client import Browser, form_fields

ORDERS = "/dashboard/orders"
NEW = ORDERS + "/new"


@pytest.fixture
def shop(tenant, projections) -> dict[str, Any]:
    """Products (one low on stock, one inactive, one sold out), two customers (Northwind with a custom price and
    an address) and three orders."""
    company = tenant.company_id
    bolts = factories.product(company, "Hex Bolt M8", sku="FAS-HB-08", category="Fasteners", price="14.90", stock=240,
                              imageUrl="https://cdn.example.test/bolt.png")
    nuts = factories.product(company, "Hex Nut M8", sku="FAS-HN-08", category="Fasteners", price="9.75", stock=4)
    drill = factories.product(company, "Cordless Drill", sku="TLS-CD-18", category="Tools", price="149.00", stock=0)
    hidden = factories.product(company, "Old Hammer", sku="TLS-OH-1", category="Tools", price="5.00", stock=10,
                               isActive=False)
    northwind = factories.customer(company, "buyer@northwind.test", name="Northwind Traders")
    contoso = factories.customer(company, "orders@contoso.test", name="Contoso Supply")
    factories.price_override(company, northwind["id"], bolts["id"], "12.00")
    address = factories.address(company, northwind["id"], company="Northwind Traders", line1="12 Harbour Road",
                                city="Portland", region="OR", postalCode="97209")
    first = factories.order(company, northwind["id"], [(bolts["id"], 10)], po_number="NW-4401", notes="Leave at dock 3",
                            shipping_address={k: v for k, v in address.items() if k in ("name", "company", "line1", "city",
                                                                                         "region", "postalCode", "country")})
    second = factories.order(company, contoso["id"], [(nuts["id"], 1)], po_number="CT-77")
    third = factories.order(company, None, [(bolts["id"], 2)], source="DASHBOARD")
    factories.moved_order(company, second["id"], "CONFIRMED")
    projections.drain()
    return {"bolts": bolts, "nuts": nuts, "drill": drill, "hidden": hidden, "northwind": northwind,
            "contoso": contoso, "address": address, "first": first, "second": second, "third": third}


def _codes(page: Any) -> list[str]:
    return [link.get_text(strip=True) for link in page.soup.select("table.orders-table td a.mono")]


def _code(order: dict[str, Any]) -> str:
    return "#" + order["id"][-8:].upper()


def _order(company_id: str, order_id: str) -> dict[str, Any]:
    from distribu import orders

    return orders.get_item(company_id, order_id)


def _stock(company_id: str, product_id: str) -> int:
    from distribu import catalog

    return int(catalog.get_item(company_id, product_id)["stock"])


def _order_count(company_id: str) -> int:
    from distribu import orders

    return len(orders.list_orders(company_id, limit=100, cursor=None).items)


# --- the list ------------------------------------------------------------------------------------------------

def test_the_list_shows_every_order_newest_first_with_customer_total_and_status(owner: Browser, shop) -> None:
    page = owner.get(ORDERS)
    assert page.status == 200
    assert _codes(page) == [_code(shop["third"]), _code(shop["second"]), _code(shop["first"])]
    text = page.text
    assert "Northwind Traders" in text and "buyer@northwind.test" in text and "Contoso Supply" in text
    assert "No customer" in text  # the dashboard order placed for nobody
    assert "NW-4401" in text and "$120.00" in text  # 10 x 12.00, Northwind's price
    badges = [badge.get_text(strip=True) for badge in page.soup.select("table.orders-table .badge")]
    assert badges == ["Submitted", "Confirmed", "Submitted"]  # colour repeats the word
    assert page.soup.select_one('a[href="/dashboard/orders/new"]') is not None


@pytest.mark.parametrize("query, expected", [
    ("status=CONFIRMED", ["second"]),
    ("status=submitted", ["third", "first"]),
    ("q=nw-44", ["first"]),  # PO, any case
    ("q=contoso", ["second"]),  # the customer's name
    ("q=buyer%40northwind", ["first"]),  # the customer's email
    ("min_total=20", ["third", "first"]),
    ("min_total=20&max_total=100", ["third"]),
    ("max_total=9.75", ["second"]),
    ("customer=orders%40contoso.test", ["second"]),
    ("customer=ORDERS%40Contoso.test&status=SUBMITTED", []),
    ("customer=nobody%40nowhere.test", []),
    ("since=2000-01-01&until=2999-12-31", ["third", "second", "first"]),
    ("until=2000-01-01", []),
])
def test_filters(owner: Browser, shop, query: str, expected: list[str]) -> None:
    page = owner.get(f"{ORDERS}?{query}")
    assert page.status == 200, page.text
    assert _codes(page) == [_code(shop[name]) for name in expected]
    if not expected:
        assert "No orders match these filters." in page.text


def test_search_by_order_number(owner: Browser, shop) -> None:
    code = _code(shop["second"])
    assert _codes(owner.get(f"{ORDERS}?q={code[1:].lower()}")) == [code]
    assert _codes(owner.get(f"{ORDERS}?q=%23{code[1:]}")) == [code]  # "#ABCD1234" as printed


def test_bad_filters_are_named_under_their_fields_and_list_nothing(owner: Browser, shop) -> None:
    page = owner.get(f"{ORDERS}?since=yesterday&min_total=abc&status=LOST&customer=not-an-email")
    assert page.status == 400
    assert page.field_error("since") == "Enter a date as YYYY-MM-DD."
    assert page.field_error("min_total") == "Enter an amount of 0 or more, like 250 or 99.90."
    assert page.field_error("status") == "Choose one of the listed statuses."
    assert page.field_error("customer") == "Enter the customer's email address."
    assert page.value_of("since") == "yesterday"  # kept as typed
    assert _codes(page) == []
    backwards = owner.get(f"{ORDERS}?since=2026-05-02&until=2026-05-01&min_total=10&max_total=5")
    assert backwards.field_error("until") == "The end date is before the start date."
    assert backwards.field_error("max_total") == "The highest total is below the lowest."


def test_pages_of_25_follow_the_cursor(owner: Browser, tenant, shop) -> None:
    for _ in range(27):
        factories.order(tenant.company_id, None, [(shop["bolts"]["id"], 1)], po_number="BULK")
    first = owner.get(f"{ORDERS}?q=bulk")
    assert len(_codes(first)) == 25
    following = first.soup.find("a", rel="next")["href"]
    assert "q=bulk" in following and "cursor=" in following
    second = owner.get(following)
    assert len(_codes(second)) == 2 and not set(_codes(second)) & set(_codes(first))
    assert second.soup.find("a", rel="next") is None
    assert second.soup.find("a", string=lambda text: text and "First page" in text) is not None
    assert owner.get(f"{ORDERS}?cursor=not-a-cursor").status == 400  # a hand-made cursor: refused, no 5xx


def test_a_sparse_filter_reads_a_bounded_stretch_per_page(owner: Browser, tenant, shop, monkeypatch) -> None:
    """A filter no index serves reads at most MAX_EXAMINED_PER_PAGE entries, then offers the next stretch."""
    from distribu import order_desk, pagination

    # Pages of 1 read 2 entries per request (Limit), and a page stops after 2 examined entries.
    monkeypatch.setattr(order_desk, "PAGE_SIZE", 1)
    monkeypatch.setattr(pagination, "MAX_LIMIT", 1)
    monkeypatch.setattr(pagination, "MAX_EXAMINED_PER_PAGE", 2)
    for _ in range(4):
        factories.order(tenant.company_id, None, [(shop["bolts"]["id"], 1)])
    page = owner.get(f"{ORDERS}?status=CONFIRMED")
    assert page.status == 200 and _codes(page) == []
    assert "look further with “Next page”" in page.text
    found = []
    while page.soup.find("a", rel="next") is not None:
        page = owner.get(page.soup.find("a", rel="next")["href"])
        found += _codes(page)
    assert found == [_code(shop["second"])]  # found in a later stretch, once


# --- exports ----------------------------------------------------------------------------------------------------

def _exported(stack: Any, company_id: str) -> list[list[str]]:
    from distribu import s3files
    from distribu.config import get_settings

    bucket = get_settings().imports_bucket
    listed = s3files.s3().list_objects_v2(Bucket=bucket, Prefix=f"exports/{company_id}/")["Contents"]
    newest = max(listed, key=lambda entry: entry["LastModified"])
    body = s3files.s3().get_object(Bucket=bucket, Key=newest["Key"])["Body"].read().decode()
    for entry in listed:
        s3files.s3().delete_object(Bucket=bucket, Key=entry["Key"])
    return list(csv.reader(io.StringIO(body)))


def test_exports_stream_the_filtered_orders_in_both_layouts(owner: Browser, tenant, shop, stack) -> None:
    page = owner.get(f"{ORDERS}?customer=buyer%40northwind.test")
    form = page.soup.find("form", action="/dashboard/orders/export")
    assert {field["name"]: field["value"] for field in form.find_all("input", type="hidden")
            if field["name"] != "csrf_token"} == {"customer": "buyer@northwind.test"}
    summary = owner.post(f"{ORDERS}/export", form_fields(form, kind="orders"))
    assert summary.status == 303 and "exports/" in summary.location
    rows = _exported(stack, tenant.company_id)
    assert rows[0] == ["orderId", "createdAt", "status", "total", "itemCount", "customerEmail", "customerName",
                       "poNumber", "notes", "shippingCity", "shippingRegion", "shippingCountry"]
    assert len(rows) == 2 and rows[1][0] == shop["first"]["id"]
    assert rows[1][3:8] == ["120.00", "1", "buyer@northwind.test", "Northwind Traders", "NW-4401"]
    assert rows[1][9:] == ["Portland", "OR", "US"]

    everything = owner.post(f"{ORDERS}/export", {"kind": "order-items", "min_total": "1"})
    assert everything.status == 303
    lines = _exported(stack, tenant.company_id)
    assert lines[0] == ["orderId", "createdAt", "status", "customerEmail", "productSku", "productName", "quantity",
                        "unitPrice", "lineTotal"]
    assert [row[0] for row in lines[1:]] == [shop["first"]["id"], shop["second"]["id"], shop["third"]["id"]]  # oldest first
    assert lines[2][2:] == ["CONFIRMED", "orders@contoso.test", "FAS-HN-08", "Hex Nut M8", "1", "9.75", "9.75"]

    refused = owner.post(f"{ORDERS}/export", {"kind": "everything"})
    assert refused.status == 400 and "Choose a layout" in refused.text
    assert owner.post(f"{ORDERS}/export", {"kind": "orders"}, csrf="forged").status == 403


# --- one order --------------------------------------------------------------------------------------------------

def test_the_detail_shows_lines_po_notes_ship_to_customer_timeline_and_allowed_moves(owner: Browser, shop) -> None:
    order = shop["first"]
    page = owner.get(f"{ORDERS}/{order['id']}")
    assert page.status == 200
    text = page.text
    assert f"Order {_code(order)} Submitted" in text
    for expected in ("NW-4401", "Leave at dock 3", "12 Harbour Road", "Portland, OR 97209", "Northwind Traders",
                     "buyer@northwind.test", "FAS-HB-08", "Hex Bolt M8", "$12.00", "$120.00", "Source API"):
        assert expected in text, expected
    timeline = [" ".join(li.get_text(" ").split()) for li in page.soup.select("ol.timeline li")]
    assert len(timeline) == 1 and "Test staff (staff) placed the order through the API" in timeline[0]
    buttons = [button.get_text(strip=True) for button in page.soup.select(".moves button")]
    assert buttons == ["Confirm", "Cancel order"]
    invoice_link = page.soup.find("a", string=lambda s: s and "Download invoice" in s)["href"]
    assert invoice_link == f"{ORDERS}/{order['id']}/invoice"


def test_moves_follow_the_lifecycle_and_the_timeline_records_them(owner: Browser, tenant, shop) -> None:
    order_id = shop["first"]["id"]
    owner.get(f"{ORDERS}/{order_id}")
    for status, buttons in (("CONFIRMED", ["Mark as shipped", "Cancel order"]), ("SHIPPED", ["Mark as delivered"]),
                            ("DELIVERED", [])):
        moved = owner.post(f"{ORDERS}/{order_id}/status", {"status": status})
        assert moved.status == 303 and moved.location == f"{ORDERS}/{order_id}"
        page = owner.follow(moved)
        assert f"Order {_code(shop['first'])} is now {status.title()}." in page.text
        assert [button.get_text(strip=True) for button in page.soup.select(".moves button")] == buttons
    assert "Delivered is final: no further moves." in page.text
    timeline = [" ".join(li.get_text(" ").split()) for li in page.soup.select("ol.timeline li")]
    assert len(timeline) == 4
    assert "moved it from Submitted to Confirmed" in timeline[1] and "from Shipped to Delivered" in timeline[3]
    assert "owner@acmedistributors.test (staff) moved it" in timeline[1]  # the signed-in staff member
    assert [event["eventType"] for event in factories.events_of(tenant.company_id, "order.shipped")] == ["order.shipped"]


def test_a_move_the_lifecycle_forbids_is_refused_in_place_and_changes_nothing(owner: Browser, tenant, shop) -> None:
    order_id = shop["first"]["id"]
    owner.get(f"{ORDERS}/{order_id}")
    refused = owner.post(f"{ORDERS}/{order_id}/status", {"status": "SHIPPED"})
    assert refused.status == 422
    assert "Cannot change order status from SUBMITTED to SHIPPED." in refused.text
    assert [button.get_text(strip=True) for button in refused.soup.select(".moves button")] == ["Confirm", "Cancel order"]
    nonsense = owner.post(f"{ORDERS}/{order_id}/status", {"status": "LOST"})
    assert nonsense.status == 400 and "Invalid order status." in nonsense.text
    owner.post(f"{ORDERS}/{order_id}/status", {"status": "CANCELLED"})
    after_cancel = owner.post(f"{ORDERS}/{order_id}/status", {"status": "CONFIRMED"})
    assert after_cancel.status == 422 and "from CANCELLED to CONFIRMED" in after_cancel.text
    item = _order(tenant.company_id, order_id)
    assert item["status"] == "CANCELLED" and len(item["auditTrail"]) == 2


def test_the_invoice_is_the_storefront_generators_pdf(owner: Browser, shop) -> None:
    order = shop["first"]
    response = owner.get(f"{ORDERS}/{order['id']}/invoice")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    code = order["id"][-8:].upper()
    assert response.headers["content-disposition"] == f'attachment; filename="invoice-{code}.pdf"'
    assert response.body.startswith(b"%PDF")
    nobody = owner.get(f"{ORDERS}/{shop['third']['id']}/invoice")  # for no customer: still an invoice
    assert nobody.status == 200 and nobody.body.startswith(b"%PDF")


# --- a new order -------------------------------------------------------------------------------------------------

def _picker_names(page: Any) -> list[str]:
    return [h.get_text(strip=True) for h in page.soup.select("#picker .product-row h3")]


def _new_form(page: Any) -> Any:
    return page.soup.find("form", id="order-form")


def _press(browser: Browser, page: Any, action: str, **overrides: str) -> Any:
    """Submit the new-order form as a browser would with the button of ``action``."""
    return browser.post(NEW, form_fields(_new_form(page), action=action, **overrides))


def test_the_picker_lists_active_in_stock_products_with_image_price_and_low_stock(owner: Browser, shop) -> None:
    page = owner.get(NEW)
    assert page.status == 200
    assert _picker_names(page) == ["Hex Bolt M8", "Hex Nut M8"]  # not the sold-out drill, not the inactive hammer
    nut_row = page.soup.find(id=f"pick-{shop['nuts']['id']}")
    assert "Only 3 left" in nut_row.get_text(" ") and nut_row.select_one(".stock-low") is not None  # 4, 1 ordered
    assert nut_row.find("input", attrs={"name": f"add_qty_{shop['nuts']['id']}"})["max"] == "3"
    bolt_row = page.soup.find(id=f"pick-{shop['bolts']['id']}")
    assert bolt_row.find("img")["src"] == "https://cdn.example.test/bolt.png"
    assert "$14.90" in bolt_row.get_text(" ") and "customer price" not in bolt_row.get_text(" ")
    searched = owner.get(f"{NEW}/picker?q=nut")
    assert searched.status == 200 and "<html" not in searched.html  # the rows alone, for htmx
    assert [h.get_text(strip=True) for h in searched.soup.select(".product-row h3")] == ["Hex Nut M8"]
    assert "No active, in-stock product matches “drill”." in owner.get(f"{NEW}/picker?q=drill").text


def test_the_picker_search_reads_the_catalog_index_not_the_catalog(owner: Browser, shop, monkeypatch) -> None:
    from distribu.aws import dynamodb

    operations: list[str] = []
    client = dynamodb()

    def record(**kwargs: Any) -> None:
        operations.append(kwargs["event_name"].split(".")[1])

    client.meta.events.register("before-call.dynamodb", record)
    try:
        owner.get(f"{NEW}/picker?q=hex")
    finally:
        client.meta.events.unregister("before-call.dynamodb", record)
    assert "Query" not in operations and "Scan" not in operations
    assert operations.count("BatchGetItem") <= 3, operations


def test_new_order_for_a_customer_at_its_prices_placed_from_the_dashboard(owner: Browser, tenant, shop) -> None:
    company = tenant.company_id
    page = owner.get(NEW)
    found = _press(owner, page, "refresh", customer_q="northwind")
    assert found.status == 200 and "Order for Northwind Traders" in found.text
    chosen = _press(owner, found, f"customer:{shop['northwind']['id']}")
    assert "Prices are now this customer's." in chosen.text
    bolt_row = chosen.soup.find(id=f"pick-{shop['bolts']['id']}")
    assert "$12.00" in bolt_row.get_text(" ") and "customer price" in bolt_row.get_text(" ")
    assert chosen.value_of("address_id") == shop["address"]["id"]
    added = _press(owner, chosen, f"add:{shop['bolts']['id']}", **{f"add_qty_{shop['bolts']['id']}": "5"})
    added = _press(owner, added, f"add:{shop['nuts']['id']}")
    assert added.value_of(f"qty_{shop['bolts']['id']}") == "5"
    assert "$69.75" in added.text  # 5 x 12.00 + 9.75
    placed = _press(owner, added, "place", po_number="PO-DASH-1", notes="Call before delivery")
    assert placed.status == 303, placed.text
    order_id = placed.location.rsplit("/", 1)[1]
    detail = owner.follow(placed)
    assert f"Order {_code({'id': order_id})} is placed: $69.75 before tax." in detail.text
    assert "PO-DASH-1" in detail.text and "12 Harbour Road" in detail.text and "Source Dashboard" in detail.text
    item = _order(company, order_id)
    assert item["source"] == "DASHBOARD" and item["customerId"] == shop["northwind"]["id"]
    assert item["createdById"] and item["notes"] == "Call before delivery"
    assert [(line["productName"], int(line["quantity"]), line["unitPrice"]) for line in item["items"]] == [
        ("Hex Bolt M8", 5, Decimal("12.00")), ("Hex Nut M8", 1, Decimal("9.75"))]
    assert _stock(company, shop["bolts"]["id"]) == 240 - 10 - 2 - 5 and _stock(company, shop["nuts"]["id"]) == 2
    created = [event for event in factories.events_of(company, "order.created")
               if order_id in event["envelope"]]
    assert created == []  # dashboard orders send no order.created (product spec, section 4)


def test_new_order_for_no_customer_at_catalog_prices(owner: Browser, tenant, shop) -> None:
    page = owner.get(f"{NEW}?customer={shop['northwind']['id']}")
    assert "Northwind Traders" in page.soup.select_one(".chosen-customer").get_text()
    cleared = _press(owner, page, "no_customer")
    assert "The order is for no customer; prices are the catalog's." in cleared.text
    added = _press(owner, cleared, f"add:{shop['bolts']['id']}")
    placed = _press(owner, added, "place")
    assert placed.status == 303
    item = _order(tenant.company_id, placed.location.rsplit("/", 1)[1])
    assert item.get("customerId") is None and item["items"][0]["unitPrice"] == Decimal("14.90")
    assert item.get("shippingAddress") is None


def test_quantities_are_capped_at_stock_and_bad_ones_named(owner: Browser, shop) -> None:
    nuts = shop["nuts"]["id"]
    page = owner.get(NEW)
    added = _press(owner, page, f"add:{nuts}", **{f"add_qty_{nuts}": "9"})
    assert "Only 3 of Hex Nut M8 in stock: its quantity is now 3." in added.text
    assert added.value_of(f"qty_{nuts}") == "3"
    assert added.soup.find("input", attrs={"name": f"qty_{nuts}"})["max"] == "3"
    bad = _press(owner, added, "refresh", **{f"qty_{nuts}": "two"})
    assert bad.field_error(f"qty_{nuts}") == "Enter a whole number of at least 1."
    assert bad.value_of(f"qty_{nuts}") == "two"
    refused = _press(owner, bad, "place")
    assert refused.status == 400 and refused.field_error(f"qty_{nuts}") == "Enter a whole number of at least 1."
    removed = _press(owner, added, f"remove:{nuts}")
    assert "No products yet" in removed.text
    empty = _press(owner, removed, "place")
    assert empty.status == 400 and "Add at least one product to the order." in empty.text


def test_a_shortfall_is_shown_in_place_with_the_lines_kept(owner: Browser, tenant, shop) -> None:
    company, nuts, bolts = tenant.company_id, shop["nuts"]["id"], shop["bolts"]["id"]
    page = owner.get(NEW)
    page = _press(owner, page, f"add:{bolts}", **{f"add_qty_{bolts}": "3"})
    page = _press(owner, page, f"add:{nuts}", **{f"add_qty_{nuts}": "3"})
    from distribu import catalog

    catalog.update_product(company, nuts, {"stock": 2}, factories.staff_actor())  # sold elsewhere meanwhile
    before = _order_count(company)
    refused = _press(owner, page, "place", po_number="PO-SHORT")
    assert refused.status == 422
    assert "Not enough stock for Hex Nut M8. Only 2 available." in refused.text
    assert refused.soup.find("input", attrs={"name": "line", "value": bolts}) is not None
    assert refused.value_of(f"qty_{bolts}") == "3" and refused.value_of(f"qty_{nuts}") == "3"  # as typed
    assert refused.value_of("po_number") == "PO-SHORT"
    assert _order_count(company) == before
    assert _stock(company, bolts) == 228 and _stock(company, nuts) == 2  # nothing moved


def test_a_blocked_customer_cannot_be_ordered_for(owner: Browser, tenant, shop) -> None:
    from distribu import customers

    customers.update_customer(tenant.company_id, shop["contoso"]["id"], {"status": "BLOCKED"}, factories.staff_actor())
    page = owner.get(f"{NEW}?customer={shop['contoso']['id']}")
    page = _press(owner, page, f"add:{shop['bolts']['id']}")
    refused = _press(owner, page, "place")
    assert refused.status == 422 and "This customer is blocked and cannot place orders." in refused.text


# --- CSRF, roles, tenants ---------------------------------------------------------------------------------------

def test_posts_without_the_csrf_token_are_refused_and_change_nothing(owner: Browser, tenant, shop) -> None:
    company, order_id = tenant.company_id, shop["first"]["id"]
    before = _order_count(company)
    assert owner.post(f"{ORDERS}/{order_id}/status", {"status": "CONFIRMED"}, csrf=None).status == 403
    assert owner.post(f"{ORDERS}/{order_id}/status", {"status": "CONFIRMED"}, csrf="forged").status == 403
    refused = owner.post(NEW, {"action": "place", "line": shop["bolts"]["id"], f"qty_{shop['bolts']['id']}": "1"},
                         csrf=None)
    assert refused.status == 403 and "This form has expired" in refused.text
    assert _order(company, order_id)["status"] == "SUBMITTED" and _order_count(company) == before


def test_signed_out_visitors_are_sent_to_sign_in(client: Browser, shop) -> None:
    for url in (ORDERS, NEW, f"{ORDERS}/{shop['first']['id']}", f"{ORDERS}/{shop['first']['id']}/invoice"):
        response = client.get(url)
        assert response.status == 302 and response.location.startswith("/login?next="), url


def test_members_place_and_manage_orders_as_the_role_table_says(tenant, shop, stack) -> None:
    factories.staff_member(tenant.company_id, "member@acme.test", role="MEMBER")
    member = signed_in(stack, "member@acme.test")
    assert member.get(ORDERS).status == 200
    member.get(f"{ORDERS}/{shop['first']['id']}")
    assert member.post(f"{ORDERS}/{shop['first']['id']}/status", {"status": "CONFIRMED"}).status == 303
    page = member.get(NEW)
    page = _press(member, page, f"add:{shop['bolts']['id']}")
    assert _press(member, page, "place").status == 303


def test_the_role_check_is_in_the_domain_not_only_in_the_page(tenant, shop, stack, monkeypatch) -> None:
    """Were MEMBERs not allowed to manage orders, every verb would refuse them (403) and change nothing."""
    from distribu import permissions

    factories.staff_member(tenant.company_id, "member@acme.test", role="MEMBER")
    member = signed_in(stack, "member@acme.test")
    page = member.get(NEW)
    page = _press(member, page, f"add:{shop['bolts']['id']}")
    monkeypatch.setitem(permissions.ALLOWED, "orders", frozenset({"OWNER", "ADMIN"}))
    monkeypatch.setitem(permissions.ALLOWED, "view", frozenset({"OWNER", "ADMIN"}))
    company, order_id = tenant.company_id, shop["first"]["id"]
    before = _order_count(company)
    assert _press(member, page, "place").status == 403
    assert member.post(f"{ORDERS}/{order_id}/status", {"status": "CONFIRMED"}).status == 403
    for url in (ORDERS, NEW, f"{ORDERS}/{order_id}", f"{ORDERS}/{order_id}/invoice", f"{NEW}/picker?q=hex"):
        assert member.get(url).status == 403, url
    assert member.post(f"{ORDERS}/export", {"kind": "orders"}).status == 403
    assert _order_count(company) == before and _order(company, order_id)["status"] == "SUBMITTED"
    assert _stock(company, shop["bolts"]["id"]) == 228


def test_another_companys_orders_products_and_customers_are_not_found(owner: Browser, tenant, other_tenant, shop) -> None:
    theirs = factories.product(other_tenant.company_id, "Their Widget", price="1.00", stock=50)
    their_customer = factories.customer(other_tenant.company_id, "someone@globex.test", name="Globex Buyer")
    their_order = factories.order(other_tenant.company_id, their_customer["id"], [(theirs["id"], 1)], po_number="GX-1")
    owner.get(ORDERS)
    for url in (f"{ORDERS}/{their_order['id']}", f"{ORDERS}/{their_order['id']}/invoice"):
        response = owner.get(url)
        assert response.status == 404 and "GX-1" not in response.text, url
    moved = owner.post(f"{ORDERS}/{their_order['id']}/status", {"status": "CANCELLED"})
    assert moved.status == 404
    assert _order(other_tenant.company_id, their_order["id"])["status"] == "SUBMITTED"
    assert "GX-1" not in owner.get(f"{ORDERS}?q=gx-1").text
    assert _codes(owner.get(f"{ORDERS}?customer={their_customer['id']}")) == []
    assert _codes(owner.get(f"{ORDERS}?customer=someone%40globex.test")) == []
    # their product or customer in a hand-made new-order form: refused, nothing placed, their stock untouched
    before = _order_count(tenant.company_id)
    forged = owner.post(NEW, {"action": "place", "line": theirs["id"], f"qty_{theirs['id']}": "1"})
    assert forged.status == 422 and f"Product {theirs['id']} was not found." in forged.text
    for_them = owner.get(f"{NEW}?customer={their_customer['id']}")
    assert "That customer was not found" in for_them.text and "Globex Buyer" not in for_them.text
    sneaky = owner.post(NEW, {"action": "place", "customer": their_customer["id"], "line": shop["bolts"]["id"],
                              f"qty_{shop['bolts']['id']}": "1"})
    assert sneaky.status in (404, 422) and "Globex" not in sneaky.text
    assert _order_count(tenant.company_id) == before
    assert _stock(other_tenant.company_id, theirs["id"]) == 49

