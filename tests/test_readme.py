"""The README's commands run as pasted: no optional-argument brackets or placeholders to fill in, every
shell variable set by an earlier line, every sample file it names shipped, and the samples import."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
SHELL_BLOCKS = re.findall(r"```sh\n(.*?)```", README, re.S)


def commands() -> str:
    """The shell blocks' text without comments (a comment may say ``--expires-at is optional``)."""
    return "\n".join(re.sub(r"(^|\s)#.*$", "", line) for block in SHELL_BLOCKS for line in block.splitlines())


def test_commands_hold_no_brackets_or_placeholders_to_fill_in() -> None:
    text = commands()
    assert SHELL_BLOCKS and "[--" not in text
    assert not re.findall(r"(?<![$\w\"])(KEY_ID|IMPORT_ID|ORDER_ID|PRODUCT_ID|CUSTOMER_ID)\b(?!=)", text)
    assert not re.findall(r"<[a-z][^>]*>", text)  # <your-key>, <TableName output>, ...


def test_every_variable_is_set_by_an_earlier_line() -> None:
    assigned: set[str] = set()
    for line in commands().splitlines():
        for name in re.findall(r"\$\{?([A-Za-z_]\w*)", line):
            assert name in assigned, f"${name} is used before any line sets it: {line.strip()}"
        assigned |= set(re.findall(r"(?:^|\s|export\s+)([A-Z_][A-Z0-9_]*)=", line))


def test_every_sample_file_the_readme_names_is_shipped() -> None:
    named = set(re.findall(r"(examples/[\w.-]+)", README))
    assert {"examples/products.csv", "examples/customers.csv"} <= named
    for path in named:
        assert (ROOT / path).is_file(), path


def test_the_samples_import_cleanly(stack, capsys, monkeypatch) -> None:
    from distribu import audit, catalog, companies
    from distribu_cli.main import main

    monkeypatch.chdir(ROOT)  # the README runs them from the repository root
    company = companies.create_company("Demo Distributors", "owner@demo.test", "demo-password-1")
    for sku, name in (("FAS-FW-08", "Flat Washer M8 (box of 500)"), ("TLS-BS-32", "Impact Driver Bit Set, 32 pieces")):
        catalog.create_product(company.id, catalog.ProductCreate(name=name, sku=sku, category="Fasteners",
                                                                 unit="box", price=11.2, stock=4),
                               audit.Actor("SYSTEM", "test", "test"))

    assert main(["import", "products", "examples/products.csv", "--company", "demo-distributors"]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert preview["status"] == "READY" and preview["errors"] == [] and preview["ignoredColumns"] == []
    assert preview["preview"] == {"rows": 5, "create": 3, "update": 2, "unchanged": 0, "invalid": 0}

    assert main(["import", "customers", "examples/customers.csv", "--company", "demo-distributors", "--apply"]) == 0
    applied = json.loads(capsys.readouterr().out)
    assert applied["status"] == "APPLIED" and applied["applied"] == {"created": 3, "updated": 0, "unchanged": 0}


@pytest.mark.parametrize("path", ["examples/products.csv", "examples/customers.csv"])
def test_samples_are_in_the_export_layout(path: str) -> None:
    from distribu.csvformat import CUSTOMER_EXPORT_HEADER, PRODUCT_EXPORT_HEADER

    header = (ROOT / path).read_text().splitlines()[0].split(",")
    assert tuple(header) == (PRODUCT_EXPORT_HEADER if "products" in path else CUSTOMER_EXPORT_HEADER)


def test_every_screenshot_the_readme_shows_is_shipped() -> None:
    shown = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", README)
    assert shown, "the README shows the dashboard's pages"
    missing = [path for path in shown if not (ROOT / path).is_file()]
    assert not missing, f"the README shows images that are not in the repository: {missing}"
