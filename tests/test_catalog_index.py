"""The catalog index: kept from the stream by the real projections handler (records shaped as the pipe
sends them), whatever the order and however often they come; read with a per-container cache; browsed
with the storefront's and dashboard's search, filter and sort semantics."""

from __future__ import annotations

import json
import random
from decimal import Decimal
from typing import Any

import pytest

from distribu_local import patterns
from distribu_local.pumps import pipe_record
from tests.conftest import Tenant, call_api
from tests.stream_driver import ProjectionsDriver

CATEGORIES = ["Fasteners", "Tools", None]


def create(tenant: Tenant, name: str, **fields: Any) -> dict[str, Any]:
    body = {"name": name, "price": 2, "stock": 10, **fields}
    response = call_api("POST", "/api/v1/products", key=tenant.key, json_body=body)
    assert response.status == 201, response.body
    return response.body["data"]


def patch(tenant: Tenant, product_id: str, **changes: Any) -> dict[str, Any]:
    response = call_api("PATCH", f"/api/v1/products/{product_id}", key=tenant.key, json_body=changes)
    assert response.status == 200, response.body
    return response.body["data"]


def delete(tenant: Tenant, product_id: str) -> None:
    assert call_api("DELETE", f"/api/v1/products/{product_id}", key=tenant.key).status == 200


def fresh_index(company_id: str) -> Any:
    """As a cold container reads it."""
    from distribu import catalog_index

    catalog_index.forget_cache()
    return catalog_index.load(company_id)


def products_of(company_id: str) -> list[dict[str, Any]]:
    from distribu import catalog

    items, cursor = [], None
    while True:
        page = catalog.list_products(company_id, limit=100, cursor=cursor)
        items += page.items
        if not page.next_cursor:
            return items
        cursor = page.next_cursor


def state(index: Any) -> dict[str, Any]:
    """Everything a reader can see, for comparisons."""
    return {"entries": sorted((e.id, e.name, e.sku, e.category, e.price, e.stock, e.is_active, e.low_stock_threshold,
                               e.created_at, e.search, e.version) for e in index.entries),
            "active": index.active_count, "byCategory": index.active_by_category, "health": index.health,
            "valuation": index.valuation, "threshold": index.default_threshold}


def expected_from_products(products: list[dict[str, Any]], default: int = 5) -> dict[str, Any]:
    """The counters recomputed from the products as the API shows them."""
    active = [p for p in products if p["isActive"]]
    by_category: dict[Any, int] = {}
    for p in active:
        by_category[p["category"]] = by_category.get(p["category"], 0) + 1

    def state_of(p: dict[str, Any]) -> str:
        threshold = p["lowStockThreshold"] if p["lowStockThreshold"] is not None else default
        return "out" if p["stock"] == 0 else "low" if p["stock"] <= threshold else "healthy"

    value = sum((Decimal(str(p["price"])) * p["stock"] for p in products), Decimal("0"))
    return {"active": len(active), "byCategory": by_category,
            "health": tuple(sum(1 for p in active if state_of(p) == s) for s in ("healthy", "low", "out")),
            "productCount": len(products), "units": sum(p["stock"] for p in products), "value": value}


def counters(index: Any) -> dict[str, Any]:
    return {"active": index.active_count, "byCategory": index.active_by_category,
            "health": (index.health.healthy, index.health.low, index.health.out),
            "productCount": index.valuation.totals.product_count, "units": index.valuation.totals.units,
            "value": index.valuation.totals.value}


# --- the pipe and the handler ---------------------------------------------------------------------------------

