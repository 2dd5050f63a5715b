"""Lambda entry point: API Gateway HTTP API events -> Mangum -> the storefront app."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from mangum import Mangum

from distribu_storefront.app import app

logger = Logger(service="storefront")
_asgi = Mangum(app, lifespan="off")


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return _asgi(event, context)
