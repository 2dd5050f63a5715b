"""``distribu``: the admin command line. Prints JSON; exits non-zero with ``{"error": ...}`` on stderr.

Targets the running local stack unless told otherwise, wherever it listens (see :func:`local_endpoint`):
with ``TABLE_NAME`` set, it uses the environment as it is (``AWS_ENDPOINT_URL`` for another emulator,
nothing for real AWS, where a deployed stack's table name comes from the stack's ``TableName`` output).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from distribu_cli import csv_commands

LOCAL_DEFAULTS = {
    "TABLE_NAME": "distribu-local-Table",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "test",
    "AWS_SECRET_ACCESS_KEY": "test",
}


def local_endpoint(environ: Mapping[str, str]) -> str:
    """Where the local stack's embedded AWS listens, however the stack was started: ``AWS_ENDPOINT_URL``,
    else ``DISTRIBU_LOCAL_AWS_PORT`` (as ``make run`` reads it), else the port the running stack recorded
    in its state folder (``DISTRIBU_LOCAL_STATE_DIR`` or ``.local-state/``), else the default 4566."""
    if environ.get("AWS_ENDPOINT_URL"):
        return environ["AWS_ENDPOINT_URL"]
    from distribu_local.settings import DEFAULT_AWS_PORT, DEFAULT_STATE_DIR, HOST
    from distribu_local.state import StateDir

    if environ.get("DISTRIBU_LOCAL_AWS_PORT"):
        return f"http://{HOST}:{int(environ['DISTRIBU_LOCAL_AWS_PORT'])}"
    state_dir = environ.get("DISTRIBU_LOCAL_STATE_DIR")
    recorded = StateDir(Path(state_dir) if state_dir else DEFAULT_STATE_DIR).endpoints().get("awsEndpoint")
    return str(recorded) if recorded else f"http://{HOST}:{DEFAULT_AWS_PORT}"


def _target_environment() -> None:
    if "TABLE_NAME" not in os.environ:
        os.environ["AWS_ENDPOINT_URL"] = local_endpoint(os.environ)
        for name, value in LOCAL_DEFAULTS.items():
            os.environ.setdefault(name, value)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")


def _company_id(slug: str) -> str:
    from distribu import companies

    return companies.get_company_by_slug(slug).id


def _cli_actor() -> Any:
    from distribu import audit

    return audit.Actor("SYSTEM", "cli", "distribu CLI")


def company_create(args: argparse.Namespace) -> Any:
    from distribu import companies

    return companies.create_company(args.name, args.owner_email, args.owner_password, slug=args.slug).public()


def api_key_create(args: argparse.Namespace) -> Any:
    from distribu import apikeys, companies

    company = companies.get_company_by_slug(args.company)
    view, raw_key = apikeys.create_api_key(company.id, args.name, apikeys.parse_scopes(args.scopes), _cli_actor(),
                                           expires_at=args.expires_at, rate_limit=company.rate_limit_per_minute)
    return {"id": view["id"], "key": raw_key, "prefix": view["prefix"], "scopes": view["scopes"],
            "expiresAt": view["expiresAt"]}


def api_key_revoke(args: argparse.Namespace) -> Any:
    from distribu import apikeys

    return apikeys.revoke_api_key(_company_id(args.company), args.id, _cli_actor())


def api_key_list(args: argparse.Namespace) -> Any:
    from distribu import apikeys

    return apikeys.list_api_keys(_company_id(args.company))


def projections_rebuild(args: argparse.Namespace) -> Any:
    """The catalog index and the sales rollups recomputed from the products and the orders."""
    import time

    from distribu import projections

    company_id = _company_id(args.company)
    started = time.perf_counter()
    result = projections.rebuild(company_id)
    return {"company": args.company, **result, "seconds": round(time.perf_counter() - started, 3)}


def reports_rebuild(args: argparse.Namespace) -> Any:
    """What the reports read (sales and spend rollups, the catalog index's valuation), recomputed from the
    orders and the products, with the rate."""
    import time

    from distribu import reports

    company_id = _company_id(args.company)
    started = time.perf_counter()
    result = reports.rebuild(company_id)
    seconds = time.perf_counter() - started
    orders = result["salesRollups"]["orders"]
    return {"company": args.company, **result, "seconds": round(seconds, 3),
            "ordersPerSecond": round(orders / seconds, 1) if seconds else None}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="distribu", description="Distribu admin commands (JSON output).")
    groups = parser.add_subparsers(dest="group", required=True)

    company = groups.add_parser("company", help="companies").add_subparsers(dest="action", required=True)
    create = company.add_parser("create", help="create a company and its OWNER")
    create.add_argument("--name", required=True)
    create.add_argument("--owner-email", required=True)
    create.add_argument("--owner-password", required=True)
    create.add_argument("--slug", help="defaults to one derived from the name")
    create.set_defaults(run=company_create)

    api_key = groups.add_parser("api-key", help="API keys").add_subparsers(dest="action", required=True)
    create = api_key.add_parser("create", help="create a key; the key is printed once")
    create.add_argument("--company", required=True, metavar="SLUG")
    create.add_argument("--name", required=True)
    create.add_argument("--scopes", required=True, help="comma-separated, e.g. products:read,orders:write")
    create.add_argument("--expires-at", metavar="ISO8601")
    create.set_defaults(run=api_key_create)
    revoke = api_key.add_parser("revoke", help="revoke a key by id")
    revoke.add_argument("--company", required=True, metavar="SLUG")
    revoke.add_argument("--id", required=True, metavar="KEY_ID")
    revoke.set_defaults(run=api_key_revoke)
    listing = api_key.add_parser("list", help="list a company's keys")
    listing.add_argument("--company", required=True, metavar="SLUG")
    listing.set_defaults(run=api_key_list)
    projections = groups.add_parser("projections", help="read models (catalog index, sales rollups)")
    rebuild = projections.add_subparsers(dest="action", required=True).add_parser(
        "rebuild", help="recompute a company's read models from its products and orders (safe while in use)")
    rebuild.add_argument("--company", required=True, metavar="SLUG")
    rebuild.set_defaults(run=projections_rebuild)

    reports = groups.add_parser("reports", help="reports (sales, customer spend, inventory valuation)")
    rebuild = reports.add_subparsers(dest="action", required=True).add_parser(
        "rebuild", help="recompute the rollups the reports read from the orders and products (safe while in use)")
    rebuild.add_argument("--company", required=True, metavar="SLUG")
    rebuild.set_defaults(run=reports_rebuild)
    csv_commands.register(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _target_environment()
    from botocore.exceptions import BotoCoreError, ClientError

    from distribu.errors import DomainError

    run: Callable[[argparse.Namespace], Any] = args.run
    try:
        result = run(args)
    except DomainError as error:
        print(json.dumps(error.body()), file=sys.stderr)
        return 1
    except (BotoCoreError, ClientError) as error:
        where = os.environ.get("AWS_ENDPOINT_URL") or "AWS"
        print(json.dumps({"error": f"Could not reach the stack's data at {where}: {error}"}), file=sys.stderr)
        return 2
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
