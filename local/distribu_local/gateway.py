"""The HTTP API on one port: each request goes to the function the template routes it to.

Routes come from the template's ``HttpApi`` events; the most specific route wins, as in API Gateway
(literal paths, then fewer path variables, greedy ``{proxy+}`` last, then the longest literal part).
The request becomes an HTTP API (payload 2.0) event and the function's real handler answers it.
``/_local/...`` pages belong to the local stack itself: captured email and a status report.
"""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
from typing import Any, Callable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from distribu_local import log, mail
from distribu_local.apigateway import http_api_event, response_body, response_headers
from distribu_local.functions import Functions
from distribu_local.motoserver import quiet_handler
from distribu_local.template import Route

NOT_FOUND = {"error": "Not found."}
_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


def specificity(route: Route) -> tuple[int, int, int, int]:
    variables = re.findall(r"\{[^}]+\}", route.path)
    greedy = sum(1 for variable in variables if variable.endswith("+}"))
    literal = len(re.sub(r"\{[^}]+\}", "", route.path))
    return (greedy, len(variables), -literal, 1 if route.method == "ANY" else 0)


class Router:
    def __init__(self, routes: list[Route]) -> None:
        self.routes = [(route, route.pattern()) for route in sorted(routes, key=specificity)]

    def match(self, method: str, path: str) -> tuple[Route, dict[str, str]] | None:
        for route, pattern in self.routes:
            if route.method not in (method, "ANY"):
                continue
            found = pattern.match(path)
            if found:
                return route, found.groupdict()
        return None


def _json(value: Any, status: int = 200, *, indent: int | None = None) -> Response:
    response = Response(json.dumps(value, indent=indent, default=str), status=status, mimetype="application/json")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def ambiguous_host(environ: dict[str, Any]) -> bool:
    """More than one Host header (the WSGI server joins them with commas). API Gateway refuses such a
    request; so does the gateway, before a function builds URLs from a host that is two hosts."""
    return "," in environ.get("HTTP_HOST", "")


class GatewayRequestHandler(quiet_handler(WSGIRequestHandler)):  # type: ignore[misc]
    """Werkzeug's handler, minus the ``Server: Werkzeug/... Python/...`` header that names our stack's
    versions to anyone who asks."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


_INDEX = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Distribu local stack</title></head>
<body style="font-family:system-ui,sans-serif;margin:2rem">
<h1>Distribu local stack</h1><ul>
<li><a href="/dashboard">Staff dashboard</a></li>
<li><a href="/store/demo-distributors">Demo storefront</a></li>
<li><a href="/api/v1/docs">API docs</a></li>
<li><a href="/_local/mail">Emails sent</a> (<a href="/_local/mail.json">JSON</a>)</li>
<li><a href="/_local/status.json">Pumps, triggers and queues</a></li>
</ul></body></html>"""


_ATTACHMENT = re.compile(r"/_local/mail/([A-Za-z0-9_.-]{1,100})/attachments/(\d{1,3})")