def test_the_pipe_carries_product_order_and_company_changes_and_nothing_else(stack) -> None:
    [pipe] = [pipe for pipe in stack.pipes() if pipe.name == "ProjectionsPipe"]

    def record(name: str, new: dict | None = None, old: dict | None = None) -> dict:
        data: dict[str, Any] = {"Keys": {"PK": {"S": "C#1"}, "SK": {"S": "X"}}, "SequenceNumber": "1"}
        if new is not None:
            data["NewImage"] = new
        if old is not None:
            data["OldImage"] = old
        return pipe_record({"eventID": "e", "eventName": name, "dynamodb": data}, "arn:stream")

    product, order = {"entity": {"S": "PRODUCT"}}, {"entity": {"S": "ORDER"}}
    company, event = {"entity": {"S": "COMPANY"}}, {"entity": {"S": "EVENT"}}
    cases = [
        (record("INSERT", product), True), (record("MODIFY", product, product), True),
        (record("REMOVE", old=product), True), (record("INSERT", order), True),
        (record("MODIFY", order, order), True), (record("REMOVE", old=order), False),
        (record("MODIFY", company, company), True), (record("INSERT", company), False),
        (record("INSERT", event), False), (record("REMOVE", old=event), False),
        (record("INSERT", {"entity": {"S": "SKU"}}), False),
    ]
    assert [patterns.matches_any(pipe.patterns, shaped) for shaped, _ in cases] == [want for _, want in cases]


def test_created_products_appear_with_their_fields_and_counters(tenant: Tenant, projections: ProjectionsDriver) -> None:
    from distribu import catalog_index

    anchor = create(tenant, "Anchor Bolt", sku="ANC-100", category="Fasteners", price=1.25, stock=40,
                    description="Zinc plated. " + "x" * 600)
    create(tenant, "Hammer", category="Tools", price=18.5, stock=3, lowStockThreshold=2)
    create(tenant, "Tape", price=9.9, stock=0, isActive=False)
    assert projections.drain() == 3
    index = fresh_index(tenant.company_id)
    [entry] = [e for e in index.entries if e.id == anchor["id"]]
    assert (entry.name, entry.sku, entry.category, entry.price, entry.stock, entry.is_active,
            entry.low_stock_threshold, entry.created_at) == \
        ("Anchor Bolt", "ANC-100", "Fasteners", Decimal("1.25"), 40, True, None, anchor["createdAt"])
    assert entry.search.startswith("anchor bolt\nanc-100\nfasteners\nzinc plated. ")
    assert entry.search.endswith("x" * (500 - len("Zinc plated. ")))  # the description's first 500 characters
    assert isinstance(entry, catalog_index.Entry) and entry.version == 1
    assert index.active_count == 2 and index.active_by_category == {"Fasteners": 1, "Tools": 1}
    assert index.health == catalog_index.Health(healthy=2, low=0, out=0)  # hammer: 3 > its own threshold 2
    assert index.valuation.totals == catalog_index.Totals(3, 43, Decimal("105.50"))
    assert index.valuation.by_category == {"Fasteners": catalog_index.Totals(1, 40, Decimal("50.00")),
                                           "Tools": catalog_index.Totals(1, 3, Decimal("55.50")),
                                           None: catalog_index.Totals(1, 0, Decimal("0.00"))}
    assert index.default_threshold == 5


