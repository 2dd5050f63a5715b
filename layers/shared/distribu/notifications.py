"""The emails people get, worded once: new customer registered, password links, invitations.

Sending happens after the change it reports has committed; a failed send is logged and never undoes
the change (the person can ask for the link again).
"""

from __future__ import annotations

import logging
from typing import Any

from distribu import companies, emails

logger = logging.getLogger("distribu.notifications")


def _send(to: list[str], subject: str, text: str, company: Any = None) -> bool:
    """``company``: the emails of a company come from its sender name (company settings)."""
    if not to:
        return False
    try:
        emails.send(to, subject, text, sender_name=getattr(company, "email_sender_name", None))
        return True
    except Exception:  # noqa: BLE001 - an email must never fail the action that caused it
        logger.exception("Could not send %r to %d recipient(s)", subject, len(to))
        return False


def new_customer_registered(company: Any, *, name: str, email: str, dashboard_url: str) -> bool:
    """Every OWNER and ADMIN hears about a customer who registered on the storefront."""
    text = (f"A new customer registered on the {company.name} storefront.\n\n"
            f"Name:  {name}\nEmail: {email}\n\n"
            f"See their account: {dashboard_url}\n")
    return _send(companies.staff_emails(company.id), f"New customer: {name}", text, company)


def password_reset(company: Any, link: Any, url: str) -> bool:
    greeting = f"Hello {link.name},\n\n" if link.name else "Hello,\n\n"
    text = (greeting + f"Someone asked to reset the password of your {company.name} account ({link.email}).\n\n"
            f"Set a new password here (the link works once, for 1 hour):\n{url}\n\n"
            "If this was not you, ignore this email: your password stays as it is.\n")
    return _send([link.email], f"Reset your {company.name} password", text, company)


def contact_invited(company: Any, *, account_name: str, link: Any, url: str, invited_by: str) -> bool:
    greeting = f"Hello {link.name},\n\n" if link.name else "Hello,\n\n"
    text = (greeting + f"{invited_by} invited you to order from {company.name} for {account_name}.\n\n"
            f"Set your password here (the link works once, for 7 days):\n{url}\n\n"
            f"Then sign in with {link.email}.\n")
    return _send([link.email], f"You are invited to the {company.name} store", text, company)


def staff_invited(company_name: str, *, email: str, role: str, url: str, invited_by: str) -> bool:
    text = (f"{invited_by} invited you to join {company_name} on Distribu as {role.title()}.\n\n"
            f"Accept the invitation here (valid for 7 days, once):\n{url}\n")
    return _send([email], f"Join {company_name} on Distribu", text)


def staff_password_reset(email: str, name: str, url: str) -> bool:
    greeting = f"Hello {name},\n\n" if name else "Hello,\n\n"
    text = (greeting + "Someone asked to reset your Distribu password.\n\n"
            f"Set a new password here (the link works once, for 1 hour):\n{url}\n\n"
            "If this was not you, ignore this email: your password stays as it is.\n")
    return _send([email], "Reset your Distribu password", text)
