"""CSV exports: the spec's exact headers, streamed to S3 (multipart past one part), a working download
link, scopes, and the round trip: an exported file imports back with every row unchanged."""

from __future__ import annotations

import csv
import io
import os
from typing import Any

import pytest

from tests.conftest import Tenant, call_api, make_tenant
from tests.csv_import_driver import all_items, apply, client, preview, run_cli


def export(tenant: Tenant, kind: str, **options: Any) -> tuple[dict[str, Any], list[list[str]]]:
    import requests

    response = call_api("POST", "/api/v1/exports", key=tenant.key, json_body={"kind": kind, **options})
    assert response.status == 201, response.body
    data = response.body["data"]
    download = requests.get(data["url"])
    assert download.status_code == 200
    assert download.headers.get("content-disposition") == f'attachment; filename="{data["fileName"]}"'
    return data, list(csv.reader(io.StringIO(download.content.decode("utf-8"), newline="")))


def seed(tenant: Tenant) -> dict[str, Any]:
    products = [call_api("POST", "/api/v1/products", key=tenant.key, json_body=body).body["data"] for body in (
        {"name": "Widget, \"Blue\"", "sku": "WDG-1", "description": "Line one\nline two", "category": "Tools",
         "unit": "case", "price": 8.5, "stock": 40},
        {"name": "Bolt", "sku": "BLT-2", "price": 0.1, "stock": 0, "isActive": False},
    )]
    customers = [call_api("POST", "/api/v1/customers", key=tenant.key, json_body=body).body["data"] for body in (
        {"email": "Buyer@Acme.test", "name": "Acme Buying", "notes": "net 30", "creditLimit": 2500},
        {"email": "quiet@initech.example"},
    )]
    call_api("PATCH", f"/api/v1/customers/{customers[1]['id']}", key=tenant.key, json_body={"status": "BLOCKED"})
    order = call_api("POST", "/api/v1/orders", key=tenant.key, json_body={
        "customerId": customers[0]["id"], "poNumber": "PO-7", "notes": "rush",
        "shippingAddress": {"line1": "1 Main St", "city": "Springfield", "region": "IL", "country": "US"},
        "items": [{"productId": products[0]["id"], "quantity": 3}]}).body["data"]
    return {"products": products, "customers": customers, "order": order}


def test_products_and_customers_export_in_the_import_format(stack, tenant: Tenant) -> None:
    seed(tenant)
    data, rows = export(tenant, "products")
    assert data["kind"] == "products" and data["rows"] == 2 and data["fileName"].startswith("products-")
    assert rows == [["sku", "name", "description", "category", "unit", "price", "stock", "isActive"],
                    ["WDG-1", 'Widget, "Blue"', "Line one\nline two", "Tools", "case", "8.50", "37", "true"],
                    ["BLT-2", "Bolt", "", "", "each", "0.10", "0", "false"]]
    _, rows = export(tenant, "customers")
    assert rows == [["email", "name", "status", "notes", "creditLimit"],
                    ["buyer@acme.test", "Acme Buying", "ACTIVE", "net 30", "2500.00"],
                    ["quiet@initech.example", "", "BLOCKED", "", ""]]


def test_orders_summary_and_line_items_use_the_spec_headers(stack, tenant: Tenant) -> None:
    seeded = seed(tenant)
    order = seeded["order"]
    _, rows = export(tenant, "orders")
    assert rows == [["orderId", "createdAt", "status", "total", "itemCount", "customerEmail", "customerName", "poNumber",
                     "notes", "shippingCity", "shippingRegion", "shippingCountry"],
                    [order["id"], order["createdAt"], "SUBMITTED", "25.50", "1", "buyer@acme.test", "Acme Buying",
                     "PO-7", "rush", "Springfield", "IL", "US"]]
    _, rows = export(tenant, "order-items")
    assert rows == [["orderId", "createdAt", "status", "customerEmail", "productSku", "productName", "quantity",
                     "unitPrice", "lineTotal"],
                    [order["id"], order["createdAt"], "SUBMITTED", "buyer@acme.test", "WDG-1", 'Widget, "Blue"', "3",
                     "8.50", "25.50"]]
    data, rows = export(tenant, "orders", since="2000-01-01", until="2000-12-31")
    assert data["rows"] == 0 and len(rows) == 1
    bad = call_api("POST", "/api/v1/exports", key=tenant.key, json_body={"kind": "orders", "since": "soon"})
    assert bad.status == 400 and bad.body["details"] == [{"field": "since", "message": "must be an ISO 8601 date or datetime"}]


