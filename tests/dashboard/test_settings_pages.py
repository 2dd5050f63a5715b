"""Settings, API keys and the audit log through the real dashboard handler: the company form and its
messages, deleting the company, keys shown exactly once and revoked, the audit log's filters, pages and CSV,
CSRF refusals, what a MEMBER (and an ADMIN, for deletion) is refused with nothing changed, and tenant
isolation of every route that names a record."""

from __future__ import annotations

import csv
import io
import os
from decimal import Decimal
from typing import Any

import pytest

from tests import factories
from tests.dashboard.conftest import sent_mail, signed_in
from tests.web_client import Browser, form_fields

SETTINGS = "/dashboard/settings"
COMPANY = SETTINGS + "/company"
DELETE = COMPANY + "/delete"
KEYS = SETTINGS + "/api-keys"
AUDIT = SETTINGS + "/audit"
EXPORT = AUDIT + "/export.csv"
MEMBER_EMAIL = "mia@acme.test"
ADMIN_EMAIL = "adam@acme.test"
REFUSED = "Only owners and admins can manage company settings, API keys, webhooks and the audit log."


def _company(company_id: str) -> Any:
    from distribu import companies

    return companies.get_company(company_id)


def _key(company_id: str, key_id: str) -> dict[str, Any]:
    from distribu import apikeys

    return next(key for key in apikeys.list_api_keys(company_id) if key["id"] == key_id)


def _authenticates(raw_key: str) -> bool:
    from distribu import apikeys
    from distribu.errors import Unauthorized

    try:
        apikeys.authenticate(raw_key)
        return True
    except Unauthorized:
        return False


def _actions(company_id: str) -> list[str]:
    from distribu import audit

    return [entry["action"] for entry in audit.list_entries(company_id, limit=200)]


def _company_form(page: Any, **overrides: str) -> list[tuple[str, str]]:
    return form_fields(page.soup.find("form", attrs={"action": COMPANY}), **overrides)


def _csv(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.body.decode("utf-8-sig"))))


# --- the index and the company form -------------------------------------------------------------------------

def test_the_index_links_every_settings_page(owner: Browser) -> None:
    page = owner.get(SETTINGS)
    assert page.status == 200
    links = {a["href"] for a in page.soup.select("ul.settings-index a")}
    assert links == {COMPANY, SETTINGS + "/team", KEYS, SETTINGS + "/webhooks", AUDIT}
    assert "your profile" in page.text


def test_the_owner_changes_every_company_setting(owner: Browser, tenant: factories.Tenant, stack) -> None:
    page = owner.get(COMPANY)
    assert page.value_of("name") == "Acme Distributors" and page.value_of("slug") == "acme-distributors"
    assert page.value_of("tax_percent") == "0" and page.value_of("low_stock_threshold") == "5"
    assert "Changing the slug changes every storefront link" in page.text
    saved = owner.post(COMPANY, _company_form(page, name="Acme Wholesale", slug="acme-wholesale", tax_percent="8.25",
                                              low_stock_threshold="12", rate_limit_per_minute="120",
                                              sender_name="Acme Orders Desk"))
    assert saved.status == 303 and saved.location == COMPANY
    shown = owner.follow(saved)
    assert ("Company settings saved. Your storefront is now at /store/acme-wholesale; links to "
            "/store/acme-distributors no longer work.") in shown.text
    assert shown.value_of("tax_percent") == "8.25" and shown.value_of("sender_name") == "Acme Orders Desk"
    company = _company(tenant.company_id)
    assert (company.name, company.slug, company.tax_rate, company.low_stock_threshold,
            company.rate_limit_per_minute, company.sender_name) == (
        "Acme Wholesale", "acme-wholesale", Decimal("0.0825"), 12, 120, "Acme Orders Desk")
    from distribu import audit, companies

    assert companies.company_id_for_slug("acme-wholesale") == tenant.company_id
    assert companies.company_id_for_slug("acme-distributors") is None  # the old slug is free
    # every existing key follows the new limit at once
    assert _authenticates(tenant.key)
    from distribu import apikeys

    assert apikeys.authenticate(tenant.key).limit == 120
    entry = audit.list_entries(tenant.company_id, limit=1)[0]
    assert entry["action"] == "CompanySettingsUpdated"
    assert entry["details"]["before"]["slug"] == "acme-distributors" and entry["details"]["after"]["slug"] == "acme-wholesale"
    # the storefront answers at the new address only
    visitor = Browser(stack)
    assert visitor.get("/store/acme-distributors").status == 404
    assert visitor.get("/store/acme-wholesale").status in (200, 302)


