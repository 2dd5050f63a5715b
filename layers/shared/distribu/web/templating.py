"""One Jinja2 environment per function: its own templates first, then the shared layout and macros.

Autoescape is on for every template. Filters format money, numbers and dates the same way on every
page. Templates compiled ahead of time (``make templates``, before ``sam build``) are loaded from
``_compiled_templates`` beside the function's templates: a cold start then skips parsing and compiling
them (about 40 ms for a catalog page's ten templates; Lambda's code folder is read-only, so nothing
compiled at run time survives a cold start). The compiled folder records a hash of the sources it was
made from and is used only while the sources still match, so an edited template is never served stale.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, ModuleLoader, select_autoescape

SHARED_TEMPLATES = Path(__file__).parent / "templates"
COMPILED_FOLDER = "_compiled_templates"
CENTS = Decimal("0.01")


def money(value: Any, currency: str = "$") -> str:
    """``1234.5`` -> ``$1,234.50``; negatives as ``-$3.00``."""
    if value is None or value == "":
        return ""
    amount = (value if isinstance(value, Decimal) else Decimal(str(value))).quantize(CENTS, ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency}{abs(amount):,.2f}"


def number(value: Any) -> str:
    if value is None or value == "":
        return ""
    return f"{int(value):,}"


def _moment(value: Any) -> datetime | None:
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    from distribu.clock import parse_iso

    try:
        return parse_iso(str(value))
    except ValueError:
        return None


def date(value: Any) -> str:
    """``2026-03-01T12:00:00.000Z`` -> ``Mar 1, 2026`` (UTC)."""
    moment = _moment(value)
    return f"{moment:%b} {moment.day}, {moment:%Y}" if moment else ""


def datetime_(value: Any) -> str:
    """``Mar 1, 2026, 12:00 UTC``."""
    moment = _moment(value)
    return f"{moment:%b} {moment.day}, {moment:%Y}, {moment:%H:%M} UTC" if moment else ""


def percent(value: Any, places: int = 1) -> str:
    """A signed percentage: ``+15.0%`` / ``-15.0%``."""
    if value is None:
        return ""
    amount = Decimal(str(value))
    return f"{'+' if amount > 0 else ''}{amount:.{places}f}%"


def address_lines(address: Any) -> list[str]:
    """``addresses.lines``: one format for every address a page shows."""
    from distribu import addresses

    return addresses.lines(address or {})


FILTERS = {"money": money, "number": number, "date": date, "datetime": datetime_, "percent": percent,
           "address_lines": address_lines}


SOURCES_FILE = "SOURCES"


def sources_hash(templates: Path) -> str:
    """A hash of every template the function uses (its own and the shared ones): ~1 ms for ~50 files."""
    digest = hashlib.sha256()
    for folder in (templates, SHARED_TEMPLATES):
        for path in sorted(folder.rglob("*.html")):
            digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _compiled_folder(templates: Path) -> Path | None:
    compiled = templates.parent / COMPILED_FOLDER
    marker = compiled / SOURCES_FILE
    if marker.is_file() and marker.read_text().strip() == sources_hash(templates):
        return compiled
    return None


def _environment(loader: Any) -> Environment:
    env = Environment(loader=loader, autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True, auto_reload=False, cache_size=400)
    env.filters.update(FILTERS)
    return env


def _source_loader(templates: Path) -> ChoiceLoader:
    return ChoiceLoader([FileSystemLoader(str(templates)), FileSystemLoader(str(SHARED_TEMPLATES))])


def environment(templates: Path) -> Environment:
    """The environment of a function whose templates live in ``templates``."""
    compiled = _compiled_folder(templates)
    return _environment(ModuleLoader(str(compiled)) if compiled else _source_loader(templates))


def page_environment(templates: Path, static_prefix: str, **globals_: Any) -> Environment:
    """A page function's environment: :func:`environment` plus ``static(name)`` -> the asset's versioned
    URL under ``static_prefix`` (and any other globals its layout needs)."""
    from distribu.web.app import static_version

    env = environment(templates)
    env.globals["static"] = lambda name: f"{static_prefix}/{static_version()}/{name}"
    env.globals.update(globals_)
    return env


def compile_all(templates: Path) -> Path:
    """Compile the function's and the shared templates into ``_compiled_templates`` (``make templates``)."""
    import shutil

    target = templates.parent / COMPILED_FOLDER
    shutil.rmtree(target, ignore_errors=True)
    _environment(_source_loader(templates)).compile_templates(str(target), zip=None, ignore_errors=False)
    (target / SOURCES_FILE).write_text(sources_hash(templates) + "\n")
    return target
