"""Dashboard page tests: a browser client, and one signed in as a company's staff member."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.web_client import Browser


@pytest.fixture
def client(stack: Any) -> Browser:
    return Browser(stack)


def sign_in(client: Browser, email: str, password: str = factories.STAFF_PASSWORD) -> Any:
    client.get("/login")
    return client.post("/login", {"email": email, "password": password})


@pytest.fixture
def owner(client: Browser, tenant: factories.Tenant) -> Browser:
    """The tenant's OWNER, signed in."""
    response = sign_in(client, factories.owner_email("Acme Distributors"))
    assert response.status == 303, response.text
    client.get("/dashboard")
    return client


def signed_in(stack: Any, email: str, password: str = factories.STAFF_PASSWORD) -> Browser:
    """A new browser with ``email`` signed in (and a page with a form loaded, for the CSRF token)."""
    browser = Browser(stack)
    response = sign_in(browser, email, password)
    assert response.status == 303, response.text
    browser.get("/dashboard")
    return browser


def sent_mail(stack: Any) -> list[Any]:
    """Every email SES has sent in this test (moto keeps them)."""
    from moto.backends import get_backend

    return list(get_backend("ses")[stack.account_id]["us-east-1"].sent_messages)
