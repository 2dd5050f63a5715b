"""The local stack (``make run``) as the tests drive it: its own process on free ports with a temporary state
folder (it sets ``AWS_ENDPOINT_URL`` and friends process-wide, so the in-process ``mock_aws`` tests never see
it), HTTP calls to it, and waiting for what it does in the background."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class Running:
    """One ``python -m distribu_local.stack`` process, restartable on the same state folder."""

    def __init__(self, state_dir: Path, log_dir: Path) -> None:
        self.state_dir = state_dir
        self.log_dir = log_dir
        self.http_port = free_port()
        self.aws_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = log_dir / "stack-0.log"
        self.runs = 0
        self.created: dict[str, Any] = {}  # shared between tests: what the restart test checks

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def aws_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    def environment(self) -> dict[str, str]:
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("AWS_", "DISTRIBU_", "POWERTOOLS_"))}
        env.update({
            "DISTRIBU_LOCAL_HTTP_PORT": str(self.http_port),
            "DISTRIBU_LOCAL_AWS_PORT": str(self.aws_port),
            "DISTRIBU_LOCAL_STATE_DIR": str(self.state_dir),
            "DISTRIBU_LOCAL_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
            "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("local", "layers/shared", "cli")),
        })
        return env

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def start(self) -> None:
        self.runs += 1
        self.log_path = self.log_dir / f"stack-{self.runs}.log"
        with self.log_path.open("wb") as output:
            self.process = subprocess.Popen([sys.executable, "-m", "distribu_local.stack"], cwd=ROOT,
                                            env=self.environment(), stdout=output, stderr=subprocess.STDOUT)

        def ready() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"the local stack exited with {self.process.returncode}:\n{self.log()[-4000:]}")
            try:
                return self.get("/_local/status.json")[0] == 200
            except OSError:
                return False

        wait_for(ready, START_TIMEOUT, "the local stack to answer", interval=0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
            raise AssertionError(f"the local stack did not stop on SIGTERM:\n{self.log()[-4000:]}")

    # --- HTTP ----------------------------------------------------------------------------------------
    def request(self, method: str, path: str, *, body: Any = None, key: str | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=30)
        try:
            sent_headers = dict(headers or {})
            payload = None
            if body is not None:
                payload = json.dumps(body).encode()
                sent_headers["content-type"] = "application/json"
            if key:
                sent_headers["authorization"] = f"Bearer {key}"
            connection.request(method, path, body=payload, headers=sent_headers)
            response = connection.getresponse()
            return response.status, {name.lower(): value for name, value in response.getheaders()}, response.read()
        finally:
            connection.close()

    def get(self, path: str, **kwargs: Any) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, **kwargs)

    def json(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        status, _, body = self.request(method, path, **kwargs)
        return status, json.loads(body) if body else None

    def status(self) -> dict[str, Any]:
        return self.json("GET", "/_local/status.json")[1]

    def demo(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "demo.json").read_text())

    def aws(self, service: str) -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.aws_endpoint, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test")
