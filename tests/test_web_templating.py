"""Templates: filters, autoescape, and ahead-of-time compilation that is never served stale."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from jinja2 import FileSystemLoader, ChoiceLoader, ModuleLoader

from distribu.web import templating

PAGE = '{% from "_macros/badges.html" import status %}{{ status("SHIPPED") }} {{ amount | money }} {{ text }}'


def _function(tmp_path: Path, body: str = PAGE) -> Path:
    templates = tmp_path / "distribu_example" / "templates"
    templates.mkdir(parents=True)
    (templates / "page.html").write_text(body)
    return templates


def test_filters() -> None:
    assert templating.money(Decimal("1234.5")) == "$1,234.50"
    assert templating.money(-3) == "-$3.00"
    assert templating.money(Decimal("0.005")) == "$0.01"  # half up
    assert templating.number(12345) == "12,345"
    assert templating.date("2026-03-01T12:00:00.000Z") == "Mar 1, 2026"
    assert templating.datetime_("2026-03-01T09:05:00.000Z") == "Mar 1, 2026, 09:05 UTC"
    assert templating.percent(15) == "+15.0%" and templating.percent(-15) == "-15.0%"


def test_autoescape(tmp_path: Path) -> None:
    env = templating.environment(_function(tmp_path))
    html = env.get_template("page.html").render(amount=1, text="<script>alert(1)</script>")
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_compiled_templates_are_used_only_while_the_sources_match(tmp_path: Path) -> None:
    templates = _function(tmp_path)
    from_source = templating.environment(templates)
    assert isinstance(from_source.loader, ChoiceLoader)
    expected = from_source.get_template("page.html").render(amount=2, text="x")
    templating.compile_all(templates)
    compiled = templating.environment(templates)
    assert isinstance(compiled.loader, ModuleLoader)
    assert compiled.get_template("page.html").render(amount=2, text="x") == expected
    (templates / "page.html").write_text(PAGE + " edited")
    edited = templating.environment(templates)
    assert isinstance(edited.loader, ChoiceLoader)  # the compiled copy is stale: not used
    assert edited.get_template("page.html").render(amount=2, text="x").endswith("edited")
    assert isinstance(edited.loader.loaders[0], FileSystemLoader)