def test_out_of_order_and_redelivered_records_end_where_the_table_is(tenant: Tenant,
                                                                   projections: ProjectionsDriver) -> None:
    """Every record of a busy catalog, delivered shuffled, in odd batch sizes, and most of them twice."""
    rng = random.Random(7)
    ids = [create(tenant, f"Item {n}", sku=f"IT-{n}", category=CATEGORIES[n % 3], stock=n % 7,
                  price=n + 0.5)["id"] for n in range(12)]
    for step in range(40):
        product_id = rng.choice(ids)
        if product_id is None:
            continue
        choice = rng.random()
        if choice < 0.5:
            patch(tenant, product_id, stock=rng.randint(0, 12))
        elif choice < 0.65:
            patch(tenant, product_id, isActive=rng.random() < 0.5)
        elif choice < 0.8:
            patch(tenant, product_id, lowStockThreshold=rng.choice([None, 1, 8]), category=rng.choice(CATEGORIES))
        elif choice < 0.9:
            patch(tenant, product_id, price=rng.randint(1, 30), name=f"Renamed {step}")
        else:
            delete(tenant, product_id)
            ids[ids.index(product_id)] = None
    bodies = projections.collect()
    assert any(json.loads(body)["eventName"] == "REMOVE" for body in bodies)
    shuffled = bodies + rng.sample(bodies, k=len(bodies) * 2 // 3)
    rng.shuffle(shuffled)
    for start in range(0, len(shuffled), 7):
        projections.deliver(shuffled[start:start + 7], batch_size=rng.choice([1, 3, 10]))

    index = fresh_index(tenant.company_id)
    products = products_of(tenant.company_id)
    assert counters(index) == expected_from_products(products)
    from distribu import catalog_index

    by_id = {e.id: e for e in index.entries}
    assert set(by_id) == {p["id"] for p in products}
    for p in products:
        entry = by_id[p["id"]]
        assert (entry.name, entry.category, entry.price, entry.stock, entry.is_active, entry.low_stock_threshold) == \
            (p["name"], p["category"], Decimal(str(p["price"])), p["stock"], p["isActive"], p["lowStockThreshold"])
    # and in stream order it is the same
    from distribu import projections as read_models

    in_order = state(index)
    read_models.rebuild(tenant.company_id)
    assert state(fresh_index(tenant.company_id)) == in_order
    assert isinstance(index, catalog_index.CatalogIndex)


def test_a_deleted_product_stays_deleted_when_older_records_come_after(tenant: Tenant,
                                                                      projections: ProjectionsDriver) -> None:
    product = create(tenant, "Doomed", stock=4)
    patch(tenant, product["id"], stock=9)
    delete(tenant, product["id"])
    insert, modify, remove = projections.collect()
    assert [json.loads(body)["eventName"] for body in (insert, modify, remove)] == ["INSERT", "MODIFY", "REMOVE"]
    assert "NewImage" not in json.loads(remove)["dynamodb"]  # only the old image
    projections.deliver([remove])
    projections.deliver([modify, insert])
    projections.deliver([insert, remove, modify])
    index = fresh_index(tenant.company_id)
    assert index.entries == () and index.active_count == 0 and index.valuation.totals.product_count == 0


def test_deactivating_hides_a_product_from_active_lists_and_counts_but_not_from_valuation(
        tenant: Tenant, projections: ProjectionsDriver) -> None:
    from distribu import catalog_index

    kept = create(tenant, "Kept", category="Tools", stock=20)
    hidden = create(tenant, "Hidden", category="Tools", stock=1)
    patch(tenant, hidden["id"], isActive=False)
    projections.drain()
    index = fresh_index(tenant.company_id)
    assert [e.id for e in catalog_index.browse(index, active=True)] == [kept["id"]]
    assert [e.id for e in catalog_index.browse(index, active=False)] == [hidden["id"]]
    assert index.active_count == 1 and index.active_by_category == {"Tools": 1}
    assert index.health == catalog_index.Health(healthy=1, low=0, out=0)
    assert index.valuation.totals.product_count == 2 and index.valuation.totals.units == 21
    patch(tenant, hidden["id"], isActive=True)
    projections.drain()
    index = fresh_index(tenant.company_id)
    assert index.active_count == 2 and index.health == catalog_index.Health(healthy=1, low=1, out=0)


def test_a_products_own_threshold_moves_it_between_healthy_and_low(tenant: Tenant,
                                                                   projections: ProjectionsDriver) -> None:
    from distribu import catalog_index

    product = create(tenant, "Gloves", stock=8)
    projections.drain()
    assert fresh_index(tenant.company_id).health == catalog_index.Health(1, 0, 0)
    patch(tenant, product["id"], lowStockThreshold=8)
    projections.drain()
    index = fresh_index(tenant.company_id)
    assert index.health == catalog_index.Health(0, 1, 0)
    assert [e.id for e in catalog_index.browse(index, stock_state="low")] == [product["id"]]
    patch(tenant, product["id"], stock=0)
    projections.drain()
    assert fresh_index(tenant.company_id).health == catalog_index.Health(0, 0, 1)


def set_company_threshold(company_id: str, threshold: int) -> None:
    """What the dashboard's company settings will do: change the company's low-stock default."""
    from distribu import clock, dynamo, keys

    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company_id), keys.COMPANY_SK),
        UpdateExpression="SET lowStockThreshold = :t, updatedAt = :now",
        ExpressionAttributeValues={":t": {"N": str(threshold)}, ":now": {"S": clock.now_iso()}})


