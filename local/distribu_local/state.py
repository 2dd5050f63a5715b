"""The local state folder (``.local-state/`` by default, gitignored).

It keeps what must survive a restart and cannot be rebuilt from the data: the session secret (or every
signed-in session would break), the demo API key (only its hash is in the table) and the snapshot; and
where the running stack listens (``stack.json``), for the CLI.
"""

from __future__ import annotations

import json
import os
import secrets
import tempfile
from pathlib import Path
from typing import Any

SESSION_SECRET_FILE = "session-secret"
DEMO_FILE = "demo.json"
SNAPSHOT_FILE = "snapshot.json"
ENDPOINTS_FILE = "stack.json"


def write_atomically(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write a temporary file beside ``path``, flush it to disk, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if private:
            os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class StateDir:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def ensure(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    @property
    def snapshot_path(self) -> Path:
        return self.path / SNAPSHOT_FILE

    def session_secret(self) -> str:
        """Generated on first start, then the same for as long as the state folder lives."""
        path = self.path / SESSION_SECRET_FILE
        if path.exists():
            secret = path.read_text().strip()
            if len(secret) >= 32:
                return secret
        secret = secrets.token_urlsafe(48)
        write_atomically(path, secret.encode() + b"\n", private=True)
        return secret

    def save_endpoints(self, aws_endpoint: str, http_url: str) -> None:
        """Where the running stack listens, for tools started elsewhere (the CLI) to find it whatever ports
        it was given."""
        record = {"awsEndpoint": aws_endpoint, "httpUrl": http_url, "pid": os.getpid()}
        write_atomically(self.path / ENDPOINTS_FILE, json.dumps(record, indent=2).encode() + b"\n")

    def endpoints(self) -> dict[str, Any]:
        """What :meth:`save_endpoints` recorded last, or {}."""
        try:
            value = json.loads((self.path / ENDPOINTS_FILE).read_text())
        except (OSError, json.JSONDecodeError):
            return {}
        return value if isinstance(value, dict) else {}

    def demo(self) -> dict[str, Any]:
        path = self.path / DEMO_FILE
        try:
            value = json.loads(path.read_text())
        except (FileNotFoundError, json.JSONDecodeError):
            return {}
        return value if isinstance(value, dict) else {}

    def save_demo(self, demo: dict[str, Any]) -> None:
        write_atomically(self.path / DEMO_FILE, json.dumps(demo, indent=2).encode() + b"\n", private=True)
