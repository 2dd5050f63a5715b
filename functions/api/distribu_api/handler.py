"""Lambda entry point: API Gateway HTTP API events -> Mangum -> FastAPI."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from mangum import Mangum

from distribu_api.app import create_app

logger = Logger(service="api")
app = create_app(logger)
_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _asgi(event, context)
