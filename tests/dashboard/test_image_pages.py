"""The product image page through the real dashboard handler, and the rules behind it: the presigned POST's
policy, the check of every stored object (moto enforces no policy, so this check is what refuses a wrong
file), replacing and removing without orphans, two replacements at once, tenant isolation, CSRF and roles."""

from __future__ import annotations

import base64
import json
import os
import threading
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests import factories
from tests.conftest import call_api
from tests.dashboard.conftest import signed_in
from tests.web_client import Browser

WRONG_TYPE = "Only JPG, PNG, WebP, and AVIF images are allowed."
TOO_LARGE = "Image too large. Maximum size is 5 MB."


def _page(product_id: str) -> str:
    return f"/dashboard/inventory/{product_id}/image"


def _objects() -> list[str]:
    from distribu.aws import client

    listed = client("s3").list_objects_v2(Bucket=os.environ["IMAGES_BUCKET"])
    return sorted(item["Key"] for item in listed.get("Contents", []))


def _upload_form(page: Any) -> tuple[str, dict[str, str]]:
    form = page.soup.find("form", attrs={"data-image-upload": True})
    fields = {field["name"]: field.get("value", "") for field in form.find_all("input", type="hidden")}
    return form["action"], fields


def _post_to_s3(page: Any, content: bytes, file_name: str, declared: str) -> str:
    """What the browser does with the form: post the signed fields and the file to S3 (moto), which answers
    with the redirect back to the dashboard. Returns that redirect's path and query."""
    url, fields = _upload_form(page)
    fields["Content-Type"] = declared
    response = requests.post(url, data=fields, files={"file": (file_name, content, declared)}, allow_redirects=False)
    assert response.status_code == 303, response.text
    location = urlsplit(response.headers["Location"])
    return f"{location.path}?{location.query}"


def _upload(client: Browser, product_id: str, content: bytes, file_name: str = "photo.png",
            declared: str = "image/png") -> Any:
    page = client.get(_page(product_id))
    assert page.status == 200, page.text
    return client.get(_post_to_s3(page, content, file_name, declared))


def _product(company_id: str, product_id: str) -> dict[str, Any]:
    from distribu import catalog

    return catalog.get_product(company_id, product_id)


def test_the_type_is_read_from_the_first_bytes() -> None:
    from distribu.product_images import sniff

    assert sniff(factories.png_bytes()) == "image/png" and sniff(factories.jpeg_bytes()) == "image/jpeg"
    assert sniff(factories.webp_bytes()) == "image/webp"
    assert sniff(factories.avif_bytes()) == "image/avif"
    assert sniff(factories.avif_bytes(major=b"avis")) == "image/avif"  # animated
    assert sniff(factories.avif_bytes(major=b"mif1", compatible=(b"miaf", b"avif"))) == "image/avif"
    assert sniff(factories.avif_bytes(major=b"heic", compatible=(b"mif1", b"heic"))) is None  # HEIF, not AVIF
    assert sniff(factories.avif_bytes(major=b"isom", compatible=(b"mp41",))) is None  # an MP4 video
    for refused in (factories.html_bytes(), factories.gif_bytes(), b"RIFF\0\0\0\0WAVE", b"\x89PNG", b"", b"\xff\xd8"):
        assert sniff(refused) is None, refused


@pytest.fixture
def product(tenant: factories.Tenant) -> dict[str, Any]:
    return factories.product(tenant.company_id, "Widget Blue", sku="WB-1")


