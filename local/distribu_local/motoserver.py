"""The embedded AWS: moto in server mode, behind one global lock.

moto's threaded server is not safe under concurrent requests (it oversold stock and threw
"dictionary changed size during iteration" under stress), so every request runs alone: the whole
response is produced inside the lock. The same lock guards the few places the local stack reads
moto's in-process backends directly (captured emails).
"""

from __future__ import annotations

import io
import re
import threading
from typing import Any, Callable, Iterable

from werkzeug.serving import BaseWSGIServer, make_server

from distribu_local import motofixes

# DynamoDB operations that change items (PartiQL counted conservatively).
_DYNAMODB_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems",
                    "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"}
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request", re.IGNORECASE)
_QUERY_SCOPE = re.compile(r"X-Amz-Credential=[^&]*?(?:%2F|/)\d{8}(?:%2F|/)[^&%/]+(?:%2F|/)([^&%/]+)",
                          re.IGNORECASE)


class ChangeTracker:
    """Notices requests that may change DynamoDB items or S3 objects, so snapshots skip idle periods."""

    def __init__(self) -> None:
        self._dirty = threading.Event()

    @staticmethod
    def _service(environ: dict[str, Any]) -> str | None:
        match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", "")) or \
            _QUERY_SCOPE.search(environ.get("QUERY_STRING", ""))
        return match.group(1).lower() if match else None

    def observe(self, environ: dict[str, Any]) -> None:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:
            service, _, operation = target.partition(".")
            if service.startswith("DynamoDB_") and operation in _DYNAMODB_WRITES:
                self._dirty.set()
            return
        if environ.get("REQUEST_METHOD") in ("PUT", "POST", "DELETE") and self._service(environ) in ("s3", None):
            self._dirty.set()

    def mark(self) -> None:
        self._dirty.set()

    def take(self) -> bool:
        """True if something changed since the last call."""
        changed = self._dirty.is_set()
        self._dirty.clear()
        return changed


class LockedApp:
    """A WSGI app run one request at a time, its response materialised inside the lock."""

    def __init__(self, app: Callable[..., Iterable[bytes]], lock: threading.Lock,
                 after_request: Iterable[Callable[[dict[str, Any]], None]] = ()) -> None:
        self.app = app
        self.lock = lock
        self.after_request = list(after_request)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        # Read a sized body before taking the lock, so a slow client does not hold everyone up.
        length = environ.get("CONTENT_LENGTH")
        if length and length.isdigit():
            environ["wsgi.input"] = io.BytesIO(environ["wsgi.input"].read(int(length)))
        captured: dict[str, Any] = {}
        chunks: list[bytes] = []

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
            captured["status"], captured["headers"] = status, headers
            return chunks.append

        with self.lock:
            result = self.app(environ, capture)
            try:
                for chunk in result:
                    chunks.append(chunk)
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            for hook in self.after_request:
                hook(environ)
        start_response(captured["status"], captured["headers"])
        return [b"".join(chunks)]


def quiet_handler(base: type) -> type:
    """A request handler class that does not log every request (the pollers make several a second)."""

    class Quiet(base):  # type: ignore[misc, valid-type]
        def log_request(self, *args: Any, **kwargs: Any) -> None:
            pass

    return Quiet


class MotoServer:
    def __init__(self, host: str, port: int, lock: threading.Lock | None = None,
                 after_request: Iterable[Callable[[dict[str, Any]], None]] = ()) -> None:
        self.host = host
        self.port = port
        self.lock = lock or threading.Lock()
        self.after_request = list(after_request)
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._installed_fixes = False

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        from moto.moto_server.werkzeug_app import (DomainDispatcherApplication, MotoRequestHandler,
                                                   create_backend_app)

        self._installed_fixes = motofixes.install()
        app = LockedApp(DomainDispatcherApplication(create_backend_app), self.lock, self.after_request)
        self._server = make_server(self.host, self.port, app, threaded=True,
                                   request_handler=quiet_handler(MotoRequestHandler))
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
        if self._installed_fixes:  # leave moto as it was found (in-process tests share it)
            motofixes.uninstall()
            self._installed_fixes = False
