"""The staff role table (product spec, section 1), checked in the domain on every action.

| action            | OWNER | ADMIN | MEMBER |
|-------------------|-------|-------|--------|
| view              | yes   | yes   | yes    | sign in, see inventory, customers, orders, reports
| catalog           | yes   | yes   | yes    | create and edit products, stock, images, imports
| customers         | yes   | yes   | yes    | edit customers, prices, contacts
| orders            | yes   | yes   | yes    | place and manage orders
| team.invite       | yes   | yes   | no     | invite members (as ADMIN or MEMBER)
| team.remove       | yes   | yes*  | no     | *an ADMIN removes MEMBERs only
| team.role         | yes   | no    | no     | change a member's role
| settings          | yes   | yes   | no     | API keys, webhooks, audit log, company settings
| company.delete    | yes   | no    | no     |
| reports.schedule  | yes   | yes   | no     | scheduled reports: create, edit, pause, delete

Nobody removes themselves or the owner. Pages hide what a role cannot do, but the rule is here.
"""

from __future__ import annotations

from dataclasses import dataclass

from distribu import audit
from distribu.errors import Forbidden

ROLES = ("OWNER", "ADMIN", "MEMBER")
ALLOWED: dict[str, frozenset[str]] = {
    "view": frozenset(ROLES),
    "catalog": frozenset(ROLES),
    "customers": frozenset(ROLES),
    "orders": frozenset(ROLES),
    "team.invite": frozenset({"OWNER", "ADMIN"}),
    "team.remove": frozenset({"OWNER", "ADMIN"}),
    "team.role": frozenset({"OWNER"}),
    "settings": frozenset({"OWNER", "ADMIN"}),
    "company.delete": frozenset({"OWNER"}),
    "reports.schedule": frozenset({"OWNER", "ADMIN"}),
}
REFUSALS = {
    "team.invite": "Only owners and admins can invite team members.",
    "team.remove": "Only owners and admins can remove team members.",
    "team.role": "Only the owner can change a member's role.",
    "settings": "Only owners and admins can manage company settings, API keys, webhooks and the audit log.",
    "company.delete": "Only the owner can delete the company.",
    "reports.schedule": "Only owners and admins can manage scheduled reports.",
}


def allowed(role: str, action: str) -> bool:
    return role in ALLOWED[action]


@dataclass(frozen=True)
class Staff:
    """A signed-in staff member working in one company."""

    user_id: str
    email: str
    name: str
    company_id: str
    role: str

    def can(self, action: str) -> bool:
        return allowed(self.role, action)

    def require(self, action: str) -> None:
        if not allowed(self.role, action):
            raise Forbidden(REFUSALS.get(action, "Your role does not allow this."))

    def actor(self) -> audit.Actor:
        return audit.Actor("USER", self.user_id, self.name or self.email)