def test_the_page_offers_an_upload_straight_to_s3_with_a_strict_policy(owner: Browser, tenant, product) -> None:
    page = owner.get(_page(product["id"]))
    assert page.status == 200
    assert "No image yet" in page.text and "JPG, PNG, WebP or AVIF, up to 5 MB" in page.text
    url, fields = _upload_form(page)
    form = page.soup.find("form", attrs={"data-image-upload": True})
    assert form["enctype"] == "multipart/form-data" and form.find("input", type="file")["name"] == "file"
    policy = json.loads(base64.b64decode(fields["policy"]))
    conditions = policy["conditions"]
    assert ["content-length-range", 1, 5 * 1024 * 1024] in conditions
    assert ["starts-with", "$Content-Type", "image/"] in conditions
    key = fields["key"]
    assert key.startswith(f"uploads/{tenant.company_id}/{product['id']}/") and {"key": key} in conditions
    assert {"bucket": os.environ["IMAGES_BUCKET"]} in conditions
    redirect = fields["success_action_redirect"]
    assert {"success_action_redirect": redirect} in conditions
    assert urlsplit(redirect).path == _page(product["id"]) + "/uploaded"
    assert "expiration" in policy
    # the page may post there: the CSP names the upload origin in form-action and connect-src
    csp = page.headers["content-security-policy"]
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(url))
    form_action = next(part for part in csp.split("; ") if part.startswith("form-action"))
    connect = next(part for part in csp.split("; ") if part.startswith("connect-src"))
    assert origin in form_action.split() and origin in connect.split()
    assert page.soup.find("script", src=lambda src: src and src.endswith("/uploads.js"))


@pytest.mark.parametrize("region", ["us-east-1", "eu-west-1"])
def test_the_csp_allows_the_cloud_bucket_addresses_presigned_posts_use(stack, region, monkeypatch) -> None:
    from distribu import aws, imports, product_images
    from tests.conftest import reset_caches

    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    reset_caches()
    try:
        origins = product_images.upload_origins()
        for bucket in (os.environ["IMAGES_BUCKET"], os.environ["IMPORTS_BUCKET"]):
            url = aws.client("s3").generate_presigned_post(bucket, "uploads/x")["url"]
            assert "{0.scheme}://{0.netloc}".format(urlsplit(url)) in origins, (url, origins)
        assert imports  # the imports bucket's posts are covered by the same origins
    finally:
        reset_caches()


@pytest.mark.parametrize("content,file_name,declared,stored_type", [
    (factories.png_bytes(), "photo.png", "image/png", "image/png"),
    (factories.png_bytes(), "photo.jpg", "image/jpeg", "image/png"),  # a PNG renamed .jpg: its bytes decide
    (factories.jpeg_bytes(), "photo.jpeg", "image/jpeg", "image/jpeg"),
    (factories.webp_bytes(), "photo.webp", "image/webp", "image/webp"),
    (factories.avif_bytes(major=b"avis"), "anim.avif", "image/avif", "image/avif"),
    (factories.png_bytes(5 * 1024 * 1024), "big.png", "image/png", "image/png"),  # exactly 5 MB
])
def test_an_image_is_checked_attached_and_public(owner: Browser, tenant, product, content, file_name, declared,
                                                 stored_type) -> None:
    from distribu.aws import client

    done = _upload(owner, product["id"], content, file_name, declared)
    assert done.status == 303 and done.location == _page(product["id"])
    shown = owner.follow(done)
    assert "The image is saved" in shown.text
    url = _product(tenant.company_id, product["id"])["imageUrl"]
    [key] = _objects()  # the upload itself is gone; only the image stays
    assert key.startswith(f"images/{tenant.company_id}/{product['id']}/") and url.endswith("/" + key)
    assert key.endswith("." + stored_type.split("/")[1].replace("jpeg", "jpg"))
    head = client("s3").head_object(Bucket=os.environ["IMAGES_BUCKET"], Key=key)
    assert head["ContentType"] == stored_type and head["ContentLength"] == len(content)
    assert "immutable" in head["CacheControl"]
    assert shown.soup.find("img", src=url) is not None
    # the API shows it too
    api = call_api("GET", f"/api/v1/products/{product['id']}", key=tenant.key)
    assert api.body["data"]["imageUrl"] == url