def test_a_new_company_default_threshold_recounts_health_whatever_order_its_records_come_in(
        tenant: Tenant, other_tenant: Tenant, projections: ProjectionsDriver) -> None:
    from distribu import catalog_index

    for stock in (3, 7, 12, 0):
        create(tenant, f"Stock {stock}", stock=stock)
    create(tenant, "Own threshold", stock=7, lowStockThreshold=1)
    create(other_tenant, "Elsewhere", stock=7)
    projections.drain()
    assert fresh_index(tenant.company_id).health == catalog_index.Health(healthy=3, low=1, out=1)
    set_company_threshold(tenant.company_id, 10)
    set_company_threshold(tenant.company_id, 8)
    first, second = projections.collect()
    projections.deliver([second])
    projections.deliver([first])  # late: the projector reads the company as it is now (8), not as the record says
    index = fresh_index(tenant.company_id)
    assert index.default_threshold == 8
    assert index.health == catalog_index.Health(healthy=2, low=2, out=1)
    assert [e.name for e in catalog_index.browse(index, stock_state="low")] == ["Stock 3", "Stock 7"]
    assert fresh_index(other_tenant.company_id).health == catalog_index.Health(healthy=1, low=0, out=0)
    # a company change that leaves the threshold alone writes nothing
    from distribu import dynamo, keys

    version = dynamo.get(*catalog_index.head_key(tenant.company_id))["v"]
    dynamo.dynamodb().update_item(TableName=dynamo.table_name(),
                                  Key=dynamo.key(keys.company(tenant.company_id), keys.COMPANY_SK),
                                  UpdateExpression="SET #n = :n", ExpressionAttributeNames={"#n": "name"},
                                  ExpressionAttributeValues={":n": {"S": "Renamed"}})
    assert projections.drain() == 1
    assert dynamo.get(*catalog_index.head_key(tenant.company_id))["v"] == version


def test_orders_stock_decrements_reach_the_index(tenant: Tenant, projections: ProjectionsDriver) -> None:
    from distribu import catalog_index

    product = create(tenant, "Popular", stock=6)
    customer = call_api("POST", "/api/v1/customers", key=tenant.key, json_body={"email": "b@shop.test"}).body["data"]
    for _ in range(2):
        assert call_api("POST", "/api/v1/orders", key=tenant.key, json_body={
            "customerId": customer["id"], "items": [{"productId": product["id"], "quantity": 2}]}).status == 201
    projections.drain()
    [entry] = fresh_index(tenant.company_id).entries
    assert (entry.stock, entry.version) == (2, 3)
    assert fresh_index(tenant.company_id).health == catalog_index.Health(0, 1, 0)


def test_a_company_that_fails_hands_back_only_its_own_records(tenant: Tenant, other_tenant: Tenant,
                                                             projections: ProjectionsDriver) -> None:
    from distribu_local.apigateway import LambdaContext
    from distribu_projections.handler import lambda_handler

    create(tenant, "Fine")
    create(other_tenant, "Also fine")
    good = projections.collect()
    broken = json.loads(good[1])
    broken["dynamodb"]["NewImage"]["price"] = {"S": "not a number"}
    event = {"Records": [{"messageId": f"m{n}", "body": body} for n, body in
                         enumerate([good[0], json.dumps(broken), "{not json"])]}
    result = lambda_handler(event, LambdaContext(function_name="projections"))
    assert sorted(failure["itemIdentifier"] for failure in result["batchItemFailures"]) == ["m1", "m2"]
    assert [e.name for e in fresh_index(tenant.company_id).entries] == ["Fine"]
    assert fresh_index(other_tenant.company_id).entries == ()


# --- browse -------------------------------------------------------------------------------------------------

