"""Tenant isolation over every route of the dashboard app, built from the app's own routes so that a new
route cannot escape it: each ``{param}`` is filled with ANOTHER company's real record of that kind, and
company A's owner (the role with the fewest refusals, so a 403 cannot hide a leak) asks for it with GET and,
for POST routes, a valid form with a valid CSRF token. Every answer is a 404 (or 403), shows nothing of
theirs, and nothing of theirs changes. A parameter without a case here fails the walk: add it to ``THEIRS``.

Also, signed out: every dashboard page sends the visitor to sign in, and every route outside ``/dashboard``
is a deliberate public page (``PUBLIC``)."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any, Callable

from starlette.routing import Route

from tests import factories
from tests.web_client import Browser


class Their:
    """The other company's records, made when a route first needs them."""

    def __init__(self, company_id: str) -> None:
        self.company_id = company_id

    @cached_property
    def world(self) -> dict[str, Any]:
        return factories.customer_with_history(self.company_id, "vip@globex.test", name="Globex VIP", orders=1)

    @cached_property
    def member(self) -> Any:
        return factories.staff_member(self.company_id, "insider@globex.test", role="MEMBER", name="Globex Insider")

    @cached_property
    def invitation(self) -> Any:
        return factories.pending_invitation(self.company_id, "recruit@globex.test")

    @cached_property
    def api_key(self) -> dict[str, Any]:
        return factories.api_key(self.company_id, "Globex ERP")[0]

    @cached_property
    def webhook(self) -> dict[str, Any]:
        return factories.webhook(self.company_id, "https://erp.globex.example/hooks")

    @cached_property
    def delivery_id(self) -> str:
        self.webhook  # subscribed to customer.created before this customer is made
        factories.customer(self.company_id, "hooked@globex.test", name="Globex Hooked")
        return factories.fanned_out(self.company_id, "customer.created")[0]

    @cached_property
    def import_record(self) -> dict[str, Any]:
        return factories.pending_import(self.company_id, "customers")

    @cached_property
    def schedule(self) -> Any:
        return factories.report_schedule(self.company_id, recipients="secret-reports@globex.test")


# path parameter -> the other company's record of that kind (an area adding a route with a new parameter adds
# its line here)
THEIRS: dict[str, Callable[[Their], str]] = {
    "customer_id": lambda their: their.world["customer"]["id"],
    "product_id": lambda their: their.world["product"]["id"],
    "contact_id": lambda their: their.world["contact"]["id"],
    "order_id": lambda their: their.world["orders"][0]["id"],
    "user_id": lambda their: their.member.id,
    "invitation_id": lambda their: their.invitation.id,
    "key_id": lambda their: their.api_key["id"],
    "webhook_id": lambda their: their.webhook["id"],
    "delivery_id": lambda their: their.delivery_id,
    "import_id": lambda their: their.import_record["id"],
    "schedule_id": lambda their: their.schedule.id if hasattr(their.schedule, "id") else their.schedule["id"],
}
# Path parameters that name no record (the page shows the signed-in company's own data whatever they say):
# the value used, and why it is not walked.
NAMES: dict[str, tuple[str, str]] = {
    "table": ("sales", "a report's name: the report is always the signed-in company's"),
}
# What a POST route is sent: a valid form, so that only the tenant check can stop it. Default: empty form.
POST_BODIES: dict[str, Callable[[Their], dict[str, str]]] = {
    "/dashboard/customers/{customer_id:id}": lambda their: {"notes": "Changed by Acme", "creditLimit": "1"},
    "/dashboard/customers/{customer_id:id}/status": lambda their: {"status": "BLOCKED"},
    "/dashboard/customers/{customer_id:id}/prices": lambda their: {"sku": their.world["sku"], "price": "0.01"},
    "/dashboard/customers/{customer_id:id}/prices/{product_id:id}": lambda their: {"price": "0.01"},
    "/dashboard/customers/{customer_id:id}/contacts": lambda their: {"email": "spy@acme.test", "role": "ADMIN"},
    "/dashboard/customers/{customer_id:id}/contacts/{contact_id:id}": lambda their: {"action": "deactivate",
                                                                                    "role": "ADMIN"},
    "/dashboard/settings/team/members/{user_id:id}/role": lambda their: {"role": "ADMIN"},
}
# Routes outside /dashboard: pages for people who are not signed in (yet), and why.
PUBLIC = {
    "/": "sends a visitor to the dashboard or the sign-in page",
    "/login": "sign in", "/signup": "sign up", "/logout": "sign out", "/forgot-password": "ask for a reset link",
    "/reset-password": "set a new password with the emailed link",
    "/invite/{token}": "the emailed link is the credential: whoever holds it sees the offer",
}
SECRETS = ("Globex VIP", "vip@globex.test", "insider@globex.test", "recruit@globex.test", "PO-GLO", "Globex ERP",
           "erp.globex.example", "secret-reports@globex.test", "hooked@globex.test")