def test_every_key_follows_a_new_rate_limit_even_past_one_transaction(owner: Browser, tenant: factories.Tenant) -> None:
    from distribu import apikeys, companies

    raw_keys = [factories.api_key(tenant.company_id, f"Key {number}")[1] for number in range(95)]
    staff = factories.staff_of(tenant.company_id)
    companies.update_settings(staff, companies.SettingsChange("Acme Distributors", "acme-distributors", "0", "5", "300"))
    assert {apikeys.authenticate(raw).limit for raw in raw_keys[:3] + raw_keys[-3:] + [tenant.key]} == {300}


def test_the_company_emails_come_from_its_sender_name(owner: Browser, tenant: factories.Tenant, stack) -> None:
    page = owner.get(COMPANY)
    owner.post(COMPANY, _company_form(page, sender_name="Acme Orders Desk"))
    from distribu import companies, notifications

    notifications.new_customer_registered(companies.get_company(tenant.company_id), name="Initech", email="i@x.test",
                                          dashboard_url="http://x/dashboard")
    assert sent_mail(stack)[-1].source == "Acme Orders Desk <noreply@example.com>"


@pytest.mark.parametrize("field,value,message", [
    ("name", "  ", "Company name must be 1–100 characters, with at least one letter or digit."),
    ("slug", "Acme Wholesale!", "Use 1–60 lowercase letters, digits and single dashes, e.g. acme-distributors."),
    ("tax_percent", "31", "Tax rate must be between 0 and 30 %."),
    ("tax_percent", "eight", "Tax rate must be a number, e.g. 8.25."),
    ("tax_percent", "8.125", "Tax rate takes at most 2 decimal places, e.g. 8.25."),
    ("low_stock_threshold", "-1", "Low-stock threshold must be between 0 and 1,000,000."),
    ("low_stock_threshold", "2.5", "Low-stock threshold must be a whole number."),
    ("rate_limit_per_minute", "30", "Rate limit must be between 60 and 10,000."),
    ("sender_name", "Acme <sales@evil.test>", 'Sender name cannot contain <, >, ", \\ or @.'),
])
def test_bad_company_settings_are_shown_under_their_field_and_change_nothing(
        owner: Browser, tenant: factories.Tenant, field: str, value: str, message: str) -> None:
    before = _company(tenant.company_id)
    page = owner.get(COMPANY)
    refused = owner.post(COMPANY, _company_form(page, **{"name": "Renamed Co", field: value}))
    assert refused.status == 400
    assert refused.field_error(field) == message
    assert refused.value_of(field) == value.strip() or field == "name"  # what was typed is kept
    assert "Please correct the field marked below." in refused.text
    assert _company(tenant.company_id) == before


def test_a_slug_another_company_holds_is_refused(owner: Browser, tenant: factories.Tenant,
                                                 other_tenant: factories.Tenant) -> None:
    page = owner.get(COMPANY)
    refused = owner.post(COMPANY, _company_form(page, slug=other_tenant.slug, name="Renamed Co"))
    assert refused.status == 400
    assert refused.field_error("slug") == "This slug is taken by another company. Choose another."
    assert _company(tenant.company_id).slug == "acme-distributors" and _company(tenant.company_id).name == "Acme Distributors"
    from distribu import companies

    assert companies.company_id_for_slug(other_tenant.slug) == other_tenant.company_id


