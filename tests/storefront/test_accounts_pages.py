"""Storefront accounts through the real handler: register, sign in/out, throttling, blocked accounts,
password links, CSRF."""

from __future__ import annotations

import re

from tests import factories
from tests.storefront.conftest import sign_in
from tests.web_client import Browser


def mails(stack) -> list[dict]:
    import boto3

    from moto.backends import get_backend

    backend = get_backend("ses")[stack.account_id]["us-east-1"]
    return [{"to": message.destinations["ToAddresses"], "subject": message.subject, "body": message.body}
            for message in backend.sent_messages]


def test_a_visitor_is_sent_to_sign_in_and_back(client: Browser, store: str, tenant) -> None:
    factories.customer(tenant.company_id)
    first = client.get(f"{store}/catalog")
    assert first.status == 302 and first.location == f"{store}/login?next=%2Fstore%2F{tenant.slug}%2Fcatalog"
    page = client.follow(first)
    assert page.status == 200 and "Sign in" in page.text and "Acme Distributors" in page.text
    signed = client.post(f"{store}/login", {"email": "Buyer@Northwind.test ", "password": factories.BUYER_PASSWORD,
                                             "next": f"{store}/catalog"})
    assert signed.status == 303 and signed.location == f"{store}/catalog"
    assert client.cookie("customer_session")