def _routes() -> list[Route]:
    from distribu.web.areas import every_route
    from distribu_dashboard import desk
    from distribu_dashboard.app import app

    return [route for route in every_route(app.routes) if isinstance(route, Route)
            and not route.path.startswith(desk.STATIC_PREFIX)]


def _parameters(path: str) -> list[str]:
    return re.findall(r"\{(\w+)(?::\w+)?\}", path)


def _partition(company_id: str) -> list[dict[str, Any]]:
    """Every item of the company, to compare before and after."""
    from distribu import dynamo

    client, items, request = dynamo.dynamodb(), [], {"TableName": dynamo.table_name()}
    while True:
        response = client.scan(**request)
        items += [item for item in response["Items"] if item["PK"]["S"].startswith(f"C#{company_id}")]
        if not response.get("LastEvaluatedKey"):
            break
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return sorted(items, key=lambda item: (item["PK"]["S"], item["SK"]["S"]))


def test_every_id_route_of_the_dashboard_is_404_for_another_companys_records(owner: Browser, tenant,
                                                                             other_tenant) -> None:
    their = Their(other_tenant.company_id)
    walks = []
    for route in _routes():
        parameters = [name for name in _parameters(route.path) if name not in NAMES]
        if not route.path.startswith("/dashboard") or not parameters:
            continue
        path = route.path
        for name in _parameters(route.path):
            assert name in THEIRS or name in NAMES, f"{route.path}: add {name} to the walk (THEIRS in {__name__})"
            value = NAMES[name][0] if name in NAMES else THEIRS[name](their)
            path = re.sub(r"\{" + name + r"(?::\w+)?\}", value, path)
        walks.append((route, path))
    assert walks, "no dashboard route with parameters?"
    body_of = {route.path: POST_BODIES.get(route.path, lambda their: {})(their) for route, _ in walks}
    before = _partition(other_tenant.company_id)
    walked = 0
    for route, path in walks:
        for method in sorted((route.methods or set()) - {"HEAD"}):
            owner.get("/dashboard")  # a fresh form token of company A's session
            response = owner.get(path) if method == "GET" else owner.post(path, body_of[route.path])
            assert response.status in (404, 403), (method, route.path, response.status, response.text[:200])
            for secret in SECRETS:
                assert secret not in response.html, (method, route.path, secret)
            walked += 1
    assert walked >= len(walks)
    print(f"walked {walked} requests over {len(walks)} routes")
    assert _partition(other_tenant.company_id) == before, "another company's records changed"


def test_signed_out_every_dashboard_page_sends_to_sign_in_and_the_rest_is_public(client: Browser, tenant,
                                                                                 other_tenant) -> None:
    their = Their(other_tenant.company_id)
    client.get("/login")  # a CSRF token of the signed-out browser: only the missing session may refuse
    checked = 0
    for route in _routes():
        if not route.path.startswith("/dashboard"):
            assert route.path in PUBLIC, f"{route.path} is outside /dashboard: add it to PUBLIC (and why) or move it"
            continue
        path = route.path
        for name in _parameters(route.path):
            assert name in THEIRS or name in NAMES, f"{route.path}: add {name} to the walk (THEIRS in {__name__})"
            value = NAMES[name][0] if name in NAMES else THEIRS[name](their)
            path = re.sub(r"\{" + name + r"(?::\w+)?\}", value, path)
        for method in sorted((route.methods or set()) - {"HEAD"}):
            if method == "GET":
                response = client.get(path)
                # the web foundation answers a GET with 302 and a POST with 303 (distribu.web.app.sign_in_first)
                assert response.status == 302, (route.path, response.status)
                expected = "/login" if path == "/dashboard" else "/login?next="
                assert response.location.startswith(expected), (route.path, response.location)
            else:
                response = client.post(path, POST_BODIES.get(route.path, lambda their: {})(their))
                assert response.status == 303 and response.location.startswith("/login"), (route.path, response.status)
            checked += 1
    assert checked >= 10
