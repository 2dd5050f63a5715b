"""The catalog, the cart and checkout through the real storefront handler."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.storefront.conftest import sign_in
from tests.web_client import Browser, form_fields


@pytest.fixture
def shop(tenant, projections):
    """A store with a signed-up buyer, a custom price, an address and four products in two categories."""
    from distribu import addresses

    company = tenant.company_id
    bolts = factories.product(company, "Hex Bolt M8", sku="FAS-HB-08", category="Fasteners", price="14.90", stock=240,
                              description="Zinc plated hex bolts, box of 100.")
    nuts = factories.product(company, "Hex Nut M8", sku="FAS-HN-08", category="Fasteners", price="9.75", stock=4)
    drill = factories.product(company, "Cordless Drill", sku="TLS-CD-18", category="Tools", price="149.00", stock=0)
    hidden = factories.product(company, "Old Hammer", sku="TLS-OH-1", category="Tools", price="5.00", stock=10,
                               isActive=False)
    buyer = factories.customer(company)
    factories.price_override(company, buyer["id"], bolts["id"], "12.00")
    addresses.add_address(company, buyer["id"], {"name": "Receiving", "line1": "1 Dock Road", "city": "Springfield",
                                                 "country": "US"}, factories.staff_actor())
    projections.drain()
    return {"bolts": bolts, "nuts": nuts, "drill": drill, "hidden": hidden, "buyer": buyer}


def test_catalog_lists_active_products_at_the_buyers_prices(client: Browser, store: str, shop) -> None:
    sign_in(client, store)
    page = client.get(f"{store}/catalog")
    assert page.status == 200
    text = page.text
    assert "Showing 1–3 of 3 products" in text
    assert "Old Hammer" not in text  # inactive: hidden at once
    assert "Hex Bolt M8" in text and "$12.00" in text and "$14.90" in text  # custom price, catalog price struck
    assert "Only 4 left" in text  # low stock (threshold 5), said in words
    assert "Out of stock" in text
    drill_row = page.soup.find(id=f"product-{shop['drill']['id']}")
    assert drill_row.find("form") is None  # out of stock: not addable
    pills = [a.get_text(" ", strip=True) for a in page.soup.select("ul.pills a")]
    assert pills == ["All", "Fasteners 2", "Tools 1"]
    order = [h.get_text(strip=True) for h in page.soup.select(".product-row h3")]
    assert order == ["Hex Bolt M8", "Hex Nut M8", "Cordless Drill"]  # category, then name


def test_search_sort_and_category(client: Browser, store: str, shop) -> None:
    sign_in(client, store)
    assert "Showing 1–1 of 1 products" in client.get(f"{store}/catalog?q=zinc").text  # description
    assert "Showing 1–1 of 1 products" in client.get(f"{store}/catalog?q=tls-cd").text  # SKU, any case
    by_price = client.get(f"{store}/catalog?sort=price_desc")
    assert [h.get_text(strip=True) for h in by_price.soup.select(".product-row h3")] == \
        ["Cordless Drill", "Hex Bolt M8", "Hex Nut M8"]
    tools = client.get(f"{store}/catalog?category=Tools")
    assert [h.get_text(strip=True) for h in tools.soup.select(".product-row h3")] == ["Cordless Drill"]
    nothing = client.get(f"{store}/catalog?q=unobtainium")
    assert "No products match “unobtainium”" in nothing.text


def test_add_to_cart_caps_at_stock_and_checkout_places_the_order(client: Browser, store: str, shop, tenant) -> None:
    from distribu import catalog, dynamo, keys

    sign_in(client, store)
    client.get(f"{store}/catalog")
    added = client.post(f"{store}/cart", {"productId": shop["nuts"]["id"], "quantity": "9", "action": "add",
                                           "next": f"{store}/catalog"})
    assert added.status == 303
    page = client.follow(added)
    assert "Only 4 of Hex Nut M8 available: your cart holds 4." in page.text
    client.post(f"{store}/cart", {"productId": shop["bolts"]["id"], "quantity": "10", "action": "add"})
    page = client.get(f"{store}/catalog")
    fields = form_fields(page.soup.find("form", id="checkout"), poNumber="PO-77")
    placed = client.post(f"{store}/checkout", fields)
    assert placed.status == 303 and re.match(rf"{store}/orders/\w+$", placed.location)
    order_page = client.follow(placed)
    assert "is placed" in order_page.text and "PO-77" in order_page.text
    assert "$120.00" in order_page.text  # 10 bolts at the custom price
    assert "1 Dock Road" in order_page.text
    assert catalog.get_product(tenant.company_id, shop["nuts"]["id"])["stock"] == 0
    cart_item = dynamo.get(keys.company(tenant.company_id), keys.cart_sk(shop["buyer"]["id"], shop["buyer"]["id"]))
    assert cart_item is None  # the cart went with the order
    # Pressing the button again (the same form) places nothing new.
    again = client.post(f"{store}/checkout", fields)
    assert again.status == 303 and again.location == placed.location


def test_a_shortfall_is_shown_in_place_and_the_cart_is_kept(client: Browser, store: str, shop, tenant) -> None:
    from distribu import carts, catalog
    from distribu.buyers import Buyer

    sign_in(client, store)
    client.get(f"{store}/catalog")
    client.post(f"{store}/cart", {"productId": shop["nuts"]["id"], "quantity": "3", "action": "add"})
    page = client.get(f"{store}/catalog")
    fields = form_fields(page.soup.find("form", id="checkout"))
    catalog.update_product(tenant.company_id, shop["nuts"]["id"], {"stock": 1}, factories.staff_actor())  # sold meanwhile
    failed = client.post(f"{store}/checkout", fields)
    assert failed.status == 422
    assert "Not enough stock for Hex Nut M8. Only 1 available." in failed.text
    buyer = Buyer(tenant.company_id, shop["buyer"]["id"], None, "ADMIN", "", "")
    assert carts.read(buyer) == {shop["nuts"]["id"]: 3}


def test_quick_order_by_sku_reports_each_problem_line(client: Browser, store: str, shop) -> None:
    sign_in(client, store)
    client.get(f"{store}/catalog")
    result = client.post(f"{store}/quick-order", {"lines": "fas-hb-08 5\nNOPE-1 2\nFAS-HN-08 x\nTLS-CD-18 1"})
    assert result.status == 200
    text = result.text
    assert "Line 2 (NOPE-1): no product has this SKU." in text
    assert "Line 3 (FAS-HN-08): the quantity must be a whole number of at least 1." in text
    assert "Line 4 (TLS-CD-18): Cordless Drill is out of stock." in text
    assert "Hex Bolt M8" in result.soup.find(id="cart").get_text()


def test_product_page_and_inactive_product_404(client: Browser, store: str, shop) -> None:
    sign_in(client, store)
    page = client.get(f"{store}/products/{shop['bolts']['id']}")
    assert page.status == 200 and "Zinc plated hex bolts, box of 100." in page.text and "Your price" in page.text
    assert client.get(f"{store}/products/{shop['hidden']['id']}").status == 404
