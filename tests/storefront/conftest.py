"""Storefront page tests: a store with a signed-up customer, and a browser on it."""

from __future__ import annotations

from typing import Any

import pytest

from tests import factories
from tests.web_client import Browser


@pytest.fixture
def client(stack: Any) -> Browser:
    return Browser(stack)


@pytest.fixture
def store(tenant: factories.Tenant) -> str:
    """The tenant's store URL."""
    return f"/store/{tenant.slug}"


def sign_in(client: Browser, store: str, email: str = "buyer@northwind.test",
            password: str = factories.BUYER_PASSWORD) -> Any:
    client.get(f"{store}/login")
    return client.post(f"{store}/login", {"email": email, "password": password})
