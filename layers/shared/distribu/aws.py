"""boto3 clients, created lazily and once per container.

Endpoints come from the standard ``AWS_ENDPOINT_URL`` variables, so the same code talks to AWS or
to the local stack.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any


@lru_cache(maxsize=None)
def client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        service,
        config=Config(retries={"mode": "standard", "max_attempts": 4}, tcp_keepalive=True,
                      parameter_validation=False),  # the service validates anyway; saves CPU per call
    )


def dynamodb() -> Any:
    return client("dynamodb")


def reset_clients() -> None:
    """Forget cached clients (tests switch endpoints between runs)."""
    client.cache_clear()
