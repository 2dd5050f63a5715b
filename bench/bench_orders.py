"""Orders: DynamoDB round trips per request (exact), and contended throughput on one SKU through the
order routine as a ratio to bare conditional transactions against the same locked moto server.

Goals: POST /api/v1/orders takes 3 round trips (auth, one batch read, one transaction) whatever the
line count; contended throughput >= 0.8x of the bare transactions.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from common import RoundTrips, api_call, locked_moto_server_process, report

THREADS = 8
ORDERS = int(os.environ.get("BENCH_CONTENDED_ORDERS", "300"))


def seed(lines: int) -> dict[str, Any]:
    from common import seed_tenant

    tenant = seed_tenant(products=lines)
    status_body = api_call("POST", "/api/v1/customers", tenant["key"], body={"email": "bench@buyer.test"})
    tenant["customer"] = status_body["body"]["data"]["id"]
    return tenant


def order_body(tenant: dict[str, Any], product_ids: list[str], quantity: int = 1) -> dict[str, Any]:
    return {"customerId": tenant["customer"], "items": [{"productId": pid, "quantity": quantity} for pid in product_ids]}


def round_trips(tenant: dict[str, Any]) -> list[tuple[str, str]]:
    trips = RoundTrips()
    key, ids = tenant["key"], tenant["product_ids"]
    rows = []
    for lines in (1, 50):
        count = trips.measure(lambda: api_call("POST", "/api/v1/orders", key, body=order_body(tenant, ids[:lines])))
        rows.append((f"POST /api/v1/orders, {lines} line(s)", f"{count} round trips (auth, batch read, transaction)"))
    with_key = trips.measure(lambda: api_call("POST", "/api/v1/orders", key, body=order_body(tenant, ids[:50]),
                                              headers={"idempotency-key": "bench-1"}))
    rows.append(("POST /api/v1/orders, 50 lines + Idempotency-Key", f"{with_key} round trips (+1: the key's lock)"))
    replay = trips.measure(lambda: api_call("POST", "/api/v1/orders", key, body=order_body(tenant, ids[:50]),
                                            headers={"idempotency-key": "bench-1"}))
    rows.append(("  the same request retried (replayed)", f"{replay} round trips"))
    order_id = api_call("GET", "/api/v1/orders", key, "limit=1")["body"]["data"][0]["id"]
    rows.append(("GET /api/v1/orders/{id}", f"{trips.measure(lambda: api_call('GET', f'/api/v1/orders/{order_id}', key))} round trips"))
    rows.append(("GET /api/v1/orders (page of 50)", f"{trips.measure(lambda: api_call('GET', '/api/v1/orders', key, 'limit=50'))} round trips"))
    rows.append(("PATCH /api/v1/orders/{id} status",
                 f"{trips.measure(lambda: api_call('PATCH', f'/api/v1/orders/{order_id}', key, body={'status': 'CONFIRMED'}))} round trips"))
    return rows


def contended(tenant: dict[str, Any]) -> list[tuple[str, str]]:
    """THREADS threads all buying one SKU: the order routine vs bare conditional transactions."""
    from distribu import audit, dynamo, keys, orders
    from distribu.aws import dynamodb

    actor = audit.Actor("SYSTEM", "bench", "bench")
    company_id = tenant["company"].id
    from distribu import catalog

    def fresh_sku(name: str) -> str:
        return catalog.create_product(company_id, catalog.ProductCreate(name=name, price=3, stock=ORDERS * 3), actor)["id"]

    def run(work: Any) -> float:
        counter = iter(range(ORDERS))
        lock = threading.Lock()

        def worker() -> None:
            asyncio.set_event_loop(asyncio.new_event_loop())
            while True:
                with lock:
                    if next(counter, None) is None:
                        return
                work()

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            futures = [pool.submit(worker) for _ in range(THREADS)]
        for future in futures:
            future.result()  # a failed write must fail the bench, not vanish
        return ORDERS / (time.perf_counter() - started)

    routine_sku, bare_sku, minimal_sku = fresh_sku("Contended routine"), fresh_sku("Contended bare"), fresh_sku("Minimal")
    request = orders.OrderRequest(lines=[orders.Line(routine_sku, 1)], customer_id=tenant["customer"])
    client, table, pk = dynamodb(), dynamo.table_name(), keys.company(company_id)

    def same_transaction() -> None:
        """The order's transaction, pre-built: order put, customer check, conditional decrement, outbox, audit."""
        order_id = f"bare-{time.perf_counter_ns()}-{threading.get_ident()}"
        put = lambda sk: {"Put": {"TableName": table, "Item": {"PK": {"S": pk}, "SK": {"S": sk}, "n": {"S": "x" * 200}}}}
        client.transact_write_items(TransactItems=[
            put(f"BARE#{order_id}"),
            {"ConditionCheck": {"TableName": table, "Key": dynamo.key(pk, keys.customer_sk(tenant["customer"])),
                                "ConditionExpression": "attribute_exists(PK)"}},
            {"Update": {"TableName": table, "Key": dynamo.key(pk, keys.product_sk(bare_sku)),
                        "UpdateExpression": "SET stock = stock - :one", "ConditionExpression": "stock >= :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            put(f"BAREEVENT#{order_id}"), put(f"BAREAUDIT#{order_id}"),
        ])

    def minimal() -> None:
        """The least an order could be: a conditional decrement and an order put."""
        order_id = f"min-{time.perf_counter_ns()}-{threading.get_ident()}"
        client.transact_write_items(TransactItems=[
            {"Update": {"TableName": table, "Key": dynamo.key(pk, keys.product_sk(minimal_sku)),
                        "UpdateExpression": "SET stock = stock - :one", "ConditionExpression": "stock >= :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}}}},
            {"Put": {"TableName": table, "Item": {"PK": {"S": pk}, "SK": {"S": f"MIN#{order_id}"}}}},
        ])

    def routine() -> None:
        orders.place_order(company_id, request, actor, source="API")

    batch_reads = run(lambda: dynamo.batch_get([(pk, keys.product_sk(routine_sku)),
                                                (pk, keys.price_override_sk(tenant["customer"], routine_sku))]))
    same = [run(same_transaction)]
    routine_rate = run(routine)
    same.append(run(same_transaction))
    least = run(minimal)
    baseline = sum(same) / len(same)
    return [
        (f"bare transactions of the order's shape ({THREADS} threads, one SKU)", f"{baseline:.0f}/s (baseline, mean of 2 runs around the routine)"),
        ("order routine (batch read + its transaction)", f"{routine_rate:.0f}/s"),
        ("order routine vs bare transactions of the same shape", f"{routine_rate / baseline:.2f}x"),
        ("bare 2-item transactions (decrement + put)", f"{least:.0f}/s; routine vs these: {routine_rate / least:.2f}x"),
        ("bare batch reads of the order's keys", f"{batch_reads:.0f}/s: the read every order needs first"),
        ("ceiling for read + transaction in series", f"{1 / (1 / batch_reads + 1 / baseline):.0f}/s = "
                                                      f"{1 / (1 / batch_reads + 1 / baseline) / baseline:.2f}x of the bare transactions"),
    ]


def main() -> None:
    with locked_moto_server_process():
        tenant = seed(lines=50)
        api_call("GET", "/api/v1/products", tenant["key"])  # warm
        report("Orders: DynamoDB round trips per request", round_trips(tenant))
        report("Orders: contended throughput on one SKU", contended(tenant))


if __name__ == "__main__":
    main()
