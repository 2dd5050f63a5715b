"""Reads ``template.yaml`` and creates its resources on any AWS endpoint (moto, in tests and locally).

The template is the one source of truth: tables, indexes, streams, queues with their redrive
policies, buckets with their notifications, HTTP routes, queue triggers, pipes and schedules are
all read from it, never restated here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = ROOT / "template.yaml"


def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    from samtranslator.yaml_helper import yaml_parse

    return yaml_parse(path.read_text())


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # as in the template, e.g. /api/v1/{proxy+}
    function: str

    def pattern(self) -> re.Pattern[str]:
        regex = ""
        for part in re.split(r"(\{[^}]+\})", self.path):
            if part.startswith("{") and part.endswith("+}"):
                regex += f"(?P<{part[1:-2]}>.+)"
            elif part.startswith("{"):
                regex += f"(?P<{part[1:-1]}>[^/]+)"
            else:
                regex += re.escape(part)
        return re.compile(f"^{regex}$")


@dataclass(frozen=True)
class QueueTrigger:
    function: str
    queue_logical_id: str
    batch_size: int
    reports_batch_failures: bool


@dataclass(frozen=True)
class ScheduleTrigger:
    function: str
    name: str
    every_seconds: int
    input: dict[str, Any]


@dataclass(frozen=True)
class PipeSpec:
    name: str
    patterns: list[dict[str, Any]]
    target_queue_logical_id: str


@dataclass
class FunctionSpec:
    logical_id: str
    code_uri: Path
    handler: str
    environment: dict[str, str] = field(default_factory=dict)
    timeout: int = 3


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days|second|seconds)\)$")
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}


class Stack:
    """The template with its intrinsics resolved for one stack name, account and region."""

    def __init__(self, template: dict[str, Any] | None = None, *, stack_name: str = "distribu-local",
                 account_id: str = "123456789012", region: str = "us-east-1",
                 parameters: dict[str, str] | None = None) -> None:
        self.template = template or load_template()
        self.stack_name = stack_name
        self.account_id = account_id
        self.region = region
        self.resources: dict[str, dict[str, Any]] = self.template["Resources"]
        self.parameters = {name: str(spec.get("Default", "")) for name, spec in
                           self.template.get("Parameters", {}).items()}
        self.parameters.update(parameters or {})
        self._stream_arns: dict[str, str] = {}
        self._queue_urls: dict[str, str] = {}

    # --- intrinsic functions ------------------------------------------------------------------------
    def _type(self, logical_id: str) -> str:
        return self.resources[logical_id]["Type"]

    def physical_name(self, logical_id: str) -> str:
        resource = self.resources[logical_id]
        explicit = resource.get("Properties", {}).get("BucketName")
        if explicit is not None:
            return str(self.resolve(explicit))
        return f"{self.stack_name}-{logical_id}"

    def queue_url(self, logical_id: str) -> str:
        return self._queue_urls.get(
            logical_id, f"https://sqs.{self.region}.amazonaws.com/{self.account_id}/{self.physical_name(logical_id)}")

    def arn(self, logical_id: str) -> str:
        kind = self._type(logical_id)
        name = self.physical_name(logical_id)
        if kind == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{self.region}:{self.account_id}:{name}"
        if kind == "AWS::S3::Bucket":
            return f"arn:aws:s3:::{name}"
        if kind == "AWS::DynamoDB::Table":
            return f"arn:aws:dynamodb:{self.region}:{self.account_id}:table/{name}"
        return f"arn:aws:cloudformation:{self.region}:{self.account_id}:{kind}/{name}"

    def _pseudo(self, name: str) -> str:
        return {"AWS::StackName": self.stack_name, "AWS::AccountId": self.account_id, "AWS::Region": self.region,
                "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com"}[name]

    def ref(self, name: str) -> str:
        if name.startswith("AWS::"):
            return self._pseudo(name)
        if name in self.parameters:
            return self.parameters[name]
        if self._type(name) == "AWS::SQS::Queue":
            return self.queue_url(name)
        return self.physical_name(name)

    def get_att(self, logical_id: str, attribute: str) -> str:
        if attribute == "Arn":
            return self.arn(logical_id)
        if attribute == "QueueName":
            return self.physical_name(logical_id)
        if attribute == "QueueUrl":
            return self.queue_url(logical_id)
        if attribute == "StreamArn":
            return self._stream_arns.get(logical_id, f"{self.arn(logical_id)}/stream/unknown")
        raise KeyError(f"GetAtt {logical_id}.{attribute} is not supported locally")

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (function, argument), = value.items()
            if function == "Ref":
                return self.ref(argument)
            if function == "Fn::GetAtt":
                logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
                return self.get_att(logical_id, attribute)
            if function == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else argument
                variables = {name: self.resolve(item) for name, item in variables.items()}

                def substitute(match: re.Match[str]) -> str:
                    name = match.group(1)
                    if name in variables:
                        return str(variables[name])
                    if "." in name:
                        return self.get_att(*name.split(".", 1))
                    return self.ref(name)

                return re.sub(r"\$\{([^}!]+)\}", substitute, text)
            if function == "Fn::Join":
                separator, parts = argument
                return separator.join(str(self.resolve(part)) for part in parts)
        return {name: self.resolve(item) for name, item in value.items()}

    # --- what the template declares -------------------------------------------------------------------
    def of_type(self, kind: str) -> list[str]:
        return [logical_id for logical_id, resource in self.resources.items() if resource["Type"] == kind]

    def functions(self) -> dict[str, FunctionSpec]:
        globals_ = self.template.get("Globals", {}).get("Function", {})
        specs = {}
        for logical_id in self.of_type("AWS::Serverless::Function"):
            properties = self.resources[logical_id]["Properties"]
            environment = {**globals_.get("Environment", {}).get("Variables", {}),
                           **properties.get("Environment", {}).get("Variables", {})}
            specs[logical_id] = FunctionSpec(
                logical_id=logical_id,
                code_uri=ROOT / properties["CodeUri"],
                handler=properties["Handler"],
                environment={name: str(self.resolve(item)) for name, item in environment.items()},
                timeout=int(properties.get("Timeout", globals_.get("Timeout", 3))),
            )
        return specs

    def layer_paths(self) -> list[Path]:
        return [ROOT / self.resources[layer]["Properties"]["ContentUri"]
                for layer in self.of_type("AWS::Serverless::LayerVersion")]

    def _events(self, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
        found = []
        for logical_id in self.of_type("AWS::Serverless::Function"):
            for name, event in self.resources[logical_id]["Properties"].get("Events", {}).items():
                if event["Type"] == kind:
                    found.append((logical_id, name, event.get("Properties", {})))
        return found

    def routes(self) -> list[Route]:
        return [Route(properties["Method"].upper(), properties["Path"], function)
                for function, _, properties in self._events("HttpApi")]

    def queue_triggers(self) -> list[QueueTrigger]:
        triggers = []
        for function, _, properties in self._events("SQS"):
            logical_id = properties["Queue"]["Fn::GetAtt"][0]
            triggers.append(QueueTrigger(function, logical_id, int(properties.get("BatchSize", 10)),
                                         "ReportBatchItemFailures" in properties.get("FunctionResponseTypes", [])))
        return triggers

    def schedules(self) -> list[ScheduleTrigger]:
        schedules = []
        for function, name, properties in self._events("Schedule"):
            match = _RATE.match(properties["Schedule"])
            if not match:
                raise ValueError(f"Only rate() schedules run locally: {properties['Schedule']}")
            seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]
            schedules.append(ScheduleTrigger(function, name, seconds, json.loads(properties.get("Input", "{}"))))
        return schedules

    def pipes(self) -> list[PipeSpec]:
        pipes = []
        for logical_id in self.of_type("AWS::Pipes::Pipe"):
            properties = self.resources[logical_id]["Properties"]
            filters = properties.get("SourceParameters", {}).get("FilterCriteria", {}).get("Filters", [])
            pipes.append(PipeSpec(logical_id, [json.loads(item["Pattern"]) for item in filters],
                                  properties["Target"]["Fn::GetAtt"][0]))
        return pipes

    # --- creating the resources ----------------------------------------------------------------------
    def create_resources(self, session: Any) -> None:
        """Create tables, queues, buckets (with notifications) and the SES sender on ``session``."""
        dynamodb = session.client("dynamodb")
        for logical_id in self.of_type("AWS::DynamoDB::Table"):
            properties = self.resources[logical_id]["Properties"]
            request = {name: properties[name] for name in
                       ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode",
                        "StreamSpecification") if name in properties}
            if "StreamSpecification" in request:
                request["StreamSpecification"] = {"StreamEnabled": True, **request["StreamSpecification"]}
            name = self.physical_name(logical_id)
            try:
                description = dynamodb.create_table(TableName=name, **request)["TableDescription"]
            except dynamodb.exceptions.ResourceInUseException:
                description = dynamodb.describe_table(TableName=name)["Table"]
            if description.get("LatestStreamArn"):
                self._stream_arns[logical_id] = description["LatestStreamArn"]
            ttl = properties.get("TimeToLiveSpecification")
            if ttl:
                dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)

        sqs = session.client("sqs")
        for logical_id in self.of_type("AWS::SQS::Queue"):
            properties = self.resolve(self.resources[logical_id].get("Properties", {}))
            attributes = {name: str(properties[name]) for name in
                          ("VisibilityTimeout", "MessageRetentionPeriod", "DelaySeconds") if name in properties}
            if "RedrivePolicy" in properties:
                attributes["RedrivePolicy"] = json.dumps(properties["RedrivePolicy"])
            created = sqs.create_queue(QueueName=self.physical_name(logical_id), Attributes=attributes)
            self._queue_urls[logical_id] = created["QueueUrl"]

        s3 = session.client("s3")
        for logical_id in self.of_type("AWS::S3::Bucket"):
            name = self.physical_name(logical_id)
            try:
                s3.create_bucket(Bucket=name)
            except (s3.exceptions.BucketAlreadyOwnedByYou, s3.exceptions.BucketAlreadyExists):
                pass
            notifications = self.resolve(self.resources[logical_id]["Properties"].get("NotificationConfiguration"))
            if notifications:
                s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={
                    "QueueConfigurations": [{
                        "QueueArn": item["Queue"], "Events": [item["Event"]],
                        **({"Filter": {"Key": {"FilterRules": item["Filter"]["S3Key"]["Rules"]}}}
                           if "Filter" in item else {}),
                    } for item in notifications.get("QueueConfigurations", [])]})
        for logical_id in self.of_type("AWS::S3::BucketPolicy"):
            properties = self.resolve(self.resources[logical_id]["Properties"])
            s3.put_bucket_policy(Bucket=properties["Bucket"], Policy=json.dumps(properties["PolicyDocument"]))

        if "SenderEmail" in self.parameters:
            session.client("ses").verify_email_identity(EmailAddress=self.parameters["SenderEmail"])

    def function_environment(self) -> dict[str, str]:
        """The variables every function shares (per-function service names are left out)."""
        shared: dict[str, str] = {}
        for spec in self.functions().values():
            for name, value in spec.environment.items():
                if name != "POWERTOOLS_SERVICE_NAME":
                    shared[name] = value
        return shared
