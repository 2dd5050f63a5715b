"""Tenant isolation on every storefront page route: another company's ids are 404s, a session of one store
opens nothing in another. The walk is built from the storefront app's routes, so a route added without
a case here fails."""

from __future__ import annotations

import re

from starlette.routing import Route

from tests import factories
from tests.storefront.conftest import sign_in
from tests.web_client import Browser

POST_BODIES = {
    "/store/{slug}/account/addresses/{address_id}": {"action": "delete"},
    "/store/{slug}/account/contacts/{contact_id}": {"action": "deactivate"},
    "/store/{slug}/orders/{order_id}/reorder": {},
}


def _their_world(company_id: str) -> dict[str, str]:
    product = factories.product(company_id, "Globex Secret Widget", sku="GLX-1", price="5.00", stock=9)
    customer = factories.customer(company_id, "vip@globex.test", name="Globex VIP")
    order = factories.order(company_id, customer["id"], [(product["id"], 1)], po_number="PO-GLOBEX-SECRET")
    address = factories.address(company_id, customer["id"], line1="99 Secret Street")
    contact = factories.contact(company_id, customer["id"], "spy@globex.test", role="ADMIN")
    return {"product_id": product["id"], "order_id": order["id"], "address_id": address["id"],
            "contact_id": contact["id"]}


def test_every_id_route_of_the_storefront_is_404_for_another_companys_records(client: Browser, tenant,
                                                                               other_tenant) -> None:
    from distribu import addresses, contacts, orders
    from distribu_storefront.app import routes

    theirs = _their_world(other_tenant.company_id)
    factories.customer(tenant.company_id)
    store = f"/store/{tenant.slug}"
    sign_in(client, store)
    client.get(f"{store}/catalog")
    walked = 0
    for route in routes:
        if not isinstance(route, Route) or not route.path.startswith("/store/{slug}"):
            continue
        parameters = [name for name in re.findall(r"\{(\w+)", route.path) if name != "slug"]
        if not parameters:
            continue
        path = route.path.replace("{slug}", tenant.slug)
        for name in parameters:
            assert name in theirs, f"no case for {route.path}: add one to _their_world"
            path = path.replace("{" + name + "}", theirs[name])
        for method in sorted(route.methods - {"HEAD"}):
            response = client.get(path) if method == "GET" else client.post(path, POST_BODIES.get(route.path, {}))
            assert response.status == 404, (method, path, response.status)
            for secret in ("Globex", "PO-GLOBEX-SECRET", "99 Secret Street", "spy@globex.test"):
                assert secret not in response.text, (method, path, secret)
            walked += 1
    assert walked >= 6
    # and nothing of theirs changed
    customer_id = orders.get_order(other_tenant.company_id, theirs["order_id"])["customerId"]
    assert [a["line1"] for a in addresses.list_addresses(other_tenant.company_id, customer_id)] == ["99 Secret Street"]
    assert contacts.list_contacts(other_tenant.company_id, customer_id)[0]["active"] is True


def test_a_session_of_one_store_opens_nothing_in_another(client: Browser, tenant, other_tenant) -> None:
    factories.customer(tenant.company_id)
    _their_world(other_tenant.company_id)
    mine, theirs = f"/store/{tenant.slug}", f"/store/{other_tenant.slug}"
    sign_in(client, mine)
    session = client.cookie("customer_session")
    client.jar[(theirs, "customer_session")] = session  # as if the browser sent it there too
    for page in ("catalog", "orders", "account"):
        response = client.get(f"{theirs}/{page}")
        assert response.status == 302 and response.location.startswith(f"{theirs}/login"), page
    login = client.get(f"{theirs}/login")
    assert "Globex Wholesale" in login.text and "Acme" not in login.text
