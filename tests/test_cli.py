"""The admin CLI against moto: JSON out, clear errors and non-zero exits for bad arguments."""

from __future__ import annotations

import json

import pytest

from distribu_cli.main import main
from tests.conftest import call_api


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict | list | None, dict | None]:
    code = main(list(argv))
    captured = capsys.readouterr()
    out = json.loads(captured.out) if captured.out.strip() else None
    err = json.loads(captured.err) if captured.err.strip() else None
    return code, out, err


def test_company_and_key_lifecycle(stack, capsys) -> None:
    code, company, _ = run(capsys, "company", "create", "--name", "Acme Distributors",
                           "--owner-email", "owner@acme.test", "--owner-password", "s3cret-pass")
    assert code == 0 and company["slug"] == "acme-distributors" and set(company) == {"id", "slug", "name"}

    code, key, _ = run(capsys, "api-key", "create", "--company", "acme-distributors", "--name", "ERP",
                       "--scopes", "products:read,orders:write")
    assert code == 0 and key["key"].startswith("dk_") and len(key["key"]) == 46
    assert key["prefix"] == key["key"][:12] and key["scopes"] == ["products:read", "orders:write"]
    assert call_api("GET", "/api/v1/products", key=key["key"]).status == 200

    code, revoked, _ = run(capsys, "api-key", "revoke", "--company", "acme-distributors", "--id", key["id"])
    assert code == 0 and revoked["status"] == "Revoked"
    response = call_api("GET", "/api/v1/products", key=key["key"])
    assert response.status == 401 and response.body == {"error": "Invalid, expired, or revoked API key."}


@pytest.mark.parametrize("argv, message", [
    (["api-key", "create", "--company", "nope", "--name", "x", "--scopes", "products:read"], 'No company with the slug "nope".'),
    (["api-key", "create", "--company", "acme-distributors", "--name", "x", "--scopes", "products:fly"], "Unknown scope(s): products:fly"),
    (["api-key", "create", "--company", "acme-distributors", "--name", "x", "--scopes", "products:read",
      "--expires-at", "next tuesday"], 'Invalid expiry "next tuesday"'),
    (["company", "create", "--name", "Acme Distributors", "--owner-email", "other@acme.test",
      "--owner-password", "s3cret-pass"], 'A company with the slug "acme-distributors" already exists.'),
    (["api-key", "revoke", "--company", "acme-distributors", "--id", "missing"], "API key not found."),
])
def test_bad_arguments_fail_clearly(stack, capsys, argv, message) -> None:
    assert run(capsys, "company", "create", "--name", "Acme Distributors", "--owner-email", "owner@acme.test",
               "--owner-password", "s3cret-pass")[0] == 0
    code, out, err = run(capsys, *argv)
    assert code != 0 and out is None
    assert err["error"].startswith(message)


def test_expired_key_is_rejected(stack, capsys) -> None:
    run(capsys, "company", "create", "--name", "Acme Distributors", "--owner-email", "owner@acme.test",
        "--owner-password", "s3cret-pass")
    code, key, _ = run(capsys, "api-key", "create", "--company", "acme-distributors", "--name", "old",
                       "--scopes", "products:read", "--expires-at", "2020-01-01T00:00:00Z")
    assert code == 0
    response = call_api("GET", "/api/v1/products", key=key["key"])
    assert response.status == 401 and response.body == {"error": "Invalid, expired, or revoked API key."}


def test_projections_rebuild_builds_the_read_models_of_existing_data(stack, capsys) -> None:
    from distribu import catalog_index, projections
    from tests.conftest import make_tenant

    tenant = make_tenant("Acme Distributors")
    for number in range(3):
        assert call_api("POST", "/api/v1/products", key=tenant.key, json_body={
            "name": f"Item {number}", "price": 2, "stock": number, "category": "Tools"}).status == 201
    assert projections.needs_rebuild(tenant.company_id)  # the stream never ran here
    code, result, _ = run(capsys, "projections", "rebuild", "--company", "acme-distributors")
    assert code == 0 and result["company"] == "acme-distributors"
    assert result["catalogIndex"]["products"] == 3 and result["catalogIndex"]["activeProducts"] == 3
    assert result["salesRollups"]["orders"] == 0
    catalog_index.forget_cache()
    index = catalog_index.load(tenant.company_id)
    assert index.active_by_category == {"Tools": 3} and (index.health.low, index.health.out) == (2, 1)
    assert not projections.needs_rebuild(tenant.company_id)
    code, _, err = run(capsys, "projections", "rebuild", "--company", "nope")
    assert code == 1 and err == {"error": 'No company with the slug "nope".'}


def test_the_local_stack_is_found_however_it_was_started(tmp_path) -> None:
    from distribu_cli.main import local_endpoint
    from distribu_local.state import StateDir

    StateDir(tmp_path).save_endpoints("http://127.0.0.1:47001", "http://127.0.0.1:47002")
    recorded = {"DISTRIBU_LOCAL_STATE_DIR": str(tmp_path)}
    assert local_endpoint(recorded) == "http://127.0.0.1:47001"  # the running stack's own record
    assert local_endpoint({**recorded, "DISTRIBU_LOCAL_AWS_PORT": "5001"}) == "http://127.0.0.1:5001"
    assert local_endpoint({**recorded, "AWS_ENDPOINT_URL": "http://aws.test:1"}) == "http://aws.test:1"
    assert local_endpoint({"DISTRIBU_LOCAL_STATE_DIR": str(tmp_path / "never-ran")}) == "http://127.0.0.1:4566"
