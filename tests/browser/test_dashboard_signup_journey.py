"""The first-day journey in a real browser (issue 11's "Done when"): a new person signs up at /signup, lands on
the dashboard home, adds a product, uploads its image, and — as a buyer who registers at the new company's
storefront (a new company has no customers yet) — sees the product with its image in the catalog."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests import factories
from tests.browser.conftest import RunningStack, Shots, unique


def test_sign_up_add_a_product_with_an_image_and_see_it_on_the_storefront(page: Page, local_stack: RunningStack,
                                                                          shots: Shots, tmp_path: Path) -> None:
    company = unique("Journey Supply")
    owner_email = f"{unique('owner')}@journey.test"

    # sign up: a new company and its owner
    page.goto(f"{local_stack.url}/signup")
    expect(page.get_by_role("heading", name="Create your company")).to_be_visible()
    page.get_by_label("Company name").fill(company)
    page.get_by_label("Your name").fill("Jo Journey")
    page.get_by_label("Work email").fill(owner_email)
    page.get_by_label("Password").fill("journey-password-1")
    shots("signup-filled")
    page.get_by_role("button", name="Create company").click()

    # the dashboard home of the new company, with its storefront address in the welcome
    expect(page).to_have_url(f"{local_stack.url}/dashboard")
    expect(page.get_by_role("heading", name="Good to see you, Jo")).to_be_visible()
    expect(page.get_by_text(f"Welcome to Distribu! {company} is ready.")).to_be_visible()
    storefront = page.locator("header.topbar a[href^='/store/']").get_attribute("href")
    assert storefront and re.fullmatch(r"/store/journey-supply-\d+", storefront), storefront
    started = page.locator("article.get-started")
    expect(started).to_contain_text("Nothing is on your storefront yet.")
    expect(started.get_by_role("link", name=storefront)).to_be_visible()
    shots("dashboard-home")

    # add a product, from the home's first step
    started.get_by_role("link", name="Add a product").click()
    expect(page).to_have_url(f"{local_stack.url}/dashboard/inventory/new")
    expect(page.get_by_role("heading", name="Add product")).to_be_visible()
    page.get_by_label("Name").fill("Journey Crate")
    page.get_by_label("SKU").fill("JC-1")
    page.get_by_label("Category").fill("Storage")
    page.get_by_label("Description").fill("A sturdy crate for the first order.")
    page.get_by_label("Price ($)").fill("12.50")
    page.get_by_label("Stock", exact=True).fill("40")
    shots("product-form")
    page.get_by_role("button", name="Add product").click()
    expect(page.get_by_text("Added Journey Crate. It is on the storefront now.")).to_be_visible()
    edit = re.fullmatch(rf"{re.escape(local_stack.url)}/dashboard/inventory/([^/]+)/edit", page.url)
    assert edit, page.url
    product_id = edit.group(1)
    shots("product-added")

    # upload its image (a real PNG), through the product page's link
    page.get_by_role("link", name="Upload or change image").click()
    expect(page).to_have_url(f"{local_stack.url}/dashboard/inventory/{product_id}/image")
    expect(page.get_by_text("No image yet")).to_be_visible()
    photo = tmp_path / "journey-crate.png"
    photo.write_bytes(factories.gradient_png(200, 140))
    page.get_by_label("Product image").set_input_files(str(photo))
    expect(page.locator("#image-preview")).to_be_visible()
    page.get_by_role("button", name="Save image").click()
    expect(page.get_by_text("The image is saved")).to_be_visible()
    image_url = page.locator("#current-image").get_attribute("src")
    assert image_url and image_url.endswith(".png"), image_url
    page.wait_for_function("document.querySelector('#current-image').naturalWidth === 200")
    shots("image-saved")

    # a buyer registers at the new storefront (its own session: staff and customer sessions are separate)
    page.goto(f"{local_stack.url}{storefront}")
    expect(page).to_have_url(f"{local_stack.url}{storefront}/login")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create an account")).to_be_visible()
    page.get_by_label("Business or contact name").fill("First Buyer Ltd")
    page.get_by_label("Email").fill(f"{unique('buyer')}@firstbuyer.test")
    page.get_by_label("Password").fill("buyer-password-1")
    shots("buyer-register")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_url(f"{local_stack.url}{storefront}/catalog")
    expect(page.get_by_text("Welcome, First Buyer Ltd! Your account is ready.")).to_be_visible()

    # the catalog shows the product with its image (the catalog's index follows the product through the stream)
    row = page.locator(".product-row", has_text="Journey Crate")
    for _ in range(50):
        if row.count() and row.locator("img.thumb").count():
            break
        page.wait_for_timeout(200)
        page.goto(f"{local_stack.url}{storefront}/catalog")
    expect(row).to_be_visible()
    expect(row).to_contain_text("JC-1")
    expect(row).to_contain_text("$12.50")
    thumb = row.locator("img.thumb")
    expect(thumb).to_have_attribute("src", image_url)
    page.wait_for_function("document.querySelector('.product-row img.thumb').naturalWidth === 200")
    shots("storefront-catalog")

    # back on the dashboard, the home now counts the product and the first steps are gone
    page.goto(f"{local_stack.url}/dashboard")
    expect(page.get_by_text("1 active product (inactive ones are not counted).")).to_be_visible()
    expect(page.locator("article.get-started")).to_have_count(0)
    shots("dashboard-home-after")
