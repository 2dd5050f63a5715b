"""Data that survives a restart: every item of the template's tables, every object of its buckets and
every message waiting in its queues.

The snapshot is one JSON file in the state folder, written atomically (temporary file + rename):
items in DynamoDB's low-level typed JSON (binary values base64), objects base64 with their content
type and metadata, messages with their body and attributes (read from moto's backend under the moto
lock, as receiving them would count as a delivery). Tables, buckets and queues are keyed by logical
id, so a new stack name still restores. Restored messages are new messages to SQS: at least once.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from distribu_local.state import write_atomically
from distribu_local.template import Stack

VERSION = 1


def _encode_value(value: Any) -> Any:
    """boto3's low-level attribute values -> JSON (bytes become base64, as on the wire)."""
    if isinstance(value, dict):
        return {name: _encode_value(item) for name, item in value.items()}
    if isinstance(value, list):
        return [_encode_value(item) for item in value]
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    return value


def _decode_attribute(attribute: dict[str, Any]) -> dict[str, Any]:
    (kind, value), = attribute.items()
    if kind == "B":
        return {"B": base64.b64decode(value)}
    if kind == "BS":
        return {"BS": [base64.b64decode(item) for item in value]}
    if kind == "M":
        return {"M": {name: _decode_attribute(item) for name, item in value.items()}}
    if kind == "L":
        return {"L": [_decode_attribute(item) for item in value]}
    return {kind: value}


def _decode_item(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _decode_attribute(attribute) for name, attribute in item.items()}


class Snapshotter:
    def __init__(self, stack: Stack, session: Any, path: Path, moto_lock: Any = None) -> None:
        self.stack = stack
        self.path = path
        self.moto_lock = moto_lock
        self.sqs = session.client("sqs")
        self.dynamodb = session.client("dynamodb")
        self.s3 = session.client("s3")

    def _tables(self) -> dict[str, str]:
        return {logical_id: self.stack.physical_name(logical_id)
                for logical_id in self.stack.of_type("AWS::DynamoDB::Table")}

    def _buckets(self) -> dict[str, str]:
        return {logical_id: self.stack.physical_name(logical_id)
                for logical_id in self.stack.of_type("AWS::S3::Bucket")}

    def dump(self) -> dict[str, Any]:
        tables: dict[str, list[dict[str, Any]]] = {}
        for logical_id, name in self._tables().items():
            items: list[dict[str, Any]] = []
            for page in self.dynamodb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
                items += [_encode_value(item) for item in page.get("Items", [])]
            tables[logical_id] = items
        buckets: dict[str, list[dict[str, Any]]] = {}
        for logical_id, name in self._buckets().items():
            objects: list[dict[str, Any]] = []
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=name):
                for summary in page.get("Contents", []):
                    obj = self.s3.get_object(Bucket=name, Key=summary["Key"])
                    objects.append({"key": summary["Key"], "body": base64.b64encode(obj["Body"].read()).decode(),
                                    "contentType": obj.get("ContentType"), "metadata": obj.get("Metadata", {})})
            buckets[logical_id] = objects
        return {"version": VERSION, "savedAt": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "tables": tables, "buckets": buckets, "queues": self._dump_queues()}

    def _dump_queues(self) -> dict[str, list[dict[str, Any]]]:
        """Waiting and in-flight messages, straight from the in-process backend (None: not in this process)."""
        if self.moto_lock is None:
            return {}
        from moto.sqs.models import sqs_backends

        queues: dict[str, list[dict[str, Any]]] = {}
        with self.moto_lock:
            backend = sqs_backends[self.stack.account_id][self.stack.region]
            for logical_id in self.stack.of_type("AWS::SQS::Queue"):
                queue = backend.queues.get(self.stack.physical_name(logical_id))
                if queue is not None:
                    queues[logical_id] = [{"body": message.body,
                                           "attributes": _encode_value(message.message_attributes)}
                                          for message in queue._messages]
        return queues

    def save(self) -> dict[str, int]:
        snapshot = self.dump()
        write_atomically(self.path, json.dumps(snapshot, separators=(",", ":")).encode())
        return self._counts(snapshot)

    @staticmethod
    def _counts(snapshot: dict[str, Any]) -> dict[str, int]:
        return {"items": sum(len(items) for items in snapshot.get("tables", {}).values()),
                "objects": sum(len(objects) for objects in snapshot.get("buckets", {}).values()),
                "messages": sum(len(messages) for messages in snapshot.get("queues", {}).values())}

    def restore(self) -> dict[str, int] | None:
        """Load the snapshot into the (empty, just created) tables and buckets. None if there is none."""
        if not self.path.exists():
            return None
        snapshot = json.loads(self.path.read_text())
        if snapshot.get("version") != VERSION:
            raise ValueError(f"{self.path}: unknown snapshot version {snapshot.get('version')}")
        tables, buckets = self._tables(), self._buckets()
        for logical_id, items in snapshot.get("tables", {}).items():
            if logical_id not in tables:
                continue
            for start in range(0, len(items), 25):
                requests = {tables[logical_id]: [{"PutRequest": {"Item": _decode_item(item)}}
                                                 for item in items[start:start + 25]]}
                for attempt in range(10):
                    requests = self.dynamodb.batch_write_item(RequestItems=requests).get("UnprocessedItems") or {}
                    if not requests:
                        break
                    time.sleep(0.05 * (attempt + 1))
                else:
                    raise RuntimeError(f"could not restore every item of {logical_id}")
        for logical_id, objects in snapshot.get("buckets", {}).items():
            if logical_id not in buckets or not objects:
                continue
            self._restore_objects(buckets[logical_id], objects)
        queues = set(self.stack.of_type("AWS::SQS::Queue"))
        for logical_id, messages in snapshot.get("queues", {}).items():
            if logical_id in queues and messages:
                self._restore_messages(logical_id, messages)
        return self._counts(snapshot)

    def _restore_messages(self, logical_id: str, messages: list[dict[str, Any]]) -> None:
        url = self.stack.queue_url(logical_id)
        for start in range(0, len(messages), 10):
            entries = []
            for index, message in enumerate(messages[start:start + 10]):
                attributes = {}
                for name, value in (message.get("attributes") or {}).items():
                    attribute = {key: item for key, item in value.items()
                                 if key in ("DataType", "StringValue", "BinaryValue")}
                    if isinstance(attribute.get("BinaryValue"), str):
                        attribute["BinaryValue"] = base64.b64decode(attribute["BinaryValue"])
                    attributes[name] = attribute
                entries.append({"Id": str(index), "MessageBody": message["body"],
                                **({"MessageAttributes": attributes} if attributes else {})})
            failed = self.sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
            if failed:
                raise RuntimeError(f"could not restore {len(failed)} message(s) of {logical_id}: {failed[0]}")

    def _restore_objects(self, bucket: str, objects: list[dict[str, Any]]) -> None:
        """Put the objects back without notifying anyone: restored uploads are not new uploads."""
        notifications = self.s3.get_bucket_notification_configuration(Bucket=bucket)
        notifications = {name: value for name, value in notifications.items()
                         if name in ("TopicConfigurations", "QueueConfigurations", "LambdaFunctionConfigurations",
                                     "EventBridgeConfiguration")}
        if notifications:
            self.s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        try:
            for obj in objects:
                extra = {"ContentType": obj["contentType"]} if obj.get("contentType") else {}
                self.s3.put_object(Bucket=bucket, Key=obj["key"], Body=base64.b64decode(obj["body"]),
                                   Metadata=obj.get("metadata") or {}, **extra)
        finally:
            if notifications:
                self.s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notifications)