def test_session_cookie_is_httponly_lax_scoped_to_the_store(client: Browser, store: str, tenant) -> None:
    factories.customer(tenant.company_id)
    response = sign_in(client, store)
    cookie = next(header for header in response.cookies if header.startswith("customer_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and f"Path={store}" in cookie
    assert "Max-Age=604800" in cookie
    assert "Secure" not in cookie  # the local stack is plain http; the cloud sets Secure (test below)


def test_wrong_password_and_unknown_email_read_the_same(client: Browser, store: str, tenant) -> None:
    factories.customer(tenant.company_id)
    wrong = sign_in(client, store, password="not-the-password")
    unknown = sign_in(client, store, email="nobody@nowhere.test")
    for response in (wrong, unknown):
        assert response.status == 401
        assert "Invalid email or password." in response.text
    assert client.cookie("customer_session") is None
    assert wrong.value_of("email") == "buyer@northwind.test"  # what was typed is kept (never the password)
    assert wrong.value_of("password") is None or wrong.value_of("password") == ""


def test_five_failures_lock_the_email_whatever_the_password(client: Browser, store: str, tenant) -> None:
    factories.customer(tenant.company_id)
    for _ in range(5):
        assert sign_in(client, store, password="wrong-password").status == 401
    locked = sign_in(client, store)  # even the right password
    assert locked.status == 429
    assert re.search(r"Too many failed sign-in attempts for this email\. Try again in 1[45] minutes\.", locked.text)
    assert client.cookie("customer_session") is None


def test_blocked_customer_is_refused_with_the_documented_message(client: Browser, store: str, tenant) -> None:
    factories.customer(tenant.company_id, status="BLOCKED")
    response = sign_in(client, store)
    assert response.status == 401
    assert "Your account has been suspended. Please contact the store for details." in response.text


def test_blocking_ends_an_open_session_at_once(client: Browser, store: str, tenant) -> None:
    from distribu import customers

    buyer = factories.customer(tenant.company_id)
    sign_in(client, store)
    assert client.get(f"{store}/account").status in (200, 404)  # signed in (the account page may come later)
    customers.update_customer(tenant.company_id, buyer["id"], {"status": "BLOCKED"}, factories.staff_actor())
    after = client.get(f"{store}/catalog")
    assert after.status == 302 and after.location.startswith(f"{store}/login")


def test_register_signs_in_and_tells_owner_and_admins(client: Browser, store: str, tenant, stack) -> None:
    client.get(f"{store}/register")
    response = client.post(f"{store}/register", {"name": "Initech", "email": "Purchasing@Initech.test",
                                                  "password": "long-enough-1"})
    assert response.status == 303 and response.location == f"{store}/catalog"
    assert client.cookie("customer_session")
    sent = [mail for mail in mails(stack) if mail["subject"] == "New customer: Initech"]
    assert sent and sent[0]["to"] == [factories.owner_email("Acme Distributors")]
    assert "purchasing@initech.test" in sent[0]["body"]


def test_register_shows_each_problem_under_its_field(client: Browser, store: str, tenant) -> None:
    factories.customer(tenant.company_id)
    client.get(f"{store}/register")
    bad = client.post(f"{store}/register", {"name": "I", "email": "not-an-email", "password": "short"})
    assert bad.status == 400
    assert bad.field_error("name") == "Name must be 2–100 characters."
    assert bad.field_error("email") == "Enter a valid email address."
    assert bad.field_error("password") == "Password must be 8–100 characters."
    assert bad.value_of("name") == "I" and bad.value_of("email") == "not-an-email"
    taken = client.post(f"{store}/register", {"name": "Northwind", "email": "buyer@northwind.test",
                                               "password": "long-enough-1"})
    assert taken.status == 400
    assert taken.field_error("email") == "An account with this email already exists in this store. Sign in instead."


def test_a_post_without_a_valid_csrf_token_is_refused_and_changes_nothing(client: Browser, store: str, tenant) -> None:
    from distribu import dynamo, keys

    client.get(f"{store}/register")
    for token in (None, "forged"):
        response = client.post(f"{store}/register", {"name": "Initech", "email": "csrf@initech.test",
                                                      "password": "long-enough-1"}, csrf=token)
        assert response.status == 403
        assert "This form has expired or did not come from this site." in response.text
    assert dynamo.get(keys.company(tenant.company_id), keys.email_guard_sk("csrf@initech.test")) is None


def test_logout_ends_the_session(client: Browser, store: str, tenant) -> None:
    factories.customer(tenant.company_id)
    sign_in(client, store)
    session_value = client.cookie("customer_session")
    client.get(f"{store}/catalog")  # a signed-in page: its sign-out form carries the session's token
    out = client.post(f"{store}/logout")
    assert out.status == 303 and out.location == f"{store}/login"
    assert client.cookie("customer_session") is None
    # The old cookie opens nothing any more.
    client.jar[(store, "customer_session")] = session_value
    assert client.get(f"{store}/catalog").status == 302


def test_forgot_and_reset_password_by_emailed_single_use_link(client: Browser, store: str, tenant, stack) -> None:
    factories.customer(tenant.company_id, password=None)  # imported: no password yet
    client.get(f"{store}/forgot-password")
    sent = client.post(f"{store}/forgot-password", {"email": "buyer@northwind.test"})
    assert sent.status == 200 and "we have emailed it a link" in sent.text
    unknown = client.post(f"{store}/forgot-password", {"email": "nobody@northwind.test"})
    assert "we have emailed it a link" in unknown.text  # the same answer: no account discovery
    mail = [m for m in mails(stack) if m["subject"] == "Reset your Acme Distributors password"]
    assert len(mail) == 1 and mail[0]["to"] == ["buyer@northwind.test"]
    link = re.search(r"http://\S+/reset-password\?token=\S+", mail[0]["body"]).group(0)
    path = link.split("3000", 1)[1]
    form = client.get(path)
    assert "For buyer@northwind.test." in form.text
    mismatch = client.post(f"{store}/reset-password", {"token": form.value_of("token"), "password": "new-password-1",
                                                        "confirm": "other-password"})
    assert mismatch.field_error("confirm") == "The passwords do not match."
    done = client.post(f"{store}/reset-password", {"token": form.value_of("token"), "password": "new-password-1",
                                                    "confirm": "new-password-1"})
    assert done.status == 303 and done.location == f"{store}/catalog"
    replayer = Browser(stack)  # somebody else with the same link, later
    assert "This link has expired or has already been used." in replayer.get(path).text
    replayer.get(f"{store}/forgot-password")  # a page with a form, for a valid CSRF token
    again = replayer.post(f"{store}/reset-password", {"token": form.value_of("token"), "password": "new-password-2",
                                                      "confirm": "new-password-2"})
    assert again.status == 422 and "This link has expired or has already been used." in again.text
    fresh = Browser(stack)
    assert sign_in(fresh, store, password="new-password-1").status == 303


def test_unknown_store_is_a_404_page(client: Browser) -> None:
    response = client.get("/store/no-such-store/login")
    assert response.status == 404 and "Page not found" in response.text


def test_pages_carry_the_security_headers(client: Browser, store: str, tenant) -> None:
    response = client.get(f"{store}/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"


def test_outside_the_local_stack_the_session_cookie_is_secure(client: Browser, store: str, tenant, monkeypatch) -> None:
    from distribu import config

    factories.customer(tenant.company_id)
    monkeypatch.setenv("DISTRIBU_ENV", "cloud")
    config.get_settings.cache_clear()
    try:
        response = sign_in(client, store)
    finally:
        monkeypatch.setenv("DISTRIBU_ENV", "local")
        config.get_settings.cache_clear()
    cookie = next(header for header in response.cookies if header.startswith("customer_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_static_assets_are_served_by_the_function_with_long_caching(client: Browser, store: str) -> None:
    from distribu.web.app import static_version

    css = client.get(f"/store/_static/{static_version()}/pico.min.css")
    assert css.status == 200 and css.headers["content-type"].startswith("text/css")
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    js = client.get(f"/store/_static/{static_version()}/htmx.min.js")
    assert js.status == 200 and b"htmx" in js.body
    old = client.get("/store/_static/0000000000/distribu.css")
    assert old.status == 200 and old.headers["cache-control"] == "no-cache"  # an old page's URL still works
    for sneaky in ("../app.py", "..%2Fapp.py", "nope.css"):
        assert client.get(f"/store/_static/{static_version()}/{sneaky}").status == 404


def test_reset_emails_are_limited_per_address(client: Browser, store: str, tenant, stack) -> None:
    factories.customer(tenant.company_id)
    client.get(f"{store}/forgot-password")
    for _ in range(5):
        answer = client.post(f"{store}/forgot-password", {"email": "buyer@northwind.test"})
        assert "we have emailed it a link" in answer.text  # the same answer every time
    resets = [mail for mail in mails(stack) if mail["subject"] == "Reset your Acme Distributors password"]
    assert len(resets) == 3
