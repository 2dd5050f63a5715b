"""The event sources the cloud drives and moto does not: pipes, queue triggers and schedules.

- :class:`StreamPump` reads a table's DynamoDB stream and does what each EventBridge Pipe on it does:
  filter the records with the pipe's patterns and send each match, as JSON, to the pipe's queue.
- :class:`QueuePoller` is a Lambda SQS event source mapping: receive a batch (never long-polling:
  moto runs one request at a time), invoke the function, delete what succeeded (partial batch
  responses honoured; an exception deletes nothing, so messages come back after the visibility
  timeout and moto moves them to the dead-letter queue after ``maxReceiveCount``).
- :class:`Scheduler` fires ``rate()`` schedules.

S3 notifications need nothing here: moto delivers them to the queue itself, and a poller carries them on.
A failing handler is logged; it never stops a pump.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from typing import Any, Callable

from botocore.exceptions import ClientError

from distribu_local import log, motofixes, patterns
from distribu_local.functions import Functions
from distribu_local.template import PipeSpec, QueueTrigger, ScheduleTrigger, Stack


class Stats:
    """Counters shown at ``/_local/status.json`` (and read by the tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sections: dict[str, dict[str, dict[str, Any]]] = {"pipes": {}, "triggers": {}, "schedules": {}}

    def update(self, section: str, name: str, *, last: bool = True, **changes: Any) -> None:
        with self._lock:
            entry = self._sections[section].setdefault(name, {})
            for field, value in changes.items():
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    entry[field] = entry.get(field, 0) + value
                else:
                    entry[field] = value
            if last:
                entry["lastAt"] = datetime.now(timezone.utc).isoformat(timespec="milliseconds")

    def register(self, section: str, name: str, **fields: Any) -> None:
        with self._lock:
            self._sections[section][name] = dict(fields)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._sections)