def test_an_unchanged_form_saves_without_an_audit_entry(owner: Browser, tenant: factories.Tenant) -> None:
    count = len(_actions(tenant.company_id))
    page = owner.get(COMPANY)
    saved = owner.post(COMPANY, _company_form(page))
    assert saved.status == 303 and "Company settings saved." in owner.follow(saved).text
    assert len(_actions(tenant.company_id)) == count


# --- deleting the company -----------------------------------------------------------------------------------

def _company_files(company_id: str, product_id: str) -> list[tuple[str, str]]:
    """One object at each of the places a company keeps files, at the keys their own modules make."""
    from distribu import exports, imports, product_images
    from distribu.aws import client

    images, uploads = os.environ["IMAGES_BUCKET"], os.environ["IMPORTS_BUCKET"]
    stored = [(images, product_images.image_prefix(company_id, product_id) + "0000000000000000aaaaaaaaaa.png"),
              (images, product_images.upload_key(company_id, product_id, "0000000000000000bbbbbbbbbb")),
              (uploads, imports.upload_key(company_id, "products", "0000000000000000cccccccccc")),
              (uploads, imports.report_key(company_id, "0000000000000000cccccccccc")),
              (uploads, exports.export_key(company_id, "customers", "0000000000000000dddddddddd"))]
    for bucket, key in stored:
        client("s3").put_object(Bucket=bucket, Key=key, Body=b"x")
    return stored


def _stored(bucket: str, key: str) -> bool:
    from distribu.aws import client

    return client("s3").list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount", 0) == 1


def test_the_owner_deletes_the_company_and_everyone_is_signed_out(owner: Browser, tenant: factories.Tenant,
                                                                  other_tenant: factories.Tenant, stack) -> None:
    factories.staff_member(tenant.company_id, MEMBER_EMAIL)
    member = signed_in(stack, MEMBER_EMAIL)
    product = factories.product(tenant.company_id)
    page = owner.get(DELETE)
    assert page.status == 200
    assert "closes the storefront" in page.text and "revokes every API key" in page.text
    assert "signs everyone out of it, you included" in page.text and "nothing can be restored" in page.text
    assert "erases its products and their images" in page.text
    wrong = owner.post(DELETE, {"confirmation": "acme distributors"})
    assert wrong.status == 400
    assert wrong.field_error("confirmation") == "Type the company's name exactly as shown to confirm."
    assert _company(tenant.company_id).name == "Acme Distributors" and _authenticates(tenant.key)

    files = {company.company_id: _company_files(company.company_id, product["id"])
             for company in (tenant, other_tenant)}

    deleted = owner.post(DELETE, {"confirmation": "Acme Distributors"})
    assert deleted.status == 303 and deleted.location == "/login"
    assert "Acme Distributors was deleted, with all its data. Everyone was signed out of it." in owner.follow(deleted).text
    from distribu import catalog, companies, dynamo, keys
    from distribu.errors import NotFound

    with pytest.raises(NotFound):
        companies.get_company(tenant.company_id)
    assert companies.company_id_for_slug("acme-distributors") is None
    assert not _authenticates(tenant.key)
    with pytest.raises(NotFound):
        catalog.get_product(tenant.company_id, product["id"])
    left = dynamo.dynamodb().query(TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk",
                                   ExpressionAttributeValues={":pk": {"S": keys.company(tenant.company_id)}})
    assert left["Count"] == 0
    assert dynamo.get(keys.user_pk(MEMBER_EMAIL), keys.membership_sk(tenant.company_id)) is None
    # both staff sessions are gone
    assert owner.get("/dashboard").status == 302
    assert member.get("/dashboard").status == 302
    # its files are gone from S3: images, uploads, imports, error reports, exports
    assert [key for bucket, key in files[tenant.company_id] if _stored(bucket, key)] == []
    # the other company is untouched
    assert _company(other_tenant.company_id).name == "Globex Wholesale" and _authenticates(other_tenant.key)
    assert all(_stored(bucket, key) for bucket, key in files[other_tenant.company_id])


