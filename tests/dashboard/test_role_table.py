"""The staff role table of the product spec (section 1), row by row, for each role.

Two layers, both table-driven:

- ``SPEC``: the table as the spec writes it, held against the domain's own table
  (:data:`distribu.permissions.ALLOWED`), which every verb checks.
- ``PAGES``: each row's pages and forms, done through the real dashboard handler by an OWNER, an ADMIN and
  a MEMBER. Allowed: the page answers and the change is there. Refused: 403 and nothing changed.

An area adding a page adds one line to ``PAGES`` (its row, what it does, who may, how to do it through the
page, how to see it done). A row without pages yet (API keys, company deletion...) is still held in the
domain by ``SPEC``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Optional

import pytest

from tests import factories
from tests.dashboard.conftest import signed_in
from tests.web_client import Browser, PageResponse

OWNER, ADMIN, MEMBER = "OWNER", "ADMIN", "MEMBER"
ROLES = (OWNER, ADMIN, MEMBER)
ALL = frozenset(ROLES)
MANAGERS = frozenset({OWNER, ADMIN})
ONLY_OWNER = frozenset({OWNER})

# product.md section 1: row -> (who may, the domain's actions for it)
VIEW = "Sign in, view inventory, customers, orders"
WORK = "Create / edit products, place and manage orders"
INVITE = "Invite members (as ADMIN or MEMBER; link valid 7 days)"
REMOVE = "Remove members"
ROLE = "Change a member's role"
SETTINGS = "API keys, webhooks, audit log, company settings"
DELETE = "Delete the company"
SPEC: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    VIEW: (ALL, ("view",)),
    WORK: (ALL, ("catalog", "orders", "customers")),  # customers: edit accounts, prices, contacts
    INVITE: (MANAGERS, ("team.invite",)),
    REMOVE: (MANAGERS, ("team.remove",)),  # "yes, not other admins": an ADMIN removes MEMBERs only (PAGES)
    ROLE: (ONLY_OWNER, ("team.role",)),
    SETTINGS: (MANAGERS, ("settings",)),
    DELETE: (ONLY_OWNER, ("company.delete",)),
}
# Actions the product added beyond the spec's table (section 16), with who may.
BEYOND = "Schedule reports by email (beyond the spec's table; like settings: owners and admins)"
EXTRA: dict[str, tuple[frozenset[str], tuple[str, ...]]] = {
    BEYOND: (MANAGERS, ("reports.schedule",)),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("row", list(SPEC) + list(EXTRA))
def test_the_domain_holds_the_spec_table(row: str, role: str) -> None:
    from distribu.errors import Forbidden
    from distribu.permissions import Staff

    allowed, actions = {**SPEC, **EXTRA}[row]
    staff = Staff("user", "someone@acme.test", "Someone", "company", role)
    for action in actions:
        assert staff.can(action) is (role in allowed), (row, action, role)
        if role in allowed:
            staff.require(action)
        else:
            with pytest.raises(Forbidden):
                staff.require(action)


def test_every_domain_action_is_in_a_row() -> None:
    from distribu.permissions import ALLOWED

    assert set(ALLOWED) == {action for _, actions in [*SPEC.values(), *EXTRA.values()] for action in actions}


# --- the pages -------------------------------------------------------------------------------------------------

TEAM = "/dashboard/settings/team"
EMAILS = {OWNER: factories.owner_email("Acme Distributors"), ADMIN: "admin@acme.test", MEMBER: "member@acme.test"}


@dataclass
class World:
    """The company of the test: its owner, an ADMIN and a MEMBER to act, and whatever a case acts on
    (made when first asked for, before the request)."""

    stack: Any
    tenant: factories.Tenant

    def __post_init__(self) -> None:
        factories.staff_member(self.tenant.company_id, EMAILS[ADMIN], role=ADMIN, name="Ada Admin")
        factories.staff_member(self.tenant.company_id, EMAILS[MEMBER], role=MEMBER, name="Max Member")

    def browser(self, role: str) -> Browser:
        return signed_in(self.stack, EMAILS[role])

    @cached_property
    def customer(self) -> dict[str, Any]:
        return factories.customer_with_history(self.tenant.company_id, orders=1)

    @cached_property
    def customer_url(self) -> str:
        return f"/dashboard/customers/{self.customer['customer']['id']}"

    @cached_property
    def target_member(self) -> Any:
        return factories.staff_member(self.tenant.company_id, "target.member@acme.test", role=MEMBER)

    @cached_property
    def target_admin(self) -> Any:
        return factories.staff_member(self.tenant.company_id, "target.admin@acme.test", role=ADMIN)

    @cached_property
    def invitation_id(self) -> str:
        from distribu import team

        invitation, _ = team.invite(factories.staff_of(self.tenant.company_id), email="pending@acme.test", role=MEMBER)
        return invitation.id

    # what the cases look at
    def customer_now(self) -> dict[str, Any]:
        from distribu import customers

        return customers.get_customer(self.tenant.company_id, self.customer["customer"]["id"])

    def prices(self) -> dict[str, float]:
        from distribu import pricing

        return {p["productId"]: p["price"] for p in pricing.list_overrides(self.tenant.company_id,
                                                                           self.customer["customer"]["id"])}

    def contacts(self) -> set[str]:
        from distribu import contacts

        return {c["email"] for c in contacts.list_contacts(self.tenant.company_id, self.customer["customer"]["id"])}

    def contact_active(self) -> bool:
        from distribu import contacts

        return contacts.get_contact(self.tenant.company_id, self.customer["customer"]["id"],
                                    self.customer["contact"]["id"]).get("active", True)

    def roles(self) -> dict[str, str]:
        from distribu import companies

        return {m["email"]: m["role"] for m in companies.members(self.tenant.company_id)}

    def invitations(self) -> set[str]:
        from distribu import team

        return {i.email for i in team.team_of(factories.staff_of(self.tenant.company_id)).invitations}


Act = Callable[[Browser, World], PageResponse]


@dataclass(frozen=True)
class Case:
    row: str
    what: str
    allowed: frozenset[str]
    act: Act
    done: Optional[Callable[[World], bool]] = None  # None: a page that only shows something
    prepare: Callable[[World], Any] = lambda world: None  # make what the case acts on, before the request
    success: int = 303


PAGES: list[Case] = [
    # -- row: sign in, view -------------------------------------------------------------------------------------
    Case(VIEW, "home", ALL, lambda b, w: b.get("/dashboard"), success=200),
    Case(VIEW, "the customers list", ALL, lambda b, w: b.get("/dashboard/customers"), success=200),
    Case(VIEW, "a customer's page", ALL, lambda b, w: b.get(w.customer_url), prepare=lambda w: w.customer_url,
         success=200),
    Case(VIEW, "the team page", ALL, lambda b, w: b.get(TEAM), success=200),
    Case(VIEW, "own profile", ALL, lambda b, w: b.get("/dashboard/settings/profile"), success=200),
    # -- row: create / edit (customers: accounts, prices, contacts) ---------------------------------------------
    Case(WORK, "a customer's notes and credit limit", ALL,
         lambda b, w: b.post(w.customer_url, {"notes": "Role table", "creditLimit": "12"}),
         done=lambda w: w.customer_now()["notes"] == "Role table", prepare=lambda w: w.customer_url),
    Case(WORK, "block a customer", ALL, lambda b, w: b.post(w.customer_url + "/status", {"status": "BLOCKED"}),
         done=lambda w: w.customer_now()["status"] == "BLOCKED", prepare=lambda w: w.customer_url),
    Case(WORK, "a custom price", ALL,
         lambda b, w: b.post(w.customer_url + "/prices", {"sku": w.customer["sku"], "price": "9.99"}),
         done=lambda w: w.prices() == {w.customer["product"]["id"]: 9.99}, prepare=lambda w: w.customer_url),
    Case(WORK, "remove a custom price", ALL,
         lambda b, w: b.post(f"{w.customer_url}/prices/{w.customer['product']['id']}/remove"),
         done=lambda w: w.prices() == {}, prepare=lambda w: w.customer_url),
    Case(WORK, "invite a customer contact", ALL,
         lambda b, w: b.post(w.customer_url + "/contacts", {"email": "new@northwind.test", "role": "BUYER"}),
         done=lambda w: "new@northwind.test" in w.contacts(), prepare=lambda w: w.customer_url),
    Case(WORK, "deactivate a customer contact", ALL,
         lambda b, w: b.post(f"{w.customer_url}/contacts/{w.customer['contact']['id']}", {"action": "deactivate"}),
         done=lambda w: not w.contact_active(), prepare=lambda w: w.customer_url),
    # -- row: invite members ------------------------------------------------------------------------------------
    Case(INVITE, "invite a member", MANAGERS, lambda b, w: b.post(TEAM, {"email": "new@acme.test", "role": MEMBER}),
         done=lambda w: "new@acme.test" in w.invitations()),
    Case(INVITE, "withdraw an invitation", MANAGERS,
         lambda b, w: b.post(f"{TEAM}/invitations/{w.invitation_id}/revoke"),
         done=lambda w: "pending@acme.test" not in w.invitations(), prepare=lambda w: w.invitation_id),
    # -- row: remove members (an ADMIN removes MEMBERs, not other admins) ---------------------------------------
    Case(REMOVE, "remove a member", MANAGERS,
         lambda b, w: b.post(f"{TEAM}/members/{w.target_member.id}/remove"),
         done=lambda w: "target.member@acme.test" not in w.roles(), prepare=lambda w: w.target_member),
    Case(REMOVE, "remove an admin", ONLY_OWNER,
         lambda b, w: b.post(f"{TEAM}/members/{w.target_admin.id}/remove"),
         done=lambda w: "target.admin@acme.test" not in w.roles(), prepare=lambda w: w.target_admin),
    # -- row: change a member's role ----------------------------------------------------------------------------
    Case(ROLE, "make a member admin", ONLY_OWNER,
         lambda b, w: b.post(f"{TEAM}/members/{w.target_member.id}/role", {"role": ADMIN}),
         done=lambda w: w.roles()["target.member@acme.test"] == ADMIN, prepare=lambda w: w.target_member),
    Case(VIEW, "the inventory", ALL, lambda b, w: b.get("/dashboard/inventory"), success=200),
    Case(VIEW, "the orders", ALL, lambda b, w: b.get("/dashboard/orders"), success=200),
    Case(VIEW, "the reports", ALL, lambda b, w: b.get("/dashboard/reports"), success=200),
    # -- rows: API keys, webhooks, audit log, company settings; delete the company -------------------------------
    Case(SETTINGS, "the API keys page", MANAGERS, lambda b, w: b.get("/dashboard/settings/api-keys"), success=200),
    Case(SETTINGS, "the webhooks page", MANAGERS, lambda b, w: b.get("/dashboard/settings/webhooks"), success=200),
    Case(SETTINGS, "the audit log", MANAGERS, lambda b, w: b.get("/dashboard/settings/audit"), success=200),
    Case(SETTINGS, "the company settings", MANAGERS, lambda b, w: b.get("/dashboard/settings/company"), success=200),
    Case(BEYOND, "the report schedules", MANAGERS, lambda b, w: b.get("/dashboard/reports/scheduled/new"),
         success=200),
    Case(DELETE, "the delete-the-company page", ONLY_OWNER, lambda b, w: b.get("/dashboard/settings/company/delete"),
         success=200),
    # (each area adds its forms' lines here: what it changes, who may, and how to see it done)
]


def test_every_row_of_the_spec_has_pages_or_is_held_in_the_domain() -> None:
    assert {case.row for case in PAGES} <= set(SPEC) | set(EXTRA)
    assert {VIEW, WORK, INVITE, REMOVE, ROLE} <= {case.row for case in PAGES}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", PAGES, ids=lambda case: case.what.replace(" ", "-"))
def test_each_role_through_the_pages(case: Case, role: str, stack, tenant) -> None:
    world = World(stack, tenant)
    case.prepare(world)
    if case.done is not None:
        assert not case.done(world), "the change is there before anyone asked for it"
    browser = world.browser(role)
    response = case.act(browser, world)
    if role in case.allowed:
        assert response.status == case.success, (case.what, role, response.status, response.text[:300])
        if case.done is not None:
            assert case.done(world), (case.what, role)
    else:
        assert response.status == 403, (case.what, role, response.status)
        assert case.done is None or not case.done(world), (case.what, role, "changed anyway")
