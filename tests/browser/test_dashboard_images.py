"""Product images in a real browser against the local stack: the owner picks a file, sees its preview, a
wrong file is refused before it leaves the browser, the picture goes straight to S3 (moto) and back, and a
buyer sees it on the storefront's product page and catalog."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import RunningStack, Shots, sign_in_staff, unique

WRONG_TYPE = "Only JPG, PNG, WebP, and AVIF images are allowed."


def test_upload_an_image_with_preview_and_see_it_on_the_storefront(page: Page, local_stack: RunningStack,
                                                                   shots: Shots, tmp_path: Path) -> None:
    name = unique("Pictured Crate")
    product = local_stack.api("POST", "/products", {"name": name, "sku": unique("PIC"), "price": 12.5, "stock": 30,
                                                    "category": "Storage"})["data"]
    sign_in_staff(page, local_stack)
    page.goto(f"{local_stack.url}/dashboard/inventory/{product['id']}/image")
    expect(page.get_by_role("heading", name="Product image")).to_be_visible()
    expect(page.get_by_text("No image yet")).to_be_visible()
    shots("no-image-yet")

    # an HTML file named .png is refused at once, before anything is sent
    fake = tmp_path / "not-really.png"
    fake.write_bytes(b"<!doctype html><p>hello</p>")
    page.get_by_label("Product image").set_input_files(str(fake))
    expect(page.locator("#image-problem")).to_have_text(WRONG_TYPE)
    expect(page.locator("#image-preview")).to_be_hidden()
    shots("wrong-file-refused")

    # a PNG named .jpg is previewed and accepted (its bytes decide)
    photo = tmp_path / "crate.jpg"
    photo.write_bytes(factories.gradient_png())
    page.get_by_label("Product image").set_input_files(str(photo))
    expect(page.locator("#image-preview")).to_be_visible()
    expect(page.locator("#image-problem")).to_be_hidden()
    assert page.locator("#image-preview").evaluate("img => img.complete && img.naturalWidth") == 240
    shots("preview")
    page.get_by_role("button", name="Save image").click()
    expect(page.get_by_text("The image is saved")).to_be_visible()
    current = page.locator("#current-image")
    expect(current).to_be_visible()
    url = current.get_attribute("src")
    assert url and url.endswith(".png") and "/images/" in url
    page.wait_for_function("document.querySelector('#current-image').naturalWidth === 240")
    shots("saved")

    # the API shows it, and a buyer sees it on the product page and in the catalog
    assert local_stack.api("GET", f"/products/{product['id']}")["data"]["imageUrl"] == url
    page.goto(f"{local_stack.url}/store/demo-distributors/login")
    page.get_by_label("Email").fill("buyer@northwind.test")
    page.get_by_label("Password").fill("demo-buyer-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Catalog")).to_be_visible()
    page.goto(f"{local_stack.url}/store/demo-distributors/products/{product['id']}")
    big = page.locator("img.product-image")
    expect(big).to_have_attribute("src", url)
    page.wait_for_function("document.querySelector('img.product-image').naturalWidth === 240")
    shots("storefront-product-page")
    for _ in range(50):  # the catalog's index follows the product through the stream (a moment)
        page.goto(f"{local_stack.url}/store/demo-distributors/catalog?q={name}")
        row = page.locator(".product-row", has_text=name)
        if row.count():
            break
        page.wait_for_timeout(200)
    expect(row.locator("img.thumb")).to_have_attribute("src", url)
    shots("storefront-catalog")


def test_without_javascript_the_plain_form_posts_to_s3_and_comes_back(browser, local_stack: RunningStack,
                                                                      tmp_path: Path) -> None:
    """No preview without JavaScript, but the same form posts the file to S3, which sends the browser back
    to the page that checks and attaches it; a wrong file gets the server's message."""
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1366, "height": 900})
    try:
        page = context.new_page()
        shots = Shots(page, "test_without_javascript_the_plain_form_posts_to_s3_and_comes_back")
        product = local_stack.api("POST", "/products", {"name": unique("No Script Box"), "price": 3, "stock": 9})["data"]
        sign_in_staff(page, local_stack)
        page.goto(f"{local_stack.url}/dashboard/inventory/{product['id']}/image")
        fake = tmp_path / "page.png"
        fake.write_bytes(b"<html><body>not an image</body></html>")
        page.get_by_label("Product image").set_input_files(str(fake))
        page.get_by_role("button", name="Save image").click()
        expect(page.locator("#image-error")).to_have_text(WRONG_TYPE)
        shots("wrong-file-refused-by-the-server")
        photo = tmp_path / "box.png"
        photo.write_bytes(factories.gradient_png(120, 120))
        page.get_by_label("Product image").set_input_files(str(photo))
        page.get_by_role("button", name="Save image").click()
        expect(page.get_by_text("The image is saved")).to_be_visible()
        expect(page.locator("#current-image")).to_be_visible()
        shots("saved-without-javascript")
        assert local_stack.api("GET", f"/products/{product['id']}")["data"]["imageUrl"].endswith(".png")
    finally:
        context.close()