def test_a_company_is_deleted_even_when_s3_fails_to_delete_its_files(owner: Browser, tenant: factories.Tenant,
                                                                    monkeypatch, caplog) -> None:
    from botocore.exceptions import ClientError

    from distribu.aws import client
    from distribu.errors import NotFound

    product = factories.product(tenant.company_id)
    stored = _company_files(tenant.company_id, product["id"])

    def s3_is_down(**_: Any) -> None:
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "Please reduce your request rate."}},
                          "DeleteObjects")

    monkeypatch.setattr(client("s3"), "delete_objects", s3_is_down)
    owner.get(DELETE)
    deleted = owner.post(DELETE, {"confirmation": "Acme Distributors"})
    assert deleted.status == 303 and deleted.location == "/login"
    with pytest.raises(NotFound):
        _company(tenant.company_id)
    assert all(_stored(bucket, key) for bucket, key in stored)  # left behind, and said so in the log
    assert "Could not delete the files of a deleted company" in caplog.text


def test_an_admin_cannot_delete_the_company(tenant: factories.Tenant, stack) -> None:
    factories.staff_member(tenant.company_id, ADMIN_EMAIL, role="ADMIN")
    admin = signed_in(stack, ADMIN_EMAIL)
    assert admin.get(COMPANY).status == 200
    assert "Delete the company" not in admin.get(COMPANY).text
    refused = admin.get(DELETE)
    assert refused.status == 403 and "Only the owner can delete the company." in refused.text
    admin.get(COMPANY)
    posted = admin.post(DELETE, {"confirmation": "Acme Distributors"})
    assert posted.status == 403 and "Only the owner can delete the company." in posted.text
    assert _company(tenant.company_id).name == "Acme Distributors" and _authenticates(tenant.key)


# --- API keys -------------------------------------------------------------------------------------------------

def test_a_key_is_created_shown_exactly_once_and_works(owner: Browser, tenant: factories.Tenant) -> None:
    page = owner.get(KEYS)
    assert page.status == 200
    boxes = page.soup.find_all("input", attrs={"name": "scopes"})
    assert [box["value"] for box in boxes] == ["products:read", "products:write", "orders:read", "orders:write",
                                              "customers:read", "customers:write", "reports:read", "webhooks:read",
                                              "webhooks:write"]
    assert [box["value"] for box in boxes if box.has_attr("checked")] == ["products:read"]
    created = owner.post(KEYS, [("name", "ERP sync"), ("scopes", "products:read"), ("scopes", "orders:write"),
                                ("expires_on", "")])
    assert created.status == 200 and created.headers["cache-control"] == "no-store"
    raw_key = created.soup.find(id="new-key").get_text().strip()
    assert raw_key.startswith("dk_") and len(raw_key) == 46
    assert created.html.count(raw_key) == 1
    assert "It is shown only this once" in created.text
    assert created.soup.find("button", attrs={"data-copy": "#new-key"}) is not None
    assert _authenticates(raw_key)
    listed = owner.get(KEYS)
    assert raw_key not in listed.html and raw_key[:12] + "…" in listed.text
    row = next(tr for tr in listed.soup.select("tbody tr") if "ERP sync" in tr.get_text())
    text = " ".join(row.get_text(" ").split())
    assert "products:read" in text and "orders:write" in text and "by owner@acmedistributors.test" in text
    assert "Active" in text and "Never" in text
    from distribu import dynamo

    assert raw_key not in str(dynamo.dynamodb().scan(TableName=dynamo.table_name())["Items"])  # only its hash
    assert "ApiKeyCreated" in _actions(tenant.company_id)


