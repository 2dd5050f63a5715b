"""API Gateway HTTP API (payload 2.0) events and Lambda contexts, as the cloud builds them.

The local HTTP server and the tests both use these, so every request reaches a function through the
same event shape it gets behind API Gateway.
"""

from __future__ import annotations

import base64
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class LambdaContext:
    function_name: str = "local"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:local"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    timeout_seconds: int = 29
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


def http_api_event(method: str, path: str, *, query: str = "", headers: dict[str, str] | None = None,
                   body: bytes | str | None = None, route_key: str | None = None,
                   path_parameters: dict[str, str] | None = None, source_ip: str = "127.0.0.1") -> dict[str, Any]:
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    cookies = [part.strip() for part in lowered.pop("cookie", "").split(";") if part.strip()]
    raw = body.encode() if isinstance(body, str) else (body or b"")
    try:
        text, encoded = raw.decode("utf-8"), False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(raw).decode(), True
    params: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        params[name] = f"{params[name]},{value}" if name in params else value
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key or f"{method.upper()} {path}",
        "rawPath": path,
        "rawQueryString": query,
        "headers": {"host": "127.0.0.1:3000", **lowered},
        "requestContext": {
            "accountId": "123456789012", "apiId": "local", "domainName": lowered.get("host", "127.0.0.1:3000"),
            "domainPrefix": "local",
            "http": {"method": method.upper(), "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                     "userAgent": lowered.get("user-agent", "")},
            "requestId": uuid.uuid4().hex, "routeKey": route_key or f"{method.upper()} {path}", "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)), "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if raw:
        event["body"] = text
    if params:
        event["queryStringParameters"] = params
    if cookies:
        event["cookies"] = cookies
    if path_parameters:
        event["pathParameters"] = path_parameters
    return event


def response_body(result: dict[str, Any]) -> bytes:
    body = result.get("body") or ""
    return base64.b64decode(body) if result.get("isBase64Encoded") else body.encode()


def response_headers(result: dict[str, Any]) -> list[tuple[str, str]]:
    headers = [(name, str(value)) for name, value in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers += [(name, str(value)) for value in values]
    headers += [("set-cookie", cookie) for cookie in result.get("cookies") or []]
    return headers
