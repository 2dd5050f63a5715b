"""template.yaml is valid CloudFormation after the SAM transform, and everything it names is wired."""

from __future__ import annotations

import importlib
import json
import os

import pytest

from distribu_local.template import ROOT, Stack, load_template

FUNCTIONS = {
    "ApiFunction": "functions/api/", "StorefrontFunction": "functions/storefront/",
    "DashboardFunction": "functions/dashboard/", "WebhookDispatchFunction": "functions/webhook_dispatch/",
    "LowStockMailerFunction": "functions/low_stock_mailer/", "CsvImportFunction": "functions/csv_import/",
    "ProjectionsFunction": "functions/projections/",
    "ScheduledReportsFunction": "functions/scheduled_reports/",
}


@pytest.fixture(scope="module")
def template() -> dict:
    return load_template()


@pytest.fixture(scope="module")
def transformed(template) -> dict:
    """What `sam deploy` would hand to CloudFormation (code locations replaced as `sam package` does)."""
    import copy

    from samtranslator.translator.transform import transform

    packaged = copy.deepcopy(template)
    for name, resource in packaged["Resources"].items():
        for field in ("CodeUri", "ContentUri"):
            if field in resource.get("Properties", {}):
                resource["Properties"][field] = f"s3://artifacts/{name}.zip"

    class NoManagedPolicies:
        def load(self) -> dict:
            return {}

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    return transform(packaged, {"SessionSecret": "x" * 32}, NoManagedPolicies())


def test_transformed_template_passes_cfn_lint(transformed) -> None:
    from cfnlint.api import ManualArgs, lint

    matches = lint(json.dumps(transformed), config=ManualArgs(regions=["us-east-1"]))
    assert [str(match) for match in matches] == []


def test_every_function_is_declared_with_python312(template) -> None:
    declared = {name: resource["Properties"]["CodeUri"] for name, resource in template["Resources"].items()
                if resource["Type"] == "AWS::Serverless::Function"}
    assert declared == FUNCTIONS
    assert template["Globals"]["Function"]["Runtime"] == "python3.12"


