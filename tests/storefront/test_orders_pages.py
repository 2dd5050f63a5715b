"""The account's orders on the storefront: lists by role, detail, invoice, reorder, and 404 for any
order that is not this person's to see."""

from __future__ import annotations

import pytest

from tests import factories
from tests.storefront.conftest import sign_in
from tests.web_client import Browser


@pytest.fixture
def account(tenant):
    """Northwind (primary sign-in) with a BUYER and a VIEWER contact; one order by each orderer, and one
    order of another customer."""
    company = tenant.company_id
    bolts = factories.product(company, "Hex Bolt M8", sku="FAS-HB-08", price="14.90", stock=100)
    nuts = factories.product(company, "Hex Nut M8", sku="FAS-HN-08", price="9.75", stock=50)
    northwind = factories.customer(company)
    buyer = factories.contact(company, northwind["id"], "bea@northwind.test", role="BUYER", name="Bea Buyer")
    factories.contact(company, northwind["id"], "vic@northwind.test", role="VIEWER", name="Vic Viewer")
    other = factories.customer(company, "other@contoso.test", name="Contoso")
    by_primary = factories.order(company, northwind["id"], [(bolts["id"], 2)], po_number="PO-PRIMARY")
    from distribu import orders

    by_buyer = orders.place_order(company, orders.OrderRequest(lines=[orders.Line(nuts["id"], 3)],
                                                               customer_id=northwind["id"], po_number="PO-BEA"),
                                  factories.staff_actor(), source="STOREFRONT", placed_by=buyer["id"])
    theirs = factories.order(company, other["id"], [(bolts["id"], 1)], po_number="PO-CONTOSO")
    return {"primary": by_primary, "buyer": by_buyer, "theirs": theirs, "bolts": bolts, "nuts": nuts}


def test_the_primary_sign_in_sees_every_order_of_the_account(client: Browser, store: str, account) -> None:
    sign_in(client, store)
    text = client.get(f"{store}/orders").text
    assert "PO-PRIMARY" in text and "PO-BEA" in text and "PO-CONTOSO" not in text


def test_a_viewer_sees_all_orders_and_a_buyer_only_its_own(stack, store: str, account) -> None:
    viewer = Browser(stack)
    sign_in(viewer, store, "vic@northwind.test")
    text = viewer.get(f"{store}/orders").text
    assert "PO-PRIMARY" in text and "PO-BEA" in text
    buyer = Browser(stack)
    sign_in(buyer, store, "bea@northwind.test")
    text = buyer.get(f"{store}/orders").text
    assert "PO-BEA" in text and "PO-PRIMARY" not in text
    assert buyer.get(f"{store}/orders/{account['primary']['id']}").status == 404
    assert buyer.get(f"{store}/orders/{account['buyer']['id']}").status == 200


def test_order_detail_and_invoice(client: Browser, store: str, account) -> None:
    sign_in(client, store)
    detail = client.get(f"{store}/orders/{account['primary']['id']}")
    assert detail.status == 200
    assert "Hex Bolt M8" in detail.text and "FAS-HB-08" in detail.text and "$29.80" in detail.text
    invoice = client.get(f"{store}/orders/{account['primary']['id']}/invoice")
    code = account["primary"]["id"][-8:].upper()
    assert invoice.status == 200 and invoice.headers["content-type"] == "application/pdf"
    assert invoice.headers["content-disposition"] == f'attachment; filename="invoice-{code}.pdf"'
    assert invoice.body.startswith(b"%PDF")


def test_another_accounts_order_and_invoice_are_404(client: Browser, store: str, account) -> None:
    sign_in(client, store)
    for path in (f"orders/{account['theirs']['id']}", f"orders/{account['theirs']['id']}/invoice", "orders/nope"):
        response = client.get(f"{store}/{path}")
        assert response.status == 404 and "PO-CONTOSO" not in response.text, path


def test_reorder_puts_the_lines_back_in_the_cart_at_todays_prices(client: Browser, store: str, account, tenant) -> None:
    from distribu import carts, catalog
    from distribu.buyers import Buyer

    catalog.update_product(tenant.company_id, account["bolts"]["id"], {"price": "15.50", "stock": 1},
                           factories.staff_actor())
    sign_in(client, store)
    client.get(f"{store}/orders/{account['primary']['id']}")
    response = client.post(f"{store}/orders/{account['primary']['id']}/reorder")
    assert response.status == 303
    page = client.follow(response)
    assert "only 1 of Hex Bolt M8 available" in page.text
    northwind = account["primary"]["customerId"]
    assert carts.read(Buyer(tenant.company_id, northwind, None, "ADMIN", "", "")) == {account["bolts"]["id"]: 1}


def test_a_viewer_cannot_order_in_any_way_and_nothing_is_written(stack, store: str, account, tenant) -> None:
    from distribu import checkout, contacts, dynamo, keys, orders

    viewer = Browser(stack)
    sign_in(viewer, store, "vic@northwind.test")
    catalog_page = viewer.get(f"{store}/catalog")
    assert catalog_page.soup.find("form", id="checkout") is None
    attempts = [
        (f"{store}/cart", {"productId": account["bolts"]["id"], "quantity": "1", "action": "add"}),
        (f"{store}/checkout", [("productId", account["bolts"]["id"]), ("quantity", "1"),
                               ("checkoutToken", checkout.new_token())]),
        (f"{store}/quick-order", {"lines": "FAS-HB-08 1"}),
        (f"{store}/orders/{account['primary']['id']}/reorder", {}),
    ]
    before = orders.list_orders(tenant.company_id, limit=100, cursor=None).items
    for url, data in attempts:
        response = viewer.post(url, data)
        assert response.status == 403, url
        assert "cannot place orders" in response.text
    assert len(orders.list_orders(tenant.company_id, limit=100, cursor=None).items) == len(before)
    northwind = account["primary"]["customerId"]
    contact_id = next(person["id"] for person in contacts.list_contacts(tenant.company_id, northwind)
                      if person["email"] == "vic@northwind.test")
    assert dynamo.get(keys.company(tenant.company_id), keys.cart_sk(northwind, contact_id)) is None
