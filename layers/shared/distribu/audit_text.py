"""Audit entries in words, for people: "Ann (staff) changed the price of Widget Blue from 8.50 to 9.00".

One place words every action, so the dashboard's home and its audit log read the same. An action this
module does not know yet still reads sensibly ("Ann (staff): WebhookCreated on Webhook 01ab…").
"""

from __future__ import annotations

import re
from typing import Any

ACTOR_KINDS = {"USER": "staff", "CUSTOMER": "customer", "SYSTEM": "system", "API_KEY": "API key"}
FIELD_NAMES = {"price": "the price", "stock": "the stock", "name": "the name", "sku": "the SKU",
               "isActive": "the status", "category": "the category", "description": "the description",
               "unit": "the unit", "imageUrl": "the image", "lowStockThreshold": "the low-stock threshold",
               "status": "the status", "notes": "the notes", "creditLimit": "the credit limit", "email": "the email",
               "taxRateOverride": "the tax rate", "slug": "the slug", "taxRate": "the tax rate",
               "rateLimitPerMinute": "the API rate limit", "senderName": "the email sender name",
               "url": "the URL", "events": "the events", "role": "the role"}
MONEY_FIELDS = {"price", "creditLimit", "total", "unitPrice"}
PERCENT_FIELDS = {"taxRate", "taxRateOverride"}


def actor_label(entry: dict[str, Any]) -> str:
    kind = ACTOR_KINDS.get(entry.get("actorType", ""), entry.get("actorType", "").lower())
    return f"{entry.get('actorName') or 'Someone'} ({kind})"


def _value(value: Any, field: str = "") -> str:
    if value is None or value == "":
        return "nothing"
    if field in MONEY_FIELDS and isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            return f"{float(value):,.2f}"
        except ValueError:
            return str(value)
    if field in PERCENT_FIELDS and not isinstance(value, bool):
        try:
            return f"{float(value) * 100:g} %"
        except (TypeError, ValueError):
            return str(value)
    if field == "isActive" and isinstance(value, bool):
        return "active" if value else "inactive"
    if isinstance(value, list):
        return ", ".join(str(part) for part in value) or "none"
    if isinstance(value, bool):
        return "active" if value else "inactive"
    if isinstance(value, float) and value == int(value):
        return f"{value:.2f}"
    return str(value)


def _subject(entry: dict[str, Any]) -> str:
    details = entry.get("details") or {}
    if isinstance(details.get("name"), str) and details["name"]:
        return details["name"]
    for side in ("after", "before"):
        named = (details.get(side) or {}) if isinstance(details.get(side), dict) else {}
        if named.get("name"):
            return str(named["name"])
    return f"{entry.get('entityType', 'record').lower()} {str(entry.get('entityId', ''))[-8:].upper()}"