def test_bad_key_forms_show_each_message_and_create_nothing(owner: Browser, tenant: factories.Tenant) -> None:
    from distribu import apikeys

    count = len(apikeys.list_api_keys(tenant.company_id))
    owner.get(KEYS)
    refused = owner.post(KEYS, {"name": " ", "expires_on": "2020-01-01"})
    assert refused.status == 400
    assert refused.field_error("name") == "Key name must be 1-100 characters."
    assert refused.field_error("scopes") == "Choose at least one scope."
    assert refused.field_error("expires_on") == "Choose today or a later date."
    assert not refused.soup.find("input", attrs={"name": "scopes", "checked": True})  # what was chosen: nothing
    bad_date = owner.post(KEYS, [("name", "X" * 101), ("scopes", "orders:read"), ("expires_on", "31/12/2030")])
    assert bad_date.field_error("expires_on") == "Enter a date as YYYY-MM-DD."
    assert bad_date.soup.find("input", attrs={"value": "orders:read"}).has_attr("checked")
    unknown = owner.post(KEYS, [("name", "X"), ("scopes", "everything")])
    assert unknown.status == 400 and "Unknown scope(s): everything." in unknown.field_error("scopes")
    assert len(apikeys.list_api_keys(tenant.company_id)) == count


def test_a_key_with_an_expiry_date_works_through_that_day(owner: Browser, tenant: factories.Tenant) -> None:
    owner.get(KEYS)
    created = owner.post(KEYS, [("name", "Short"), ("scopes", "orders:read"), ("expires_on", "2099-12-31")])
    assert created.status == 200 and "End of Dec 31, 2099 (UTC)" in created.text


def test_revoking_a_key_asks_first_then_it_stops_working(owner: Browser, tenant: factories.Tenant) -> None:
    view, raw_key = factories.api_key(tenant.company_id, "Old ERP")
    listed = owner.get(KEYS)
    link = listed.soup.find("a", attrs={"href": f"{KEYS}/{view['id']}/revoke"})
    assert link is not None
    confirm = owner.get(link["href"])
    assert confirm.status == 200 and "Revoke “Old ERP”?" in confirm.text and "every call made with it gets 401" in confirm.text
    assert _key(tenant.company_id, view["id"])["status"] == "Active"
    revoked = owner.post(f"{KEYS}/{view['id']}/revoke")
    assert revoked.status == 303 and revoked.location == KEYS
    shown = owner.follow(revoked)
    assert f"The key “Old ERP” ({view['prefix']}…) is revoked: calls with it now get 401." in shown.text
    assert _key(tenant.company_id, view["id"])["status"] == "Revoked" and not _authenticates(raw_key)
    row = next(tr for tr in shown.soup.select("tbody tr") if "Old ERP" in tr.get_text())
    assert "Revoked" in row.get_text() and row.find("a", string="Revoke…") is None
    assert _actions(tenant.company_id)[0] == "ApiKeyRevoked"
    again = owner.post(f"{KEYS}/{view['id']}/revoke")  # twice: nothing more happens
    assert again.status == 303 and _actions(tenant.company_id).count("ApiKeyRevoked") == 1


def test_an_expired_key_is_listed_as_expired(owner: Browser, tenant: factories.Tenant) -> None:
    factories.api_key(tenant.company_id, "Lapsed", expires_at="2020-01-01T00:00:00Z")
    listed = owner.get(KEYS)
    row = next(tr for tr in listed.soup.select("tbody tr") if "Lapsed" in tr.get_text())
    assert "Expired" in row.get_text() and "End of Dec 31, 2019 (UTC)" in row.get_text()