def _json_default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def pipe_record(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A stream record as a DynamoDB-sourced pipe hands it on (what its filters see and the queue gets)."""
    data = dict(record.get("dynamodb", {}))
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = int(created.timestamp())
    shaped = {name: value for name, value in record.items() if name != "dynamodb"}
    shaped["dynamodb"] = data
    shaped["eventSourceARN"] = stream_arn
    return json.loads(json.dumps(shaped, default=_json_default))


class Pump(threading.Thread):
    """A thread that repeats :meth:`step` until stopped, sleeping when there was nothing to do."""

    component = "pump"

    def __init__(self, name: str, stopping: threading.Event, idle_sleep: float) -> None:
        super().__init__(name=name, daemon=True)
        self.stopping = stopping
        self.idle_sleep = idle_sleep

    def step(self) -> bool:
        raise NotImplementedError

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = self.step()
            except Exception as failure:  # logged, never fatal: the pump keeps going
                if self.stopping.is_set():
                    return
                log.error(self.component, f"{self.name}: {type(failure).__name__}: {failure}", exc_info=True)
                self.stopping.wait(1.0)
                continue
            if not busy:
                self.stopping.wait(self.idle_sleep)


class StreamPump(Pump):
    component = "pipe"
    PRUNE_EVERY = 60.0

    def __init__(self, stack: Stack, table_logical_id: str, pipes: list[PipeSpec], *, streams: Any, sqs: Any,
                 moto_lock: threading.Lock, stats: Stats, stopping: threading.Event, idle_sleep: float) -> None:
        super().__init__(f"stream-{table_logical_id}", stopping, idle_sleep)
        for pipe in pipes:
            for pattern in pipe.patterns:
                patterns.validate(pattern)
        self.stack = stack
        self.pipes = pipes
        self.streams = streams
        self.sqs = sqs
        self.moto_lock = moto_lock
        self.stats = stats
        self.stream_arn = stack.get_att(table_logical_id, "StreamArn")
        self.iterators: dict[str, str] = {}
        self.last_sequence: dict[str, str] = {}
        self._pruned_at = time.monotonic()
        self._previous_iterators: set[str] = set()
        for pipe in pipes:
            stats.register("pipes", pipe.name, target=pipe.target_queue_logical_id, records=0, matched=0)

    def start_at_latest(self) -> None:
        """Fix the starting position now (after a restore, so restored items do not fire again)."""
        shards = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            self.iterators[shard["ShardId"]] = self.streams.get_shard_iterator(
                StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="LATEST")["ShardIterator"]

    def _reopen(self, shard_id: str) -> None:
        last = self.last_sequence.get(shard_id)
        request = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last} if last else \
            {"ShardIteratorType": "LATEST"}
        self.iterators[shard_id] = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard_id, **request)["ShardIterator"]

    def _send(self, queue_logical_id: str, bodies: list[str]) -> None:
        url = self.stack.queue_url(queue_logical_id)
        for start in range(0, len(bodies), 10):
            entries = [{"Id": str(index), "MessageBody": body} for index, body in enumerate(bodies[start:start + 10])]
            for attempt in range(5):
                failed = self.sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed", [])
                if not failed:
                    break
                failed_ids = {item["Id"] for item in failed}
                entries = [entry for entry in entries if entry["Id"] in failed_ids]
                time.sleep(0.2 * (attempt + 1))
            else:
                raise RuntimeError(f"could not send {len(entries)} record(s) to {queue_logical_id}")

    def step(self) -> bool:
        if not self.iterators:
            self.start_at_latest()
        busy = False
        for shard_id in list(self.iterators):
            try:
                response = self.streams.get_records(ShardIterator=self.iterators[shard_id], Limit=100)
            except ClientError as failure:
                log.error(self.component, f"{self.name}: reopening the shard after {failure}")
                self._reopen(shard_id)
                continue
            records = response.get("Records", [])
            if records:
                busy = True
                shaped = [pipe_record(record, self.stream_arn) for record in records]
                for pipe in self.pipes:
                    matching = [record for record in shaped if patterns.matches_any(pipe.patterns, record)]
                    if matching:
                        self._send(pipe.target_queue_logical_id,
                                   [json.dumps(record, separators=(",", ":")) for record in matching])
                        log.info(self.component, f"{pipe.name}: {len(matching)} of {len(records)} stream "
                                                 f"record(s) -> {pipe.target_queue_logical_id}")
                    self.stats.update("pipes", pipe.name, records=len(records), matched=len(matching),
                                      last=bool(matching))
                self.last_sequence[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
            if response.get("NextShardIterator"):
                self.iterators[shard_id] = response["NextShardIterator"]
            else:  # the shard was closed
                del self.iterators[shard_id]
        if time.monotonic() - self._pruned_at > self.PRUNE_EVERY:
            with self.moto_lock:
                self._previous_iterators = motofixes.prune_shard_iterators(
                    set(self.iterators.values()), self._previous_iterators)
            self._pruned_at = time.monotonic()
        return busy


def _lambda_message_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    converted = {}
    for name, value in attributes.items():
        binary = value.get("BinaryValue")
        converted[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
            "stringListValues": list(value.get("StringListValues", [])),
            "binaryListValues": [base64.b64encode(item).decode() for item in value.get("BinaryListValues", [])],
            "dataType": value.get("DataType"),
        }
    return converted


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    return {"Records": [{
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": dict(message.get("Attributes", {})),
        "messageAttributes": _lambda_message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    } for message in messages]}


def failed_message_ids(result: Any, message_ids: list[str]) -> set[str]:
    """The messages a partial batch response reports as failed. A malformed response fails the batch,
    as in Lambda."""
    if result is None:
        return set()
    if not isinstance(result, dict):
        return set(message_ids)
    failures = result.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return set(message_ids)
    failed = set()
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if not identifier or identifier not in message_ids:
            return set(message_ids)
        failed.add(identifier)
    return failed


class QueuePoller(Pump):
    component = "sqs"

    def __init__(self, stack: Stack, trigger: QueueTrigger, functions: Functions, *, sqs: Any, stats: Stats,
                 stopping: threading.Event, idle_sleep: float) -> None:
        super().__init__(f"{trigger.function}/{trigger.queue_logical_id}", stopping, idle_sleep)
        self.stack = stack
        self.trigger = trigger
        self.functions = functions
        self.sqs = sqs
        self.stats = stats
        self.queue_url = stack.queue_url(trigger.queue_logical_id)
        self.queue_arn = stack.arn(trigger.queue_logical_id)
        stats.register("triggers", self.name, function=trigger.function, queue=trigger.queue_logical_id,
                       invocations=0, messages=0, succeeded=0, failed=0, errors=0)

    def step(self) -> bool:
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=min(10, max(1, self.trigger.batch_size)),
            WaitTimeSeconds=0, AttributeNames=["All"], MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return False
        ids = [message["MessageId"] for message in messages]
        started = time.monotonic()
        try:
            result = self.functions.invoke(self.trigger.function,
                                           sqs_event(messages, self.queue_arn, self.stack.region), exclusive=True)
        except Exception as failure:
            elapsed = (time.monotonic() - started) * 1000
            log.error(self.component, f"{self.trigger.queue_logical_id} -> {self.trigger.function}: "
                                      f"{len(messages)} message(s), handler raised {type(failure).__name__}: "
                                      f"{failure} ({elapsed:.0f} ms); none deleted", exc_info=True)
            self.stats.update("triggers", self.name, invocations=1, messages=len(messages), errors=1,
                              failed=len(messages))
            return True
        failed = failed_message_ids(result, ids) if self.trigger.reports_batch_failures else set()
        done = [message for message in messages if message["MessageId"] not in failed]
        for start in range(0, len(done), 10):
            self.sqs.delete_message_batch(QueueUrl=self.queue_url, Entries=[
                {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]}
                for index, message in enumerate(done[start:start + 10])])
        elapsed = (time.monotonic() - started) * 1000
        log.info(self.component, f"{self.trigger.queue_logical_id} -> {self.trigger.function}: "
                                 f"{len(messages)} message(s), {len(failed)} failed ({elapsed:.0f} ms)")
        self.stats.update("triggers", self.name, invocations=1, messages=len(messages), succeeded=len(done),
                          failed=len(failed))
        return True


def scheduled_event(stack: Stack, schedule: ScheduleTrigger) -> dict[str, Any]:
    """An EventBridge scheduled event, with the schedule's constant ``Input`` merged in."""
    return {
        "version": "0", "id": str(uuid.uuid4()), "detail-type": "Scheduled Event", "source": "aws.events",
        "account": stack.account_id, "time": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": stack.region,
        "resources": [f"arn:aws:events:{stack.region}:{stack.account_id}:rule/"
                      f"{stack.stack_name}-{schedule.function}-{schedule.name}"],
        "detail": {},
        **schedule.input,
    }


class Scheduler(threading.Thread):
    component = "schedule"

    def __init__(self, stack: Stack, schedules: list[ScheduleTrigger], functions: Functions, *, stats: Stats,
                 stopping: threading.Event, clock: Callable[[], float] = time.monotonic,
                 every_seconds: float | None = None) -> None:
        super().__init__(name="scheduler", daemon=True)
        self.stack = stack
        self.schedules = schedules
        self.functions = functions
        self.stats = stats
        self.stopping = stopping
        self.clock = clock
        # ``every_seconds`` (DISTRIBU_LOCAL_SCHEDULE_SECONDS) replaces every schedule's own rate: tests of
        # scheduled jobs need not wait 15 minutes.
        self.period = {index: every_seconds or schedule.every_seconds for index, schedule in enumerate(schedules)}
        # Like EventBridge, the first run is one period after the schedule is created.
        self.due = {index: clock() + self.period[index] for index in range(len(schedules))}
        for index, schedule in enumerate(schedules):
            stats.register("schedules", self.key(schedule), function=schedule.function,
                           everySeconds=self.period[index], invocations=0, errors=0)

    @staticmethod
    def key(schedule: ScheduleTrigger) -> str:
        return f"{schedule.function}/{schedule.name}"

    def fire(self, schedule: ScheduleTrigger) -> None:
        name = self.key(schedule)
        started = time.monotonic()
        try:
            result = self.functions.invoke(schedule.function, scheduled_event(self.stack, schedule), exclusive=True)
        except Exception as failure:
            log.error(self.component, f"{name}: handler raised {type(failure).__name__}: {failure}", exc_info=True)
            self.stats.update("schedules", name, invocations=1, errors=1)
            return
        elapsed = (time.monotonic() - started) * 1000
        log.info(self.component, f"{name}: ok ({elapsed:.0f} ms) -> {json.dumps(result, default=str)[:200]}")
        self.stats.update("schedules", name, invocations=1)

    def run(self) -> None:
        while self.schedules and not self.stopping.is_set():
            index = min(self.due, key=self.due.__getitem__)
            wait = self.due[index] - self.clock()
            if wait > 0:
                self.stopping.wait(min(wait, 1.0))
                continue
            schedule = self.schedules[index]
            self.due[index] = self.clock() + self.period[index]
            self.fire(schedule)