def _change_list(entry: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(what, from, to) for each field an edit changed."""
    details = entry.get("details") or {}
    before, after = details.get("before") or {}, details.get("after") or {}
    if not isinstance(before, dict) or not isinstance(after, dict):
        return []
    return [(FIELD_NAMES.get(name, name), _value(before.get(name), name), _value(after.get(name), name))
            for name in after if name not in ("updatedAt", "createdAt", "id", "version")
            and before.get(name) != after.get(name)]


def _changes(entry: dict[str, Any]) -> str:
    parts = [f"{what} from {old} to {new}" for what, old, new in _change_list(entry)]
    return ", ".join(parts[:3]) + (f" and {len(parts) - 3} more" if len(parts) > 3 else "")


def _changed(who: str, entry: dict[str, Any], label: str) -> str:
    """"Ann (staff) changed the price of Widget Blue from 8.50 to 9.00" (one change), or "Ann (staff) changed
    Widget Blue: the price from 8.50 to 9.00, the stock from 4 to 6" (several)."""
    changes = _change_list(entry)
    if not changes:
        return f"{who} updated {label}"
    if len(changes) == 1:
        what, old, new = changes[0]
        return f"{who} changed {what} of {label} from {old} to {new}"
    return f"{who} changed {label}: {_changes(entry)}"


def describe(entry: dict[str, Any]) -> str:
    who = actor_label(entry)
    action = entry.get("action", "")
    details = entry.get("details") or {}
    subject = _subject(entry)
    if action == "ProductCreated":
        return f"{who} added the product {subject}"
    if action in ("ProductUpdated", "CustomerUpdated"):
        return _changed(who, entry, subject)
    if action == "ProductDeleted":
        return f"{who} deleted the product {subject}"
    if action == "ProductBulkUpdated":
        count = details.get("count") or len(details.get("products") or [])
        mode = details.get("mode", "")
        how = f" (set to {details.get('value')})" if mode == "set" else f" ({details.get('value'):+})" if mode == "delta" and isinstance(details.get("value"), int) else ""
        return f"{who} adjusted the stock of {count} products{how}"
    if action == "OrderPlaced":
        source = {"STOREFRONT": "on the storefront", "DASHBOARD": "in the dashboard", "API": "through the API"}.get(
            details.get("source", ""), "")
        total = details.get("total")
        return (f"{who} placed order {str(entry.get('entityId', ''))[-8:].upper()}"
                + (f" for ${total:,.2f}" if isinstance(total, (int, float)) else "") + (f" {source}" if source else ""))
    if action == "OrderStatusChanged":
        return (f"{who} moved order {str(entry.get('entityId', ''))[-8:].upper()} from "
                f"{str(details.get('from', '')).title()} to {str(details.get('to', '')).title()}")
    if action == "CustomerCreated":
        return f"{who} added the customer {(details.get('after') or {}).get('email') or subject}"
    if action == "CustomerStatusChanged":
        after = (details.get("after") or {}).get("status", "")
        verb = "blocked" if after == "BLOCKED" else "activated"
        return f"{who} {verb} the customer {(details.get('after') or {}).get('email') or subject}"
    if action == "PriceOverrideSet":
        return f"{who} set a custom price of {_value(details.get('after'))} for a customer"
    if action == "PriceOverrideDeleted":
        return f"{who} removed a customer's custom price"
    if action == "CustomerContactCreated":
        return f"{who} invited {details.get('email', 'a contact')} as {str(details.get('role', '')).title()}"
    if action == "ImportApplied":
        return f"{who} applied a CSV import"
    if action.startswith("Team"):
        return _team(who, action, details)
    if action.startswith("ApiKey"):
        name = details.get("name")
        label = f"the API key “{name}”" if name else f"API key {str(entry.get('entityId', ''))[-8:].upper()}"
        if action == "ApiKeyCreated":
            scopes = details.get("scopes") or []
            expiry = f", {_expiry(str(details['expiresAt']))}" if details.get("expiresAt") else ""
            listed = "all nine scopes" if len(set(scopes)) >= 9 else ", ".join(scopes)
            return f"{who} created {label}" + (f" ({listed}{expiry})" if scopes else "")
        if action == "ApiKeyRevoked":
            return f"{who} revoked {label}"
    if action.startswith("Webhook"):
        return _webhook(who, action, entry)
    if action == "CompanyCreated":
        return f"{who} created the company {details.get('name') or subject}"
    if action == "CompanySettingsUpdated":
        return _changed(who, entry, "the company settings")
    if action == "CustomerContactUpdated":
        return f"{who} updated a contact of customer {subject}"
    if action == "CustomerPasswordChanged":
        return f"{who} changed their storefront password"
    if action == "UserPasswordChanged":
        return f"{who} changed their password"
    if action == "UserProfileUpdated":
        return _changed(who, entry, "their profile")
    if action.startswith("ScheduledReport"):
        return _scheduled_report(who, action, details)
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", action).lower()
    return f"{who}: {words}" + (f" ({subject})" if entry.get("entityId") else "")


def _team(who: str, action: str, details: dict[str, Any]) -> str:
    email = details.get("email") or "someone"
    role = str(details.get("role") or (details.get("after") or {}).get("role") or "").title()
    if action == "TeamMemberInvited":
        return f"{who} invited {email} to the team as {role}"
    if action == "TeamMemberJoined":
        return f"{who} joined the team as {role}"
    if action == "TeamMemberRoleChanged":
        return f"{who} made {email} {role}"
    if action == "TeamMemberRemoved":
        return f"{who} removed {email} from the team"
    if action == "TeamInvitationRevoked":
        return f"{who} withdrew the invitation of {email}"
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", action).lower()
    return f"{who}: {words}"


def _webhook(who: str, action: str, entry: dict[str, Any]) -> str:
    details = entry.get("details") or {}
    after = details.get("after") if isinstance(details.get("after"), dict) else {}
    url = details.get("url") or (after or {}).get("url")
    label = f"the webhook {url}" if url else f"webhook {str(entry.get('entityId', ''))[-8:].upper()}"
    if action == "WebhookCreated":
        events = details.get("events") or []
        return f"{who} added {label}" + (f" for {', '.join(events)}" if events else "")
    if action == "WebhookDeleted":
        return f"{who} deleted {label}"
    if action == "WebhookSecretRotated":
        return f"{who} rotated the signing secret of {label}"
    if action == "WebhookDeliveryReplayed":
        return f"{who} replayed a {details.get('event') or 'delivery'} delivery to {label}"
    if action == "WebhookTestSent":
        return f"{who} sent a test event to {label}"
    if action == "WebhookUpdated":
        changes = _change_list(entry)
        if [what for what, _, _ in changes] == ["the status"]:
            verb = "enabled" if changes[0][2] == "active" else "disabled"
            reason = f" ({details['reason']})" if details.get("reason") else ""
            return f"{who} {verb} {label}{reason}"
        return _changed(who, entry, label)
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", action).lower()
    return f"{who}: {words} ({label})"


def _expiry(expires_at: str) -> str:
    """A key made to expire after a day is stored as the next midnight: "valid through 2099-12-31"."""
    from datetime import timedelta

    from distribu import clock

    try:
        moment = clock.parse_iso(expires_at)
    except ValueError:
        return f"expiring {expires_at}"
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return f"valid through {(moment - timedelta(days=1)).date().isoformat()}"
    return f"expiring {expires_at[:16].replace('T', ' ')} UTC"


def _scheduled_report(who: str, action: str, details: dict[str, Any]) -> str:
    after, before = details.get("after") or {}, details.get("before") or {}
    name = details.get("name") or after.get("name") or before.get("name") or "a scheduled report"
    if action == "ScheduledReportCreated":
        return f"{who} scheduled the report {name}"
    if action == "ScheduledReportUpdated":
        return f"{who} changed the scheduled report {name}"
    if action == "ScheduledReportPaused":
        return f"{who} paused the scheduled report {name}"
    if action == "ScheduledReportResumed":
        return f"{who} resumed the scheduled report {name}"
    if action == "ScheduledReportDeleted":
        return f"{who} deleted the scheduled report {name}"
    if action == "ScheduledReportSent":
        count = len(details.get("recipients") or [])
        return f"{who} emailed the report {name} to {count} recipient{'s' if count != 1 else ''}"
    if action == "ScheduledReportFailed":
        again = " (retrying)" if details.get("retryAt") else ""
        return f"{who} could not send the report {name}{again}: {details.get('error') or 'unknown error'}"
    words = re.sub(r"(?<!^)(?=[A-Z])", " ", action).lower()
    return f"{who}: {words}"
