"""Shared bench plumbing: a moto server with the template's resources, a seeded tenant, round-trip counts.

Benchmarks print ratios against a baseline measured in the same run (the machine is shared and
noisy) and DynamoDB round trips per operation, which are exact.
"""

from __future__ import annotations

import json
import os
import socket
import statistics
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
FUNCTION_DIRS = ["functions/api", "functions/storefront", "functions/dashboard", "functions/webhook_dispatch",
                 "functions/low_stock_mailer", "functions/csv_import", "functions/projections",
                 "functions/scheduled_reports"]
SEARCH_PATH = [str(ROOT / "layers/shared"), str(ROOT / "local"), str(ROOT / "cli")] + [str(ROOT / d) for d in FUNCTION_DIRS]
sys.path[:0] = [path for path in SEARCH_PATH if path not in sys.path]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def aws_environment(endpoint: str) -> dict[str, str]:
    return {"AWS_ENDPOINT_URL": endpoint, "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
            "POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_LOG_LEVEL": "WARNING", "DISTRIBU_ENV": "local"}


def template_resources_at(endpoint: str) -> dict[str, str]:
    """Create template.yaml's resources at ``endpoint`` and point this process (and the result) at them."""
    import boto3

    from distribu import aws, config
    from distribu_local.template import Stack

    environment = aws_environment(endpoint)
    os.environ.update(environment)
    stack = Stack(parameters={"SessionSecret": "bench-session-secret-0123456789abcdef"})
    stack.create_resources(boto3.Session())
    environment.update(stack.function_environment())
    environment.update({"DISTRIBU_ENV": "local", "POWERTOOLS_LOG_LEVEL": "WARNING"})
    os.environ.update(environment)
    aws.reset_clients()
    config.get_settings.cache_clear()
    return environment


@contextmanager
def moto_stack() -> Iterator[dict[str, str]]:
    """A moto server on a free port with every resource of template.yaml; yields the functions' env."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield template_resources_at(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


def seed_tenant(products: int = 60, rate_limit: int = 1_000_000) -> dict[str, Any]:
    from distribu import apikeys, audit, catalog, companies

    company = companies.create_company("Bench Supply", "owner@bench.test", "bench-password-1")
    actor = audit.Actor("SYSTEM", "bench", "bench")
    _, key = apikeys.create_api_key(company.id, "bench", list(apikeys.SCOPES), actor, rate_limit=rate_limit)
    ids = [catalog.create_product(company.id, catalog.ProductCreate(
        name=f"Product {number}", sku=f"B-{number:04d}", category=["Tools", "Fasteners", "Safety"][number % 3],
        price=number % 50 + 1, stock=100), actor)["id"] for number in range(products)]
    return {"company": company, "key": key, "product_ids": ids}


WORDS = ["Bolt", "Nut", "Washer", "Screw", "Anchor", "Drill", "Hammer", "Wrench", "Cable", "Pipe", "Valve", "Glove"]
CATEGORIES = ["Fasteners", "Tools", "Electrical", "Plumbing", "Safety", "Packaging"]


def write_catalog(company_id: str, size: int, *, categories: list[str] = CATEGORIES,
                  vary: Callable[[int], dict[str, Any]] | None = None) -> list[str]:
    """``size`` active products (the items ``distribu.catalog`` builds, SKU guards included), written with
    BatchWriteItem: seeding 10,000 products one audited create at a time would take minutes. Names all
    hold "heavy duty"; stock runs 0..299, so some are out and some low; ``vary(number)`` overrides fields of
    product ``number``. Returns their ids."""
    from decimal import Decimal

    from distribu import catalog, clock, dynamo, ids, keys
    from distribu.aws import dynamodb

    now = clock.now_iso()
    items, product_ids = [], []
    for number in range(size):
        product_id = ids.new_id()
        product_ids.append(product_id)
        word = WORDS[number % len(WORDS)]
        fields = {"name": f"{word} {number:05d} heavy duty", "sku": f"SKU-{number:05d}",
                  "description": f"A {word.lower()} for professionals, item {number}.",
                  "category": categories[number % len(categories)], "unit": "each",
                  "price": Decimal(number % 200 + 1) + Decimal("0.99"), "stock": (number * 7) % 300,
                  "imageUrl": None, "isActive": True, "lowStockThreshold": None, **(vary(number) if vary else {})}
        items.append(catalog.build_item(company_id, product_id, fields, now, now, 1))
        items.append({"PK": keys.company(company_id), "SK": keys.sku_guard_sk(fields["sku"]), "entity": "SKU",
                      "productId": product_id, "sku": fields["sku"]})
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {dynamo.table_name(): [{"PutRequest": {"Item": dynamo.to_item(item)}}
                                                         for item in items[start:start + 25]]}
        while pending:
            pending = dynamodb().batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    return product_ids


class RoundTrips:
    """Counts the HTTP requests the domain package's DynamoDB client sends."""

    def __init__(self) -> None:
        from distribu.aws import dynamodb

        self.count = 0
        dynamodb().meta.events.register("before-send.dynamodb", self._count)

    def _count(self, **_: Any) -> None:
        self.count += 1

    def measure(self, operation: Callable[[], Any]) -> int:
        before = self.count
        operation()
        return self.count - before


def median(values: list[float]) -> float:
    return statistics.median(values)


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    width = max(len(name) for name, _ in rows)
    for name, value in rows:
        print(f"  {name.ljust(width)}  {value}")


def api_call(method: str, path: str, key: str, query: str = "", body: Any = None,
             headers: dict[str, str] | None = None) -> dict[str, Any]:
    from distribu_api.handler import lambda_handler
    from distribu_local.apigateway import LambdaContext, http_api_event

    event = http_api_event(method, path, query=query, headers={"authorization": f"Bearer {key}",
                                                               "content-type": "application/json", **(headers or {})},
                           body=json.dumps(body) if body is not None else None, route_key=f"{method} /api/v1/{{proxy+}}")
    result = lambda_handler(event, LambdaContext(function_name="api"))
    return {"status": result["statusCode"], "body": json.loads(result["body"]) if result.get("body") else None}


@contextmanager
def locked_moto_server_process() -> Iterator[dict[str, str]]:
    """The local stack's locked moto server in its own process (so the bench's threads do not share its
    GIL), with every resource of template.yaml; yields the functions' environment."""
    import subprocess
    import time
    import urllib.request

    port = free_port()
    code = ("import sys, time; sys.path[:0] = %r\n"
            "from distribu_local.motoserver import MotoServer\n"
            "server = MotoServer('127.0.0.1', %d); server.start()\n"
            "while True: time.sleep(3600)\n") % (SEARCH_PATH, port)
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
                break
            except OSError:
                time.sleep(0.05)
        yield template_resources_at(endpoint)
    finally:
        process.terminate()
        process.wait(timeout=10)
