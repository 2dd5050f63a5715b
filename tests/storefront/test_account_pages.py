"""The storefront account page: profile, password, addresses, and contacts managed by the account's admins."""

from __future__ import annotations

import re

import pytest

from tests import factories
from tests.storefront.conftest import sign_in
from tests.web_client import Browser


@pytest.fixture
def northwind(tenant):
    return factories.customer(tenant.company_id)


def test_profile_name_and_password(client: Browser, store: str, northwind, stack) -> None:
    other_device = Browser(stack)
    sign_in(other_device, store)
    sign_in(client, store)
    page = client.get(f"{store}/account")
    assert page.status == 200 and "Your account" in page.text
    renamed = client.post(f"{store}/account/profile", {"name": "Northwind Traders Inc."})
    assert renamed.status == 303 and "Northwind Traders Inc." in client.follow(renamed).text
    short = client.post(f"{store}/account/profile", {"name": "N"})
    assert short.status == 400 and short.field_error("profile-name") == "Name must be 2–100 characters."
    wrong = client.post(f"{store}/account/password", {"current": "nope", "password": "new-password-1",
                                                      "confirm": "new-password-1"})
    assert wrong.status == 400 and wrong.field_error("password-current") == "This is not your current password."
    changed = client.post(f"{store}/account/password", {"current": factories.BUYER_PASSWORD,
                                                        "password": "new-password-1", "confirm": "new-password-1"})
    assert changed.status == 303
    assert client.get(f"{store}/catalog").status == 200  # this session goes on
    assert other_device.get(f"{store}/catalog").status == 302  # the other one ended


def test_addresses_add_default_and_remove(client: Browser, store: str, northwind, tenant) -> None:
    from distribu import addresses

    sign_in(client, store)
    client.get(f"{store}/account")
    missing = client.post(f"{store}/account/addresses", {"line1": "", "city": "Portland", "country": ""})
    assert missing.status == 400
    assert missing.field_error("address-line1") == "Enter the street address."
    assert missing.field_error("address-country") == "Enter the country."
    assert missing.value_of("city") == "Portland"
    client.post(f"{store}/account/addresses", {"line1": "12 Harbour Road", "city": "Portland", "country": "US"})
    client.post(f"{store}/account/addresses", {"line1": "5 Mill Lane", "city": "Salem", "country": "US",
                                               "isDefault": "true"})
    book = addresses.list_addresses(tenant.company_id, northwind["id"])
    assert [(a["line1"], a["isDefault"]) for a in book] == [("5 Mill Lane", True), ("12 Harbour Road", False)]
    client.get(f"{store}/account")
    client.post(f"{store}/account/addresses/{book[0]['id']}", {"action": "delete"})
    book = addresses.list_addresses(tenant.company_id, northwind["id"])
    assert [(a["line1"], a["isDefault"]) for a in book] == [("12 Harbour Road", True)]


def test_an_admin_invites_a_contact_who_sets_a_password_and_signs_in(client: Browser, store: str, northwind,
                                                                     stack) -> None:
    from moto.backends import get_backend

    sign_in(client, store)
    client.get(f"{store}/account")
    invited = client.post(f"{store}/account/contacts", {"email": "Bea@Northwind.test", "name": "Bea", "role": "BUYER"})
    assert invited.status == 303
    assert "bea@northwind.test is invited" in client.follow(invited).text
    duplicate = client.post(f"{store}/account/contacts", {"email": "bea@northwind.test", "name": "Bea", "role": "BUYER"})
    assert duplicate.field_error("contact-email") == "This account already has a sign-in with this email."
    body = get_backend("ses")[stack.account_id]["us-east-1"].sent_messages[-1].body
    path = re.search(r"/store/\S+/setup-password\?token=\S+", body).group(0)
    bea = Browser(stack)
    form = bea.get(path)
    assert form.value_of("email") == "bea@northwind.test"
    mismatch = bea.post(f"{store}/setup-password", {"token": form.value_of("token"), "email": "bea@northwind.test",
                                                    "password": "bea-password-1", "confirm": "other-one"})
    assert mismatch.field_error("confirm") == "The passwords do not match."
    done = bea.post(f"{store}/setup-password", {"token": form.value_of("token"), "email": "bea@northwind.test",
                                                "password": "bea-password-1", "confirm": "bea-password-1"})
    assert done.status == 303 and done.location == f"{store}/catalog"
    stranger = Browser(stack)
    stranger.get(f"{store}/setup-password")
    again = stranger.post(f"{store}/setup-password", {"token": form.value_of("token"), "email": "bea@northwind.test",
                                                      "password": "x-password-1", "confirm": "x-password-1"})
    assert again.status == 422
    assert "No pending account found for this email. Please contact your distributor." in again.text


def test_role_change_and_deactivation_end_the_contacts_sessions(client: Browser, store: str, northwind, tenant,
                                                                stack) -> None:
    from distribu import contacts

    bea = factories.contact(tenant.company_id, northwind["id"], "bea@northwind.test", role="BUYER")
    bea_browser = Browser(stack)
    assert sign_in(bea_browser, store, "bea@northwind.test").status == 303
    sign_in(client, store)
    client.get(f"{store}/account")
    assert client.post(f"{store}/account/contacts/{bea['id']}", {"role": "VIEWER"}).status == 303
    assert bea_browser.get(f"{store}/catalog").status == 302  # signed out: its session held the old role
    sign_in(bea_browser, store, "bea@northwind.test")
    client.post(f"{store}/account/contacts/{bea['id']}", {"action": "deactivate"})
    assert bea_browser.get(f"{store}/catalog").status == 302
    refused = sign_in(bea_browser, store, "bea@northwind.test")
    assert "Your account has been suspended" in refused.text
    assert contacts.get_contact(tenant.company_id, northwind["id"], bea["id"])["active"] is False


def test_buyers_and_viewers_cannot_manage_contacts(stack, store: str, northwind, tenant) -> None:
    bea = factories.contact(tenant.company_id, northwind["id"], "bea@northwind.test", role="BUYER")
    vic = factories.contact(tenant.company_id, northwind["id"], "vic@northwind.test", role="VIEWER")
    for email in ("bea@northwind.test", "vic@northwind.test"):
        person = Browser(stack)
        sign_in(person, store, email)
        page = person.get(f"{store}/account")
        assert "Invite someone" not in page.text
        assert person.post(f"{store}/account/contacts", {"email": "x@y.test", "name": "X", "role": "ADMIN"}).status == 403
        target = vic if email.startswith("bea") else bea
        assert person.post(f"{store}/account/contacts/{target['id']}", {"role": "ADMIN"}).status == 403


def test_an_admin_contact_cannot_demote_or_deactivate_itself(stack, store: str, northwind, tenant) -> None:
    ada = factories.contact(tenant.company_id, northwind["id"], "ada@northwind.test", role="ADMIN")
    person = Browser(stack)
    sign_in(person, store, "ada@northwind.test")
    person.get(f"{store}/account")
    assert person.post(f"{store}/account/contacts/{ada['id']}", {"action": "deactivate"}).status == 403