class Gateway:
    def __init__(self, routes: list[Route], functions: Functions, mailbox: mail.Mailbox,
                 status: Callable[[], dict[str, Any]], port: int) -> None:
        self.router = Router(routes)
        self.functions = functions
        self.mailbox = mailbox
        self.status = status
        self.port = port

    # --- the stack's own pages ------------------------------------------------------------------------
    def local_page(self, request: Request) -> Response | None:
        path = request.path.rstrip("/")
        if not (path == "/_local" or path.startswith("/_local/")):
            return None
        if request.method not in ("GET", "HEAD"):
            return _json({"error": "Method not allowed."}, 405)
        if path == "/_local":
            return Response(_INDEX, mimetype="text/html")
        if path == "/_local/mail":
            return Response(mail.render_page(self.mailbox.messages()), mimetype="text/html")
        if path == "/_local/mail.json":
            return _json([{name: message[name] for name in ("id", "to", "from", "subject", "text", "html", "time",
                                                             "attachments")}
                          for message in self.mailbox.messages()], indent=2)
        attached = _ATTACHMENT.fullmatch(path)
        if attached:
            found = mail.attachment(self.mailbox.raw(attached.group(1)), int(attached.group(2)))
            if found is None:
                return _json(NOT_FOUND, 404)
            filename, content_type, content = found
            safe_name = "".join(char for char in filename if char.isalnum() or char in "._-") or "attachment"
            return Response(content, mimetype=content_type,
                            headers={"Content-Disposition": f'attachment; filename="{safe_name}"',
                                     "X-Content-Type-Options": "nosniff"})
        if path == "/_local/status.json":
            return _json(self.status(), indent=2)
        return _json(NOT_FOUND, 404)

    # --- the template's routes -------------------------------------------------------------------------
    def event(self, request: Request, route: Route, parameters: dict[str, str]) -> dict[str, Any]:
        headers: dict[str, str] = {}
        for name, value in request.headers.items():
            name = name.lower()
            headers[name] = f"{headers[name]},{value}" if name in headers and name != "cookie" else value
        if "cookie" in headers:
            headers["cookie"] = "; ".join(request.headers.getlist("Cookie"))
        remote = request.remote_addr or "127.0.0.1"
        headers.setdefault("x-forwarded-for", remote)
        headers.setdefault("x-forwarded-proto", "http")
        headers.setdefault("x-forwarded-port", str(self.port))
        body = request.get_data()
        return http_api_event(request.method, request.path, query=request.query_string.decode("latin-1"),
                              headers=headers, body=body or None, route_key=f"{route.method} {route.path}",
                              path_parameters=parameters, source_ip=remote)

    def invoke(self, request: Request) -> tuple[Response, str]:
        found = self.router.match(request.method, request.path)
        if found is None:
            return _json(NOT_FOUND, 404), "-"
        route, parameters = found
        try:
            result = self.functions.invoke(route.function, self.event(request, route, parameters))
        except Exception:
            log.error("http", f"{request.method} {request.path} -> {route.function} raised:\n"
                              f"{traceback.format_exc()}")
            return _json({"message": "Internal Server Error"}, 500), route.function
        if not isinstance(result, dict) or "statusCode" not in result:
            # Payload 2.0: anything else is a 200 with the value as its JSON body.
            return _json(result), route.function
        headers = [(name, value) for name, value in response_headers(result) if name.lower() not in _HOP_BY_HOP]
        response = Response(response_body(result), status=int(result["statusCode"]), headers=headers)
        if not any(name.lower() == "content-type" for name, _ in headers):
            del response.headers["Content-Type"]
        return response, route.function

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        try:
            response = self.respond(environ)
        except Exception:  # whatever goes wrong here, the answer is JSON, never Werkzeug's HTML page
            log.error("http", f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO')} failed in the "
                              f"gateway:\n{traceback.format_exc()}")
            response = _json({"error": "Internal server error."}, 500)
        return response(environ, start_response)

    def respond(self, environ: dict[str, Any]) -> Response:
        if ambiguous_host(environ):
            return _json({"error": "Bad request: more than one Host header."}, 400)
        request = Request(environ)
        started = time.monotonic()
        response = self.local_page(request)
        target = "local"
        if response is None:
            response, target = self.invoke(request)
        if request.path != "/_local/status.json":
            elapsed = (time.monotonic() - started) * 1000
            log.info("http", f"{request.method} {request.full_path.rstrip('?')} -> {target} "
                             f"{response.status_code} ({elapsed:.0f} ms)")
        return response


class HttpServer:
    """Binds its port first (so a busy port fails the start before anything else happens), serves later."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.app: Gateway | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def bind(self) -> None:
        self._server = make_server(self.host, self.port, self._dispatch, threaded=True,
                                   request_handler=GatewayRequestHandler)
        self.port = self._server.server_address[1]

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        assert self.app is not None
        return self.app(environ, start_response)

    def serve(self, app: Gateway) -> None:
        if self._server is None:
            self.bind()
        assert self._server is not None
        app.port = self.port
        self.app = app
        self._thread = threading.Thread(target=self._server.serve_forever, name="http-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            if self._thread is not None:
                self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None