def test_another_companys_key_is_not_found_and_stays_active(owner: Browser, tenant: factories.Tenant,
                                                          other_tenant: factories.Tenant) -> None:
    url = f"{KEYS}/{other_tenant.key_id}/revoke"
    assert owner.get(url).status == 404
    owner.get(KEYS)
    posted = owner.post(url)
    assert posted.status == 404
    assert _key(other_tenant.company_id, other_tenant.key_id)["status"] == "Active" and _authenticates(other_tenant.key)
    assert "ApiKeyRevoked" not in _actions(other_tenant.company_id) + _actions(tenant.company_id)
    assert owner.get(f"{KEYS}/not-an-id/revoke").status == 404


# --- the audit log --------------------------------------------------------------------------------------------

def test_the_audit_log_reads_in_words_with_details_on_demand(owner: Browser, tenant: factories.Tenant) -> None:
    product = factories.product(tenant.company_id, "Widget Blue", price="8.50")
    factories.product_price_change(tenant.company_id, product["id"], "9.00", actor_name="Ann")
    page = owner.get(AUDIT)
    assert page.status == 200
    items = page.soup.select("ul.audit-entries > li")
    first = " ".join(items[0].get_text(" ").split())
    assert first.startswith("Ann (staff) changed the price of Widget Blue from 8.50 to 9.00")
    details = items[0].find("details")
    assert details is not None and "Before" in details.get_text() and "After" in details.get_text()
    assert "Test staff (staff) added the product Widget Blue" in page.text
    assert "owner@acmedistributors.test (staff) created the company Acme Distributors" in page.text


def test_the_audit_log_filters_by_actor_entity_action_and_dates(owner: Browser, tenant: factories.Tenant) -> None:
    factories.audit_entries_at(tenant.company_id, ["2026-01-10T09:00:00.000Z", "2026-01-20T09:00:00.000Z",
                                                   "2026-02-05T09:00:00.000Z"])
    factories.audit_entries_at(tenant.company_id, ["2026-01-15T09:00:00.000Z"], action="OrderPlaced",
                               entity_type="Order", actor_type="API_KEY")
    factories.customer(tenant.company_id)

    def lines(query: str) -> list[str]:
        page = owner.get(f"{AUDIT}?{query}")
        assert page.status == 200, page.text
        return [" ".join(li.get_text(" ").split()) for li in page.soup.select("ul.audit-entries > li")]

    assert len(lines("actor_type=API_KEY")) == 1 and "placed order" in lines("actor_type=API_KEY")[0]
    assert all("Customer" in line for line in lines("entity_type=Customer")) and len(lines("entity_type=Customer")) == 1
    assert len(lines("action=ProductCreated")) == 3
    assert len(lines("action=ProductCreated&since=2026-01-15&until=2026-01-31")) == 1
    assert len(lines("since=2026-01-01&until=2026-01-31")) == 3  # every kind within January
    assert len(lines("entity_type=Product&actor_type=API_KEY")) == 0
    assert "No entries match these filters." in owner.get(f"{AUDIT}?entity_type=Product&actor_type=API_KEY").text
    chosen = owner.get(f"{AUDIT}?action=ProductCreated&since=2026-01-15")
    assert chosen.value_of("action") == "ProductCreated" and chosen.value_of("since") == "2026-01-15"
    bad = owner.get(f"{AUDIT}?since=yesterday&until=2026-01-01")
    assert bad.status == 400 and bad.field_error("since") == "Enter a date as YYYY-MM-DD."
    backwards = owner.get(f"{AUDIT}?since=2026-02-01&until=2026-01-01")
    assert backwards.status == 400 and backwards.field_error("until") == "The end date is before the start date."
    assert owner.get(f"{AUDIT}?cursor=not-a-cursor").status == 400


