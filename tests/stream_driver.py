"""Runs the table's stream in tests, as the ProjectionsPipe and its queue trigger do in the cloud.

In-process moto has no pipes and no queue triggers, so page and API tests would never see the read
models change. :class:`ProjectionsDriver` reads the moto table's stream from where it last stopped,
shapes each record as the pipe does (:func:`distribu_local.pumps.pipe_record`), keeps those the
template's ProjectionsPipe filter patterns match, and hands them to the real projections handler as SQS
events of the trigger's batch size. Use it through the ``projections`` fixture::

    call_api("POST", "/api/v1/products", ...)
    projections.drain()          # the catalog index and the sales rollups now include the product

``collect()`` and ``deliver()`` split the two steps, for tests that reorder or repeat records.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from distribu_local import motofixes, patterns
from distribu_local.apigateway import LambdaContext
from distribu_local.pumps import pipe_record
from distribu_local.template import Stack

PIPE = "ProjectionsPipe"
FUNCTION = "ProjectionsFunction"


class BatchFailed(AssertionError):
    pass


class ProjectionsDriver:
    def __init__(self, stack: Stack, session: Any) -> None:
        [pipe] = [pipe for pipe in stack.pipes() if pipe.name == PIPE]
        [trigger] = [trigger for trigger in stack.queue_triggers() if trigger.function == FUNCTION]
        self.patterns = pipe.patterns
        self.queue_arn = stack.arn(trigger.queue_logical_id)
        self.batch_size = trigger.batch_size
        self.stream_arn = stack.get_att("Table", "StreamArn")
        self.streams = session.client("dynamodbstreams")
        self.iterators: dict[str, str] = {}
        self.delivered = 0
        # Without the fix, a cancelled transaction swaps in a copy of the table, and with it a copy of the
        # stream: open iterators would read a dead shard.
        self._installed = motofixes.install()

    def close(self) -> None:
        if self._installed:
            motofixes.uninstall()

    def collect(self) -> list[str]:
        """The pipe's messages for every stream record written since the last call (or since the table
        was created), in stream order, not yet delivered."""
        if not self.iterators:
            for shard in self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]:
                self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard["ShardId"],
                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        bodies = []
        for shard_id in list(self.iterators):
            while True:
                response = self.streams.get_records(ShardIterator=self.iterators[shard_id], Limit=1000)
                self.iterators[shard_id] = response["NextShardIterator"]
                records = response.get("Records", [])
                for record in records:
                    shaped = pipe_record(record, self.stream_arn)
                    if patterns.matches_any(self.patterns, shaped):
                        bodies.append(json.dumps(shaped, separators=(",", ":")))
                if not records:
                    break
        return bodies

    def deliver(self, bodies: list[str], *, batch_size: int | None = None) -> None:
        """Hand ``bodies`` to the projections handler as SQS events; any reported failure raises."""
        from distribu_projections.handler import lambda_handler

        size = batch_size or self.batch_size
        for start in range(0, len(bodies), size):
            event = {"Records": [{
                "messageId": str(uuid.uuid4()), "receiptHandle": "r", "body": body, "attributes": {},
                "messageAttributes": {}, "md5OfBody": "", "eventSource": "aws:sqs", "eventSourceARN": self.queue_arn,
                "awsRegion": "us-east-1"} for body in bodies[start:start + size]]}
            result = lambda_handler(event, LambdaContext(function_name="projections"))
            if result["batchItemFailures"]:
                raise BatchFailed(f"the projections handler failed {len(result['batchItemFailures'])} record(s)")
            self.delivered += len(event["Records"])

    def drain(self) -> int:
        """Deliver every new stream record the pipe would carry; returns how many."""
        bodies = self.collect()
        self.deliver(bodies)
        return len(bodies)
