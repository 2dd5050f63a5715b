"""Who is shopping: a customer account's primary sign-in or one of its contacts, and what each may do.

Roles (product spec, section 3): ADMIN browses, orders, sees every order of the account and manages
contacts; BUYER browses, orders and sees the orders it placed; VIEWER browses and sees orders and
invoices but cannot order. The primary customer sign-in acts as the account's ADMIN. These checks run
in the domain, so a request crafted by hand meets the same rule as the page that hides the button.
"""

from __future__ import annotations

from dataclasses import dataclass

from distribu import audit
from distribu.errors import Forbidden

ROLES = ("ADMIN", "BUYER", "VIEWER")
ROLE_NAMES = {"ADMIN": "Admin", "BUYER": "Buyer", "VIEWER": "Viewer"}


@dataclass(frozen=True)
class Buyer:
    company_id: str
    customer_id: str
    contact_id: str | None  # None: the account's primary sign-in
    role: str
    name: str
    email: str

    @property
    def principal_id(self) -> str:
        return self.contact_id or self.customer_id

    @property
    def is_primary(self) -> bool:
        return self.contact_id is None

    @property
    def can_order(self) -> bool:
        return self.role in ("ADMIN", "BUYER")

    @property
    def sees_all_orders(self) -> bool:
        return self.role in ("ADMIN", "VIEWER")

    @property
    def manages_contacts(self) -> bool:
        return self.role == "ADMIN"

    def require_ordering(self) -> None:
        if not self.can_order:
            raise Forbidden(f"Your role ({ROLE_NAMES.get(self.role, self.role)}) can browse and see orders, "
                            "but cannot place orders. Ask your account's admin to change it.")

    def require_contact_management(self) -> None:
        if not self.manages_contacts:
            raise Forbidden("Only your account's admins can manage its sign-ins.")

    def actor(self) -> audit.Actor:
        return audit.Actor("CUSTOMER", self.principal_id, self.name or self.email)