@pytest.mark.parametrize("content,file_name,declared,message", [
    (factories.html_bytes(), "evil.png", "image/png", WRONG_TYPE),  # an HTML file renamed .png
    (factories.gif_bytes(), "anim.gif", "image/gif", WRONG_TYPE),
    (b"%PDF-1.7\n" + b"\0" * 100, "doc.pdf", "image/png", WRONG_TYPE),
    (factories.png_bytes(5 * 1024 * 1024 + 1), "huge.png", "image/png", TOO_LARGE),  # 5 MB + 1 byte
    (b"", "empty.png", "image/png", WRONG_TYPE),  # the cloud's policy refuses 0 bytes; moto lets it through
])
def test_a_wrong_file_is_refused_with_the_exact_message_and_deleted(owner: Browser, tenant, product, content,
                                                                    file_name, declared, message) -> None:
    refused = _upload(owner, product["id"], content, file_name, declared)
    assert refused.status == 400
    assert refused.field_error("image") == message
    assert _objects() == []  # the stored upload was deleted
    assert _product(tenant.company_id, product["id"])["imageUrl"] is None
    # the form is offered again, with a fresh upload
    assert _upload_form(refused)[1]["key"].startswith(f"uploads/{tenant.company_id}/")


def test_replacing_and_removing_leave_no_object_behind(owner: Browser, tenant, product) -> None:
    _upload(owner, product["id"], factories.png_bytes())
    first = _product(tenant.company_id, product["id"])["imageUrl"]
    _upload(owner, product["id"], factories.jpeg_bytes(), "new.jpg", "image/jpeg")
    second = _product(tenant.company_id, product["id"])["imageUrl"]
    assert second != first and [second.rsplit("/", 4)[-4:]] == [key.split("/") for key in _objects()]
    page = owner.get(_page(product["id"]))
    assert "Replace the image" in page.text and "Remove image" in page.text
    removed = owner.post(_page(product["id"]) + "/remove", {"imageUrl": second})
    assert removed.status == 303
    assert "The image is removed" in owner.follow(removed).text
    assert _objects() == [] and _product(tenant.company_id, product["id"])["imageUrl"] is None
    again = owner.post(_page(product["id"]) + "/remove", {"imageUrl": second})
    assert again.status == 400 and again.field_error("image") == "This product has no image to remove."


def test_an_image_goes_with_its_product_and_with_an_api_change_of_its_url(owner: Browser, tenant, product) -> None:
    _upload(owner, product["id"], factories.png_bytes())
    assert len(_objects()) == 1
    changed = call_api("PATCH", f"/api/v1/products/{product['id']}", key=tenant.key,
                       json_body={"imageUrl": "https://cdn.example.test/widget.png"})
    assert changed.status == 200 and _objects() == []
    other = factories.product(tenant.company_id, "Gadget")
    _upload(owner, other["id"], factories.png_bytes())
    assert len(_objects()) == 1
    assert call_api("DELETE", f"/api/v1/products/{other['id']}", key=tenant.key).status == 200
    assert _objects() == []


def test_an_image_of_another_product_set_by_the_api_is_never_deleted_on_its_behalf(owner: Browser, tenant,
                                                                                  product) -> None:
    _upload(owner, product["id"], factories.png_bytes())
    url = _product(tenant.company_id, product["id"])["imageUrl"]
    borrower = factories.product(tenant.company_id, "Borrower", imageUrl=url)
    assert call_api("PATCH", f"/api/v1/products/{borrower['id']}", key=tenant.key,
                    json_body={"imageUrl": None}).status == 200
    assert len(_objects()) == 1 and _product(tenant.company_id, product["id"])["imageUrl"] == url


def _import_products(company_id: str, body: str) -> dict[str, Any]:
    """A products CSV through the importer's own steps (upload, preview, apply), as its worker runs them."""
    from distribu import imports
    from distribu.aws import client

    created = imports.create_import(company_id, "products", factories.staff_actor(), file_name="products.csv")
    client("s3").put_object(Bucket=os.environ["IMPORTS_BUCKET"], Key=created["upload"]["fields"]["key"],
                            Body=body.encode())
    assert imports.validate(company_id, created["id"], owner="test-worker") == imports.DONE
    imports.request_apply(company_id, created["id"], factories.staff_actor())
    assert imports.apply(company_id, created["id"], owner="test-worker") == imports.DONE
    return imports.get_import(company_id, created["id"])


