"""Reading the table's stream records as the pipes deliver them (one record per SQS message body)."""

from __future__ import annotations

import json
from typing import Any

from distribu import dynamo


def parse(body: str) -> dict[str, Any]:
    return json.loads(body)


def new_image(record: dict[str, Any]) -> dict[str, Any] | None:
    return dynamo.from_item(record.get("dynamodb", {}).get("NewImage"))


def old_image(record: dict[str, Any]) -> dict[str, Any] | None:
    return dynamo.from_item(record.get("dynamodb", {}).get("OldImage"))
