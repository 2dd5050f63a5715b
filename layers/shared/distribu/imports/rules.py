"""How each kind of row is matched with what exists (by SKU, by email), compared, and written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from distribu import catalog, csvformat, customers, dynamo, keys, outbox

READ_WINDOW = 100  # rows compared with the table per batch read (BatchGetItem takes 100 keys)


@dataclass
class Existing:
    guard: dict[str, Any]
    record: dict[str, Any] | None  # None: a guard without its record (never written so, but survivable)


@dataclass
class Plan:
    action: str  # create | update | unchanged
    writes: list[dict[str, Any]] = field(default_factory=list)
    # (product id, image URL) a row moved away from: the hosted object goes once the writes committed.
    released_images: list[tuple[str, str]] = field(default_factory=list)


def optional_defaults(model: Any) -> dict[str, Any]:
    """What a row may leave out, and what it then gets: the create model's defaults."""
    return {name: spec.default for name, spec in model.model_fields.items() if not spec.is_required()}


class KindRules:
    """How one kind of record is matched, compared and written."""

    guard_attr: str
    guard_entity: str
    record_fields: tuple[str, ...]
    defaults: dict[str, Any]

    def guard_sk(self, key: str) -> str:
        raise NotImplementedError

    def record_sk(self, record_id: str) -> str:
        raise NotImplementedError

    def plan(self, company_id: str, row: csvformat.ParsedRow, existing: Existing | None, now: str,
             new_id: Callable[[], str]) -> Plan:
        raise NotImplementedError

    def classify(self, row: csvformat.ParsedRow, existing: Existing | None) -> str:
        """What :meth:`plan` would do, without building the writes (the preview)."""
        current = existing.record if existing else None
        if current is None:
            return "create"
        return "update" if self.updated_fields(current, row) else "unchanged"

    def updated_fields(self, current: dict[str, Any], row: csvformat.ParsedRow) -> dict[str, Any] | None:
        """The record's fields with the row applied, or None when the row changes nothing."""
        before = {name: current.get(name) for name in self.record_fields}
        after = {**before, **row.values}
        return None if after == before else after

    def _guard_put(self, company_id: str, key_sk: str, record_id: str, extra: dict[str, Any],
                   existing: Existing | None, *, refresh: bool = False) -> dict[str, Any]:
        item = {"PK": keys.company(company_id), "SK": key_sk, "entity": self.guard_entity, self.guard_attr: record_id,
                **extra}
        if refresh:  # same guard, new spelling: it must still be ours
            return dynamo.put(item, condition=f"{self.guard_attr} = :mine", values={":mine": record_id})
        if existing is None:
            return dynamo.put(item, condition="attribute_not_exists(PK)")
        # An orphaned guard (its record is gone) is taken over only if it is still that orphan.
        return dynamo.put(item, condition=f"{self.guard_attr} = :stale",
                          values={":stale": existing.guard.get(self.guard_attr)})


class ProductRules(KindRules):
    guard_attr = "productId"
    guard_entity = "SKU"
    record_fields = catalog.PRODUCT_FIELDS
    defaults = optional_defaults(catalog.ProductCreate)

    def guard_sk(self, key: str) -> str:
        return keys.sku_guard_sk(key)

    def record_sk(self, record_id: str) -> str:
        return keys.product_sk(record_id)

    def plan(self, company_id: str, row: csvformat.ParsedRow, existing: Existing | None, now: str,
             new_id: Callable[[], str]) -> Plan:
        current = existing.record if existing else None
        if current is None:
            product_id = new_id()
            fields = {**self.defaults, **row.values}
            item = catalog.build_item(company_id, product_id, fields, now, now, 1)
            return Plan("create", [
                dynamo.put(item, condition="attribute_not_exists(PK)"),
                self._guard_put(company_id, self.guard_sk(fields["sku"]), product_id, {"sku": fields["sku"]},
                                existing),
                outbox.event(company_id, "product.updated", catalog.to_api(item), at=now),
            ])
        after = self.updated_fields(current, row)
        if after is None:
            return Plan("unchanged")
        version = int(current.get("version", 0))
        item = catalog.build_item(company_id, current["id"], after, current["createdAt"], now, version + 1)
        writes = [dynamo.put_if_version(item, version)]
        if after.get("sku") != current.get("sku"):  # the same SKU in other letter case
            writes.append(self._guard_put(company_id, self.guard_sk(after["sku"]), current["id"],
                                          {"sku": after["sku"]}, existing, refresh=True))
        writes.append(outbox.event(company_id, "product.updated", catalog.to_api(item), at=now))
        released = current.get("imageUrl")
        return Plan("update", writes, [(current["id"], released)] if released and released != after.get("imageUrl")
                    else [])


class CustomerRules(KindRules):
    guard_attr = "customerId"
    guard_entity = "EMAIL"
    record_fields = customers.FIELDS
    defaults = optional_defaults(customers.CustomerCreate)

    def guard_sk(self, key: str) -> str:
        return keys.email_guard_sk(key)

    def record_sk(self, record_id: str) -> str:
        return keys.customer_sk(record_id)

    def plan(self, company_id: str, row: csvformat.ParsedRow, existing: Existing | None, now: str,
             new_id: Callable[[], str]) -> Plan:
        current = existing.record if existing else None
        if current is None:
            customer_id = new_id()
            fields = {**self.defaults, **row.values}
            # Imported customers have no password and are unverified until they set one.
            item = customers.build_item(company_id, customer_id, fields, now, now, 1, {"emailVerified": False})
            return Plan("create", [
                dynamo.put(item, condition="attribute_not_exists(PK)"),
                self._guard_put(company_id, self.guard_sk(fields["email"]), customer_id, {}, existing),
                outbox.event(company_id, "customer.created", customers.to_api(item), at=now),
            ])
        after = self.updated_fields(current, row)
        if after is None:
            return Plan("unchanged")
        version = int(current.get("version", 0))
        kept = {name: current.get(name) for name in ("emailVerified", "passwordHash")}
        item = customers.build_item(company_id, current["id"], after, current["createdAt"], now, version + 1, kept)
        return Plan("update", [
            dynamo.put_if_version(item, version),
            outbox.event(company_id, "customer.updated", customers.to_api(item), at=now),
        ])


RULES: dict[str, KindRules] = {"products": ProductRules(), "customers": CustomerRules()}


def existing_records(company_id: str, rules: KindRules, row_keys: list[str]) -> dict[str, Existing]:
    """What the table holds for these keys: two batch reads (the guards, then their records)."""
    pk = keys.company(company_id)
    guards = dynamo.batch_get([(pk, rules.guard_sk(key)) for key in row_keys])
    by_key: dict[str, dict[str, Any]] = {}
    for key in row_keys:
        guard = guards.get((pk, rules.guard_sk(key)))
        if guard:
            by_key[key] = guard
    records = dynamo.batch_get([(pk, rules.record_sk(guard[rules.guard_attr])) for guard in by_key.values()])
    return {key: Existing(guard, records.get((pk, rules.record_sk(guard[rules.guard_attr]))))
            for key, guard in by_key.items()}
