"""Shipping addresses of a customer account: any number, one default. Managed by the customer's people
on the storefront, read-only for staff; an order freezes a copy of the one it ships to."""

from __future__ import annotations

from typing import Any

from distribu import audit, clock, dynamo, ids, keys
from distribu.errors import BusinessRuleViolation, NotFound, ValidationError

NOT_FOUND = "Address not found."
MAX_ADDRESSES = 50
FIELDS = ("name", "company", "line1", "line2", "city", "region", "postalCode", "country", "phone")
_LIMITS = {"name": 200, "company": 200, "line1": 200, "line2": 200, "city": 100, "region": 100, "postalCode": 20,
           "country": 56, "phone": 40}
_REQUIRED = {"line1": "Enter the street address.", "city": "Enter the city.", "country": "Enter the country."}


def clean(values: dict[str, Any]) -> dict[str, str]:
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


def list_addresses(company_id: str, customer_id: str) -> list[dict[str, Any]]:
    """The default first, then oldest first (a handful of items: one Query)."""
    response = dynamo.dynamodb().query(
        TableName=dynamo.table_name(), KeyConditionExpression="PK = :pk AND begins_with(SK, :prefix)",
        ExpressionAttributeValues={":pk": {"S": keys.company(company_id)},
                                   ":prefix": {"S": keys.addresses_prefix(customer_id)}})
    items = [dynamo.from_item(raw) or {} for raw in response.get("Items", [])]
    return sorted(items, key=lambda item: (not item.get("isDefault"), item.get("createdAt", "")))


def get_address(company_id: str, customer_id: str, address_id: str) -> dict[str, Any]:
    if not address_id or len(address_id) > 40:
        raise NotFound(NOT_FOUND)
    return dynamo.get_record(keys.company(company_id), keys.address_sk(customer_id, address_id), "ADDRESS", NOT_FOUND)


def snapshot(address: dict[str, Any]) -> dict[str, str]:
    """What an order keeps of an address (the fields only: later edits never reach the order)."""
    return {name: address[name] for name in FIELDS if address.get(name)}


def one_line(address: dict[str, Any]) -> str:
    parts = [address.get("name"), address.get("company"), address.get("line1"), address.get("line2"),
             " ".join(part for part in (address.get("postalCode"), address.get("city")) if part),
             address.get("region"), address.get("country")]
    return ", ".join(part for part in parts if part)


def add_address(company_id: str, customer_id: str, values: dict[str, Any], actor: audit.Actor, *,
                make_default: bool = False) -> dict[str, Any]:
    """A new address; the account's first one becomes its default."""
    address = clean(values)
    existing = list_addresses(company_id, customer_id)
    if len(existing) >= MAX_ADDRESSES:
        raise BusinessRuleViolation(f"An account can keep at most {MAX_ADDRESSES} addresses.")
    address_id = ids.new_id()
    now = clock.now_iso()
    default = make_default or not existing
    item = {"PK": keys.company(company_id), "SK": keys.address_sk(customer_id, address_id), "entity": "ADDRESS",
            "id": address_id, "customerId": customer_id, **address, "isDefault": default,
            "createdAt": now, "updatedAt": now}
    writes = [dynamo.put(item, condition="attribute_not_exists(PK)")]
    writes += [_unset_default(company_id, customer_id, other["id"]) for other in existing if default and other.get("isDefault")]
    writes.append(audit.entry(company_id, actor, "CustomerAddressAdded", "Customer", customer_id,
                              {"addressId": address_id, "after": address}, at=now))
    dynamo.transact(writes)
    return item


def _unset_default(company_id: str, customer_id: str, address_id: str) -> dict[str, Any]:
    return dynamo.update(keys.company(company_id), keys.address_sk(customer_id, address_id),
                         "SET isDefault = :false", condition="attribute_exists(PK)", values={":false": False})


def update_address(company_id: str, customer_id: str, address_id: str, values: dict[str, Any],
                   actor: audit.Actor) -> dict[str, Any]:
    current = get_address(company_id, customer_id, address_id)
    address = clean(values)
    now = clock.now_iso()
    item = {**{name: value for name, value in current.items() if name not in FIELDS}, **address, "updatedAt": now}
    dynamo.transact([
        dynamo.put(item, condition="attribute_exists(PK)"),
        audit.entry(company_id, actor, "CustomerAddressUpdated", "Customer", customer_id,
                    {"addressId": address_id, **audit.diff(snapshot(current), address)}, at=now),
    ])
    return item


def make_default(company_id: str, customer_id: str, address_id: str, actor: audit.Actor) -> None:
    get_address(company_id, customer_id, address_id)
    writes = [dynamo.update(keys.company(company_id), keys.address_sk(customer_id, address_id), "SET isDefault = :true",
                            condition="attribute_exists(PK)", values={":true": True})]
    writes += [_unset_default(company_id, customer_id, other["id"])
               for other in list_addresses(company_id, customer_id) if other.get("isDefault") and other["id"] != address_id]
    writes.append(audit.entry(company_id, actor, "CustomerAddressUpdated", "Customer", customer_id,
                              {"addressId": address_id, "default": True}))
    dynamo.transact(writes)


def delete_address(company_id: str, customer_id: str, address_id: str, actor: audit.Actor) -> None:
    """Remove an address; when it was the default, the oldest remaining one takes over."""
    current = get_address(company_id, customer_id, address_id)
    writes = [dynamo.delete(keys.company(company_id), keys.address_sk(customer_id, address_id),
                            condition="attribute_exists(PK)")]
    if current.get("isDefault"):
        remaining = [other for other in list_addresses(company_id, customer_id) if other["id"] != address_id]
        if remaining:
            writes.append(dynamo.update(keys.company(company_id), keys.address_sk(customer_id, remaining[0]["id"]),
                                        "SET isDefault = :true", condition="attribute_exists(PK)", values={":true": True}))
    writes.append(audit.entry(company_id, actor, "CustomerAddressDeleted", "Customer", customer_id,
                              {"addressId": address_id, "before": snapshot(current)}))
    dynamo.transact(writes)