def test_an_exported_file_imports_back_with_every_row_unchanged(stack, tenant: Tenant) -> None:
    import requests

    seed(tenant)
    for kind, count in (("products", 2), ("customers", 2)):
        data = call_api("POST", "/api/v1/exports", key=tenant.key, json_body={"kind": kind}).body["data"]
        body = requests.get(data["url"]).content
        import_id, previewed = preview(stack, tenant, kind, body)
        assert previewed["status"] == "READY", previewed["errors"]
        assert previewed["preview"] == {"rows": count, "create": 0, "update": 0, "unchanged": count, "invalid": 0}
        before = all_items(tenant, "PRODUCT#" if kind == "products" else "CUSTOMER#")
        assert apply(stack, tenant, import_id)["applied"] == {"created": 0, "updated": 0, "unchanged": count}
        assert all_items(tenant, "PRODUCT#" if kind == "products" else "CUSTOMER#") == before


FORMULAS = ['=HYPERLINK("http://evil.example","Open")', "+1 555 0100", "-5% off", "@SUM(A1:A9)",
            "'=already quoted", "''two quotes", "'plain quote", "cmd|' /C calc'!A0"]


def test_text_a_spreadsheet_would_run_is_neutralised_and_imports_back_unchanged(stack, tenant: Tenant) -> None:
    import requests

    for number, text in enumerate(FORMULAS):
        assert call_api("POST", "/api/v1/products", key=tenant.key, json_body={
            "name": text, "sku": text if number % 2 else f"F-{number}", "description": text, "category": text,
            "price": 1, "stock": 1}).status == 201
        assert call_api("POST", "/api/v1/customers", key=tenant.key, json_body={
            "email": f"f{number}@formula.test", "name": text, "notes": text}).status == 201
    _, rows = export(tenant, "products")
    cells = {cell for row in rows[1:] for cell in row[:4]}
    assert not any(cell[:1] in ("=", "+", "-", "@") for cell in cells)  # nothing a spreadsheet would run
    assert {"'" + text for text in FORMULAS[:6]} | {"'plain quote", "cmd|' /C calc'!A0"} <= cells
    for kind in ("products", "customers"):
        data = call_api("POST", "/api/v1/exports", key=tenant.key, json_body={"kind": kind}).body["data"]
        import_id, previewed = preview(stack, tenant, kind, requests.get(data["url"]).content)
        assert previewed["status"] == "READY", previewed["errors"]
        assert previewed["preview"]["unchanged"] == len(FORMULAS) == previewed["preview"]["rows"]
        before = all_items(tenant, "PRODUCT#" if kind == "products" else "CUSTOMER#")
        assert apply(stack, tenant, import_id)["applied"]["unchanged"] == len(FORMULAS)
        assert all_items(tenant, "PRODUCT#" if kind == "products" else "CUSTOMER#") == before


def test_order_exports_neutralise_customer_and_order_text(stack, tenant: Tenant) -> None:
    product = call_api("POST", "/api/v1/products", key=tenant.key,
                       json_body={"name": "@Widget", "sku": "=SKU", "price": 1, "stock": 5}).body["data"]
    customer = call_api("POST", "/api/v1/customers", key=tenant.key,
                        json_body={"email": "buyer@formula.test", "name": "=Evil Corp"}).body["data"]
    assert call_api("POST", "/api/v1/orders", key=tenant.key, json_body={
        "customerId": customer["id"], "poNumber": "+PO", "notes": "-rush",
        "items": [{"productId": product["id"], "quantity": 1}]}).status == 201
    _, summary = export(tenant, "orders")
    assert summary[1][6:9] == ["'=Evil Corp", "'+PO", "'-rush"]
    _, lines = export(tenant, "order-items")
    assert lines[1][4:6] == ["'=SKU", "'@Widget"]


