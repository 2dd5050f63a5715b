"""The API held to its own OpenAPI document by a property-based fuzzer (schemathesis), in process.

Every operation of ``/api/v1/openapi.json`` gets generated requests - valid ones and, in negative mode,
ones that break the schema - sent to the FastAPI app over ASGI, with a real API key, against moto. Each
answer must be no server error, carry a documented status, the documented content type and a body that
matches the documented schema. Seeded and bounded, so a run is the same every time and stays short.
"""

from __future__ import annotations

import zlib
from typing import Any, Iterator

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from tests.conftest import make_tenant, template_stack

SEED = 20261126
MAX_EXAMPLES = 20  # per operation, valid and invalid requests mixed
CHECKS = ["not_a_server_error", "status_code_conformance", "content_type_conformance",
          "response_schema_conformance", "negative_data_rejection"]


def fuzz_config() -> SchemathesisConfig:
    return SchemathesisConfig.from_dict({
        "seed": SEED,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "with-security-parameters": False},
        "phases": {"examples": {"enabled": False}, "coverage": {"enabled": False}, "stateful": {"enabled": False},
                   "fuzzing": {"enabled": True}},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
    })


@pytest.fixture(scope="module")
def shop() -> Iterator[dict[str, str]]:
    """A company, its API key and one record of each kind, so generated requests also reach real ones."""
    from distribu import clock, webhook_delivery
    from tests.conftest import call_api

    with template_stack():
        tenant = make_tenant("Fuzzed Supplies", rate_limit=10_000_000)

        def created(path: str, body: dict[str, Any]) -> str:
            response = call_api("POST", path, key=tenant.key, json_body=body)
            assert response.status == 201, response.body
            return response.body["data"]["id"]

        product = created("/api/v1/products", {"name": "Widget", "sku": "W-1", "price": 5, "stock": 1000})
        customer = created("/api/v1/customers", {"email": "buyer@shop.test"})
        order = created("/api/v1/orders", {"customerId": customer, "items": [{"productId": product, "quantity": 1}]})
        webhook = created("/api/v1/webhooks", {"url": "https://hooks.example.com/in", "events": ["order.created"]})
        webhook_delivery.fan_out({"companyId": tenant.company_id, "id": "evt1", "eventType": "order.created",
                                  "createdAt": clock.now_iso(), "envelope": '{"event":"order.created","data":{}}'})
        yield {"key": tenant.key, "product_id": product, "customer_id": customer, "order_id": order,
               "webhook_id": webhook, "delivery_id": webhook_delivery.delivery_id("evt1", webhook),
               "import_id": created("/api/v1/imports", {"kind": "products"})}


def with_real_ids(case: Any, shop: dict[str, str]) -> None:
    """Half the valid requests (chosen from the generated ids, so the same every run) name real records,
    so updates, deletes and their answers are held to the document too, not only 404s."""
    if not case.path_parameters or case.meta.generation.mode is not GenerationMode.POSITIVE:
        return
    if zlib.crc32(repr(sorted(case.path_parameters.items())).encode()) % 2:
        case.path_parameters = {name: shop.get(name, value) for name, value in case.path_parameters.items()}


def fresh_app() -> Any:
    """The API as a cold Lambda container builds it (its own instance: the handler's stays untouched)."""
    from aws_lambda_powertools import Logger

    from distribu_api.app import create_app

    return create_app(Logger(service="api"))


schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", fresh_app(), config=fuzz_config())


@schema.parametrize()
def test_every_operation_keeps_its_documented_promises(case: Any, shop: dict[str, str]) -> None:
    with_real_ids(case, shop)
    case.call_and_validate(headers={"Authorization": f"Bearer {shop['key']}"})
