"""The local stack's parts that decide things: pipe filters, routing, partial batches, moto's transaction and
Query fixes."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from distribu_local import mail, motofixes, patterns
from distribu_local.gateway import Router
from distribu_local.pumps import failed_message_ids, pipe_record, sqs_event
from distribu_local.snapshot import _decode_item, _encode_value
from distribu_local.template import Stack


def stream_record(event_name: str, image: dict, old: dict | None = None) -> dict:
    data = {"Keys": {"PK": {"S": "C#1"}, "SK": {"S": "X"}}, "NewImage": image, "SequenceNumber": "1",
            "SizeBytes": 10, "StreamViewType": "NEW_AND_OLD_IMAGES",
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=timezone.utc)}
    if old is not None:
        data["OldImage"] = old
    return pipe_record({"eventID": "e1", "eventName": event_name, "eventVersion": "1.1",
                        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1", "dynamodb": data},
                       "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x")


@pytest.fixture(scope="module")
def pipes() -> dict:
    return {pipe.name: pipe for pipe in Stack(parameters={"SessionSecret": "s" * 40}).pipes()}


def test_the_template_pipes_filter_as_the_cloud_would(pipes: dict) -> None:
    events, low_stock = pipes["EventsPipe"].patterns, pipes["LowStockPipe"].patterns
    for pattern in events + low_stock:
        patterns.validate(pattern)
    order_event = stream_record("INSERT", {"entity": {"S": "EVENT"}, "eventType": {"S": "order.created"}})
    product_event = stream_record("INSERT", {"entity": {"S": "EVENT"}, "eventType": {"S": "product.updated"}})
    product_change = stream_record("MODIFY", {"entity": {"S": "PRODUCT"}}, old={"entity": {"S": "PRODUCT"}})
    product_insert = stream_record("INSERT", {"entity": {"S": "PRODUCT"}})
    audit = stream_record("INSERT", {"entity": {"S": "AUDIT"}})
    assert [patterns.matches_any(events, record) for record in
            (order_event, product_event, product_change, product_insert, audit)] == [True, True, True, False, False]
    assert [patterns.matches_any(low_stock, record) for record in
            (order_event, product_event, product_change)] == [True, False, False]


def test_pipe_records_look_like_the_cloud_pipe_sends_them() -> None:
    record = stream_record("INSERT", {"entity": {"S": "EVENT"}, "blob": {"B": b"\x00\x01"}})
    assert record["eventSourceARN"].endswith("/stream/x")
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1767225600
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}
    json.dumps(record)


@pytest.mark.parametrize("pattern, event, expected", [
    ({"a": [{"prefix": "ord"}]}, {"a": "order.created"}, True),
    ({"a": [{"prefix": "ord"}]}, {"a": "product"}, False),
    ({"a": [{"suffix": ".created"}]}, {"a": "order.created"}, True),
    ({"a": [{"exists": True}]}, {"a": "x"}, True),
    ({"a": [{"exists": True}]}, {}, False),
    ({"a": [{"exists": False}]}, {}, True),
    ({"a": {"b": [{"exists": False}]}}, {}, True),
    ({"a": [{"exists": False}]}, {"a": 1}, False),
    ({"a": [{"anything-but": ["x", "y"]}]}, {"a": "z"}, True),
    ({"a": [{"anything-but": ["x", "y"]}]}, {"a": "x"}, False),
    ({"a": [{"anything-but": "x"}]}, {}, False),
    ({"a": [{"anything-but": {"prefix": "order."}}]}, {"a": "product.updated"}, True),
    ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 5}, True),
    ({"a": [{"numeric": [">", 0, "<=", 5]}]}, {"a": 6}, False),
    ({"a": [{"equals-ignore-case": "EVENT"}]}, {"a": "event"}, True),
    ({"a": ["x", "y"]}, {"a": ["q", "y"]}, True),
    ({"a": [1]}, {"a": True}, False),
    ({"a": [None]}, {"a": None}, True),
    ({"a": {"b": ["x"]}}, {"a": "x"}, False),
])
def test_pattern_matching(pattern: dict, event: dict, expected: bool) -> None:
    patterns.validate(pattern)
    assert patterns.matches(pattern, event) is expected


@pytest.mark.parametrize("pattern", [{"a": [{"cidr": "10.0.0.0/8"}]}, {"a": []}, {"a": "x"}, {},
                                     {"a": [{"numeric": [">"]}]}])
def test_unsupported_patterns_fail_at_start(pattern: dict) -> None:
    with pytest.raises(patterns.PatternError):
        patterns.validate(pattern)


def test_partial_batch_responses() -> None:
    ids = ["m1", "m2", "m3"]
    assert failed_message_ids({"batchItemFailures": []}, ids) == set()
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "m2"}]}, ids) == {"m2"}
    assert failed_message_ids(None, ids) == set()
    assert failed_message_ids({"statusCode": 200}, ids) == set()
    # Malformed answers fail the whole batch, as in Lambda.
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": "zz"}]}, ids) == set(ids)
    assert failed_message_ids({"batchItemFailures": [{"itemIdentifier": ""}]}, ids) == set(ids)
    assert failed_message_ids({"batchItemFailures": "m1"}, ids) == set(ids)
    assert failed_message_ids("oops", ids) == set(ids)


def test_sqs_events_have_the_lambda_shape() -> None:
    event = sqs_event([{"MessageId": "m1", "ReceiptHandle": "r1", "Body": "{}", "MD5OfBody": "x",
                        "Attributes": {"ApproximateReceiveCount": "1"},
                        "MessageAttributes": {"k": {"StringValue": "v", "DataType": "String"}}}],
                      "arn:aws:sqs:us-east-1:123456789012:q", "us-east-1")
    (record,) = event["Records"]
    assert record["messageId"] == "m1" and record["receiptHandle"] == "r1" and record["body"] == "{}"
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(":q")
    assert record["attributes"] == {"ApproximateReceiveCount": "1"} and record["md5OfBody"] == "x"
    assert record["messageAttributes"]["k"]["stringValue"] == "v"
    assert record["messageAttributes"]["k"]["dataType"] == "String"


def test_routes_prefer_the_most_specific_match() -> None:
    router = Router(Stack(parameters={"SessionSecret": "s" * 40}).routes())

    def target(method: str, path: str) -> tuple[str, dict] | None:
        found = router.match(method, path)
        return (found[0].function, found[1]) if found else None

    assert target("GET", "/") == ("DashboardFunction", {})
    assert target("GET", "/dashboard") == ("DashboardFunction", {})
    assert target("GET", "/dashboard/products/1") == ("DashboardFunction", {"proxy": "products/1"})
    assert target("GET", "/invite/abc") == ("DashboardFunction", {"token": "abc"})
    assert target("PATCH", "/api/v1/products/1") == ("ApiFunction", {"proxy": "products/1"})
    assert target("GET", "/store/demo/catalog") == ("StorefrontFunction", {"proxy": "demo/catalog"})
    assert target("DELETE", "/store/demo") is None
    assert target("GET", "/nowhere") is None


def test_snapshot_values_round_trip_binary_attributes() -> None:
    item = {"PK": {"S": "a"}, "b": {"B": b"\xff\x00"}, "bs": {"BS": [b"\x01"]},
            "m": {"M": {"x": {"B": b"\x02"}, "n": {"N": "1"}}}, "l": {"L": [{"B": b"\x03"}, {"NULL": True}]}}
    encoded = json.loads(json.dumps(_encode_value(item)))
    assert _decode_item(encoded) == item


def test_captured_mail_is_described_for_the_page() -> None:
    from moto.ses.models import Message, RawMessage

    text = mail.describe(Message("1", "noreply@example.com", "Hi", "Plain body",
                                 {"ToAddresses": ["a@x.test"], "CcAddresses": ["b@x.test"]}))
    assert text == {"id": "1", "to": ["a@x.test", "b@x.test"], "from": "noreply@example.com", "subject": "Hi",
                    "text": "Plain body", "html": None, "attachments": []}
    rich = mail.describe(Message("2", "noreply@example.com", "Hi", "<p>Hello<br>there</p>", {"ToAddresses": []}))
    assert rich["text"] == "Hello\nthere" and rich["html"] == "<p>Hello<br>there</p>"
    raw = mail.describe(RawMessage("3", "noreply@example.com", ["c@x.test"],
                                   "From: Shop <noreply@example.com>\r\nTo: c@x.test\r\nSubject: Raw\r\n\r\nBody\r\n"))
    assert raw["to"] == ["c@x.test"] and raw["subject"] == "Raw" and raw["text"].strip() == "Body"
    page = mail.render_page([{**text, "subject": "<script>x</script>", "text": "see https://a.test/?a=1&b=2",
                              "time": "now"}])
    assert "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert '<a href="https://a.test/?a=1&amp;b=2">' in page


def test_captured_attachments_are_listed_and_served_as_sent() -> None:
    from email.message import EmailMessage

    from moto.ses.models import RawMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "noreply@example.com", "a@x.test", "Weekly sales"
    message.set_content("Attached.")
    message.add_attachment(b"date,orderCount,revenue\r\n", maintype="text", subtype="csv", filename="sales.csv")
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="sales <1>.pdf")
    raw = RawMessage("9", "noreply@example.com", ["a@x.test"], message.as_string())
    described = mail.describe(raw)
    assert described["text"].strip() == "Attached."
    assert described["attachments"] == [
        {"index": 0, "filename": "sales.csv", "contentType": "text/csv", "size": 25},
        {"index": 1, "filename": "sales <1>.pdf", "contentType": "application/pdf", "size": 13}]
    assert mail.attachment(raw, 1) == ("sales <1>.pdf", "application/pdf", b"%PDF-1.4 fake")
    assert mail.attachment(raw, 2) is None
    page = mail.render_page([{**described, "time": "now"}])
    assert '<a href="/_local/mail/9/attachments/0" download="sales.csv">sales.csv</a>' in page
    assert "sales &lt;1&gt;.pdf" in page and "(application/pdf, 13 bytes)" in page


def test_moto_transactions_roll_back_in_place_and_keep_the_stream_readable() -> None:
    import boto3
    from moto import mock_aws

    installed = motofixes.install()
    try:
        with mock_aws():
            dynamodb = boto3.client("dynamodb", region_name="us-east-1")
            dynamodb.create_table(
                TableName="t", BillingMode="PAY_PER_REQUEST",
                AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"},
                                      {"AttributeName": "SK", "AttributeType": "S"}],
                KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
                StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
            arn = dynamodb.describe_table(TableName="t")["Table"]["LatestStreamArn"]
            streams = boto3.client("dynamodbstreams", region_name="us-east-1")
            shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
            iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                                  ShardIteratorType="LATEST")["ShardIterator"]
            dynamodb.put_item(TableName="t", Item={"PK": {"S": "a"}, "SK": {"S": "1"}, "n": {"N": "1"}})
            with pytest.raises(dynamodb.exceptions.TransactionCanceledException):
                dynamodb.transact_write_items(TransactItems=[
                    {"Update": {"TableName": "t", "Key": {"PK": {"S": "a"}, "SK": {"S": "1"}},
                                "UpdateExpression": "SET n = n + :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}}}},
                    {"Put": {"TableName": "t", "Item": {"PK": {"S": "b"}, "SK": {"S": "1"}}}},
                    {"Put": {"TableName": "t", "Item": {"PK": {"S": "a"}, "SK": {"S": "2"}},
                             "ConditionExpression": "attribute_exists(PK)"}},
                ])
            assert dynamodb.scan(TableName="t")["Items"] == [{"PK": {"S": "a"}, "SK": {"S": "1"}, "n": {"N": "1"}}]
            dynamodb.transact_write_items(TransactItems=[
                {"Put": {"TableName": "t", "Item": {"PK": {"S": "c"}, "SK": {"S": "1"}}}}])
            records = streams.get_records(ShardIterator=iterator)["Records"]
            # Nothing from the cancelled transaction, and what came after it is still there.
            assert [(record["eventName"], record["dynamodb"]["Keys"]["PK"]["S"]) for record in records] == \
                [("INSERT", "a"), ("INSERT", "c")]
    finally:
        if installed:
            motofixes.uninstall()


def _query_table(dynamodb) -> None:
    """A table shaped like ours (PK/SK, GSI1 with GSI1PK/GSI1SK), with a small partition, a large one and
    items of several kinds, some on the index."""
    dynamodb.create_table(
        TableName="q", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": name, "AttributeType": "S"}
                              for name in ("PK", "SK", "GSI1PK", "GSI1SK")],
        KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}, {"AttributeName": "SK", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "GSI1", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "GSI1PK", "KeyType": "HASH"},
                                               {"AttributeName": "GSI1SK", "KeyType": "RANGE"}]}])
    for company, count in (("C#small", 40), ("C#large", 400)):
        for number in range(count):
            kind = ("AUDIT", "PRODUCT", "SKU")[number % 3]
            item = {"PK": {"S": company}, "SK": {"S": f"{kind}#{number:04d}"}, "n": {"N": str(number)}}
            if kind == "PRODUCT":
                item |= {"GSI1PK": {"S": f"{company}#PRODUCT"}, "GSI1SK": {"S": f"{number % 7}#{number:04d}"}}
            dynamodb.put_item(TableName="q", Item=item)


QUERIES = [
    {"KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)", "ScanIndexForward": False, "Limit": 4,
     "ExpressionAttributeValues": {":pk": {"S": "C#small"}, ":prefix": {"S": "AUDIT#"}}},
    {"KeyConditionExpression": "PK = :pk AND begins_with(SK, :prefix)", "Limit": 7, "ProjectionExpression": "SK",
     "ExpressionAttributeValues": {":pk": {"S": "C#large"}, ":prefix": {"S": "PRODUCT#"}}},
    {"KeyConditionExpression": "PK = :pk AND SK BETWEEN :low AND :high", "Limit": 5,
     "ExpressionAttributeValues": {":pk": {"S": "C#large"}, ":low": {"S": "AUDIT#0100"},
                                   ":high": {"S": "PRODUCT#0050"}}},
    {"KeyConditionExpression": "PK = :pk AND SK > :after", "Limit": 9, "ScanIndexForward": False,
     "FilterExpression": "n > :n", "ExpressionAttributeValues": {":pk": {"S": "C#large"}, ":after": {"S": "SKU#0300"},
                                                                ":n": {"N": "350"}}},
    {"KeyConditionExpression": "PK = :pk", "Limit": 11, "ExpressionAttributeValues": {":pk": {"S": "C#small"}}},
    {"KeyConditionExpression": "PK = :pk", "ExpressionAttributeValues": {":pk": {"S": "C#nobody"}}},
    {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk", "Limit": 6,
     "ExpressionAttributeValues": {":pk": {"S": "C#large#PRODUCT"}}},
    {"IndexName": "GSI1", "KeyConditionExpression": "GSI1PK = :pk AND begins_with(GSI1SK, :day)", "Limit": 5,
     "ScanIndexForward": False, "ExpressionAttributeValues": {":pk": {"S": "C#large#PRODUCT"}, ":day": {"S": "3#"}}},
]


def _every_page(dynamodb, query: dict) -> list[dict]:
    pages, request = [], {"TableName": "q", **query}
    while True:
        page = dynamodb.query(**request)
        pages.append({name: page.get(name) for name in ("Items", "Count", "ScannedCount", "LastEvaluatedKey")})
        if not page.get("LastEvaluatedKey"):
            return pages
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_moto_queries_answer_the_same_with_the_query_fix_at_the_cost_of_the_partition(monkeypatch) -> None:
    import boto3
    from moto import mock_aws
    from moto.dynamodb.models.dynamo_type import DynamoType

    comparisons = []  # moto's sort and key-condition comparisons of typed values
    real_less_than, real_compare = DynamoType.__lt__, DynamoType.compare

    def counted_less_than(self, other):
        comparisons.append("<")
        return real_less_than(self, other)

    def counted_compare(self, *args):
        comparisons.append("compare")
        return real_compare(self, *args)

    monkeypatch.setattr(DynamoType, "__lt__", counted_less_than)
    monkeypatch.setattr(DynamoType, "compare", counted_compare)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        _query_table(dynamodb)
        assert motofixes.install(), "the fixes were left installed by an earlier test"
        try:
            fixed = [_every_page(dynamodb, query) for query in QUERIES]
            comparisons.clear()
            dynamodb.query(TableName="q", **QUERIES[0])
            fixed_cost = len(comparisons)
        finally:
            motofixes.uninstall()
        as_moto_answers = [_every_page(dynamodb, query) for query in QUERIES]
        comparisons.clear()
        dynamodb.query(TableName="q", **QUERIES[0])
        moto_cost = len(comparisons)
    assert fixed == as_moto_answers
    assert sum(len(page["Items"]) for pages in fixed for page in pages) > 300  # the queries found something
    assert [len(pages) for pages in fixed][:3] == [4, 20, 24]  # and paged
    # The newest 4 of the small partition's 14 audit entries: moto alone sorts all 440 items of the table, then
    # walks the 26 other items of the partition that sort after them; fixed, it reads the entries and a neighbour.
    assert fixed_cost < 25 < 2000 < moto_cost
