"""Shipping addresses of a customer account: any number (up to 50), one default. Managed by the
customer's people on the storefront, read-only for staff; an order freezes a copy of the one it ships to.

The whole book is one item (``C#{company}`` / ``ADDRESSBOOK#{customer}``), so a page that needs it (the
checkout beside the catalog) reads it in the same batch as the cart, not with a Query of its own. Every
change is a conditional write on the book's version: two people editing at once never lose an address.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from distribu import audit, clock, dynamo, ids, keys
from distribu.errors import BusinessRuleViolation, Conflict, NotFound, ValidationError

NOT_FOUND = "Address not found."
MAX_ADDRESSES = 50
FIELDS = ("name", "company", "line1", "line2", "city", "region", "postalCode", "country", "phone")
_LIMITS = {"name": 200, "company": 200, "line1": 200, "line2": 200, "city": 100, "region": 100, "postalCode": 20,
           "country": 56, "phone": 40}
_REQUIRED = {"line1": "Enter the street address.", "city": "Enter the city.", "country": "Enter the country."}


def book_key(company_id: str, customer_id: str) -> tuple[str, str]:
    return keys.company(company_id), keys.address_book_sk(customer_id)


def clean(values: Mapping[str, Any]) -> dict[str, str]:
    """The address as stored: trimmed, blanks dropped; each problem named by field (400)."""
    address: dict[str, str] = {}
    problems = []
    for name in FIELDS:
        value = " ".join(str(values.get(name) or "").split())
        if not value:
            if name in _REQUIRED:
                problems.append({"field": name, "message": _REQUIRED[name]})
            continue
        if len(value) > _LIMITS[name]:
            problems.append({"field": name, "message": f"Use at most {_LIMITS[name]} characters."})
        elif name == "country" and len(value) < 2:
            problems.append({"field": name, "message": "Enter the country (at least 2 characters)."})
        address[name] = value
    if problems:
        raise ValidationError("Validation failed.", details=problems)
    return address


def addresses_in(book: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The book's addresses, the default first, then oldest first; each with ``id`` and ``isDefault``."""
    if not book:
        return []
    default = book.get("defaultId")
    entries = [{**entry, "isDefault": entry["id"] == default} for entry in book.get("addresses") or []]
    return sorted(entries, key=lambda entry: (not entry["isDefault"], entry.get("createdAt", "")))


def list_addresses(company_id: str, customer_id: str) -> list[dict[str, Any]]:
    return addresses_in(dynamo.get(*book_key(company_id, customer_id)))


def get_address(company_id: str, customer_id: str, address_id: str) -> dict[str, Any]:
    for entry in list_addresses(company_id, customer_id):
        if entry["id"] == address_id:
            return entry
    raise NotFound(NOT_FOUND)


def snapshot(address: Mapping[str, Any]) -> dict[str, str]:
    """What an order keeps of an address (the fields only: later edits never reach the order)."""
    return {name: address[name] for name in FIELDS if address.get(name)}


# Countries that write the city first, then the region and the postal code ("Portland, OR 97209").
_CITY_FIRST = {"us", "usa", "u.s.", "u.s.a.", "united states", "united states of america", "ca", "canada", "au",
               "australia"}


def locality(address: Mapping[str, Any]) -> str:
    """The city line as the address's country writes it: "Portland, OR 97209" in the US, Canada and
    Australia; "10115 Berlin" elsewhere, with a region after a comma ("20121 Milano, MI")."""
    city, region, postal = address.get("city"), address.get("region"), address.get("postalCode")
    if str(address.get("country") or "").strip().lower() in _CITY_FIRST:
        return " ".join(part for part in (", ".join(part for part in (city, region) if part), postal) if part)
    return ", ".join(part for part in (" ".join(part for part in (postal, city) if part), region) if part)


def lines(address: Mapping[str, Any], *, phone: bool = True) -> list[str]:
    """An address as printed, a line each (every page, the invoice and the emails use this one format)."""
    parts = [address.get("name"), address.get("company"), address.get("line1"), address.get("line2"),
             locality(address), address.get("country"), address.get("phone") if phone else None]
    return [str(part).strip() for part in parts if part and str(part).strip()]


