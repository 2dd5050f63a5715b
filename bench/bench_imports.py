"""CSV imports at 5,000 and 100,000 rows: preview and apply rows per second as a ratio to raw
``BatchWriteItem`` of the same items (product, SKU guard, outbox event per row) against the same locked
moto server in the same run, and the importer's peak memory.

Each size runs in its own worker process (so its peak RSS is the importer's alone, not moto's, which
lives in the server process): generate the file (~200 bytes a row: 100,000 rows are ~20 MB), upload it,
preview it and apply it through the same routines the csv_import function runs, then write the same
items again with bare ``BatchWriteItem`` calls (25 items each), and with bare ``TransactWriteItems`` of
the apply's chunk shape (33 rows, conditions included) to show what moto charges for transactions.

Goals: preview and apply >= 0.7x of raw BatchWriteItem; peak memory <= 150 MB at 100,000 rows.
The 100,000-row run takes about 15 minutes on moto; ``BENCH_IMPORT_ROWS=5000`` runs only the small one.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from typing import Any, Iterator

from common import SEARCH_PATH, locked_moto_server_process, report

SIZES = [int(size) for size in os.environ.get("BENCH_IMPORT_ROWS", "5000,100000").split(",")]
BARE_TRANSACTION_ROWS = 10_000  # the bare-transaction reference is sampled on at most this many rows
DESCRIPTION = ("Zinc-plated steel, general purpose; sold by the case of fifty, suitable for indoor and outdoor use, "
               "with matching nuts and washers listed separately. ")


def peak_rss_mb() -> float:
    """This process's peak resident memory. ``VmHWM`` rather than ``ru_maxrss``: on Linux the latter keeps
    the parent's size from before ``exec``, which would charge the bench's own memory to the worker."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 2**20)


def write_file(path: str, rows: int, prefix: str) -> int:
    with open(path, "w", newline="") as out:
        out.write("sku,name,description,category,unit,price,stock,isActive\n")
        for number in range(rows):
            out.write(f"{prefix}-{number:07d},Hex bolt M{number % 40 + 3} x {number % 90 + 10} mm,"
                      f"\"{DESCRIPTION}\",Fasteners {number % 12},case,{number % 700}.{number % 100:02d},"
                      f"{number % 5000},true\n")
    return os.path.getsize(path)


def same_items(company_id: str, rows: int, prefix: str) -> Iterator[list[dict[str, Any]]]:
    """What the apply writes for each created row: the product, its SKU guard, its outbox event."""
    from distribu import catalog, clock, dynamo, imports, keys, outbox

    now = clock.now_iso()
    for number in range(rows):
        sku = f"{prefix}-{number:07d}"
        fields = {**imports.rules.ProductRules.defaults, "sku": sku, "name": f"Hex bolt M{number % 40 + 3} x {number % 90 + 10} mm",
                  "description": DESCRIPTION.strip(), "category": f"Fasteners {number % 12}", "unit": "case",
                  "price": Decimal(f"{number % 700}.{number % 100:02d}"), "stock": number % 5000, "isActive": True}
        product_id = imports.derived_id("bench0000000000000000000000", number)
        item = catalog.build_item(company_id, product_id, fields, now, now, 1)
        yield [dynamo.put(item, condition="attribute_not_exists(PK)"),
               dynamo.put({"PK": keys.company(company_id), "SK": keys.sku_guard_sk(sku), "entity": "SKU",
                           "productId": product_id, "sku": sku}, condition="attribute_not_exists(PK)"),
               outbox.event(company_id, "product.updated", catalog.to_api(item), at=now)]


