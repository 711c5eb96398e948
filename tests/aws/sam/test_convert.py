"""Whole templates, written as AWS documents SAM apps, converted into manifests
that Ramparts' own loader accepts."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from ramparts.aws.accounts import account_id
from ramparts.aws.sam import TemplateError, import_template
from ramparts.manifest import load_manifest
from tests.aws.sam import templates as T


def _import(tmp_path: Path, template: str, code: dict[str, str], *, name: str = "app",
            suffix: str = "yaml", **kw: Any) -> tuple[dict[str, Any], list[str]]:
    root = tmp_path / name
    root.mkdir(parents=True, exist_ok=True)
    (root / f"template.{suffix}").write_text(textwrap.dedent(template))
    for rel, text in code.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    result = import_template(root / f"template.{suffix}", **kw)
    (root / "ramparts.yaml").write_text(result.text)
    load_manifest(root)  # what deploy loads: valid, handler files found
    return yaml.safe_load(result.text), result.report.gaps


def test_hello_world_rest_api(tmp_path: Path) -> None:
    m, gaps = _import(tmp_path, T.HELLO_WORLD, T.HELLO_WORLD_CODE, name="sam-app")
    assert m["app"] == "sam-app"
    assert m["functions"] == {"hello-world-function": {
        "handler": "hello_world/app.lambda_handler", "timeout": "3s", "memory": 128,
        "triggers": [{"http": {"method": "GET", "path": "/hello", "payload": "1.0",
                               "auth": "none"}}],
    }}
    assert any("Outputs" in g for g in gaps)


def test_app_name_option_and_directory_names(tmp_path: Path) -> None:
    m, _ = _import(tmp_path, T.HELLO_WORLD, T.HELLO_WORLD_CODE, name="My_SAM App",
                   app="hello")
    assert m["app"] == "hello"
    m, _ = _import(tmp_path, T.HELLO_WORLD, T.HELLO_WORLD_CODE, name="MySamApp")
    assert m["app"] == "my-sam-app"


def test_http_api_payload_2_and_default_route(tmp_path: Path) -> None:
    m, _ = _import(tmp_path, T.HTTP_API, T.HTTP_API_CODE)
    fns = m["functions"]
    assert fns["items-function"]["handler"] == "src/app.handler"  # Globals Handler + CodeUri
    assert fns["items-function"]["triggers"] == [
        {"http": {"method": "GET", "path": "/things/{id}", "payload": "2.0", "auth": "none"}}]
    assert fns["catch-all-function"]["handler"] == "src/catchall.handler"
    assert fns["catch-all-function"]["triggers"] == [
        {"http": {"method": "ANY", "path": "/{proxy+}", "payload": "2.0", "auth": "none"}}]


def test_sqs_consumer_with_partial_batch_failures(tmp_path: Path) -> None:
    m, gaps = _import(tmp_path, T.SQS_CONSUMER, T.SQS_CONSUMER_CODE)
    fn = m["functions"]["consumer-function"]
    assert fn["timeout"] == "15s"
    assert fn["triggers"] == [{"topic": {"name": "orders-queue", "batch_size": 10,
                                         "batch_window": "1s",
                                         "report_batch_item_failures": True}}]
    assert not any("no consumer" in g for g in gaps)


def test_dynamodb_crud_table_policy_and_env(tmp_path: Path) -> None:
    m, _ = _import(tmp_path, T.DYNAMODB_CRUD, T.DYNAMODB_CRUD_CODE, name="crud")
    acct = account_id("crud")
    assert m["tables"] == {"crud-items": {"partition_key": {"name": "id", "type": "S"}}}
    fn = m["functions"]["crud-function"]
    assert fn["environment"] == {"TABLE_NAME": "crud-items"}
    (st,) = fn["role"]["statements"]
    assert "dynamodb:PutItem" in st["actions"] and "dynamodb:GetItem" in st["actions"]
    assert st["resources"][0] == f"arn:aws:dynamodb:*:{acct}:table/crud-items"
    assert [t["http"]["method"] for t in fn["triggers"]] == ["PUT", "GET"]


def test_key_schemas_from_key_schema_and_simple_table(tmp_path: Path) -> None:
    template = """\
    Resources:
      Orders:
        Type: AWS::DynamoDB::Table
        Properties:
          AttributeDefinitions:
            - {AttributeName: pk, AttributeType: S}
            - {AttributeName: sk, AttributeType: N}
          KeySchema:
            - {AttributeName: pk, KeyType: HASH}
            - {AttributeName: sk, KeyType: RANGE}
          GlobalSecondaryIndexes: []
      Users:
        Type: AWS::Serverless::SimpleTable
      Counters:
        Type: AWS::Serverless::SimpleTable
        Properties:
          TableName: counters
          PrimaryKey: {Name: n, Type: Number}
      Fn:
        Type: AWS::Serverless::Function
        Properties: {Handler: app.handler, Runtime: python3.12}
    """
    m, gaps = _import(tmp_path, template, {"app.py": "def handler(e, c):\n    return 1\n"})
    assert m["tables"] == {
        "Orders": {"partition_key": {"name": "pk", "type": "S"},
                   "sort_key": {"name": "sk", "type": "N"}},
        "Users": {"partition_key": {"name": "id", "type": "S"}},
        "counters": {"partition_key": {"name": "n", "type": "N"}},
    }
    assert any("GlobalSecondaryIndexes" in g for g in gaps)


def test_s3_upload_processor(tmp_path: Path) -> None:
    m, _ = _import(tmp_path, T.S3_PROCESSOR, T.S3_PROCESSOR_CODE, name="pics")
    fn = m["functions"]["processor-function"]
    assert fn["triggers"] == [{"object": {"bucket": "pics-uploads", "events": ["created"],
                                          "prefix": "incoming/"}}]
    (st,) = fn["role"]["statements"]
    assert st["resources"] == ["arn:aws:s3:::pics-uploads", "arn:aws:s3:::pics-uploads/*"]


def test_schedules(tmp_path: Path) -> None:
    m, _ = _import(tmp_path, T.SCHEDULE, T.SCHEDULE_CODE)
    assert m["functions"]["nightly-function"]["triggers"] == [
        {"schedule": {"cron": "rate(5 minutes)"}},
        {"schedule": {"cron": "cron(0/2 * ? * MON-FRI *)"}},
    ]


def test_sns_fan_out(tmp_path: Path) -> None:
    m, _ = _import(tmp_path, T.SNS_FANOUT, T.SNS_FANOUT_CODE, name="fan", region="eu-west-1")
    acct = account_id("fan")
    fns = m["functions"]
    assert fns["publisher-function"]["environment"] == {
        "TOPIC_ARN": f"arn:aws:sns:eu-west-1:{acct}:order-events"}
    assert fns["publisher-function"]["role"]["statements"] == [
        {"effect": "allow", "actions": ["sns:Publish"],
         "resources": [f"arn:aws:sns:*:{acct}:order-events"]}]
    from ramparts.manifest import TopicTrigger

    # SNS-shaped records where the node's topic triggers offer them (ramparts.aws.sns)
    shape = {"shape": "sns"} if "shape" in TopicTrigger.model_fields else {}
    for sub in ("billing-function", "shipping-function"):
        assert fns[sub]["triggers"] == [{"topic": {"name": "order-events", **shape}}]


def test_secret_dynamic_references(tmp_path: Path) -> None:
    m, gaps = _import(tmp_path, T.SECRETS, T.SECRETS_CODE)
    fn = m["functions"]["webhook-function"]
    assert fn["environment"] == {"WEBHOOK_SECRET": {"secret": "webhook-signing"},
                                 "DB_PASSWORD": {"secret": "shop.db.password"},
                                 "MODE": "live"}
    assert fn["secrets"] == ["webhook-signing", "shop.db.password"]
    assert gaps == [
        "functions.webhook-function.environment.WEBHOOK_SECRET: store secret webhook-signing "
        "on the node before the app runs (ramparts secrets set webhook-signing --app app); "
        "values are not imported",
        "functions.webhook-function.environment.DB_PASSWORD: store secret shop.db.password "
        "on the node before the app runs (ramparts secrets set shop.db.password --app app); "
        "values are not imported",
    ]


def test_queue_url_env_and_send_policy(tmp_path: Path) -> None:
    template = """\
    Resources:
      Jobs:
        Type: AWS::SQS::Queue
      Producer:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.11
          Environment:
            Variables:
              QUEUE_URL: !Ref Jobs
              QUEUE_ARN: !GetAtt Jobs.Arn
          Policies:
            - SQSSendMessagePolicy:
                QueueName: !GetAtt Jobs.QueueName
    """
    m, gaps = _import(tmp_path, template, {"app.py": "def handler(e, c):\n    return 1\n"},
                      name="q")
    acct = account_id("q")
    env = m["functions"]["producer"]["environment"]
    assert env == {"QUEUE_URL": f"https://sqs.us-east-1.amazonaws.com/{acct}/Jobs",
                   "QUEUE_ARN": f"arn:aws:sqs:us-east-1:{acct}:Jobs"}
    assert any("Jobs has no consumer" in g for g in gaps)


def test_globals_merge_like_sam(tmp_path: Path) -> None:
    template = """\
    Globals:
      Function:
        Runtime: python3.11
        Timeout: 20
        MemorySize: 512
        CodeUri: ./src
        Handler: main.handler
        Environment:
          Variables: {LOG_LEVEL: info, SHARED: global}
    Resources:
      A:
        Type: AWS::Serverless::Function
        Properties:
          Timeout: 5
          Environment:
            Variables: {SHARED: local, ONLY_A: "1"}
      B:
        Type: AWS::Serverless::Function
        Properties:
          CodeUri: other/
    """
    code = {"src/main.py": "def handler(e, c):\n    return 1\n",
            "other/main.py": "def handler(e, c):\n    return 2\n"}
    m, _ = _import(tmp_path, template, code)
    a, b = m["functions"]["a"], m["functions"]["b"]
    assert (a["handler"], a["timeout"], a["memory"]) == ("src/main.handler", "5s", 512)
    assert a["environment"] == {"LOG_LEVEL": "info", "SHARED": "local", "ONLY_A": "1"}
    assert (b["handler"], b["timeout"]) == ("other/main.handler", "20s")
    assert b["environment"] == {"LOG_LEVEL": "info", "SHARED": "global"}


def test_batching_filters_and_dynamodb_stream(tmp_path: Path) -> None:
    template = """\
    Resources:
      Table:
        Type: AWS::DynamoDB::Table
        Properties:
          KeySchema: [{AttributeName: id, KeyType: HASH}]
          AttributeDefinitions: [{AttributeName: id, AttributeType: S}]
          StreamSpecification: {StreamViewType: NEW_AND_OLD_IMAGES}
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.11
          Events:
            Stream:
              Type: DynamoDB
              Properties:
                Stream: !GetAtt Table.StreamArn
                StartingPosition: TRIM_HORIZON
                BatchSize: 100
                FunctionResponseTypes: [ReportBatchItemFailures]
                FilterCriteria:
                  Filters:
                    - Pattern: '{"eventName": ["INSERT"]}'
                    - Pattern: 'not json'
    """
    m, gaps = _import(tmp_path, template, {"app.py": "def handler(e, c):\n    return 1\n"})
    assert m["functions"]["fn"]["triggers"] == [{"table": {
        "name": "Table", "batch_size": 100, "filters": [{"eventName": ["INSERT"]}],
        "report_batch_item_failures": True}}]
    assert any("Filters[1]: dropped" in g for g in gaps)


def test_what_has_no_equivalent_is_listed_and_commented(tmp_path: Path) -> None:
    template = """\
    Parameters:
      Stage: {Type: String, Default: dev}
    Conditions:
      IsProd: !Equals [!Ref Stage, prod]
    Resources:
      Pool:
        Type: AWS::Cognito::UserPool
      Flow:
        Type: AWS::Serverless::StateMachine
      Layer:
        Type: AWS::Serverless::LayerVersion
      ProdQueue:
        Type: AWS::SQS::Queue
        Condition: IsProd
      Api:
        Type: AWS::Serverless::Api
        Properties:
          StageName: Prod
          Auth:
            DefaultAuthorizer: MyCognito
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.11
          Layers: [!Ref Layer]
          VpcConfig: {SubnetIds: [a], SecurityGroupIds: [b]}
          Environment:
            Variables:
              SHARED: !ImportValue shared-thing
              AWS_PROFILE: x
          Events:
            Private:
              Type: Api
              Properties: {RestApiId: !Ref Api, Path: /me, Method: get}
            Stream:
              Type: Kinesis
              Properties: {Stream: arn:aws:kinesis:us-east-1:1:stream/s}
      Node:
        Type: AWS::Serverless::Function
        Properties: {Handler: index.handler, Runtime: nodejs20.x}
      Image:
        Type: AWS::Serverless::Function
        Properties: {PackageType: Image}
    """
    root = tmp_path / "gaps"
    m, gaps = _import(tmp_path, template, {"app.py": "def handler(e, c):\n    return 1\n"},
                      name="gaps")
    text = "\n".join(gaps)
    for expected in ("Cognito", "Step Functions", "layers", "VPC config", "Kinesis",
                     "ImportValue", "AWS_PROFILE", "MyCognito", "nodejs20.x",
                     "container image", "condition IsProd is false"):
        assert expected in text, expected
    # a route behind an authorizer we cannot honour stays private, never public
    (trigger,) = m["functions"]["fn"]["triggers"]
    assert "auth" not in trigger["http"]
    assert list(m["functions"]) == ["fn"]
    written = (root / "ramparts.yaml").read_text()
    header = written.split("\napp:")[0]
    assert all(line.startswith("#") or not line for line in header.splitlines())
    assert "Kinesis" in header and "Cognito" in header


def test_json_template(tmp_path: Path) -> None:
    import json

    doc = {"Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {
        "Handler": "app.handler", "Runtime": "python3.11",
        "Environment": {"Variables": {"STACK": {"Ref": "AWS::StackName"}}}}}}}
    m, _ = _import(tmp_path, json.dumps(doc), {"app.py": "def handler(e, c):\n    return 1\n"},
                   name="js", suffix="json")
    assert m["functions"]["fn"]["environment"] == {"STACK": "js"}


@pytest.mark.parametrize(
    ("template", "field"),
    [
        ("Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n"
         "      Runtime: python3.11\n", "Resources.Fn.Properties.Handler"),
        ("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n", "Resources"),
        ("Resources:\n  T:\n    Type: AWS::DynamoDB::Table\n    Properties:\n"
         "      KeySchema: []\n  Fn:\n    Type: AWS::Serverless::Function\n"
         "    Properties: {Handler: a.b}\n", "Resources.T"),
    ],
)
def test_template_errors_name_the_field(tmp_path: Path, template: str, field: str) -> None:
    (tmp_path / "template.yaml").write_text(template)
    with pytest.raises(TemplateError) as info:
        import_template(tmp_path / "template.yaml", app="x")
    assert info.value.field == field
    assert info.value.file == str(tmp_path / "template.yaml")
    assert not (tmp_path / "ramparts.yaml").exists()


def test_connectors_become_the_source_functions_role(tmp_path: Path) -> None:
    template = """\
    Resources:
      Table:
        Type: AWS::Serverless::SimpleTable
      Topic:
        Type: AWS::SNS::Topic
      Reader:
        Type: AWS::Serverless::Function
        Properties: {Handler: app.handler, Runtime: python3.12}
        Connectors:
          Publish:
            Properties:
              Destination: {Id: Topic}
              Permissions: [Write]
      ReaderToTable:
        Type: AWS::Serverless::Connector
        Properties:
          Source: {Id: Reader}
          Destination: {Id: Table}
          Permissions: [Read]
      TopicToReader:
        Type: AWS::Serverless::Connector
        Properties:
          Source: {Id: Topic}
          Destination: {Id: Reader}
          Permissions: [Write]
    """
    m, gaps = _import(tmp_path, template, {"app.py": "def handler(e, c):\n    return 1\n"},
                      name="conn")
    acct = account_id("conn")
    statements = m["functions"]["reader"]["role"]["statements"]
    assert {"effect": "allow", "actions": ["sns:Publish"],
            "resources": [f"arn:aws:sns:*:{acct}:Topic"]} in statements
    (read,) = [s for s in statements if s["actions"][0].startswith("dynamodb:")]
    assert "dynamodb:GetItem" in read["actions"] and "dynamodb:PutItem" not in read["actions"]
    assert read["resources"][0] == f"arn:aws:dynamodb:*:{acct}:table/Table"
    assert any("TopicToReader" in g and "no equivalent" in g for g in gaps)


def test_scheduler_and_event_rule_resources_schedule_their_target(tmp_path: Path) -> None:
    template = """\
    Resources:
      Job:
        Type: AWS::Serverless::Function
        Properties: {Handler: app.handler, Runtime: python3.12}
      Nightly:
        Type: AWS::Scheduler::Schedule
        Properties:
          ScheduleExpression: cron(0 2 * * ? *)
          FlexibleTimeWindow: {Mode: "OFF"}
          Target: {Arn: !GetAtt Job.Arn, RoleArn: arn:aws:iam::1:role/x}
      Every10:
        Type: AWS::Events::Rule
        Properties:
          ScheduleExpression: rate(10 minutes)
          Targets: [{Id: job, Arn: !GetAtt Job.Arn}, {Id: q, Arn: arn:aws:sqs:us-east-1:1:q}]
      OnUpload:
        Type: AWS::Events::Rule
        Properties:
          EventPattern: {source: [aws.s3]}
          Targets: [{Id: job, Arn: !GetAtt Job.Arn}]
    """
    m, gaps = _import(tmp_path, template, {"app.py": "def handler(e, c):\n    return 1\n"})
    assert m["functions"]["job"]["triggers"] == [{"schedule": {"cron": "cron(0 2 * * ? *)"}},
                                                 {"schedule": {"cron": "rate(10 minutes)"}}]
    assert any("Every10: target 1 is not a function" in g for g in gaps)
    assert any("OnUpload" in g and "EventPattern" in g for g in gaps)


_ODD_VALUES = [None, 1, -5, 3.5, True, [], [1, "a"], {}, {"a": 1}, "", "x", {"Ref": "Nope"},
               {"Fn::GetAtt": "X"}, {"Fn::Sub": 3}, {"Fn::Join": "x"}, {"Fn::If": ["c"]},
               {"Ref": {"a": 1}}]


def _field_paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = []
    items = node.items() if isinstance(node, dict) else enumerate(node) \
        if isinstance(node, list) else []
    for key, value in items:
        out.append((*prefix, key))
        out.extend(_field_paths(value, (*prefix, key)))
    return out


def test_malformed_fields_never_crash(tmp_path: Path) -> None:
    """Any field of the documented templates given a value of the wrong type: the import
    succeeds (reporting what it dropped) or fails with a TemplateError, never anything else."""
    import copy
    import json
    import random

    from ramparts.aws.sam.loader import parse_template

    rng = random.Random(1234)
    sources = [T.HELLO_WORLD, T.HTTP_API, T.SQS_CONSUMER, T.DYNAMODB_CRUD, T.S3_PROCESSOR,
               T.SCHEDULE, T.SNS_FANOUT, T.SECRETS]
    path = tmp_path / "template.json"
    for _ in range(150):
        doc = parse_template(rng.choice(sources), "t")
        for field in rng.sample(_field_paths(doc), 2):
            parent = doc
            for key in field[:-1]:  # an earlier change may have replaced an ancestor
                if isinstance(parent, dict):
                    parent = parent.get(key)
                elif isinstance(parent, list) and isinstance(key, int) and key < len(parent):
                    parent = parent[key]
                else:
                    parent = None
            last = field[-1]
            if isinstance(parent, dict) or (isinstance(parent, list) and last < len(parent)):
                parent[last] = copy.deepcopy(rng.choice(_ODD_VALUES))
        path.write_text(json.dumps(doc))
        try:
            import_template(path, app="fz")
        except TemplateError as exc:
            assert exc.file == str(path)
            # the catch-all (no field named) is a last resort no known shape reaches
            assert "malformed template" not in exc.reason, exc.reason


def test_redrive_policy_becomes_retries_and_dead_letter(tmp_path: Path) -> None:
    template = """\
    Resources:
      Dlq:
        Type: AWS::SQS::Queue
        Properties: {QueueName: orders-dlq}
      Orders:
        Type: AWS::SQS::Queue
        Properties:
          RedrivePolicy:
            deadLetterTargetArn: !GetAtt Dlq.Arn
            maxReceiveCount: 5
      Fn:
        Type: AWS::Serverless::Function
        Properties:
          Handler: app.handler
          Runtime: python3.12
          Events:
            Q: {Type: SQS, Properties: {Queue: !GetAtt Orders.Arn}}
    """
    m, gaps = _import(tmp_path, template, {"app.py": "def handler(e, c):\n    return 1\n"})
    assert m["functions"]["fn"]["triggers"] == [
        {"topic": {"name": "Orders", "retries": 4, "dead_letter": "orders-dlq"}}]
    assert not any("no consumer" in g for g in gaps)  # the DLQ is the trigger's
