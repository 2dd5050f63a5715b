"""Browser tests: Playwright driving Debian's chromium against a real local stack (``make run``'s code in a
subprocess on free ports, with its demo company), one stack for the whole session.

Each test saves a screenshot per step under ``test-output/screenshots/{test}/`` (git-ignored): look at them.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
CHROMIUM = os.environ.get("DISTRIBU_CHROMIUM", "/usr/bin/chromium")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RunningStack:
    url: str
    state_dir: Path
    process: subprocess.Popen

    @property
    def demo(self) -> dict[str, Any]:
        return json.loads((self.state_dir / "demo.json").read_text())

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """The REST API with the demo company's key (test setup that no page is under test for)."""
        request = urllib.request.Request(self.url + "/api/v1" + path, method=method,
                                         data=json.dumps(body).encode() if body is not None else None,
                                         headers={"Authorization": f"Bearer {self.demo['apiKey']}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def mails(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(self.url + "/_local/mail.json", timeout=30) as response:
            return json.loads(response.read())

    def link_in_mail(self, to: str, pattern: str) -> str:
        """The newest emailed link to ``to`` matching ``pattern`` (waits for the send to be captured)."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            for mail in reversed(self.mails()):
                if to in json.dumps(mail.get("to") or mail.get("destinations") or mail):
                    found = re.search(pattern, json.dumps(mail))
                    if found:
                        return found.group(0).replace("\\u0026", "&")
            time.sleep(0.1)
        raise AssertionError(f"no mail to {to} with {pattern}")


@pytest.fixture(scope="session")
def local_stack() -> Iterator[RunningStack]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (make test does it; apt-get install -y chromium)")
    http_port, aws_port = _free_port(), _free_port()
    state = Path(tempfile.mkdtemp(prefix="distribu-browser-"))
    environment = {**os.environ, "DISTRIBU_LOCAL_HTTP_PORT": str(http_port), "DISTRIBU_LOCAL_AWS_PORT": str(aws_port),
                   "DISTRIBU_LOCAL_STATE_DIR": str(state), "DISTRIBU_LOCAL_LOG_LEVEL": "WARNING",
                   "PYTHONPATH": os.pathsep.join(str(ROOT / part) for part in ("layers/shared", "local", "cli"))}
    environment.pop("AWS_ENDPOINT_URL", None)
    log = open(state / "stack.log", "w")
    process = subprocess.Popen([sys.executable, "-m", "distribu_local.stack"], cwd=ROOT, env=environment,
                               stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the local stack exited:\n{(state / 'stack.log').read_text()}")
        try:
            urllib.request.urlopen(url + "/_local/status.json", timeout=2).read()
            if (state / "demo.json").exists():
                break
        except OSError:
            pass
        time.sleep(0.2)
    else:
        process.kill()
        raise RuntimeError(f"the local stack did not start:\n{(state / 'stack.log').read_text()}")
    try:
        yield RunningStack(url, state, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


@pytest.fixture(scope="session")
def browser_type_launch_args() -> dict[str, Any]:
    return {"executable_path": CHROMIUM, "headless": True,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync"]}


@pytest.fixture(scope="session")
def browser_context_args() -> dict[str, Any]:
    return {"viewport": {"width": 1366, "height": 900}, "accept_downloads": True}


class Shots:
    """Numbered screenshots of one test's steps."""

    def __init__(self, page: Any, name: str) -> None:
        self.page = page
        self.folder = SCREENSHOTS / name
        self.folder.mkdir(parents=True, exist_ok=True)
        for old in self.folder.glob("*.png"):
            old.unlink()
        self.count = 0

    def __call__(self, step: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{step}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shots(page: Any, request: pytest.FixtureRequest) -> Shots:
    return Shots(page, request.node.name)


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns() % 10**10}"


def sign_in_staff(page: Any, stack: RunningStack, email: str | None = None, password: str | None = None) -> None:
    """Sign in on the dashboard's login page (the demo owner unless told otherwise) and wait for the top bar,
    which every role sees."""
    from playwright.sync_api import expect

    page.goto(f"{stack.url}/login")
    page.get_by_label("Email").fill(email or stack.demo["ownerEmail"])
    page.get_by_label("Password").fill(password or stack.demo["ownerPassword"])
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Inventory", exact=True)).to_be_visible()