def test_the_audit_log_pages_newest_first_without_repeats(owner: Browser, tenant: factories.Tenant) -> None:
    moments = [f"2026-03-{day:02d}T{hour:02d}:00:00.000Z" for day in range(1, 29) for hour in (8, 16)]  # 56
    factories.audit_entries_at(tenant.company_id, moments)
    seen: list[str] = []
    url = f"{AUDIT}?action=ProductCreated"
    for _ in range(3):
        page = owner.get(url)
        seen += [time["datetime"] for time in page.soup.select("ul.audit-entries time")]
        following = page.soup.find("a", rel="next")
        if following is None:
            break
        url = following["href"].replace("&amp;", "&")
    assert len(seen) == 56 and seen == sorted(seen, reverse=True) and len(set(seen)) == 56
    unfiltered = owner.get(AUDIT)
    assert len(unfiltered.soup.select("ul.audit-entries > li")) == 50 and unfiltered.soup.find("a", rel="next")
    # the export's reading, a page at a time, with and without an index: every entry exactly once
    from distribu import audit

    # (56, plus the company's creation and its key's today; from March 2nd: 54 + those 2)
    for filters, expected in ((audit.Filters(), 58), (audit.Filters(action="ProductCreated"), 56),
                              (audit.Filters(since="2026-03-02"), 56)):
        read = [entry["id"] for entry in audit.every_entry(tenant.company_id, filters, page_size=7)]
        assert len(read) == len(set(read)) == expected


def test_the_audit_log_exports_the_filtered_entries_as_safe_csv(owner: Browser, tenant: factories.Tenant) -> None:
    product = factories.product(tenant.company_id, "Widget Blue")
    factories.product_price_change(tenant.company_id, product["id"], "9.00", actor_name='=HYPERLINK("http://evil.test")')
    factories.audit_entries_at(tenant.company_id, ["2026-01-15T09:00:00.000Z"], action="OrderPlaced",
                               entity_type="Order", actor_type="API_KEY")
    page = owner.get(f"{AUDIT}?entity_type=Product")
    link = page.soup.find("a", string=lambda text: text and "Export CSV" in text)
    assert link["href"] == f"{EXPORT}?entity_type=Product"
    exported = owner.get(link["href"])
    assert exported.status == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith('attachment; filename="audit-log-')
    rows = _csv(exported)
    assert rows[0] == ["when", "actorType", "actorName", "actorId", "onBehalfOf", "action", "entityType", "entityId",
                       "description", "details"]
    assert [row[5] for row in rows[1:]] == ["ProductUpdated", "ProductCreated"]
    # a cell a spreadsheet would run is neutralised (read as text)
    assert rows[1][2] == "'=HYPERLINK(\"http://evil.test\")"
    assert rows[1][8] == "'=HYPERLINK(\"http://evil.test\") (staff) changed the price of Widget Blue from 8.50 to 9.00"
    everything = _csv(owner.get(EXPORT))
    assert {row[5] for row in everything[1:]} >= {"ProductCreated", "OrderPlaced", "ApiKeyCreated", "CompanyCreated"}
    assert owner.get(f"{EXPORT}?since=nope").status == 400


# --- refusals: CSRF, a MEMBER, and isolation -------------------------------------------------------------------

def test_forms_without_a_valid_csrf_token_change_nothing(owner: Browser, tenant: factories.Tenant) -> None:
    from distribu import apikeys

    page = owner.get(COMPANY)
    keys_before = len(apikeys.list_api_keys(tenant.company_id))
    for url, data in ((COMPANY, _company_form(page, name="Hijacked")), (KEYS, {"name": "Evil", "scopes": "orders:write"}),
                      (f"{KEYS}/{tenant.key_id}/revoke", {}), (DELETE, {"confirmation": "Acme Distributors"})):
        for token in (None, "forged"):
            refused = owner.post(url, data, csrf=token)
            assert refused.status == 403, url
            assert "This form has expired or did not come from this site." in refused.text
    assert _company(tenant.company_id).name == "Acme Distributors"
    assert len(apikeys.list_api_keys(tenant.company_id)) == keys_before and _authenticates(tenant.key)