def test_every_handler_imports(template) -> None:
    for name, resource in template["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        module_name, function_name = resource["Properties"]["Handler"].rsplit(".", 1)
        module = importlib.import_module(module_name)
        assert callable(getattr(module, function_name)), name
        assert (ROOT / resource["Properties"]["CodeUri"] / module_name.replace(".", "/")).with_suffix(".py").exists()


def test_no_handler_loads_what_it_does_not_call(template) -> None:
    """Cold starts: botocore clients, not the boto3 package (s3transfer, multiprocessing, resources); no
    Powertools batch utilities (asyncio and every event data class)."""
    import os
    import subprocess
    import sys

    handlers = [resource["Properties"]["Handler"].rsplit(".", 1)[0] for resource in template["Resources"].values()
                if resource["Type"] == "AWS::Serverless::Function"]
    code = (f"import sys\nfor name in {handlers!r}: __import__(name)\n"
            "print(sorted(m for m in ('boto3', 's3transfer', 'aws_lambda_powertools.utilities.batch') if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert completed.stdout.strip().splitlines()[-1] == "[]"


def test_layer_holds_the_domain_package_beside_its_requirements(template) -> None:
    layer = template["Resources"]["SharedLayer"]
    assert layer["Metadata"]["BuildMethod"] == "python3.12"
    content = ROOT / layer["Properties"]["ContentUri"]
    assert (content / "distribu" / "__init__.py").exists() and (content / "requirements.txt").exists()


def test_http_routes_reach_the_right_functions() -> None:
    routes = {(route.method, route.path): route.function for route in Stack().routes()}
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        assert routes[(method, "/api/v1/{proxy+}")] == "ApiFunction"
    assert routes[("GET", "/store/{proxy+}")] == routes[("POST", "/store/{proxy+}")] == "StorefrontFunction"
    for path in ("/dashboard", "/signup", "/login", "/invite/{token}"):
        assert routes[("GET", path)] == "DashboardFunction"
    assert all(method != "ANY" for method, _ in routes)


def test_queues_have_dead_letter_queues_and_consumers(template) -> None:
    stack = Stack(template)
    consumers = {trigger.queue_logical_id: trigger for trigger in stack.queue_triggers()}
    assert consumers["EventFanoutQueue"].function == "WebhookDispatchFunction"
    assert consumers["WebhookDeliveryQueue"].function == "WebhookDispatchFunction"
    assert consumers["LowStockQueue"].function == "LowStockMailerFunction"
    assert consumers["ImportUploadsQueue"].function == "CsvImportFunction"
    assert consumers["ProjectionsQueue"].function == "ProjectionsFunction"
    assert all(trigger.reports_batch_failures for trigger in consumers.values())
    for queue in consumers:
        redrive = template["Resources"][queue]["Properties"]["RedrivePolicy"]
        dead_letter = redrive["deadLetterTargetArn"]["Fn::GetAtt"][0]
        assert template["Resources"][dead_letter]["Type"] == "AWS::SQS::Queue"


def test_webhook_dispatch_has_a_thread_for_every_record_of_a_batch(template) -> None:
    from distribu_webhook_dispatch.handler import BATCH_SIZE

    sizes = [trigger.batch_size for trigger in Stack(template).queue_triggers()
             if trigger.function == "WebhookDispatchFunction"]
    assert sizes and max(sizes) <= BATCH_SIZE


def test_stream_pipes_carry_outbox_events_to_queues(template) -> None:
    table = template["Resources"]["Table"]["Properties"]
    assert table["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    pipes = {pipe.name: pipe for pipe in Stack(template).pipes()}
    assert pipes["EventsPipe"].target_queue_logical_id == "EventFanoutQueue"
    assert pipes["LowStockPipe"].target_queue_logical_id == "LowStockQueue"
    assert pipes["ProjectionsPipe"].target_queue_logical_id == "ProjectionsQueue"
    # deletions carry only the old image: the read models learn of them from it
    assert {"eventName": ["REMOVE"], "dynamodb": {"OldImage": {"entity": {"S": ["PRODUCT"]}}}} in \
        pipes["ProjectionsPipe"].patterns
    sends = template["Resources"]["PipeRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][1]
    assert {pipe.target_queue_logical_id for pipe in pipes.values()} == {item["Fn::GetAtt"][0] for item in sends["Resource"]}
    assert {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"entity": {"S": ["EVENT"]}}}} in pipes["EventsPipe"].patterns
    for name in pipes:
        assert template["Resources"][name]["Properties"]["Source"] == {"Fn::GetAtt": ["Table", "StreamArn"]}


def test_imports_bucket_uploads_trigger_csv_import(template) -> None:
    bucket = template["Resources"]["ImportsBucket"]["Properties"]
    queue = bucket["NotificationConfiguration"]["QueueConfigurations"][0]["Queue"]["Fn::GetAtt"][0]
    assert {trigger.queue_logical_id: trigger.function for trigger in Stack(template).queue_triggers()}[queue] == "CsvImportFunction"


def test_images_are_public_only_under_their_prefix(template) -> None:
    statement = template["Resources"]["ImagesBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Action"] == "s3:GetObject" and statement["Principal"] == "*"
    assert statement["Resource"]["Fn::Sub"].endswith("/images/*")
    imports = template["Resources"]["ImportsBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(imports.values())


def test_schedules_are_declared(template) -> None:
    schedules = Stack(template).schedules()
    assert schedules and all(schedule.every_seconds >= 60 for schedule in schedules)


def test_functions_get_least_privilege_policies(transformed) -> None:
    """Every inline statement names its resources: no function may act on "*"."""
    roles = {name: resource for name, resource in transformed["Resources"].items()
             if resource["Type"] == "AWS::IAM::Role" and name.endswith("FunctionRole")}
    assert len(roles) == len(FUNCTIONS)
    for name, role in roles.items():
        for policy in role["Properties"].get("Policies", []):
            for statement in policy["PolicyDocument"]["Statement"]:
                assert statement.get("Resource") not in ("*", ["*"]), (name, statement)
