"""The dashboard home's first steps for a new company (area dash-journey): shown while nothing is on the
storefront, gone once a product is active."""

from __future__ import annotations

from typing import Any

from tests import factories
from tests.web_client import Browser


def test_a_new_company_sees_the_first_steps_on_its_home(client: Browser) -> None:
    client.get("/signup")
    response = client.post("/signup", {"companyName": "Fresh Start Supply", "name": "Fay Fresh",
                                       "email": "fay@freshstart.test", "password": "long-enough-1"})
    assert response.status == 303 and response.location == "/dashboard"
    home = client.follow(response)
    assert home.status == 200
    assert "Get started" in home.text and "Nothing is on your storefront yet." in home.text
    steps = home.soup.select_one("article.get-started")
    assert steps is not None
    assert [a["href"] for a in steps.select("a")] == ["/dashboard/inventory/new", "/dashboard/inventory/import",
                                                      "/store/fresh-start-supply"]
    assert "0 active products (inactive ones are not counted)." in home.text


def test_the_first_steps_go_once_a_product_is_on_the_storefront(owner: Browser, tenant: factories.Tenant,
                                                                 projections: Any) -> None:
    assert "Get started" in owner.get("/dashboard").text
    factories.product(tenant.company_id, "Widget Blue")
    projections.drain()
    home = owner.get("/dashboard")
    assert home.status == 200 and "Get started" not in home.text
    assert "1 active product (inactive ones are not counted)." in home.text


def test_a_company_with_only_inactive_products_still_sees_the_first_steps(owner: Browser, tenant: factories.Tenant,
                                                                         projections: Any) -> None:
    factories.product(tenant.company_id, "Hidden Crate", isActive=False)
    projections.drain()
    assert "Get started" in owner.get("/dashboard").text
