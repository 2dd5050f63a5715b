"""DynamoDB round trips per request for the products read endpoints (exact), plus latency ratios.

Goal: authentication and rate limit together in one round trip; a list page in one Query.
"""

from __future__ import annotations

import time

from common import RoundTrips, api_call, median, moto_stack, report, seed_tenant


def main() -> None:
    with moto_stack():
        tenant = seed_tenant(products=60)
        key, ids = tenant["key"], tenant["product_ids"]
        api_call("GET", "/api/v1/products", key)  # warm the container, as a second request would find it
        trips = RoundTrips()
        auth_only = trips.measure(lambda: api_call("GET", "/api/v1/products/missing", key))
        list_page = trips.measure(lambda: api_call("GET", "/api/v1/products", key, "limit=50"))
        next_page = api_call("GET", "/api/v1/products", key, "limit=50")["body"]["pagination"]["nextCursor"]
        last_page = trips.measure(lambda: api_call("GET", "/api/v1/products", key, f"limit=50&cursor={next_page}"))
        one = trips.measure(lambda: api_call("GET", f"/api/v1/products/{ids[0]}", key))
        filtered = trips.measure(lambda: api_call("GET", "/api/v1/products", key, "category=Tools&limit=10"))
        rows = [
            ("auth + rate limit (GET of a missing id)", f"{auth_only} round trips (1 auth + 1 GetItem)"),
            ("GET /api/v1/products (page of 50)", f"{list_page} round trips (1 auth + 1 Query)"),
            ("GET /api/v1/products (last page)", f"{last_page} round trips"),
            ("GET /api/v1/products/{id}", f"{one} round trips (1 auth + 1 GetItem)"),
            ("GET /api/v1/products?category=Tools&limit=10", f"{filtered} round trips"),
        ]

        def timed(call, repeat: int = 30) -> float:
            samples = []
            for _ in range(repeat):
                started = time.perf_counter()
                call()
                samples.append(time.perf_counter() - started)
            return median(samples)

        from distribu import apikeys, dynamo, keys
        from distribu.aws import dynamodb

        client, table = dynamodb(), dynamo.table_name()
        company_pk, gsi_pk = keys.company(tenant["company"].id), keys.listing(tenant["company"].id, "PRODUCT")
        key_key = dynamo.key(keys.api_key_pk(apikeys.hash_key(key)), keys.API_KEY_SK)

        def bare_auth() -> None:
            client.update_item(TableName=table, Key=key_key, UpdateExpression="SET lastUsedAt = :now",
                               ExpressionAttributeValues={":now": {"S": "now"}}, ReturnValues="ALL_NEW")

        def bare_get() -> None:
            bare_auth()
            client.get_item(TableName=table, Key=dynamo.key(company_pk, keys.product_sk(ids[0])), ConsistentRead=True)

        def bare_query() -> None:
            bare_auth()
            client.query(TableName=table, IndexName="GSI1", KeyConditionExpression="GSI1PK = :pk",
                         ExpressionAttributeValues={":pk": {"S": gsi_pk}}, ScanIndexForward=False, Limit=51)

        rows += [
            ("GET /api/v1/products/{id} vs bare UpdateItem+GetItem",
             f"{timed(lambda: api_call('GET', f'/api/v1/products/{ids[0]}', key)) / timed(bare_get):.2f}x"),
            ("GET /api/v1/products (50) vs bare UpdateItem+Query(51)",
             f"{timed(lambda: api_call('GET', '/api/v1/products', key, 'limit=50')) / timed(bare_query):.2f}x"),
        ]
        report("Products reads: DynamoDB round trips per request", rows)


if __name__ == "__main__":
    main()
