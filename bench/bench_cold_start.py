"""Cold import + first request of each function's handler, as a ratio to a minimal handler on the same
stack (FastAPI + Mangum + a boto3 client for the API; Starlette + Mangum + a botocore client for the page
functions; a boto3 client for the others), measured in the same run: the median ratio of adjacent pairs of
fresh interpreters. Goal: <= 1.10x.

The page functions are measured a second time against ``baseline:page-stack``, the minimal page handler
plus the libraries the design card makes every page use (Jinja2 rendering a precompiled template,
Powertools' Logger): that ratio is what our own code and the page's reads add.
"""

from __future__ import annotations

import compileall
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Callable

from common import SEARCH_PATH, median, moto_stack, report, seed_tenant

PROBE = Path(__file__).with_name("cold_start_probe.py")
RUNS = int(os.environ.get("BENCH_COLD_RUNS", "15"))


def probe(target: str, event: dict, environment: dict[str, str]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one fresh interpreter's import + first request."""
    completed = subprocess.run([sys.executable, str(PROBE), target, json.dumps(event)], capture_output=True,
                               text=True, env={**os.environ, **environment, "BENCH_SYS_PATH": json.dumps(SEARCH_PATH)},
                               check=True)
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    if result["status"] >= 500:
        raise RuntimeError(f"{target} answered {result['status']}")
    return result["seconds"], result["cpu_seconds"]


def sqs_event(body: dict) -> dict:
    return {"Records": [{"messageId": "m-1", "receiptHandle": "r-1", "body": json.dumps(body), "attributes": {},
                         "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q", "awsRegion": "us-east-1"}]}


def compile_our_packages() -> None:
    """What a deployment ships: byte-compiled modules and the page functions' precompiled templates
    (``make templates`` before ``sam build``)."""
    from distribu.web.templating import compile_all

    for directory in SEARCH_PATH:
        for templates in Path(directory).glob("distribu_*/templates"):
            compile_all(templates)
        compileall.compile_dir(directory, quiet=1)


def upload_notification(company_id: str) -> dict:
    """A new one-row products import and its upload's S3 notification, as the queue hands it over: each
    run previews a file of its own (a second preview of the same file would skip the work)."""
    from distribu import audit, imports, s3files

    view = imports.create_import(company_id, "products", audit.Actor("SYSTEM", "bench", "bench"))
    key = imports.upload_key(company_id, "products", view["id"])
    bucket = os.environ["IMPORTS_BUCKET"]
    s3files.s3().put_object(Bucket=bucket, Key=key, Body=b"name,sku,price,stock\nBench bolt,BB-1,1.50,10\n")
    return sqs_event({"Records": [{"eventName": "ObjectCreated:Put",
                                   "s3": {"bucket": {"name": bucket}, "object": {"key": key}}}]})


def compile_baseline_template(folder: Path) -> None:
    """The one page baseline:page-stack renders, compiled ahead of time as ours are."""
    from jinja2 import DictLoader, Environment

    Environment(loader=DictLoader({"page.html": "<!doctype html><title>{{ title }}</title><p>{{ title }}</p>"}),
                autoescape=True).compile_templates(str(folder), zip=None)


def main(only: list[str]) -> None:
    from distribu_local.apigateway import http_api_event

    compile_our_packages()
    with moto_stack() as environment, tempfile.TemporaryDirectory() as compiled:
        compile_baseline_template(Path(compiled))
        environment = {**environment, "BENCH_COMPILED_TEMPLATES": compiled}
        tenant = seed_tenant(products=5)
        product_id, slug = tenant["product_ids"][0], tenant["company"].slug
        auth = {"authorization": f"Bearer {tenant['key']}"}
        from distribu import dynamo

        company_id = tenant["company"].id
        envelope = json.dumps({"event": "order.created", "timestamp": "2026-01-01T00:00:00.000Z",
                               "data": {"id": "order-1", "items": [{"productId": product_id, "quantity": 1}]}})
        event_item = {"PK": f"C#{company_id}", "SK": "EVENT#x", "entity": "EVENT", "id": "bench-event",
                      "companyId": company_id, "eventType": "order.created", "envelope": envelope}
        order_created = sqs_event({"eventName": "INSERT", "dynamodb": {"NewImage": dynamo.to_item(event_item)}})
        api_get = http_api_event("GET", f"/api/v1/products/{product_id}", headers=auth,
                                 route_key="GET /api/v1/{proxy+}")
        store_page = http_api_event("GET", f"/store/{slug}", route_key="GET /store/{proxy+}")
        # The home page of a signed-in owner: its session, company, health panel and activity are read.
        from distribu import sessions, staff_accounts

        owner = staff_accounts.sign_in("owner@bench.test", "bench-password-1")
        session = sessions.start_staff_session(user_id=owner.id, email=owner.email, name=owner.name,
                                               company_id=company_id, role="OWNER")
        dashboard_page = http_api_event("GET", "/dashboard", route_key="GET /dashboard",
                                        headers={"cookie": f"staff_session={session.raw_id}"})
        test_event = sqs_event({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "imports"})
        functions: list[tuple[str, str, str, Callable[[], dict]]] = [
            ("api", "distribu_api.handler.lambda_handler", "baseline:http", lambda: api_get),
            ("storefront", "distribu_storefront.handler.lambda_handler", "baseline:pages", lambda: store_page),
            ("dashboard", "distribu_dashboard.handler.lambda_handler", "baseline:pages", lambda: dashboard_page),
            ("storefront", "distribu_storefront.handler.lambda_handler", "baseline:page-stack", lambda: store_page),
            ("dashboard", "distribu_dashboard.handler.lambda_handler", "baseline:page-stack",
             lambda: dashboard_page),
            ("webhook_dispatch", "distribu_webhook_dispatch.handler.lambda_handler", "baseline:worker",
             lambda: order_created),
            ("low_stock_mailer", "distribu_low_stock_mailer.handler.lambda_handler", "baseline:worker",
             lambda: order_created),
            # The test event S3 sends when the notification is set up carries no object: the function's own
            # overhead. A one-row upload is its lightest real job, which needs an S3 client beside DynamoDB's,
            # pydantic for the rows and six round trips: more work than the baseline's one GetItem.
            ("csv_import (S3 test event)", "distribu_csv_import.handler.lambda_handler", "baseline:worker",
             lambda: test_event),
            ("csv_import (1-row upload)", "distribu_csv_import.handler.lambda_handler", "baseline:worker",
             lambda: upload_notification(company_id)),
        ]
        rows = []
        for name, target, baseline, next_event in functions:
            if only and name.split()[0] not in only:
                continue
            ours, floor, ratios, cpu_ratios = [], [], [], []
            for run in range(RUNS):
                event = next_event()
                # Adjacent pairs, alternating which goes first: the ratio of a pair cancels the machine's
                # drift over the run, which the medians of the two sides taken apart do not.
                pair = [(baseline, floor), (target, ours)]
                for handler, times in pair if run % 2 == 0 else reversed(pair):
                    times.append(probe(handler, event, environment))
                ratios.append(ours[-1][0] / floor[-1][0])
                cpu_ratios.append(ours[-1][1] / floor[-1][1])
            low, _, high = statistics.quantiles(ratios, n=4)
            rows.append((name, f"{median(ratios):.2f}x of {baseline} (middle half {low:.2f}-{high:.2f}; "
                               f"{median([t for t, _ in ours]) * 1000:.0f} ms vs "
                               f"{median([t for t, _ in floor]) * 1000:.0f} ms); CPU time {median(cpu_ratios):.2f}x"))
        report(f"Cold import + first request, ratio to the minimal handler on the same stack (median of {RUNS} "
               "paired runs; CPU time is the probe's own, without the server's side of its round trips)", rows)


if __name__ == "__main__":
    main(sys.argv[1:])  # optionally, the functions to measure: api storefront ... (default: all)