def batch_write(company_id: str, rows: int, prefix: str) -> float:
    """Raw BatchWriteItem of the same items, 25 per call, sequentially (unprocessed items retried)."""
    from distribu import dynamo

    client, table = dynamo.dynamodb(), dynamo.table_name()
    pending: list[dict[str, Any]] = []
    started = time.perf_counter()

    def send(batch: list[dict[str, Any]]) -> None:
        request = {table: [{"PutRequest": {"Item": element["Put"]["Item"]}} for element in batch]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems") or {}

    for row in same_items(company_id, rows, prefix):
        pending += row
        while len(pending) >= 25:
            send(pending[:25])
            pending = pending[25:]
    if pending:
        send(pending)
    return rows / (time.perf_counter() - started)


def bare_transactions(company_id: str, rows: int, prefix: str) -> float:
    """The apply's chunks without the importer: 33 rows (99 conditional items) per TransactWriteItems."""
    from distribu import dynamo

    client = dynamo.dynamodb()
    chunk: list[dict[str, Any]] = []
    started = time.perf_counter()
    for row in same_items(company_id, rows, prefix):
        chunk += row
        if len(chunk) >= 99:
            client.transact_write_items(TransactItems=chunk)
            chunk = []
    if chunk:
        client.transact_write_items(TransactItems=chunk)
    return rows / (time.perf_counter() - started)


def worker(rows: int, company_id: str) -> dict[str, Any]:
    from distribu import audit, aws, dynamo, imports, s3files
    from distribu.config import get_settings

    aws.reset_clients()
    dynamo.get("warm", "up")
    s3files.s3().list_buckets()
    rss_ready = peak_rss_mb()
    prefix = f"B{rows}"
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "products.csv")
        size = write_file(path, rows, prefix)
        view = imports.create_import(company_id, "products", audit.Actor("SYSTEM", "bench", "bench"), file_name="bench.csv")
        with open(path, "rb") as body:
            s3files.s3().put_object(Bucket=get_settings().imports_bucket,
                                    Key=imports.upload_key(company_id, "products", view["id"]), Body=body)
    started = time.perf_counter()
    assert imports.validate(company_id, view["id"], owner="bench-preview") == imports.DONE
    preview_seconds = time.perf_counter() - started
    previewed = imports.get_import(company_id, view["id"])
    assert previewed["status"] == "READY" and previewed["preview"]["create"] == rows, previewed
    imports.request_apply(company_id, view["id"], audit.Actor("SYSTEM", "bench", "bench"))
    started = time.perf_counter()
    assert imports.apply(company_id, view["id"], owner="bench-apply") == imports.DONE
    apply_seconds = time.perf_counter() - started
    applied = imports.get_import(company_id, view["id"])
    assert applied["status"] == "APPLIED" and applied["applied"]["created"] == rows, applied
    rss_peak = peak_rss_mb()
    batch_rate = batch_write(f"{company_id}-batch{rows}", rows, prefix)
    sample = min(rows, BARE_TRANSACTION_ROWS)
    transaction_rate = bare_transactions(f"{company_id}-tx{rows}", sample, prefix)
    return {"rows": rows, "bytes": size, "preview": rows / preview_seconds, "apply": rows / apply_seconds,
            "batch": batch_rate, "transactions": transaction_rate, "transactionRows": sample,
            "rssReady": rss_ready, "rssPeak": rss_peak}


def main() -> None:
    with locked_moto_server_process() as environment:
        from distribu import companies

        company = companies.create_company("Bench Imports", "owner@bench-imports.test", "bench-password-1")
        results = []
        for rows in SIZES:
            completed = subprocess.run(
                [sys.executable, __file__, "--worker", str(rows), company.id], env={**os.environ, **environment},
                capture_output=True, text=True, check=False)
            if completed.returncode != 0:
                print(completed.stderr[-4000:], file=sys.stderr)
                raise SystemExit(f"the {rows}-row worker failed")
            results.append(json.loads(completed.stdout.strip().splitlines()[-1]))
    for result in results:
        rows = result["rows"]
        report(f"Imports: {rows:,} rows ({result['bytes'] / 2**20:.1f} MB), locked moto server in its own process", [
            ("raw BatchWriteItem of the same items (baseline)", f"{result['batch']:.0f} rows/s "
                                                               f"({3 * result['batch']:.0f} items/s)"),
            ("preview (stream, check, 2 batch reads / 100 rows)", f"{result['preview']:.0f} rows/s = "
                                                                 f"{result['preview'] / result['batch']:.2f}x baseline"),
            ("apply (33-row transactions + checkpoint)", f"{result['apply']:.0f} rows/s = "
                                                        f"{result['apply'] / result['batch']:.2f}x baseline"),
            ("bare TransactWriteItems of the apply's chunks", f"{result['transactions']:.0f} rows/s "
                                                             f"({result['transactionRows']:,} rows) = "
                                                             f"{result['transactions'] / result['batch']:.2f}x baseline; "
                                                             f"apply = {result['apply'] / result['transactions']:.2f}x these"),
            ("importer peak RSS (worker process)", f"{result['rssPeak']:.0f} MB "
                                                  f"({result['rssReady']:.0f} MB after imports and clients)"),
        ])


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        sys.path[:0] = [path for path in SEARCH_PATH if path not in sys.path]
        print(json.dumps(worker(int(sys.argv[2]), sys.argv[3])))
    else:
        main()
