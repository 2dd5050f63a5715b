"""The low-stock mailer's handler on an order's event, as the pipe delivers it: which products it lists,
whose threshold it applies, what it costs in DynamoDB round trips, and partial batch failures."""

from __future__ import annotations

from typing import Any

from distribu_local.apigateway import LambdaContext
from tests.conftest import Tenant
from tests.queue_events import order_created_record, place_order, product, sqs_event


def set_company_threshold(company_id: str, threshold: int) -> None:
    from distribu import dynamo, keys

    dynamo.dynamodb().update_item(
        TableName=dynamo.table_name(), Key=dynamo.key(keys.company(company_id), keys.COMPANY_SK),
        UpdateExpression="SET lowStockThreshold = :t", ExpressionAttributeValues={":t": {"N": str(threshold)}})


def mail_about(order_id: str) -> list[Any]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    sent = ses_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].sent_messages
    return [mail for mail in sent if order_id[-8:].upper() in mail.subject]


def run_mailer(event: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The handler's answer and the DynamoDB requests it sent."""
    from distribu.aws import dynamodb
    from distribu_low_stock_mailer.handler import lambda_handler

    sent = []

    def count(**_: Any) -> None:
        sent.append(1)

    events = dynamodb().meta.events
    events.register("before-send.dynamodb", count)
    try:
        result = lambda_handler(event, LambdaContext(function_name="low_stock_mailer"))
    finally:
        events.unregister("before-send.dynamodb", count)
    return result, len(sent)


def test_lists_the_products_at_or_below_their_own_or_the_company_threshold(tenant: Tenant) -> None:
    set_company_threshold(tenant.company_id, 10)
    by_default = product(tenant, "DEF", stock=12)                 # 12 - 3 = 9 <= the company's 10
    own_high = product(tenant, "OWN-OK", stock=20, threshold=2)   # 19 > its own 2
    own_low = product(tenant, "OWN-LOW", stock=6, threshold=5)    # 5 <= its own 5
    order_id = place_order(tenant, {by_default: 3, own_high: 1, own_low: 1})

    result, round_trips = run_mailer(sqs_event([order_created_record(tenant, order_id)]))

    assert result == {"batchItemFailures": []}
    [mail] = mail_about(order_id)
    assert "Item DEF (SKU DEF): 9 in stock" in mail.body
    assert "Item OWN-LOW (SKU OWN-LOW): 5 in stock" in mail.body
    assert "OWN-OK" not in mail.body
    # the products and the company's threshold in one batch read, then the staff, then the once-only marker
    assert round_trips == 3


def test_an_order_that_leaves_nothing_low_sends_nothing_after_one_read(tenant: Tenant) -> None:
    plenty = product(tenant, "PLENTY", stock=100)
    order_id = place_order(tenant, {plenty: 1})

    result, round_trips = run_mailer(sqs_event([order_created_record(tenant, order_id)]))

    assert result == {"batchItemFailures": []}
    assert mail_about(order_id) == []
    assert round_trips == 1


def test_a_bad_record_is_reported_alone_and_the_rest_of_the_batch_is_done(tenant: Tenant) -> None:
    scarce = product(tenant, "SCARCE", stock=3)
    order_id = place_order(tenant, {scarce: 1})
    event = sqs_event(["{not json", order_created_record(tenant, order_id), '{"dynamodb": 7}'])

    result, _ = run_mailer(event)

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-2"}]}
    assert len(mail_about(order_id)) == 1


def test_a_batch_that_fails_whole_reports_every_record(tenant: Tenant) -> None:
    result, _ = run_mailer(sqs_event(["[]", "nope"]))

    assert result == {"batchItemFailures": [{"itemIdentifier": "m-0"}, {"itemIdentifier": "m-1"}]}
