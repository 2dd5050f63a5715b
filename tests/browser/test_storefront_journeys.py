"""A buyer's journeys on the demo storefront, in a real browser against the local stack."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningStack, Shots, unique

PASSWORD = "buyer-password-1"


def register(page: Page, stack: RunningStack, shots: Shots, *, name: str) -> str:
    email = f"{unique(name.lower().replace(' ', '-'))}@buyers.test"
    page.goto(f"{stack.url}/store/demo-distributors")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shots("sign-in-page")
    page.get_by_role("link", name="Create an account").first.click()
    page.get_by_label("Business or contact name").fill(name)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    shots("register-filled")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    return email


def sign_in(page: Page, stack: RunningStack, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{stack.url}/store/demo-distributors/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_register_browse_search_order_and_download_the_invoice(page: Page, local_stack: RunningStack,
                                                               shots: Shots) -> None:
    register(page, local_stack, shots, name="Initech Supply")
    expect(page.get_by_text("Welcome, Initech Supply!")).to_be_visible()
    # the demo catalog, plus whatever the dashboard journeys of this session added to it
    expect(page.get_by_text(re.compile(r"Showing 1–24 of \d+ products"))).to_be_visible()
    shots("catalog")
    page.get_by_label("Search").fill("hex")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_text("Showing 1–2 of 2 products")).to_be_visible()
    shots("search-hex")
    bolt_row = page.locator(".product-row", has_text="Hex Bolt M8")
    bolt_row.get_by_label("One more").click()
    bolt_row.get_by_label("One more").click()
    bolt_row.get_by_role("button", name="Add").click()
    cart = page.locator("#cart")
    expect(cart).to_contain_text("Hex Bolt M8")
    expect(cart.get_by_label(re.compile("Quantity of Hex Bolt"))).to_have_value("3")
    shots("in-cart")
    cart.get_by_label("PO number").fill("PO-BROWSER-1")
    cart.get_by_role("button", name=re.compile("Place order")).click()
    expect(page.get_by_text(re.compile(r"Thank you! Your order \w{8} is placed."))).to_be_visible()
    expect(page.get_by_text("PO-BROWSER-1")).to_be_visible()
    shots("order-placed")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download invoice (PDF)").click()
    assert re.fullmatch(r"invoice-\w{8}\.pdf", download.value.suggested_filename)
    assert download.value.path().read_bytes().startswith(b"%PDF")
    page.get_by_role("link", name="Orders", exact=True).click()
    expect(page.get_by_role("cell", name="PO-BROWSER-1")).to_be_visible()
    shots("orders")


def test_a_shortfall_is_shown_in_place_with_the_cart_kept(page: Page, local_stack: RunningStack, shots: Shots) -> None:
    product = local_stack.api("POST", "/products", {"name": unique("Scarce Gasket"), "sku": unique("GSK"),
                                                     "category": "Plumbing", "price": 3.5, "stock": 5})["data"]
    register(page, local_stack, shots, name="Globex Plumbing")
    search_for(page, product["sku"])
    row = page.locator(".product-row", has_text=product["name"])
    row.get_by_label(re.compile("Quantity of")).fill("4")
    row.get_by_role("button", name="Add").click()
    expect(page.locator("#cart")).to_contain_text(product["name"])
    local_stack.api("PATCH", f"/products/{product['id']}", {"stock": 2})  # someone else bought some meanwhile
    page.locator("#cart").get_by_role("button", name=re.compile("Place order")).click()
    expect(page.get_by_text(f"Not enough stock for {product['name']}. Only 2 available.")).to_be_visible()
    expect(page.locator("#cart").get_by_label(re.compile("Quantity of"))).to_have_value("4")
    shots("shortfall-in-place")


def search_for(page: Page, text: str) -> None:
    """The catalog search, retried until the catalog index has caught up with a product just created."""
    deadline = time.monotonic() + 15
    while True:
        page.get_by_label("Search").fill(text)
        page.get_by_role("button", name="Apply").click()
        if page.get_by_text("Showing 1–1 of 1 products").is_visible() or time.monotonic() > deadline:
            break
        page.wait_for_timeout(200)
    expect(page.get_by_text("Showing 1–1 of 1 products")).to_be_visible()


def test_a_blocked_customer_is_refused_and_signed_out(page: Page, local_stack: RunningStack, shots: Shots) -> None:
    email = register(page, local_stack, shots, name="Soon Blocked")
    customer = local_stack.api("GET", f"/customers?search={email}")["data"][0]
    local_stack.api("PATCH", f"/customers/{customer['id']}", {"status": "BLOCKED"})
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()  # the open session ended at once
    shots("signed-out")
    sign_in(page, local_stack, email)
    expect(page.get_by_text("Your account has been suspended. Please contact the store for details.")).to_be_visible()
    shots("refused")


def test_a_viewer_can_browse_but_not_order(page: Page, local_stack: RunningStack, shots: Shots) -> None:
    register(page, local_stack, shots, name="Viewer Parent")
    viewer_email = f"{unique('viewer')}@buyers.test"
    page.get_by_role("link", name="Viewer Parent").click()
    page.get_by_text("Invite someone").click()
    shots("account")
    invite = page.locator("#contacts form").last
    invite.get_by_label("Email").fill(viewer_email)
    invite.get_by_label("Name").fill("Vera Viewer")
    invite.get_by_label("Role").select_option("VIEWER")
    invite.get_by_role("button", name="Send invitation").click()
    expect(page.get_by_text(f"{viewer_email} is invited")).to_be_visible()
    shots("invited")
    link = local_stack.link_in_mail(viewer_email, r"http://[^\s\"]+/setup-password\?token=[\w-]+")
    page.get_by_role("button", name="Sign out").click()
    page.goto(link)
    page.get_by_label("Password", exact=True).fill("viewer-password-1")
    page.get_by_label("Confirm password").fill("viewer-password-1")
    shots("setup-password")
    page.get_by_role("button", name="Set password").click()
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    expect(page.locator(".product-row").first).to_be_visible()
    assert page.locator(".product-row button", has_text="Add").count() == 0  # nothing to order with
    expect(page.locator("#cart")).to_contain_text("Your cart is empty")
    shots("viewer-catalog")
    # Forcing the request by hand meets the same rule on the server.
    token = page.locator("body").get_attribute("hx-headers")
    response = page.request.post(f"{local_stack.url}/store/demo-distributors/cart",
                                 form={"productId": "x", "quantity": "1", "action": "add"},
                                 headers={"X-CSRF-Token": re.search(r'"X-CSRF-Token": "(\w+)"', token).group(1)})
    assert response.status == 403
