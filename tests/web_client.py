"""A small browser for page tests: requests go through the template's routing into the real Lambda
handlers (API Gateway HTTP API events into Mangum), cookies are kept per path as a browser keeps them,
and a POST takes the CSRF token from the last page's form unless told otherwise."""

from __future__ import annotations

import base64
import importlib
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any, Iterable
from urllib.parse import urlencode, urlsplit

from bs4 import BeautifulSoup

from distribu_local.apigateway import LambdaContext, http_api_event
from distribu_local.gateway import Router


@dataclass
class PageResponse:
    status: int
    headers: dict[str, str]
    body: bytes
    cookies: list[str] = field(default_factory=list)

    @property
    def location(self) -> str | None:
        return self.headers.get("location")

    @property
    def html(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def soup(self) -> BeautifulSoup:
        return BeautifulSoup(self.html, "html.parser")

    @property
    def text(self) -> str:
        """What a person reads: the visible text, whitespace collapsed."""
        soup = self.soup
        for hidden in soup(["script", "style", "template"]):
            hidden.decompose()
        return " ".join(soup.get_text(" ").split())

    def csrf_token(self) -> str | None:
        found = self.soup.find("input", attrs={"name": "csrf_token"})
        return found["value"] if found else None

    def field_error(self, name: str) -> str | None:
        """The message shown under a form field (tied to it with aria-describedby)."""
        found = self.soup.find(id=f"{name}-error")
        return " ".join(found.get_text(" ").split()) if found else None

    def value_of(self, name: str) -> str | None:
        found = self.soup.find(attrs={"name": name})
        if found is None:
            return None
        if found.name == "textarea":
            return found.get_text()
        if found.name == "select":
            chosen = found.find("option", selected=True)
            return chosen["value"] if chosen else None
        return found.get("value")


class Browser:
    def __init__(self, stack: Any, *, host: str = "127.0.0.1:3000") -> None:
        self.router = Router(stack.routes())
        self.functions = stack.functions()
        self.host = host
        self.jar: dict[tuple[str, str], str] = {}  # (path, name) -> value
        self.last: PageResponse | None = None
        self.token: str | None = None  # the CSRF token of the last page that had a form

    # --- cookies -------------------------------------------------------------------------------------
    def _cookie_header(self, path: str) -> str:
        chosen: dict[str, tuple[int, str]] = {}
        for (cookie_path, name), value in self.jar.items():
            if path == cookie_path or path.startswith(cookie_path.rstrip("/") + "/") or cookie_path == "/":
                if name not in chosen or len(cookie_path) > chosen[name][0]:
                    chosen[name] = (len(cookie_path), value)
        return "; ".join(f"{name}={value}" for name, (_, value) in chosen.items())

    def _store(self, set_cookies: Iterable[str]) -> None:
        for header in set_cookies:
            parsed = SimpleCookie()
            parsed.load(header)
            for name, morsel in parsed.items():
                path = morsel["path"] or "/"
                expired = morsel["max-age"] == "0" or "1970" in (morsel["expires"] or "")
                if expired or morsel.value in ("", '""'):
                    self.jar.pop((path, name), None)
                else:
                    self.jar[(path, name)] = morsel.value

    def cookie(self, name: str) -> str | None:
        for (_, cookie_name), value in self.jar.items():
            if cookie_name == name:
                return value
        return None

    # --- requests ------------------------------------------------------------------------------------
    def request(self, method: str, url: str, *, data: Any = None, headers: dict[str, str] | None = None) -> PageResponse:
        parts = urlsplit(url)
        path, query = parts.path, parts.query
        matched = self.router.match(method, path)
        if matched is None:
            return PageResponse(404, {}, b'{"error": "Not found."}')
        route, path_parameters = matched
        request_headers = {"host": self.host, "user-agent": "page-tests", **(headers or {})}
        cookie = self._cookie_header(path)
        if cookie:
            request_headers["cookie"] = cookie
        body = None
        if data is not None:
            body = urlencode(data, doseq=True) if not isinstance(data, (str, bytes)) else data
            request_headers.setdefault("content-type", "application/x-www-form-urlencoded")
        event = http_api_event(method, path, query=query, headers=request_headers, body=body,
                               route_key=f"{route.method} {route.path}", path_parameters=path_parameters)
        spec = self.functions[route.function]
        module_name, _, attribute = spec.handler.rpartition(".")
        handler = getattr(importlib.import_module(module_name), attribute)
        result = handler(event, LambdaContext(function_name=route.function))
        raw = result.get("body") or ""
        body_bytes = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        response = PageResponse(result["statusCode"], {k.lower(): v for k, v in (result.get("headers") or {}).items()},
                                body_bytes, list(result.get("cookies") or []))
        for name, values in (result.get("multiValueHeaders") or {}).items():
            if name.lower() == "set-cookie":
                response.cookies += values
        self._store(response.cookies)
        if response.headers.get("content-type", "").startswith("text/html"):
            self.last = response
            self.token = response.csrf_token() or self.token
        return response

    def get(self, url: str, **kwargs: Any) -> PageResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | list[tuple[str, Any]] | None = None, *, csrf: str | None = "auto",
             headers: dict[str, str] | None = None) -> PageResponse:
        fields: list[tuple[str, Any]] = list(data.items()) if isinstance(data, dict) else list(data or [])
        if csrf == "auto":
            if self.token:
                fields.append(("csrf_token", self.token))
        elif csrf is not None:
            fields.append(("csrf_token", csrf))
        return self.request("POST", url, data=fields, headers=headers)

    def follow(self, response: PageResponse) -> PageResponse:
        assert response.location, f"expected a redirect, got {response.status}"
        return self.get(response.location)


def form_fields(form: Any, **overrides: str) -> list[tuple[str, str]]:
    """What a browser would submit for ``form`` (a BeautifulSoup <form>): inputs, checked boxes, selected
    options and textareas, in document order, without the CSRF token (the Browser adds its own);
    ``overrides`` replace the values of fields of that name (or add them)."""
    fields: list[tuple[str, str]] = []
    for element in form.find_all(["input", "select", "textarea"]):
        name = element.get("name")
        if not name or name == "csrf_token" or element.has_attr("disabled"):
            continue
        if element.name == "input" and element.get("type") in ("checkbox", "radio") and not element.has_attr("checked"):
            continue
        if element.name == "input" and element.get("type") in ("submit", "button", "file"):
            continue
        if element.name == "select":
            chosen = element.find("option", selected=True) or element.find("option")
            value = chosen.get("value", chosen.get_text()) if chosen else ""
        elif element.name == "textarea":
            value = element.get_text()
        else:
            value = element.get("value", "")
        fields.append((name, value))
    for name, value in overrides.items():
        fields = [(field, old) for field, old in fields if field != name] + [(name, value)]
    return fields
