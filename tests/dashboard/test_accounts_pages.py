"""Staff accounts through the real dashboard handler: sign-up, sign-in, throttling, sign-out, password
reset, the company switcher, profile and password."""

from __future__ import annotations

import re

from tests import factories
from tests.dashboard.conftest import sign_in
from tests.web_client import Browser


def sent_mail(stack) -> list:
    from moto.backends import get_backend

    return list(get_backend("ses")[stack.account_id]["us-east-1"].sent_messages)


def test_sign_up_creates_the_company_and_signs_the_owner_in(client: Browser, stack) -> None:
    from distribu import companies, staff_accounts

    client.get("/signup")
    response = client.post("/signup", {"companyName": "Initech Wholesale", "name": "Peter Gibbons",
                                       "email": "Peter@Initech.test", "password": "long-enough-1"})
    assert response.status == 303 and response.location == "/dashboard"
    cookie = next(header for header in response.cookies if header.startswith("staff_session="))
    assert "HttpOnly" in cookie and "Path=/" in cookie and "SameSite=lax" in cookie
    home = client.follow(response)
    assert home.status == 200 and "Initech Wholesale is ready" in home.text and "/store/initech-wholesale" in home.text
    assert "Inventory health" in home.text and "Owner" in home.text
    company_id = companies.company_id_for_slug("initech-wholesale")
    assert [m.role for m in staff_accounts.memberships("peter@initech.test")] == ["OWNER"]
    assert company_id


def test_sign_up_shows_each_problem_and_keeps_what_was_typed(client: Browser, tenant) -> None:
    client.get("/signup")
    bad = client.post("/signup", {"companyName": " ", "name": "P", "email": "nope", "password": "short"})
    assert bad.status == 400
    assert bad.field_error("companyName").startswith("Company name must be 1–100 characters")
    assert bad.field_error("name") == "Name must be 2–100 characters."
    assert bad.field_error("email") == "Enter a valid email address."
    assert bad.field_error("password") == "Password must be 8–100 characters."
    assert bad.value_of("email") == "nope"
    taken = client.post("/signup", {"companyName": "Another Co", "name": "Owner Again",
                                    "email": factories.owner_email("Acme Distributors"), "password": "long-enough-1"})
    assert taken.field_error("email") == "This email already has a Distribu account. Sign in to add another company."


def test_a_taken_company_name_gets_a_numbered_web_address(client: Browser, tenant) -> None:
    client.get("/signup")
    response = client.post("/signup", {"companyName": "Acme Distributors", "name": "Second Acme",
                                       "email": "second@acme.test", "password": "long-enough-1"})
    assert response.status == 303
    assert "/store/acme-distributors-2" in client.follow(response).text


def test_sign_in_out_and_the_same_message_for_any_failure(client: Browser, tenant) -> None:
    assert client.get("/dashboard").location == "/login"
    wrong = sign_in(client, factories.owner_email("Acme Distributors"), "wrong-password")
    unknown = sign_in(client, "nobody@nowhere.test")
    assert wrong.status == unknown.status == 401
    assert "Invalid email or password." in wrong.text and "Invalid email or password." in unknown.text
    ok = sign_in(client, factories.owner_email("Acme Distributors"))
    assert ok.status == 303 and ok.location == "/dashboard"
    home = client.get("/dashboard")
    assert home.status == 200 and "Acme Distributors" in home.text
    out = client.post("/logout")
    assert out.status == 303 and out.location == "/login"
    assert client.get("/dashboard").status == 302


def test_five_failures_lock_the_email(client: Browser, tenant) -> None:
    email = factories.owner_email("Acme Distributors")
    for _ in range(5):
        assert sign_in(client, email, "wrong-password").status == 401
    locked = sign_in(client, email)
    assert locked.status == 429 and re.search(r"Try again in 1[45] minutes\.", locked.text)


def test_next_only_goes_to_dashboard_paths(client: Browser, tenant) -> None:
    client.get("/login?next=https://evil.test/")
    response = client.post("/login", {"email": factories.owner_email("Acme Distributors"),
                                      "password": factories.STAFF_PASSWORD, "next": "//evil.test/x"})
    assert response.location == "/dashboard"


def test_password_reset_by_emailed_link(client: Browser, tenant, stack) -> None:
    email = factories.owner_email("Acme Distributors")
    client.get("/forgot-password")
    assert "we have emailed it a link" in client.post("/forgot-password", {"email": email}).text
    body = sent_mail(stack)[-1].body
    path = re.search(r"/reset-password\?token=\S+", body).group(0)
    form = client.get(path)
    assert f"For {email}." in form.text
    done = client.post("/reset-password", {"token": form.value_of("token"), "password": "brand-new-pass",
                                           "confirm": "brand-new-pass"})
    assert done.status == 303 and done.location == "/dashboard"
    assert sign_in(Browser(stack), email, "brand-new-pass").status == 303


def test_company_switcher_lists_only_the_users_companies(owner: Browser, tenant, other_tenant) -> None:
    from distribu import companies

    second = companies.create_company("Second Shop", factories.owner_email("Acme Distributors"),
                                      factories.STAFF_PASSWORD)
    owner.post("/logout")
    sign_in(owner, factories.owner_email("Acme Distributors"))
    page = owner.get("/dashboard/companies")
    assert "Acme Distributors" in page.text and "Second Shop" in page.text and "Globex" not in page.text
    switched = owner.post("/dashboard/companies", {"companyId": second.id})
    assert switched.status == 303 and "Second Shop" in owner.follow(switched).text
    refused = owner.post("/dashboard/companies", {"companyId": other_tenant.company_id})
    assert refused.status == 403


def test_profile_and_password_change(owner: Browser, stack) -> None:
    page = owner.get("/dashboard/settings/profile")
    assert page.status == 200
    bad = owner.post("/dashboard/settings/password", {"current": "wrong", "password": "another-pass-1",
                                                      "confirm": "another-pass-1"})
    assert bad.status == 400 and bad.field_error("current") == "This is not your current password."
    ok = owner.post("/dashboard/settings/password", {"current": factories.STAFF_PASSWORD, "password": "another-pass-1",
                                                     "confirm": "another-pass-1"})
    assert ok.status == 303
    assert owner.get("/dashboard").status == 200  # this session stays
    renamed = owner.post("/dashboard/settings/profile", {"name": "Wile E. Coyote"})
    assert renamed.status == 303 and "Wile E. Coyote" in owner.follow(renamed).text
