"""A CSV import in a real browser against the local stack: the file goes straight to S3 (moto), the page
follows the check live, shows the preview with every row's problem and the error report, then applies
a corrected file and follows the apply until it is done."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import RunningStack, Shots, sign_in_staff, unique

HEADER = "sku,name,description,category,unit,price,stock,isActive"


def test_import_products_with_preview_problems_and_apply(page: Page, local_stack: RunningStack, shots: Shots,
                                                        tmp_path: Path) -> None:
    prefix = unique("IMP")
    sign_in_staff(page, local_stack)
    page.goto(f"{local_stack.url}/dashboard/inventory/import")
    expect(page.get_by_role("heading", name="Import products from a CSV file")).to_be_visible()
    shots("landing")

    # a file with problems: the preview names each one and offers the report
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{HEADER}\n{prefix}-1,Pallet wrap,,Packaging,roll,12.00,40,true\n"
                   f"{prefix}-2,,,Packaging,roll,-1,5,true\n{prefix}-1,Again,,,,3.00,1,true\n")
    page.get_by_role("button", name="Upload a CSV file").click()
    expect(page.get_by_role("heading", name="Choose the file")).to_be_visible()
    page.get_by_label("CSV file").set_input_files(str(bad))
    shots("file-chosen")
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Preview: problems to fix")).to_be_visible(timeout=20_000)
    problems = page.locator("table.import-problems tbody tr")
    expect(problems.first).to_be_visible()
    assert problems.count() >= 3
    expect(page.get_by_role("button", name=re.compile("Apply"))).to_have_count(0)
    report = page.get_by_role("button", name="Download the error report (CSV)")
    expect(report).to_be_visible()
    shots("preview-with-problems")

    # the corrected file: preview, apply, the apply's progress until done
    good = tmp_path / "good.csv"
    rows = "".join(f"{prefix}-{n},Stretch film {n},,Packaging,roll,{10 + n}.50,{n * 3},true\n" for n in range(1, 26))
    good.write_text(f"{HEADER}\n{rows}")
    page.get_by_role("button", name="Upload another file").click()
    page.get_by_label("CSV file").set_input_files(str(good))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", name="Preview: ready to apply")).to_be_visible(timeout=20_000)
    expect(page.locator(".import-counts")).to_contain_text("25 to create")
    shots("preview-ready")
    page.get_by_role("button", name="Apply: create 25, update 0").click()
    expect(page.get_by_text(re.compile(r"The import is applied: 25 created, 0 updated, 0 unchanged\."))).to_be_visible(
        timeout=30_000)
    shots("applied")
    skus, cursor = [], ""
    while True:  # every product, page by page (other tests add theirs to the same demo company)
        answer = local_stack.api("GET", "/products?limit=100" + (f"&cursor={cursor}" if cursor else ""))
        skus += [product["sku"] or "" for product in answer["data"]]
        cursor = answer["pagination"]["nextCursor"]
        if not cursor:
            break
    assert len([sku for sku in skus if sku.startswith(prefix)]) == 25