@pytest.fixture
def shelf(tenant: Tenant, projections: ProjectionsDriver, monkeypatch: pytest.MonkeyPatch) -> Any:
    from datetime import datetime, timedelta, timezone

    from distribu import clock

    ticks = iter(range(1_000_000))
    start = datetime(2026, 3, 1, tzinfo=timezone.utc)
    monkeypatch.setattr(clock, "now", lambda: start + timedelta(seconds=next(ticks)))  # distinct createdAt
    made = [
        create(tenant, "bolt", sku="B-2", category="Fasteners", price=3, stock=50),
        create(tenant, "Anchor", sku="a-1", category="fasteners", price=3, stock=2,
               description="Heavy duty WEDGE anchor for concrete"),
        create(tenant, "Zebra tape", category=None, price=1.5, stock=0),
        create(tenant, "Claw Hammer", sku="T-9", category="Tools", price=18.5, stock=5, lowStockThreshold=4),
        create(tenant, "Apron", category=None, price=12, stock=30),
        create(tenant, "Hidden saw", sku="T-1", category="Tools", price=25, stock=9, isActive=False),
    ]
    projections.drain()
    return {product["name"]: product for product in made}


def names(entries: list[Any]) -> list[str]:
    return [entry.name for entry in entries]


def test_browse_sorts_as_the_storefront_and_dashboard_list(tenant: Tenant, shelf: dict) -> None:
    from distribu import catalog_index

    index = fresh_index(tenant.company_id)
    browse = catalog_index.browse
    # category then name, case-insensitively; products without a category last
    assert names(browse(index)) == ["Anchor", "bolt", "Claw Hammer", "Hidden saw", "Apron", "Zebra tape"]
    assert names(browse(index, sort="name_desc")) == list(reversed(names(browse(index))))
    assert names(browse(index, sort="price")) == ["Zebra tape", "Anchor", "bolt", "Apron", "Claw Hammer", "Hidden saw"]
    assert names(browse(index, sort="price_desc")) == ["Hidden saw", "Claw Hammer", "Apron", "Anchor", "bolt",
                                                       "Zebra tape"]  # ties by name, ascending
    assert names(browse(index, sort="stock")) == ["bolt", "Apron", "Hidden saw", "Claw Hammer", "Anchor", "Zebra tape"]
    assert names(browse(index, sort="stock_asc")) == ["Zebra tape", "Anchor", "Claw Hammer", "Hidden saw", "Apron",
                                                      "bolt"]
    assert names(browse(index, sort="newest")) == list(reversed(list(shelf)))
    assert names(browse(index, sort="sku")) == ["Anchor", "bolt", "Hidden saw", "Claw Hammer", "Apron", "Zebra tape"]
    with pytest.raises(ValueError):
        browse(index, sort="colour")


def test_browse_searches_filters_and_counts(tenant: Tenant, shelf: dict) -> None:
    from distribu import catalog_index

    index = fresh_index(tenant.company_id)
    browse = catalog_index.browse
    assert names(browse(index, q="WEDGE")) == ["Anchor"]  # description
    assert names(browse(index, q="  t-9 ")) == ["Claw Hammer"]  # SKU, trimmed, any case
    assert names(browse(index, q="fasten")) == ["Anchor", "bolt"]  # category
    assert names(browse(index, q="ham", active=True)) == ["Claw Hammer"]
    assert names(browse(index, q="")) == names(browse(index))
    assert names(browse(index, q="nothing like it")) == []
    assert names(browse(index, category="Tools")) == ["Claw Hammer", "Hidden saw"]
    assert names(browse(index, category="Fasteners")) == ["bolt"]  # exact
    assert names(browse(index, active=True, sort="price")) == ["Zebra tape", "Anchor", "bolt", "Apron", "Claw Hammer"]
    assert names(browse(index, stock_state="out")) == ["Zebra tape"]
    assert names(browse(index, stock_state="low")) == ["Anchor"]  # the hammer's own threshold (4) is below 5
    assert names(browse(index, stock_state="healthy", active=True)) == ["bolt", "Claw Hammer", "Apron"]
    with pytest.raises(ValueError):
        browse(index, stock_state="sparse")
    assert index.active_count == 5 and index.active_by_category == {"Fasteners": 1, "fasteners": 1, "Tools": 1,
                                                                    None: 2}
    # memoised: the same question answers with the same list, and a new index answers afresh
    assert browse(index, q="a", sort="price") is browse(index, q="a", sort="price")


