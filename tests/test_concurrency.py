"""Concurrency claims, proven with real threads against a moto server behind the local stack's lock."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

import pytest

from distribu_local.apigateway import LambdaContext, http_api_event


_loops = threading.local()


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    import boto3

    from distribu_local.motoserver import MotoServer
    from distribu_local.template import Stack
    from tests.conftest import reset_caches

    moto = MotoServer("127.0.0.1", 0)
    moto.start()
    saved = dict(os.environ)
    os.environ.update({"AWS_ENDPOINT_URL": moto.endpoint, "DISTRIBU_ENV": "local"})
    stack = Stack(parameters={"SessionSecret": "concurrency-secret-0123456789abcdef"})
    stack.create_resources(boto3.Session(region_name="us-east-1"))
    os.environ.update(stack.function_environment())
    reset_caches()
    try:
        yield moto.endpoint
    finally:
        moto.stop()
        os.environ.clear()
        os.environ.update(saved)
        reset_caches()


def call(method: str, path: str, key: str, body: Any = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """The API handler as Lambda runs it; each thread gets its own event loop, as each container has."""
    from distribu_api.handler import lambda_handler

    if not hasattr(_loops, "loop"):
        _loops.loop = asyncio.new_event_loop()
        asyncio.set_event_loop(_loops.loop)
    event = http_api_event(method, path, headers={"authorization": f"Bearer {key}", **(headers or {})},
                           body=json.dumps(body) if body is not None else None, route_key=f"{method} /api/v1/{{proxy+}}")
    result = lambda_handler(event, LambdaContext(function_name="api"))
    return result["statusCode"], json.loads(result["body"])


@pytest.fixture(scope="module")
def shop(server: str) -> dict[str, Any]:
    from tests.conftest import make_tenant

    tenant = make_tenant("Concurrent Co", rate_limit=100_000)
    status, customer = call("POST", "/api/v1/customers", tenant.key, {"email": "rush@buyer.test"})
    assert status == 201
    return {"key": tenant.key, "customer": customer["data"]["id"]}


def new_product(shop: dict[str, Any], name: str, stock: int) -> str:
    status, body = call("POST", "/api/v1/products", shop["key"], {"name": name, "price": 2.5, "stock": stock})
    assert status == 201
    return body["data"]["id"]


def order(shop: dict[str, Any], product_id: str, quantity: int = 1, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    return call("POST", "/api/v1/orders", shop["key"],
                {"customerId": shop["customer"], "items": [{"productId": product_id, "quantity": quantity}]}, headers)


@pytest.mark.parametrize("round_", range(3))
def test_200_concurrent_orders_for_50_units_sell_exactly_50(shop, round_) -> None:
    product_id = new_product(shop, f"Hot item {round_}", 50)
    barrier = threading.Barrier(40)

    def buy(index: int) -> tuple[int, Any]:
        if index < 40:
            barrier.wait()
        return order(shop, product_id)

    with ThreadPoolExecutor(max_workers=40) as pool:
        results = list(pool.map(buy, range(200)))
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 50, 422: 150}, statuses
    assert {body["error"] for status, body in results if status == 422} == \
        {f"Not enough stock for Hot item {round_}. Only 0 available."}
    assert call("GET", f"/api/v1/products/{product_id}", shop["key"])[1]["data"]["stock"] == 0
    created = {body["data"]["id"] for status, body in results if status == 201}
    assert len(created) == 50


def test_50_concurrent_retries_with_one_idempotency_key_make_one_order(shop) -> None:
    product_id = new_product(shop, "Retried item", 100)
    barrier = threading.Barrier(50)

    def retry(_: int) -> tuple[int, Any]:
        barrier.wait()
        return order(shop, product_id, 3, headers={"idempotency-key": "retry-storm-1"})

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(retry, range(50)))
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {201, 409} and statuses[201] >= 1, statuses
    assert len({body["data"]["id"] for status, body in results if status == 201}) == 1
    assert call("GET", f"/api/v1/products/{product_id}", shop["key"])[1]["data"]["stock"] == 97
    # once the storm is over, every retry gets the one order back
    status, body = order(shop, product_id, 3, headers={"idempotency-key": "retry-storm-1"})
    assert status == 201 and body["data"]["id"] in {b["data"]["id"] for s, b in results if s == 201}


def test_three_lines_with_a_short_third_change_nothing_under_load(shop) -> None:
    first, second = new_product(shop, "First", 10), new_product(shop, "Second", 10)
    third = new_product(shop, "Third", 1)
    body = {"customerId": shop["customer"], "items": [{"productId": first, "quantity": 2},
                                                      {"productId": second, "quantity": 2},
                                                      {"productId": third, "quantity": 2}]}

    def attempt(_: int) -> tuple[int, Any]:
        return call("POST", "/api/v1/orders", shop["key"], body)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(attempt, range(20)))
    assert {status for status, _ in results} == {422}
    assert {body["error"] for _, body in results} == {"Not enough stock for Third. Only 1 available."}
    stocks = [call("GET", f"/api/v1/products/{pid}", shop["key"])[1]["data"]["stock"] for pid in (first, second, third)]
    assert stocks == [10, 10, 1]


def test_an_invitation_link_opened_by_10_at_once_lets_exactly_one_join(server) -> None:
    from distribu import companies, errors, team
    from tests import factories

    company = factories.make_tenant("Invited Co")
    _, token = team.invite(factories.staff_of(company.company_id), email="once@invited.test", role="MEMBER")
    barrier = threading.Barrier(10)

    def accept(index: int) -> str:
        barrier.wait()
        try:
            team.accept_as_new_user(token, name=f"Person {index}", password="accept-password-1")
            return "joined"
        except errors.BusinessRuleViolation as refused:
            return refused.message

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = Counter(pool.map(accept, range(10)))
    assert results["joined"] == 1, results
    assert set(results) - {"joined"} <= {team.LINK_INVALID, "once@invited.test has a Distribu account now: enter "
                                                           "its password to join."}
    assert [member["email"] for member in companies.members(company.company_id)].count("once@invited.test") == 1


def test_twenty_simultaneous_guesses_get_five_tries(server: str) -> None:
    """The sign-in lockout holds under concurrency: every attempt takes its slot before its password is
    checked, so guesses sent at once cannot all slip past the count."""
    from distribu import signin_throttle, staff_accounts
    from distribu.signin_throttle import TooManyAttempts
    from tests import factories

    factories.make_tenant("Guarded Co")
    email = factories.owner_email("Guarded Co")

    def guess(number: int) -> str:
        try:
            staff_accounts.sign_in(email, f"wrong-{number}")
        except TooManyAttempts:
            return "locked"
        except staff_accounts.SignInRefused:
            return "refused"
        return "signed in"

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = Counter(pool.map(guess, range(20)))
    assert outcomes == {"refused": 5, "locked": 15}
    with pytest.raises(TooManyAttempts):
        staff_accounts.sign_in(email, factories.STAFF_PASSWORD)  # the right password waits too
    signin_throttle.clear("STAFF", email)
    assert staff_accounts.sign_in(email, factories.STAFF_PASSWORD).email == email
