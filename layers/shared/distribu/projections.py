"""Read models kept up to date from the table's stream: the catalog index (:mod:`distribu.catalog_index`,
:mod:`distribu.catalog_projection`) and the sales rollups (:mod:`distribu.rollups`).

The projections function gets the stream's product, order and company records through an EventBridge
Pipe and an SQS queue. Per batch, each company's records are one unit of work: read every item the
unit needs (one BatchGetItem; a second only for a new index or a changed low-stock default), let each
projector plan its writes from what it read, and write them all in one TransactWriteItems, every item
conditioned on the version that was read. If another projector wrote first, the unit reads again and
plans again; projectors decide from stored state and the records' versions, never by adding a record's
delta, so a late, repeated or reordered record changes nothing it should not.
"""

from __future__ import annotations

import random
import time
from typing import Any, Iterable, Protocol

from distribu import dynamo, stream
from distribu.catalog_projection import CatalogProjector, ProductChange, product_change
from distribu.errors import Conflict
from distribu.rollups import CustomerLifetimeProjector, OrderChange, SalesProjector, order_change

Key = tuple[str, str]
ATTEMPTS = 8


class Projector(Protocol):
    def wanted(self, reads: "Reads") -> set[Key]: ...

    def writes(self, reads: "Reads") -> list[dict[str, Any]]: ...


class Reads:
    """Items read for one unit of work; ``has`` tells a key read and absent from one never asked for."""

    def __init__(self) -> None:
        self.items: dict[Key, dict[str, Any]] = {}
        self.requested: set[Key] = set()

    def has(self, key: Key) -> bool:
        return key in self.requested

    def get(self, key: Key) -> dict[str, Any] | None:
        return self.items.get(key)

    def read(self, wanted: Iterable[Key]) -> None:
        ordered = sorted(set(wanted) - self.requested)
        for start in range(0, len(ordered), 100):
            self.items.update(dynamo.batch_get(ordered[start:start + 100]))
        self.requested.update(ordered)


def apply(projectors: list[Projector], *, attempts: int = ATTEMPTS) -> int:
    """Read what the projectors want (asking again while their wishes grow with what they read), write what
    they plan in one transaction, and start again on a version conflict. Returns the items written."""
    for attempt in range(attempts):
        reads = Reads()
        while True:
            wanted = set().union(*(projector.wanted(reads) for projector in projectors)) - reads.requested
            if not wanted:
                break
            reads.read(wanted)
        writes = [write for projector in projectors for write in projector.writes(reads)]
        if not writes:
            return 0
        try:
            dynamo.transact(writes)
            return len(writes)
        except dynamo.TransactionCancelled:
            time.sleep(min(0.02 * 2 ** attempt, 0.5) * (0.5 + random.random()))
    raise Conflict("The read models kept changing under this batch; SQS will hand it back.")


def company_of(record: dict[str, Any]) -> str:
    """Every item these records are about lives under ``C#{company}``."""
    partition = record["dynamodb"]["Keys"]["PK"]["S"]
    if not partition.startswith("C#"):
        raise ValueError(f"not a company's item: {partition}")
    return partition[2:]


def project(company_id: str, records: list[dict[str, Any]]) -> int:
    """Apply one company's stream records (as the pipe delivers them) to its read models."""
    products: list[ProductChange] = []
    orders: list[OrderChange] = []
    company_changed = False
    for record in records:
        name, new, old = record["eventName"], stream.new_image(record), stream.old_image(record)
        entity = (new or old or {}).get("entity")
        if entity == "PRODUCT":
            change = product_change(name, new, old)
            if change:
                products.append(change)
        elif entity == "ORDER" and name in ("INSERT", "MODIFY"):
            placed = order_change(new)
            if placed:
                orders.append(placed)
        elif entity == "COMPANY" and name == "MODIFY":
            company_changed |= (old or {}).get("lowStockThreshold") != (new or {}).get("lowStockThreshold")
    projectors: list[Projector] = []
    if products or company_changed:
        projectors.append(CatalogProjector(company_id, products, company_changed=company_changed))
    if orders:
        projectors.append(SalesProjector(company_id, orders))
        projectors.append(CustomerLifetimeProjector(company_id, orders))  # needs the sales projector beside it
    return apply(projectors) if projectors else 0


# Raised when a read model is added or its layout changes: stores built by an older release rebuild
# (the local stack does it at start; in the cloud, `distribu projections rebuild` per company).
READ_MODELS_VERSION = 2  # 2: customers' lifetime totals (SPEND#C#) and their status index (GSI2)
MARKER_SK = "READMODELS"


def rebuild(company_id: str) -> dict[str, Any]:
    """Both read models of one company, from its products and orders (for data older than the stream's
    24 hours, and as a repair); safe while the projector runs. Records the read models' version."""
    from distribu import catalog_projection, clock, keys, rollups

    result = {"catalogIndex": catalog_projection.rebuild(company_id), "salesRollups": rollups.rebuild(company_id)}
    result["customerLifetimes"] = rollups.rebuild_customer_lifetimes(company_id)  # from the rebuilt months
    from distribu import customers

    result["customerStatusIndex"] = customers.index_statuses(company_id)  # customers stored before it
    dynamo.transact([dynamo.put({"PK": keys.company(company_id), "SK": MARKER_SK, "entity": "READ_MODELS",
                                 "version": READ_MODELS_VERSION, "rebuiltAt": clock.now_iso()})])
    return result


def needs_rebuild(company_id: str) -> bool:
    """No rebuild recorded at the current read models' version (data from before them, or from before a
    layout change)."""
    from distribu import keys

    marker = dynamo.get(keys.company(company_id), MARKER_SK)
    return not marker or int(marker.get("version", 0)) < READ_MODELS_VERSION
