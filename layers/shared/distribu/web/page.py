"""A request as a page sees it: who is signed in, the CSRF token, the flash message, the submitted form,
and how to answer (render a template, redirect after a POST, set or clear the session cookie).

Each function builds its :class:`Page` (with the session it read, batched with the page's other reads)
and passes it to templates as ``page``; layouts and macros read ``page.csrf_token``, ``page.flash``...
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import urlencode

from jinja2 import Environment
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from distribu.config import get_settings
from distribu.errors import DomainError, Forbidden
from distribu.sessions import Session
from distribu.web import security


class SignInRequired(Exception):
    """A page for signed-in people was asked for by someone who is not: the app redirects to ``location``
    (the sign-in page, with the way back)."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


class CsrfRefused(Forbidden):
    def __init__(self) -> None:
        super().__init__("This form has expired or did not come from this site. Go back, reload the page "
                         "and try again.")


class Form:
    """What a person submitted (kept to show again) and each field's problem."""

    def __init__(self, values: Mapping[str, Any] | None = None, lists: Mapping[str, list[str]] | None = None, *,
                 prefix: str = "") -> None:
        self.prefix = prefix  # for element ids, when a page has several forms with fields of the same name
        self.values: dict[str, Any] = dict(values or {})
        self.lists: dict[str, list[str]] = dict(lists or {})
        self.errors: dict[str, str] = {}
        self.message: str | None = None  # a problem of the whole form, shown above it

    def get(self, name: str, default: Any = "") -> Any:
        value = self.values.get(name)
        return default if value is None else value

    def getlist(self, name: str) -> list[str]:
        return self.lists.get(name, [])

    def text(self, name: str) -> str:
        return str(self.values.get(name) or "").strip()

    def checked(self, name: str) -> bool:
        return str(self.values.get(name, "")).lower() in ("on", "true", "1", "yes")

    def error(self, field: str, message: str) -> "Form":
        self.errors.setdefault(field, message)
        return self

    def fail(self, message: str) -> "Form":
        self.message = message
        return self

    def prefixed(self, prefix: str) -> "Form":
        self.prefix = prefix
        return self

    def take(self, error: DomainError, *, fields: Iterable[str] = (), aliases: Mapping[str, str] | None = None) -> "Form":
        """Place a domain error: each ``details`` entry under its field, anything else above the form."""
        details = error.extra.get("details") or []
        known = set(fields) | set(self.values)
        placed = False
        for detail in details:
            field = (aliases or {}).get(detail.get("field", ""), detail.get("field", ""))
            if field in known:
                self.error(field, _sentence(detail.get("message", "is invalid")))
                placed = True
        if not placed:
            self.fail(error.message if not details else "; ".join(
                f"{detail.get('field')}: {detail.get('message')}" for detail in details))
        return self

    @property
    def has_errors(self) -> bool:
        return bool(self.errors or self.message)


def _sentence(message: str) -> str:
    """Pydantic's "String should have at most 200 characters" reads fine; make it start upper-case and end
    with a full stop."""
    message = message.strip()
    if not message:
        return "This value is not valid."
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."


@dataclass(frozen=True)
class Cookies:
    """The cookie names and path of one face of the product (storefront per store, dashboard)."""

    session: str
    csrf: str
    path: str

    @property
    def flash(self) -> str:
        return f"{self.session}_flash"