def test_the_cache_rereads_only_shards_that_changed(tenant: Tenant, shelf: dict, projections: ProjectionsDriver) -> None:
    from distribu import catalog_index, dynamo

    catalog_index.forget_cache()
    head = dynamo.get(*catalog_index.head_key(tenant.company_id))
    cold = catalog_index.stale_shard_keys(tenant.company_id, head)
    assert len(cold) == len({catalog_index.shard_of(p["id"], 64) for p in shelf.values()})
    first = catalog_index.assemble(tenant.company_id, head, dynamo.batch_get(cold))
    assert catalog_index.stale_shard_keys(tenant.company_id, head) == []
    assert catalog_index.assemble(tenant.company_id, head, {}) is first  # warm: same index, its sorts kept
    hammer = shelf["Claw Hammer"]
    patch(tenant, hammer["id"], stock=1)
    projections.drain()
    head = dynamo.get(*catalog_index.head_key(tenant.company_id))
    stale = catalog_index.stale_shard_keys(tenant.company_id, head)
    assert stale == [catalog_index.shard_key(tenant.company_id, catalog_index.shard_of(hammer["id"], 64))]
    second = catalog_index.assemble(tenant.company_id, head, dynamo.batch_get(stale))
    assert second is not first and [e.stock for e in second.entries if e.id == hammer["id"]] == [1]
    assert len(second.entries) == len(first.entries)


def test_an_empty_company_has_an_empty_index(tenant: Tenant) -> None:
    from distribu import catalog_index

    index = fresh_index(tenant.company_id)
    assert index.entries == () and catalog_index.browse(index) == [] and index.active_count == 0
    assert catalog_index.stale_shard_keys(tenant.company_id, None) == []


# --- round trips: a page costs the same at two catalog sizes -------------------------------------------------

def seed_products_directly(company_id: str, count: int) -> None:
    """Big catalogs without the stream: items written as the catalog writes them, then a rebuild."""
    from distribu import catalog, clock, dynamo, ids

    now = clock.now_iso()
    client = dynamo.dynamodb()
    for start in range(0, count, 25):
        requests = []
        for number in range(start, min(count, start + 25)):
            item = catalog.build_item(company_id, ids.new_id(), {
                "name": f"Product {number:05d}", "sku": f"P-{number:05d}", "category": f"Cat {number % 7}",
                "price": Decimal(number % 90 + 1), "stock": number % 40, "isActive": number % 10 != 0,
                "description": f"Description of product {number}", "unit": "each"}, now, now, 1)
            requests.append({"PutRequest": {"Item": dynamo.to_item(item)}})
        client.batch_write_item(RequestItems={dynamo.table_name(): requests})


class RoundTrips:
    def __init__(self) -> None:
        from distribu.aws import dynamodb

        self.count = 0
        dynamodb().meta.events.register("before-send.dynamodb", self._count)

    def _count(self, **_: Any) -> None:
        self.count += 1


def storefront_page(company_id: str, *, page: int = 1) -> tuple[int, list[dict[str, Any]]]:
    """What the catalog page does with the index: head (batched with the page's other lookups), stale
    shards, browse, then the 24 rows read fresh."""
    from distribu import catalog_index, dynamo, keys

    head_k = catalog_index.head_key(company_id)
    first = dynamo.batch_get([head_k, (keys.company(company_id), keys.COMPANY_SK)])
    stale = catalog_index.stale_shard_keys(company_id, first.get(head_k))
    index = catalog_index.assemble(company_id, first.get(head_k), dynamo.batch_get(stale) if stale else {})
    rows = catalog_index.browse(index, active=True)
    window = rows[(page - 1) * 24:page * 24]
    fresh = dynamo.batch_get([(keys.company(company_id), keys.product_sk(entry.id)) for entry in window])
    return len(rows), [fresh[(keys.company(company_id), keys.product_sk(entry.id))]["name"] for entry in window]


