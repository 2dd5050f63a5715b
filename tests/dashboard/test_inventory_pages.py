"""The inventory pages through the real dashboard handler: the list (search, category, status, sort, pages,
coloured stock, images), add and edit with each field's message, activate/deactivate, delete with its
confirmation, bulk Set/Delta (clamping, one audit entry, the per-product events), CSRF, roles, tenant
isolation and the list's round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests import factories
from tests.dashboard.conftest import signed_in
from tests.web_client import Browser, form_fields

LIST = "/dashboard/inventory"
NEW = "/dashboard/inventory/new"
VALID = {"name": "Anchor Bolt", "sku": "ANC-100", "description": "Zinc plated.\r\nM10.", "category": "Fasteners",
         "unit": "box", "price": "1.25", "stock": "40", "isActive": "true", "lowStockThreshold": "8"}


def _product(company_id: str, product_id: str) -> dict[str, Any] | None:
    from distribu import catalog
    from distribu.errors import NotFound

    try:
        return catalog.get_product(company_id, product_id)
    except NotFound:
        return None


def _products(company_id: str) -> list[dict[str, Any]]:
    from distribu import catalog

    return catalog.list_products(company_id, limit=100, cursor=None).items


def _audit(company_id: str, action: str | None = None) -> list[dict[str, Any]]:
    from distribu import audit

    return [entry for entry in audit.list_entries(company_id, limit=500) if action in (None, entry["action"])]


def _events(company_id: str, event_type: str) -> list[dict[str, Any]]:
    from distribu import dynamo, keys

    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)}, ":prefix": {"S": "EVENT#"}})
    items = [dynamo.from_item(raw) for raw in response["Items"]]
    return [json.loads(item["envelope"])["data"] for item in items if item["eventType"] == event_type]


def _run_fan_out_stream(stack: Any) -> None:
    """What the fan-out pipe does with product changes: each MODIFY record to the webhook_dispatch handler,
    which writes ``product.low_stock`` when a change crosses a threshold."""
    import boto3

    from distribu_local.pumps import pipe_record
    from distribu_webhook_dispatch.handler import handle_stream_record

    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    arn = stack.get_att("Table", "StreamArn")
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard["ShardId"],
                                              ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        while iterator:
            response = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not response["Records"]:
                break
            for record in response["Records"]:
                if record["eventName"] == "MODIFY":
                    handle_stream_record(pipe_record(record, arn))
            iterator = response.get("NextShardIterator")


@pytest.fixture
def shop(tenant, projections) -> dict[str, Any]:
    """Five products of every stock state, indexed (as the projections keep it)."""
    company = tenant.company_id
    made = {
        "bolt": factories.product(company, "Anchor Bolt", stock=40, sku="ANC-1", category="Fasteners", price="1.25"),
        "nut": factories.product(company, "Hex Nut", stock=3, sku="HEX-1", category="Fasteners", price="0.10"),
        "glove": factories.product(company, "Work Glove", stock=0, sku="GLV-1", category="Safety", price="4.00",
                                   imageUrl="https://images.example/glove.png"),
        "drill": factories.product(company, "Cordless Drill", stock=12, sku="DRL-1", category="Tools", price="89.00",
                                   lowStockThreshold=20),
        "old": factories.product(company, "Old Hammer", stock=2, sku="HAM-0", category="Tools", price="9.00",
                                 isActive=False),
    }
    projections.drain()
    return made


def _names(page: Any) -> list[str]:
    return [link.get_text(strip=True) for link in page.soup.select("table.inventory tbody td:nth-of-type(3) a")]


# --- the list ------------------------------------------------------------------------------------------------

def test_list_shows_every_product_with_coloured_stock_and_images(owner: Browser, shop) -> None:
    page = owner.get(LIST)
    assert page.status == 200
    assert _names(page) == ["Anchor Bolt", "Hex Nut", "Work Glove", "Cordless Drill", "Old Hammer"]
    assert "Showing 1–5 of 5 products" in page.text
    cells = {row.select_one("td:nth-of-type(3)").get_text(strip=True): row.select("td")[6]
             for row in page.soup.select("table.inventory tbody tr")}
    assert "cell-out" in cells["Work Glove"]["class"] and "Out" in cells["Work Glove"].get_text()
    assert "cell-low" in cells["Hex Nut"]["class"] and "Low" in cells["Hex Nut"].get_text()
    assert "cell-low" in cells["Cordless Drill"]["class"]  # 12 <= its own threshold of 20
    assert "cell-low" not in cells["Anchor Bolt"]["class"] and "cell-out" not in cells["Anchor Bolt"]["class"]
    assert page.soup.select_one("img.thumb-sm")["src"] == "https://images.example/glove.png"
    assert "Inactive" in page.text
    assert page.soup.select_one(f"input[name=productId][value='{shop['bolt']['id']}']") is not None


@pytest.mark.parametrize("query, expected", [
    ("q=hex", ["Hex Nut"]),
    ("q=DRL", ["Cordless Drill"]),
    ("category=Tools", ["Cordless Drill", "Old Hammer"]),
    ("status=active", ["Anchor Bolt", "Hex Nut", "Work Glove", "Cordless Drill"]),
    ("status=inactive", ["Old Hammer"]),
    ("status=low", ["Hex Nut", "Cordless Drill"]),
    ("status=out", ["Work Glove"]),
    ("status=healthy", ["Anchor Bolt"]),
    ("sort=stock_asc", ["Work Glove", "Old Hammer", "Hex Nut", "Cordless Drill", "Anchor Bolt"]),
    ("sort=price_desc", ["Cordless Drill", "Old Hammer", "Work Glove", "Anchor Bolt", "Hex Nut"]),
    ("q=nothing-like-this", []),
    ("status=bogus&sort=bogus&page=-3", ["Anchor Bolt", "Hex Nut", "Work Glove", "Cordless Drill", "Old Hammer"]),
])
def test_search_filters_and_sorts(owner: Browser, shop, query: str, expected: list[str]) -> None:
    page = owner.get(f"{LIST}?{query}")
    assert page.status == 200
    assert _names(page) == expected
    if not expected:
        assert "No products match." in page.text


def test_pages_of_25(owner: Browser, tenant, projections) -> None:
    factories.products(tenant.company_id, [(f"Item {number:02d}", number) for number in range(27)])
    projections.drain()
    first = owner.get(LIST)
    assert len(_names(first)) == 25 and "Showing 1–25 of 27 products" in first.text
    second = owner.get(f"{LIST}?page=2")
    assert _names(second) == ["Item 25", "Item 26"] and "Showing 26–27 of 27 products" in second.text
    assert owner.get(f"{LIST}?page=99").status == 200


def test_the_list_takes_three_round_trips_when_warm(owner: Browser, shop) -> None:
    from distribu import dynamo

    owner.get(LIST)  # this container now holds the index's shards
    calls: list[str] = []

    def count(event_name: str, **_: Any) -> None:
        calls.append(event_name.rsplit(".", 1)[-1])

    client = dynamo.dynamodb()
    client.meta.events.register("before-call.dynamodb", count)
    try:
        assert owner.get(f"{LIST}?q=bolt&sort=price").status == 200
    finally:
        client.meta.events.unregister("before-call.dynamodb", count)
    assert calls == ["GetItem", "BatchGetItem", "BatchGetItem"], calls


# --- add ---------------------------------------------------------------------------------------------------

def test_add_every_field_then_edit_page(owner: Browser, tenant) -> None:
    form = owner.get(NEW)
    assert form.status == 200
    names = {field for field, _ in form_fields(form.soup.select_one("form[action='/dashboard/inventory/new']"))}
    assert {"name", "sku", "description", "category", "unit", "price", "stock", "isActive",
            "lowStockThreshold"} <= names
    created = owner.post(NEW, VALID)
    assert created.status == 303 and created.location.endswith("/edit")
    page = owner.follow(created)
    assert "Added Anchor Bolt. It is on the storefront now." in page.text
    [product] = _products(tenant.company_id)
    assert {key: product[key] for key in ("name", "sku", "description", "category", "unit", "price", "stock",
                                          "isActive", "lowStockThreshold")} == {
        "name": "Anchor Bolt", "sku": "ANC-100", "description": "Zinc plated.\nM10.", "category": "Fasteners",
        "unit": "box", "price": 1.25, "stock": 40, "isActive": True, "lowStockThreshold": 8}
    assert page.value_of("price") == "1.25" and page.value_of("lowStockThreshold") == "8"
    assert "Upload or change image" in page.text
    assert page.soup.find("a", string="Upload or change image")["href"] == f"{LIST}/{product['id']}/image"
    assert len(_audit(tenant.company_id, "ProductCreated")) == 1


@pytest.mark.parametrize("field, value, message", [
    ("name", "", "String should have at least 1 character."),
    ("name", "x" * 201, "String should have at most 200 characters."),
    ("price", "abc", "Enter a price of 0 or more with at most 2 decimals, e.g. 8.50."),
    ("price", "-1", "Must be at least 0."),
    ("price", "1.234", "Must have at most 2 decimal places."),
    ("price", "", "This field is required."),
    ("stock", "1.5", "Enter a whole number of 0 or more."),
    ("stock", "-2", "Input should be greater than or equal to 0."),
    ("lowStockThreshold", "many", "Enter a whole number of 0 or more, or leave it empty for the company default."),
    ("sku", "S" * 101, "String should have at most 100 characters."),
    ("category", "c" * 101, "String should have at most 100 characters."),
    ("description", "d" * 2001, "String should have at most 2000 characters."),
])
def test_each_error_under_its_field_and_nothing_written(owner: Browser, tenant, field, value, message) -> None:
    owner.get(NEW)
    response = owner.post(NEW, {**VALID, field: value})
    assert response.status == 400
    assert response.field_error(field) == message
    assert "Please correct the field marked below." in response.text
    assert response.value_of("name") == VALID["name"] if field != "name" else True  # what was typed is kept
    assert _products(tenant.company_id) == []


def test_two_errors_at_once_and_a_duplicate_sku(owner: Browser, tenant) -> None:
    owner.get(NEW)
    both = owner.post(NEW, {**VALID, "name": "", "stock": "lots"})
    assert both.status == 400 and both.field_error("name") and both.field_error("stock")
    factories.product(tenant.company_id, "First", sku="ANC-100")
    taken = owner.post(NEW, {**VALID, "sku": "anc-100"})
    assert taken.status == 409 and taken.field_error("sku") == "A product with this SKU already exists."
    assert len(_products(tenant.company_id)) == 1


def test_unticked_active_box_adds_an_inactive_product(owner: Browser, tenant) -> None:
    owner.get(NEW)
    data = {key: value for key, value in VALID.items() if key != "isActive"}
    created = owner.post(NEW, data)
    assert "It is inactive: not on the storefront." in owner.follow(created).text
    assert _products(tenant.company_id)[0]["isActive"] is False


# --- edit, activate, delete -----------------------------------------------------------------------------------

def test_edit_changes_fields_and_keeps_a_concurrent_stock_change(owner: Browser, tenant) -> None:
    product = factories.product(tenant.company_id, "Anchor Bolt", stock=40, sku="ANC-1")
    url = f"{LIST}/{product['id']}/edit"
    page = owner.get(url)
    assert page.status == 200 and page.value_of("stock") == "40"
    fields = form_fields(page.soup.select_one(f"form[action='{url}']"), price="2.50", lowStockThreshold="")
    # an order takes 5 units while the form is open
    from distribu import catalog

    catalog.update_product(tenant.company_id, product["id"], {"stock": 35}, factories.staff_actor())
    saved = owner.post(url, fields)
    assert saved.status == 303 and saved.location == url
    assert "Saved Anchor Bolt." in owner.follow(saved).text
    now = _product(tenant.company_id, product["id"])
    assert now["price"] == 2.5 and now["stock"] == 35  # the order's stock is kept: only the price was edited
    [entry] = [e for e in _audit(tenant.company_id, "ProductUpdated") if "price" in e["details"]["after"]]
    assert (entry["details"]["before"]["price"], entry["details"]["after"]["price"]) == (8.5, 2.5)
    assert "stock" not in entry["details"]["after"]  # the form's stale 40 was not written back


def test_edit_errors_keep_the_product_unchanged(owner: Browser, tenant) -> None:
    product = factories.product(tenant.company_id, "Anchor Bolt", stock=40)
    url = f"{LIST}/{product['id']}/edit"
    page = owner.get(url)
    bad = owner.post(url, form_fields(page.soup.select_one(f"form[action='{url}']"), stock="-1", name=""))
    assert bad.status == 400 and bad.field_error("stock") and bad.field_error("name")
    assert bad.value_of("stock") == "-1"
    assert _product(tenant.company_id, product["id"]) == product


def test_deactivate_then_activate(owner: Browser, tenant) -> None:
    product = factories.product(tenant.company_id, "Anchor Bolt")
    url = f"{LIST}/{product['id']}"
    owner.get(f"{url}/edit")
    off = owner.post(f"{url}/active", {"isActive": "false"})
    assert off.status == 303
    assert "Anchor Bolt is inactive: hidden from the storefront, kept here." in owner.follow(off).text
    assert _product(tenant.company_id, product["id"])["isActive"] is False
    on = owner.post(f"{url}/active", {"isActive": "true"})
    assert "Anchor Bolt is active" in owner.follow(on).text
    assert _product(tenant.company_id, product["id"])["isActive"] is True


def test_delete_asks_first_then_deletes(owner: Browser, tenant) -> None:
    product = factories.product(tenant.company_id, "Anchor Bolt")
    url = f"{LIST}/{product['id']}/delete"
    confirm = owner.get(url)
    assert confirm.status == 200 and "Delete Anchor Bolt?" in confirm.text
    assert _product(tenant.company_id, product["id"]) is not None  # asking deletes nothing
    done = owner.post(url)
    assert done.status == 303 and done.location == LIST
    assert "Deleted Anchor Bolt." in owner.follow(done).text
    assert _product(tenant.company_id, product["id"]) is None
    assert owner.get(f"{LIST}/{product['id']}/edit").status == 404


# --- bulk stock -----------------------------------------------------------------------------------------------

def _bulk(browser: Browser, ids: list[str], mode: str, value: str, **extra: str) -> Any:
    browser.get(LIST)
    return browser.post(f"{LIST}/bulk", [*(("productId", product_id) for product_id in ids), ("mode", mode),
                                         ("value", value), *extra.items()])


def test_bulk_delta_clamps_at_zero_one_audit_entry_and_the_events(owner: Browser, tenant, shop, stack) -> None:
    chosen = [shop["bolt"]["id"], shop["nut"]["id"], shop["drill"]["id"]]
    done = _bulk(owner, chosen, "delta", "-10", status="active", sort="stock")
    assert done.status == 303 and done.location == f"{LIST}?status=active&sort=stock"
    page = owner.follow(done)
    assert "Stock changed by -10 for 3 products. 1 would have gone below 0 and is now 0." in page.text
    stocks = [_product(tenant.company_id, product_id)["stock"] for product_id in chosen]
    assert stocks == [30, 0, 2]
    [entry] = _audit(tenant.company_id, "ProductBulkUpdated")
    assert entry["details"]["mode"] == "delta" and entry["details"]["value"] == -10
    assert sorted((row["id"], row["before"], row["after"]) for row in entry["details"]["products"]) == sorted(
        [(shop["bolt"]["id"], 40, 30), (shop["nut"]["id"], 3, 0), (shop["drill"]["id"], 12, 2)])
    updated = _events(tenant.company_id, "product.updated")
    assert sorted((event["id"], event["stock"]) for event in updated[-3:]) == sorted(zip(chosen, [30, 0, 2]))
    _run_fan_out_stream(stack)  # the bolt went from 40 (healthy) to 30 (still above 5): no low-stock event
    assert _events(tenant.company_id, "product.low_stock") == []
    _bulk(owner, [shop["bolt"]["id"]], "set", "4")
    _run_fan_out_stream(stack)
    assert [(event["id"], event["stock"]) for event in _events(tenant.company_id, "product.low_stock")] == [
        (shop["bolt"]["id"], 4)]
    assert "adjusted the stock of 3 products (-10)" in owner.get("/dashboard").text


def test_bulk_set(owner: Browser, tenant, shop) -> None:
    done = _bulk(owner, [shop["glove"]["id"], shop["nut"]["id"]], "set", "100")
    assert "Stock set to 100 for 2 products." in owner.follow(done).text
    assert _product(tenant.company_id, shop["glove"]["id"])["stock"] == 100
    again = _bulk(owner, [shop["glove"]["id"]], "set", "100")
    assert "Nothing to change" in owner.follow(again).text
    assert len(_audit(tenant.company_id, "ProductBulkUpdated")) == 1


@pytest.mark.parametrize("ids, mode, value, field, message", [
    ([], "set", "5", None, "Select at least one product (tick its box in the list)."),
    (["bolt"], "set", "-1", "value", "Stock cannot be below 0."),
    (["bolt"], "set", "ten", "value", "Enter a whole number."),
    (["bolt"], "delta", "", "value", "Enter a whole number, e.g. 10 or -10."),
    (["bolt"], "multiply", "2", "mode", "Choose Set or Change."),
])
def test_bulk_errors_change_nothing_and_keep_the_selection(owner: Browser, tenant, shop, ids, mode, value,
                                                           field, message) -> None:
    response = _bulk(owner, [shop[name]["id"] for name in ids], mode, value)
    assert response.status == 400
    if field:
        assert response.field_error(field) == message
    else:
        assert message in response.text
    for name in ids:
        assert response.soup.select_one(f"input[name=productId][value='{shop[name]['id']}']").has_attr("checked")
    assert _audit(tenant.company_id, "ProductBulkUpdated") == []
    assert _product(tenant.company_id, shop["bolt"]["id"])["stock"] == 40


# --- CSRF, roles, signed out, tenant isolation ---------------------------------------------------------------

def test_every_form_refuses_a_missing_or_wrong_csrf_token(owner: Browser, tenant) -> None:
    product = factories.product(tenant.company_id, "Anchor Bolt", stock=40)
    url = f"{LIST}/{product['id']}"
    owner.get(LIST)
    for path, data in [(NEW, VALID), (f"{url}/edit", {**VALID, "stock": "1"}), (f"{url}/active", {"isActive": "false"}),
                       (f"{url}/delete", {}), (f"{LIST}/bulk", {"productId": product["id"], "mode": "set", "value": "1"})]:
        for token in (None, "forged"):
            refused = owner.post(path, data, csrf=token)
            assert refused.status == 403, path
            assert "This form has expired or did not come from this site" in refused.text
    assert _product(tenant.company_id, product["id"]) == product
    assert len(_products(tenant.company_id)) == 1


@pytest.mark.parametrize("role", ["OWNER", "ADMIN", "MEMBER"])
def test_every_role_of_the_table_may_run_the_inventory(stack, tenant, projections, role) -> None:
    """The role table: OWNER, ADMIN and MEMBER all create and edit products, stock included."""
    if role == "OWNER":
        browser = signed_in(stack, factories.owner_email("Acme Distributors"))
    else:
        factories.staff_member(tenant.company_id, f"{role.lower()}@acme.test", role=role)
        browser = signed_in(stack, f"{role.lower()}@acme.test")
    assert browser.get(LIST).status == 200
    browser.get(NEW)
    created = browser.post(NEW, VALID)
    assert created.status == 303
    product_id = created.location.split("/")[-2]
    assert _bulk(browser, [product_id], "delta", "5").status == 303
    assert _product(tenant.company_id, product_id)["stock"] == 45
    browser.get(f"{LIST}/{product_id}/edit")
    assert browser.post(f"{LIST}/{product_id}/active", {"isActive": "false"}).status == 303
    assert browser.post(f"{LIST}/{product_id}/delete").status == 303
    assert _product(tenant.company_id, product_id) is None


def test_the_domain_refuses_a_role_outside_the_table(tenant) -> None:
    from distribu import catalog, inventory
    from distribu.errors import Forbidden
    from distribu.permissions import Staff

    product = factories.product(tenant.company_id, "Anchor Bolt", stock=40)
    stranger = Staff("u1", "x@acme.test", "X", tenant.company_id, "VIEWER")
    for verb in (lambda: inventory.add_product(stranger, catalog.ProductCreate(name="N", price=1, stock=1)),
                 lambda: inventory.edit_product(stranger, product["id"], {"stock": 1}),
                 lambda: inventory.set_active(stranger, product["id"], False),
                 lambda: inventory.remove_product(stranger, product["id"]),
                 lambda: inventory.bulk_adjust_stock(stranger, [product["id"]], "set", 1)):
        with pytest.raises(Forbidden):
            verb()
    assert _product(tenant.company_id, product["id"]) == product


def test_signed_out_goes_to_sign_in(client: Browser, tenant) -> None:
    response = client.get(f"{LIST}?status=low")
    assert response.status == 302 and response.location.startswith("/login?next=")


def test_another_companys_product_is_404_everywhere_and_unchanged(owner: Browser, tenant, other_tenant, shop) -> None:
    theirs = factories.product(other_tenant.company_id, "Globex Secret", stock=7)
    url = f"{LIST}/{theirs['id']}"
    owner.get(LIST)
    assert owner.get(f"{url}/edit").status == 404
    assert owner.get(f"{url}/delete").status == 404
    assert owner.post(f"{url}/edit", {**VALID, "stock": "1"}).status == 404
    assert owner.post(f"{url}/active", {"isActive": "false"}).status == 404
    assert owner.post(f"{url}/delete").status == 404
    mixed = _bulk(owner, [shop["bolt"]["id"], theirs["id"]], "set", "1")
    assert mixed.status == 404
    assert _product(other_tenant.company_id, theirs["id"]) == theirs
    assert _product(tenant.company_id, shop["bolt"]["id"])["stock"] == 40  # nothing of the bulk happened
    assert _audit(other_tenant.company_id, "ProductUpdated") == []
    assert "Globex Secret" not in owner.get(f"{LIST}?q=globex").text
    assert owner.get(f"{LIST}/not-an-id/edit").status == 404



def test_the_inventory_page_module_does_not_load_pydantic() -> None:
    """The inventory's models load with its first form, not with every dashboard page's cold start."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    code = "import sys, distribu_dashboard.pages.inventory; print('pydantic' in sys.modules)"
    path = ":".join(str(root / part) for part in ("layers/shared", "functions/dashboard", "local"))
    out = subprocess.run([sys.executable, "-c", code], env={"PYTHONPATH": path, "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_walk_of_every_inventory_route_with_an_id(owner: Browser, tenant, other_tenant) -> None:
    """Built from the page module's routes, so a route added later without isolation fails here."""
    from distribu_dashboard.pages import inventory as pages

    theirs = factories.product(other_tenant.company_id, "Globex Secret", stock=7)
    owner.get(LIST)
    walked = 0
    for route in pages.routes:
        if "{product_id:id}" not in route.path:
            continue
        path = route.path.replace("{product_id:id}", theirs["id"])
        for method in route.methods - {"HEAD"}:
            response = owner.get(path) if method == "GET" else owner.post(path, {**VALID, "isActive": "false"})
            assert response.status == 404, (method, path)
            walked += 1
    assert walked >= 5
    assert _product(other_tenant.company_id, theirs["id"]) == theirs


def test_the_list_links_to_the_csv_screens_and_each_image_page(owner: Browser, shop) -> None:
    page = owner.get(LIST)
    links = {link.get_text(strip=True): link["href"] for link in page.soup.select(".page-head a")}
    assert links["Import CSV"] == "/dashboard/inventory/import" and links["Export CSV"] == "/dashboard/inventory/export"
    assert owner.get(links["Import CSV"]).status == 200
    edit = owner.get(f"{LIST}/{shop['glove']['id']}/edit")
    assert edit.soup.select_one("img.product-image")["src"] == "https://images.example/glove.png"
    image_page = owner.get(edit.soup.find("a", string="Upload or change image")["href"])
    assert image_page.status == 200