class Page:
    """One request's page context. Subclasses add what their function knows (store, company, role)."""

    def __init__(self, request: Request, env: Environment, cookies: Cookies, session: Session | None) -> None:
        self.request = request
        self.env = env
        self.cookies = cookies
        self.session = session
        self._new_csrf_seed: str | None = None
        self._flash_read = False

    # --- who and what -----------------------------------------------------------------------------------
    @property
    def signed_in(self) -> bool:
        return self.session is not None

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("hx-request") == "true"

    @property
    def csrf_token(self) -> str:
        return security.csrf_token(self._csrf_binding(create=True) or "")

    def _csrf_binding(self, *, create: bool) -> str | None:
        if self.session is not None:
            return "s:" + self.session.raw_id
        seed = self._new_csrf_seed or self.request.cookies.get(self.cookies.csrf)
        if not seed and create:
            seed = self._new_csrf_seed = secrets.token_urlsafe(24)
        return "a:" + seed if seed else None

    @property
    def flash(self) -> dict[str, str] | None:
        """The message left by the previous request's redirect (shown once)."""
        self._flash_read = True
        value = security.unsign("flash", self.request.cookies.get(self.cookies.flash))
        return value if isinstance(value, dict) else None

    # --- reading a submission ------------------------------------------------------------------------
    async def form(self) -> Form:
        """The submitted form, after the CSRF check (403 and nothing done when it fails)."""
        data = await self.request.form()
        values: dict[str, Any] = {}
        lists: dict[str, list[str]] = {}
        for name, value in data.multi_items():
            if not isinstance(value, str):
                continue  # no page takes file uploads through the function (they go straight to S3)
            lists.setdefault(name, []).append(value)
            values.setdefault(name, value)
        token = values.pop("csrf_token", None) or self.request.headers.get("x-csrf-token")
        lists.pop("csrf_token", None)
        if not security.csrf_valid(self._csrf_binding(create=False), token):
            raise CsrfRefused()
        return Form(values, lists)

    async def check_csrf(self) -> None:
        """For POSTs that carry no form fields of their own (sign out, toggles)."""
        await self.form()

    # --- answering -------------------------------------------------------------------------------------
    def context(self) -> dict[str, Any]:
        """What every template of this function sees besides its own variables."""
        return {"page": self}

    def render(self, template: str, status: int = 200, **variables: Any) -> HTMLResponse:
        html = self.env.get_template(template).render(**self.context(), **variables)
        response = HTMLResponse(html, status_code=status)
        return self.finish(response)

    def redirect(self, url: str, *, flash: str | None = None, kind: str = "success", status: int = 303) -> Response:
        if self.is_htmx:  # htmx follows a redirect in place; a full navigation is what the person expects
            response: Response = Response(status_code=204, headers={"HX-Redirect": url})
        else:
            response = RedirectResponse(url, status_code=status)
        if flash:
            self._set_cookie(response, self.cookies.flash, security.sign("flash", {"kind": kind, "text": flash}),
                             max_age=60)
            self._flash_read = False
        return self.finish(response)

    def finish(self, response: Response) -> Response:
        response.headers["cache-control"] = "no-store"
        if self._new_csrf_seed:
            self._set_cookie(response, self.cookies.csrf, self._new_csrf_seed, max_age=30 * 24 * 3600)
            self._new_csrf_seed = None
        if self._flash_read and self.cookies.flash in self.request.cookies:
            response.delete_cookie(self.cookies.flash, path=self.cookies.path)
            self._flash_read = False
        return response

    def start_session(self, response: Response, session: Session) -> None:
        """Sign in: the cookie carries only the session's random id."""
        self._set_cookie(response, self.cookies.session, session.raw_id,
                         max_age=max(0, session.expires_at - int(time.time())))
        self.session = session

    def end_session(self, response: Response) -> None:
        response.delete_cookie(self.cookies.session, path=self.cookies.path)

    def _set_cookie(self, response: Response, name: str, value: str, *, max_age: int) -> None:
        response.set_cookie(name, value, max_age=max_age, path=self.cookies.path, httponly=True,
                            samesite="lax", secure=not get_settings().is_local)

    # --- URLs ------------------------------------------------------------------------------------------
    def absolute_url(self, path: str) -> str:
        """A link for an email. The configured public URL, else the domain API Gateway says it served
        (``requestContext.domainName``), never the client-controlled Host header."""
        base = get_settings().public_base_url
        if not base:
            event = self.request.scope.get("aws.event") or {}
            domain = (event.get("requestContext") or {}).get("domainName") or "localhost"
            base = ("http://" if get_settings().is_local else "https://") + domain
        return base + path

    def url_with(self, **changes: Any) -> str:
        """This page's URL with some query parameters changed (``None`` removes one)."""
        params = dict(self.request.query_params)
        for name, value in changes.items():
            if value is None or value == "":
                params.pop(name, None)
            else:
                params[name] = str(value)
        query = urlencode(params)
        return self.request.url.path + (f"?{query}" if query else "")