def test_a_large_export_streams_as_a_multipart_upload(stack, tenant: Tenant, monkeypatch) -> None:
    from distribu import catalog, dynamo, s3files

    monkeypatch.setattr(s3files, "PART_BYTES", 5 * 1024 * 1024)  # S3's smallest part
    table = dynamo.dynamodb()
    for start in range(0, 3000, 25):  # 3,000 products with long descriptions: ~6 MB of CSV, two parts
        table.batch_write_item(RequestItems={dynamo.table_name(): [{"PutRequest": {"Item": dynamo.to_item(
            catalog.build_item(tenant.company_id, f"p{number:05d}", {
                "name": f"P{number}", "sku": f"S{number}", "description": "d" * 2000, "unit": "each",
                "price": 1, "stock": 1, "isActive": True}, "2026-01-01T00:00:00.000Z", "2026-01-01T00:00:00.000Z", 1))}}
            for number in range(start, start + 25)]})
    parts = []
    real = s3files.S3Writer._send_part

    def counting(self: Any) -> None:
        parts.append(len(self.buffer))
        real(self)

    monkeypatch.setattr(s3files.S3Writer, "_send_part", counting)
    data, rows = export(tenant, "products")
    assert data["rows"] == 3000 and len(rows) == 3001 and rows[-1][0] == "S2999"
    assert len(parts) >= 2 and all(size >= 5 * 1024 * 1024 for size in parts[:-1])
    listed = client("s3").list_multipart_uploads(Bucket=os.environ["IMPORTS_BUCKET"])
    assert listed.get("Uploads", []) == []  # completed, nothing dangling


def test_a_failed_export_leaves_no_object_and_no_dangling_upload(stack, tenant: Tenant, monkeypatch) -> None:
    from distribu import exports, s3files

    monkeypatch.setattr(s3files, "PART_BYTES", 5 * 1024 * 1024)

    def rows(*_: Any, **__: Any) -> Any:
        for number in range(4000):
            yield ["x" * 2000, str(number)]
        raise RuntimeError("the table went away")

    monkeypatch.setattr(exports, "rows", rows)
    with pytest.raises(RuntimeError):
        exports.export(tenant.company_id, "products")
    imports_bucket = os.environ["IMPORTS_BUCKET"]
    assert client("s3").list_objects_v2(Bucket=imports_bucket, Prefix="exports/").get("KeyCount") == 0
    assert client("s3").list_multipart_uploads(Bucket=imports_bucket).get("Uploads", []) == []


def test_export_scopes_follow_the_kind(stack, tenant: Tenant) -> None:
    reader = make_tenant("Readers Inc", scopes=["products:read"])
    for kind, scope in (("customers", "customers:read"), ("orders", "orders:read"), ("order-items", "orders:read")):
        response = call_api("POST", "/api/v1/exports", key=reader.key, json_body={"kind": kind})
        assert response.status == 403
        assert response.body == {"error": f'Insufficient permissions. This key lacks the "{scope}" scope.'}
    assert call_api("POST", "/api/v1/exports", key=reader.key, json_body={"kind": "products"}).status == 201
    bad = call_api("POST", "/api/v1/exports", key=reader.key, json_body={"kind": "everything"})
    assert bad.status == 400 and bad.body["details"][0]["field"] == "kind"


def test_exports_never_include_another_company(stack, tenant: Tenant, other_tenant: Tenant) -> None:
    seed(other_tenant)
    for kind in ("products", "customers", "orders", "order-items"):
        data, rows = export(tenant, kind)
        assert data["rows"] == 0 and len(rows) == 1, kind


def test_cli_export_saves_the_file(stack, tenant: Tenant, tmp_path, capsys) -> None:
    seed(tenant)
    out = tmp_path / "products.csv"
    code, result, _ = run_cli(capsys, "export", "products", "--company", tenant.slug, "--out", str(out))
    assert code == 0 and result["rows"] == 2 and result["url"].startswith("http") and result["out"] == str(out)
    assert out.read_text().splitlines()[0] == "sku,name,description,category,unit,price,stock,isActive"


def test_cli_kinds_match_the_domain() -> None:
    from distribu import csvformat, exports
    from distribu_cli import csv_commands

    assert csv_commands.KINDS == csvformat.KINDS and csv_commands.EXPORT_KINDS == exports.KINDS