def test_an_import_that_changes_the_image_url_deletes_the_hosted_image(owner: Browser, tenant, product) -> None:
    _upload(owner, product["id"], factories.png_bytes())
    hosted = _product(tenant.company_id, product["id"])["imageUrl"]

    def row(name: str, image_url: str) -> str:
        return f"sku,name,price,stock,imageUrl\nWB-1,{name},{product['price']},{product['stock']},{image_url}\n"

    unchanged = _import_products(tenant.company_id, row("Widget Blue", hosted))
    assert unchanged["applied"]["unchanged"] == 1 and len(_objects()) == 1  # the same URL keeps its image
    renamed = _import_products(tenant.company_id, row("Widget Navy", hosted))
    assert renamed["applied"]["updated"] == 1 and len(_objects()) == 1
    moved = _import_products(tenant.company_id, row("Widget Navy", "https://cdn.example.test/navy.png"))
    assert moved["applied"]["updated"] == 1 and _objects() == []
    assert _product(tenant.company_id, product["id"])["imageUrl"] == "https://cdn.example.test/navy.png"


def test_two_replacements_at_once_leave_exactly_one_object(stack, tenant, product, monkeypatch) -> None:
    """Both read the product's image (none), both store and check their upload, then both write: the write
    is conditioned on the image each started from, so one wins; the loser's object is deleted.

    DynamoDB runs each transaction atomically; in-process moto does not lock between threads, so its
    transactions are serialised here as the service does."""
    from distribu import catalog, dynamo, product_images
    from distribu.aws import client
    from distribu.errors import Conflict

    factories.staff_member(tenant.company_id, "admin@acme.test", role="ADMIN")
    people = [factories.staff_of(tenant.company_id), factories.staff_of(tenant.company_id, "admin@acme.test")]
    uploads = []
    for staff in people:
        form = product_images.start_upload(staff, product["id"], return_url=lambda upload_id: "http://x/" + upload_id)
        client("s3").put_object(Bucket=os.environ["IMAGES_BUCKET"], Key=form.fields["key"], Body=factories.png_bytes())
        uploads.append(form.upload_id)
    both_read = threading.Barrier(2, timeout=10)

    class ReadThenWait:
        def __getattr__(self, name: str) -> Any:
            return getattr(catalog, name)

        @staticmethod
        def get_item(*args: Any) -> Any:
            item = catalog.get_item(*args)
            both_read.wait()
            return item

    monkeypatch.setattr(product_images, "catalog", ReadThenWait())
    one_at_a_time = threading.Lock()
    transact = dynamo.transact

    def atomic(*args: Any, **kwargs: Any) -> Any:
        with one_at_a_time:
            return transact(*args, **kwargs)

    monkeypatch.setattr(dynamo, "transact", atomic)
    outcomes: list[Any] = [None, None]

    def attach(index: int) -> None:
        try:
            outcomes[index] = product_images.attach_upload(people[index], product["id"], uploads[index])
        except Conflict as error:
            outcomes[index] = error

    threads = [threading.Thread(target=attach, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    winners = [outcome for outcome in outcomes if isinstance(outcome, dict)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, Conflict)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    assert "Someone else changed this product's image at the same time" in losers[0].message
    url = catalog.get_product(tenant.company_id, product["id"])["imageUrl"]
    assert url == winners[0]["imageUrl"]
    [key] = _objects()
    assert url.endswith("/" + key)


def test_the_way_back_from_s3_is_bound_to_the_session(owner: Browser, tenant, product, stack) -> None:
    page = owner.get(_page(product["id"]))
    back = _post_to_s3(page, factories.png_bytes(), "photo.png", "image/png")
    query = parse_qs(urlsplit(back).query)
    # another staff member's browser following the same link attaches nothing
    factories.staff_member(tenant.company_id, "member@acme.test")
    other = signed_in(stack, "member@acme.test")
    refused = other.get(back)
    assert refused.status == 403 and _product(tenant.company_id, product["id"])["imageUrl"] is None
    forged = owner.get(f"{_page(product['id'])}/uploaded?upload={query['upload'][0]}&token=0000")
    assert forged.status == 403 and _product(tenant.company_id, product["id"])["imageUrl"] is None
    assert owner.get(back).status == 303 and _product(tenant.company_id, product["id"])["imageUrl"]
    # a second visit of the same link finds no upload any more
    again = owner.get(back)
    assert again.status == 400 and "did not arrive or has expired" in again.field_error("image")


def test_removing_needs_the_csrf_token(owner: Browser, tenant, product) -> None:
    _upload(owner, product["id"], factories.png_bytes())
    url = _product(tenant.company_id, product["id"])["imageUrl"]
    refused = owner.post(_page(product["id"]) + "/remove", {"imageUrl": url}, csrf="forged")
    assert refused.status == 403 and _product(tenant.company_id, product["id"])["imageUrl"] == url
    assert len(_objects()) == 1


@pytest.mark.parametrize("role", ["ADMIN", "MEMBER"])
def test_every_role_may_manage_images_as_the_role_table_says(stack, tenant, product, role) -> None:
    """``catalog`` (products, stock, images, imports) is open to OWNER, ADMIN and MEMBER alike."""
    factories.staff_member(tenant.company_id, f"{role.lower()}@acme.test", role=role)
    browser = signed_in(stack, f"{role.lower()}@acme.test")
    assert _upload(browser, product["id"], factories.png_bytes()).status == 303
    url = _product(tenant.company_id, product["id"])["imageUrl"]
    assert browser.post(_page(product["id"]) + "/remove", {"imageUrl": url}).status == 303
    assert _objects() == []


def test_signed_out_visitors_are_sent_to_sign_in(client: Browser, product) -> None:
    response = client.get(_page(product["id"]))
    assert response.status == 302 and response.location.startswith("/login?next=")
    assert client.post(_page(product["id"]) + "/remove", {}).status in (302, 303, 403)


def test_another_companys_product_is_not_found_on_every_route(owner: Browser, tenant, other_tenant) -> None:
    theirs = factories.product(other_tenant.company_id, "Their Widget")
    mine = factories.product(tenant.company_id, "Mine")
    # an upload of mine, to try to attach to their product
    page = owner.get(_page(mine["id"]))
    back = _post_to_s3(page, factories.png_bytes(), "photo.png", "image/png")
    query = urlsplit(back).query
    assert owner.get(_page(theirs["id"])).status == 404
    assert owner.get(f"{_page(theirs['id'])}/uploaded?{query}").status in (403, 404)
    owner.get(_page(mine["id"]))
    assert owner.post(_page(theirs["id"]) + "/remove", {"imageUrl": ""}).status == 404
    assert _product(other_tenant.company_id, theirs["id"])["imageUrl"] is None


def test_the_buckets_take_browser_posts_and_sweep_unchecked_uploads() -> None:
    """moto answers CORS permissively whatever the bucket says: the template's rules are read instead."""
    from distribu_local.template import load_template

    resources = load_template()["Resources"]
    for bucket in ("ImagesBucket", "ImportsBucket"):
        rules = resources[bucket]["Properties"]["CorsConfiguration"]["CorsRules"]
        assert any("POST" in rule["AllowedMethods"] and rule["AllowedOrigins"] for rule in rules), bucket
    [sweep] = resources["ImagesBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert sweep["Prefix"] == "uploads/" and sweep["ExpirationInDays"] == 1 and sweep["Status"] == "Enabled"
    public = resources["ImagesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]["Resource"]
    assert public["Fn::Sub"].endswith("/images/*")  # uploads/ is never public
