"""AWS clients, created lazily and once per container.

They are botocore clients, which is what ``boto3.client`` returns too: importing ``boto3`` itself adds
s3transfer, multiprocessing and the resource layer (about 40 ms of each cold start) for nothing these
functions call. Endpoints come from the standard ``AWS_ENDPOINT_URL`` variables, so the same code talks
to AWS or to the local stack.
"""

from __future__ import annotations

import threading
from functools import lru_cache
from typing import Any

# botocore sessions are not safe to create clients from on several threads at once; the local stack
# runs handlers on many. Clients themselves are thread-safe, so only creation takes the lock.
_creating = threading.Lock()
_clients: dict[str, Any] = {}


@lru_cache(maxsize=1)
def _session() -> Any:
    import botocore.session

    return botocore.session.get_session()


def _create(service: str) -> Any:
    from botocore.config import Config

    return _session().create_client(
        service,
        config=Config(retries={"mode": "standard", "max_attempts": 4}, tcp_keepalive=True,
                      parameter_validation=False),  # the service validates anyway; saves CPU per call
    )


def client(service: str) -> Any:
    if service not in _clients:
        with _creating:
            if service not in _clients:
                _clients[service] = _create(service)
    return _clients[service]


def dynamodb() -> Any:
    return client("dynamodb")


def reset_clients() -> None:
    """Forget cached clients and the session's credentials (tests switch endpoints between runs)."""
    with _creating:
        _clients.clear()
        _session.cache_clear()
