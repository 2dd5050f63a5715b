"""Where the local stack listens and keeps its state, and the process environment it runs in."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from distribu_local.template import ROOT

HOST = "127.0.0.1"
DEFAULT_HTTP_PORT = 3000
DEFAULT_AWS_PORT = 4566
DEFAULT_STATE_DIR = ROOT / ".local-state"
REGION = "us-east-1"


@dataclass(frozen=True)
class LocalSettings:
    http_port: int = DEFAULT_HTTP_PORT
    aws_port: int = DEFAULT_AWS_PORT
    state_dir: Path = DEFAULT_STATE_DIR
    host: str = HOST
    snapshot_interval: float = 30.0
    poll_interval: float = 0.2
    # A function's log level (POWERTOOLS_LOG_LEVEL), when it should differ from the template's.
    log_level: str | None = None
    # Fire every rate() schedule this often instead of its own rate (end-to-end tests of scheduled jobs).
    schedule_seconds: float | None = None

    @classmethod
    def from_env(cls) -> "LocalSettings":
        """``DISTRIBU_LOCAL_HTTP_PORT``, ``DISTRIBU_LOCAL_AWS_PORT``, ``DISTRIBU_LOCAL_STATE_DIR``,
        ``DISTRIBU_LOCAL_LOG_LEVEL`` and ``DISTRIBU_LOCAL_SCHEDULE_SECONDS`` override the defaults."""
        state_dir = os.environ.get("DISTRIBU_LOCAL_STATE_DIR")
        return cls(
            http_port=int(os.environ.get("DISTRIBU_LOCAL_HTTP_PORT") or DEFAULT_HTTP_PORT),
            aws_port=int(os.environ.get("DISTRIBU_LOCAL_AWS_PORT") or DEFAULT_AWS_PORT),
            state_dir=Path(state_dir).resolve() if state_dir else DEFAULT_STATE_DIR,
            log_level=os.environ.get("DISTRIBU_LOCAL_LOG_LEVEL") or None,
            schedule_seconds=float(os.environ["DISTRIBU_LOCAL_SCHEDULE_SECONDS"])
            if os.environ.get("DISTRIBU_LOCAL_SCHEDULE_SECONDS") else None,
        )

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"


def point_boto3_at(endpoint: str) -> None:
    """Make every boto3 client of this process talk to the embedded AWS.

    Must run before any client is created (the domain package caches its clients; they are reset
    here too). Streams under moto need the account-id endpoint mode off.
    """
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    os.environ["AWS_DEFAULT_REGION"] = REGION
    os.environ["AWS_REGION"] = REGION
    os.environ["AWS_ACCOUNT_ID_ENDPOINT_MODE"] = "disabled"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "test")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "test")
    reset_domain_caches()


def reset_domain_caches() -> None:
    """Forget the domain package's cached clients and settings (they read the environment once)."""
    from distribu import aws, config

    aws.reset_clients()
    config.get_settings.cache_clear()
