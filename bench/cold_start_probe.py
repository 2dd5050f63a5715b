"""Runs in a fresh interpreter: import one handler, serve one request, print the elapsed
seconds and the CPU seconds this process spent on it.

Usage: python cold_start_probe.py TARGET EVENT_JSON, where TARGET is a handler path such as
``distribu_api.handler.lambda_handler`` or one of the baselines ``baseline:http`` / ``baseline:pages`` /
``baseline:page-stack`` / ``baseline:worker``.
"""

from __future__ import annotations

import time

STARTED = time.perf_counter()
STARTED_CPU = time.process_time()

import importlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def baseline_http() -> object:
    """The floor for an HTTP function: FastAPI + Mangum + one boto3 DynamoDB call."""
    import boto3
    from fastapi import FastAPI
    from mangum import Mangum

    app = FastAPI()
    client = boto3.client("dynamodb")

    @app.get("/{path:path}")
    def read(path: str) -> dict:
        client.get_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": "x"}, "SK": {"S": path}})
        return {"ok": True}

    return Mangum(app, lifespan="off")


def baseline_pages() -> object:
    """The floor for a page function: Starlette + Mangum + one botocore DynamoDB call (what a page function
    cannot do without: it routes, reads its session and answers HTML)."""
    import botocore.session
    from mangum import Mangum
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    client = botocore.session.get_session().create_client("dynamodb")

    async def read(request: object) -> HTMLResponse:
        client.get_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": "x"}, "SK": {"S": "y"}})
        return HTMLResponse("<!doctype html><title>ok</title><p>ok</p>")

    app = Starlette(routes=[Route("/{path:path}", read)])
    return Mangum(app, lifespan="off")


def baseline_page_stack() -> object:
    """baseline:pages plus what the design card adds to every page function before any code of ours runs:
    Jinja2 rendering a template compiled ahead of time (as ours are) and Powertools' Logger around the
    handler. The distance from here to a page is our own code and the reads the page needs."""
    import botocore.session
    from aws_lambda_powertools import Logger
    from jinja2 import Environment, ModuleLoader
    from mangum import Mangum
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse
    from starlette.routing import Route

    client = botocore.session.get_session().create_client("dynamodb")
    templates = Environment(loader=ModuleLoader(os.environ["BENCH_COMPILED_TEMPLATES"]), autoescape=True)

    async def read(request: object) -> HTMLResponse:
        client.get_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": "x"}, "SK": {"S": "y"}})
        return HTMLResponse(templates.get_template("page.html").render(title="ok"))

    asgi = Mangum(Starlette(routes=[Route("/{path:path}", read)]), lifespan="off")
    logger = Logger(service="baseline")

    @logger.inject_lambda_context(clear_state=True)
    def handler(event: dict, context: object) -> dict:
        return asgi(event, context)

    return handler


def baseline_worker() -> object:
    """The floor for a queue function: one boto3 DynamoDB call per batch."""
    import boto3

    client = boto3.client("dynamodb")

    def handler(event: dict, context: object) -> dict:
        client.get_item(TableName=os.environ["TABLE_NAME"], Key={"PK": {"S": "x"}, "SK": {"S": "y"}})
        return {"batchItemFailures": []}

    return handler


def main() -> None:
    target, event = sys.argv[1], json.loads(sys.argv[2])
    sys.path[:0] = json.loads(os.environ["BENCH_SYS_PATH"])
    from distribu_local.apigateway import LambdaContext

    if target == "baseline:http":
        handler = baseline_http()
    elif target == "baseline:pages":
        handler = baseline_pages()
    elif target == "baseline:page-stack":
        handler = baseline_page_stack()
    elif target == "baseline:worker":
        handler = baseline_worker()
    else:
        module_name, name = target.rsplit(".", 1)
        handler = getattr(importlib.import_module(module_name), name)
    result = handler(event, LambdaContext())
    elapsed, cpu = time.perf_counter() - STARTED, time.process_time() - STARTED_CPU
    status = result.get("statusCode", 200) if isinstance(result, dict) else 200
    print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "status": status}))


if __name__ == "__main__":
    main()
