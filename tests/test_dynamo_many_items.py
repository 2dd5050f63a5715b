"""distribu.dynamo's helpers for many items (query_all, query_prefix, delete_keys) against moto: every page
is read, a caller that stops early reads no further page, and deletes go 25 at a time from a generator."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from distribu import dynamo


def _put(count: int, pk: str = "C#many", prefix: str = "ROW#") -> None:
    for number in range(count):
        dynamo.dynamodb().put_item(TableName=dynamo.table_name(),
                                   Item=dynamo.to_item({"PK": pk, "SK": f"{prefix}{number:03d}", "n": number}))


@pytest.fixture
def sent(stack: Any) -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """(operation, parameters) of every request the domain's DynamoDB client sends."""
    client, requests = dynamo.dynamodb(), []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        requests.append((model.name, params))

    client.meta.events.register("provide-client-params.dynamodb", record, unique_id="many-items")
    yield requests
    client.meta.events.unregister("provide-client-params.dynamodb", unique_id="many-items")


def _queries(sent: list[tuple[str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [params for operation, params in sent if operation == "Query"]


def test_query_all_reads_every_page_in_order(sent) -> None:
    _put(23)
    _put(2, prefix="OTHER#")
    sent.clear()
    rows = list(dynamo.query_all({"KeyConditionExpression": "PK = :pk AND begins_with(SK, :row)", "Limit": 5,
                                  "ExpressionAttributeValues": {":pk": {"S": "C#many"}, ":row": {"S": "ROW#"}}}))
    assert [row["n"] for row in rows] == list(range(23))
    queries = _queries(sent)
    assert len(queries) == 5 and all(query["TableName"] == dynamo.table_name() for query in queries)


def test_query_all_stops_reading_when_the_caller_stops(sent) -> None:
    _put(12)
    sent.clear()
    rows = dynamo.query_all({"KeyConditionExpression": "PK = :pk", "Limit": 5,
                             "ExpressionAttributeValues": {":pk": {"S": "C#many"}}})
    assert [next(rows)["n"] for _ in range(3)] == [0, 1, 2]
    assert len(_queries(sent)) == 1


def test_query_prefix_keeps_to_its_prefix_and_projection(stack) -> None:
    _put(3)
    _put(2, prefix="ROWS-NOT#")
    rows = dynamo.query_prefix("C#many", "ROW#", projection="SK")
    assert rows == [{"SK": "ROW#000"}, {"SK": "ROW#001"}, {"SK": "ROW#002"}]


def test_delete_keys_takes_a_generator_25_at_a_time(sent) -> None:
    _put(60)
    _put(1, pk="C#kept")
    sent.clear()

    def every_key() -> Iterator[tuple[str, str]]:
        for row in dynamo.query_all({"KeyConditionExpression": "PK = :pk", "Limit": 10,
                                     "ProjectionExpression": "PK, SK",
                                     "ExpressionAttributeValues": {":pk": {"S": "C#many"}}}):
            yield row["PK"], row["SK"]

    assert dynamo.delete_keys(every_key()) == 60
    batches = [len(params["RequestItems"][dynamo.table_name()]) for operation, params in sent
               if operation == "BatchWriteItem"]
    assert batches == [25, 25, 10]
    assert dynamo.query_prefix("C#many", "ROW#") == [] and len(dynamo.query_prefix("C#kept", "ROW#")) == 1
    assert dynamo.delete_keys([]) == 0