def test_a_member_is_refused_every_settings_page_and_action(tenant: factories.Tenant, stack) -> None:
    from distribu import apikeys

    factories.staff_member(tenant.company_id, MEMBER_EMAIL)
    member = signed_in(stack, MEMBER_EMAIL)
    for url in (SETTINGS, COMPANY, DELETE, KEYS, f"{KEYS}/{tenant.key_id}/revoke", AUDIT, EXPORT,
                f"{AUDIT}?action=ProductCreated"):
        refused = member.get(url)
        assert refused.status == 403, url
        assert "Only owners and admins" in refused.text or "Only the owner" in refused.text
    actions = _actions(tenant.company_id)
    member.get("/dashboard/settings/profile")  # a page with a form: the member's CSRF token
    assert member.token
    for url, data in ((COMPANY, {"name": "Mine now", "slug": "mine", "tax_percent": "0", "low_stock_threshold": "5",
                                 "rate_limit_per_minute": "60"}),
                      (KEYS, {"name": "Member key", "scopes": "orders:write"}),
                      (f"{KEYS}/{tenant.key_id}/revoke", {}), (DELETE, {"confirmation": "Acme Distributors"})):
        refused = member.post(url, data)
        assert refused.status == 403, url
    assert _company(tenant.company_id).name == "Acme Distributors"
    assert [key["name"] for key in apikeys.list_api_keys(tenant.company_id)] == ["tests"]
    assert _authenticates(tenant.key) and _actions(tenant.company_id) == actions
    assert member.get("/dashboard/settings/profile").status == 200  # their own profile stays theirs


def _nav(page: Any) -> dict[str, str]:
    """The dashboard's top bar sections as a person reads them: label -> address."""
    return {" ".join(link.get_text(" ").split()): link["href"] for link in page.soup.select("ul.desk-nav a")}


def test_a_members_nav_leads_only_to_pages_they_may_open(tenant: factories.Tenant, stack) -> None:
    factories.staff_member(tenant.company_id, MEMBER_EMAIL)
    member = signed_in(stack, MEMBER_EMAIL)
    nav = _nav(member.get("/dashboard"))
    assert nav == {"Home": "/dashboard", "Inventory": "/dashboard/inventory", "Orders": "/dashboard/orders",
                   "Customers": "/dashboard/customers", "Reports": "/dashboard/reports",
                   "Profile": "/dashboard/settings/profile"}
    for label, href in nav.items():
        assert member.get(href).status == 200, (label, href)
    profile = member.get("/dashboard/settings/profile")
    assert profile.soup.select_one('ul.desk-nav a[aria-current="page"]').get_text() == "Profile"
    team_link = profile.soup.select_one('main a[href="/dashboard/settings/team"]')
    assert team_link is not None and member.get(team_link["href"]).status == 200  # the team, read-only for them
    assert member.get(SETTINGS).status == 403  # the nav no longer offers it; the domain still refuses it


def test_owners_and_admins_keep_the_settings_entry(owner: Browser, tenant: factories.Tenant, stack) -> None:
    factories.staff_member(tenant.company_id, ADMIN_EMAIL, role="ADMIN")
    for browser in (owner, signed_in(stack, ADMIN_EMAIL)):
        nav = _nav(browser.get("/dashboard"))
        assert nav["Settings"] == SETTINGS and "Profile" not in nav
        assert browser.get(nav["Settings"]).status == 200


def test_the_audit_log_shows_only_the_companys_own_entries(owner: Browser, tenant: factories.Tenant,
                                                           other_tenant: factories.Tenant) -> None:
    factories.product(other_tenant.company_id, "Globex Secret Gadget")
    assert "Globex Secret Gadget" not in owner.get(AUDIT).text
    assert "Globex Secret Gadget" not in owner.get(f"{AUDIT}?entity_type=Product").text
    assert "Globex" not in owner.get(EXPORT).body.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client: Browser, tenant: factories.Tenant) -> None:
    for url in (SETTINGS, COMPANY, KEYS, AUDIT, EXPORT):
        response = client.get(url)
        assert response.status == 302 and response.location.startswith("/login?next=")