def one_line(address: Mapping[str, Any]) -> str:
    return ", ".join(lines(address, phone=False))


def _change(company_id: str, customer_id: str, actor: audit.Actor, action: str,
            edit: Callable[[list[dict[str, Any]], str | None], tuple[list[dict[str, Any]], str | None, dict[str, Any]]],
            attempts: int = 4) -> list[dict[str, Any]]:
    """Read the book, apply ``edit`` (addresses, default id) -> (addresses, default id, audit details), and
    write it back only if nobody changed it meanwhile (else read again)."""
    pk, sk = book_key(company_id, customer_id)
    for _ in range(attempts):
        current = dynamo.get(pk, sk)
        version = int(current["version"]) if current else 0
        entries = [dict(entry) for entry in (current or {}).get("addresses") or []]
        entries, default_id, details = edit(entries, (current or {}).get("defaultId"))
        now = clock.now_iso()
        item = {"PK": pk, "SK": sk, "entity": "ADDRESSBOOK", "customerId": customer_id, "addresses": entries,
                "defaultId": default_id, "version": version + 1, "updatedAt": now}
        condition = ("version = :version", {":version": version}) if current else ("attribute_not_exists(PK)", None)
        try:
            dynamo.transact([
                dynamo.condition_check(pk, keys.customer_sk(customer_id), "attribute_exists(PK)"),
                dynamo.put(item, condition=condition[0], values=condition[1]),
                audit.entry(company_id, actor, action, "Customer", customer_id, details, at=now),
            ])
            return addresses_in(item)
        except dynamo.TransactionCancelled as cancelled:
            if 0 in cancelled.failed_indexes():
                raise NotFound("Customer not found.") from None
    raise Conflict("The address book is being changed by someone else; try again.")


def add_address(company_id: str, customer_id: str, values: Mapping[str, Any], actor: audit.Actor, *,
                make_default: bool = False) -> dict[str, Any]:
    """A new address; the account's first one becomes its default."""
    address = clean(values)
    address_id = ids.new_id()

    def edit(entries: list[dict[str, Any]], default_id: str | None) -> tuple[list[dict[str, Any]], str | None, dict[str, Any]]:
        if len(entries) >= MAX_ADDRESSES:
            raise BusinessRuleViolation(f"An account can keep at most {MAX_ADDRESSES} addresses.")
        entries.append({"id": address_id, **address, "createdAt": clock.now_iso()})
        return entries, address_id if make_default or not default_id else default_id, {
            "addressId": address_id, "after": address}

    book = _change(company_id, customer_id, actor, "CustomerAddressAdded", edit)
    return next(entry for entry in book if entry["id"] == address_id)


def make_default(company_id: str, customer_id: str, address_id: str, actor: audit.Actor) -> None:
    def edit(entries: list[dict[str, Any]], default_id: str | None) -> tuple[list[dict[str, Any]], str | None, dict[str, Any]]:
        if not any(entry["id"] == address_id for entry in entries):
            raise NotFound(NOT_FOUND)
        return entries, address_id, {"addressId": address_id, "default": True}

    _change(company_id, customer_id, actor, "CustomerAddressUpdated", edit)


def delete_address(company_id: str, customer_id: str, address_id: str, actor: audit.Actor) -> None:
    """Remove an address; when it was the default, the oldest remaining one takes over."""
    def edit(entries: list[dict[str, Any]], default_id: str | None) -> tuple[list[dict[str, Any]], str | None, dict[str, Any]]:
        removed = next((entry for entry in entries if entry["id"] == address_id), None)
        if removed is None:
            raise NotFound(NOT_FOUND)
        remaining = [entry for entry in entries if entry["id"] != address_id]
        if default_id == address_id:
            default_id = min(remaining, key=lambda entry: entry.get("createdAt", ""))["id"] if remaining else None
        return remaining, default_id, {"addressId": address_id, "before": snapshot(removed)}

    _change(company_id, customer_id, actor, "CustomerAddressDeleted", edit)