@pytest.mark.parametrize("size", [40, 700])
def test_a_catalog_page_costs_the_same_round_trips_at_any_size(projections: ProjectionsDriver, size: int) -> None:
    from distribu import catalog_index, projections
    from tests.conftest import make_tenant

    tenant = make_tenant(f"Size {size}")
    seed_products_directly(tenant.company_id, size)
    projections.rebuild(tenant.company_id)
    catalog_index.forget_cache()
    trips = RoundTrips()
    total, rows = storefront_page(tenant.company_id)
    cold = trips.count
    total_again, rows_again = storefront_page(tenant.company_id, page=2)
    warm = trips.count - cold
    assert (cold, warm) == (3, 2)  # head (+company), the shards when cold, the page's rows
    assert total == total_again == sum(1 for n in range(size) if n % 10 != 0)
    expected = sorted((f"Cat {n % 7}", f"Product {n:05d}") for n in range(size) if n % 10 != 0)
    assert rows == [name for _, name in expected[:24]] and rows_again == [name for _, name in expected[24:48]]
    assert len(fresh_index(tenant.company_id).entries) == size


def test_rebuild_spreads_a_big_index_over_more_shards_and_readers_follow(tenant: Tenant, projections: ProjectionsDriver,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from distribu import catalog_index, catalog_projection, dynamo

    seed_products_directly(tenant.company_id, 300)
    catalog_projection.rebuild(tenant.company_id)
    before = state(fresh_index(tenant.company_id))
    largest = max(len(item["e"]) for item in dynamo.batch_get(
        [catalog_index.shard_key(tenant.company_id, n) for n in range(64)]).values())
    monkeypatch.setattr(catalog_projection, "REBUILD_TARGET_SHARD_BYTES", largest - 1)
    result = catalog_projection.rebuild(tenant.company_id)
    assert result["shards"] > 64
    assert dynamo.get(*catalog_index.head_key(tenant.company_id))["shards"] == result["shards"]
    assert state(fresh_index(tenant.company_id)) == before
    # the projector follows the head's shard count
    created = create(tenant, "After the reshard", stock=1)
    projections.drain()
    index = catalog_index.load(tenant.company_id)
    assert created["id"] in {e.id for e in index.entries} and len(index.entries) == 301


def test_rebuild_repairs_a_broken_index_and_changes_nothing_on_a_sound_one(tenant: Tenant,
                                                                        projections: ProjectionsDriver) -> None:
    from distribu import catalog_index, catalog_projection, dynamo

    for n in range(8):
        create(tenant, f"Item {n}", stock=n, category=CATEGORIES[n % 3])
    deleted = create(tenant, "Gone", stock=2)
    delete(tenant, deleted["id"])
    bodies = projections.collect()
    projections.deliver(bodies)
    sound = state(fresh_index(tenant.company_id))
    head = dynamo.get(*catalog_index.head_key(tenant.company_id))
    assert catalog_projection.rebuild(tenant.company_id)["shardsWritten"] == 0
    assert dynamo.get(*catalog_index.head_key(tenant.company_id))["sv"] == head["sv"]
    # break it: lose a shard (not the one holding the deleted product's tombstone) and scramble the counters
    tombstone_shard = catalog_index.shard_of(deleted["id"], 64)
    number = next(n for n, version in enumerate(head["sv"]) if version and n != tombstone_shard)
    dynamo.dynamodb().delete_item(TableName=dynamo.table_name(),
                                  Key=dynamo.key(*catalog_index.shard_key(tenant.company_id, number)))
    dynamo.dynamodb().update_item(TableName=dynamo.table_name(),
                                  Key=dynamo.key(*catalog_index.head_key(tenant.company_id)),
                                  UpdateExpression="SET active = :n", ExpressionAttributeValues={":n": {"N": "99"}})
    assert state(fresh_index(tenant.company_id)) != sound
    catalog_projection.rebuild(tenant.company_id)
    assert state(fresh_index(tenant.company_id)) == sound
    # the deleted product's late record still cannot bring it back after the rebuild
    projections.deliver([body for body in bodies if deleted["id"] in body and '"INSERT"' in body])
    assert deleted["id"] not in {e.id for e in fresh_index(tenant.company_id).entries}


def test_low_stock_default_is_the_companies_one() -> None:
    from distribu import catalog_index, companies

    assert catalog_index.DEFAULT_LOW_STOCK_THRESHOLD == companies.DEFAULT_LOW_STOCK_THRESHOLD
