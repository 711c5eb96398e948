"""SAM policy templates expand into the statements AWS documents, in AWS names,
scoped to the app's own account; managed policies never widen into grants."""

from __future__ import annotations

from typing import Any

import pytest

from ramparts.aws.accounts import account_id
from ramparts.aws.sam.intrinsics import Resolver
from ramparts.aws.sam.policies import TEMPLATES, convert_policies
from ramparts.aws.sam.resources import Catalog, Resource
from ramparts.manifest import Statement

ACCT = account_id("shop")


def _resolver() -> Resolver:
    cat = Catalog("shop", ACCT, "us-east-1")
    cat.resources["Table"] = Resource("Table", "AWS::DynamoDB::Table", "table", "orders")
    cat.resources["Secret"] = Resource("Secret", "AWS::SecretsManager::Secret", "secret", "api")
    return Resolver(cat)


def _one(name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    out = convert_policies([{name: params}], _resolver(), "Policies")
    assert out.notes == []
    for st in out.statements:
        Statement.model_validate(st)  # every statement is a valid manifest statement
    return out.statements


def test_dynamodb_crud_policy_as_documented() -> None:
    (st,) = _one("DynamoDBCrudPolicy", {"TableName": {"Ref": "Table"}})
    assert st["effect"] == "allow"
    assert st["actions"] == [
        "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan",
        "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem",
        "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem",
    ]
    assert st["resources"] == [f"arn:aws:dynamodb:*:{ACCT}:table/orders",
                               f"arn:aws:dynamodb:*:{ACCT}:table/orders/index/*"]


@pytest.mark.parametrize(
    ("name", "params", "actions", "resources"),
    [
        ("DynamoDBReadPolicy", {"TableName": "t"},
         {"dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem",
          "dynamodb:DescribeTable"}, {f"arn:aws:dynamodb:*:{ACCT}:table/t"}),
        ("DynamoDBWritePolicy", {"TableName": "t"},
         {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"},
         {f"arn:aws:dynamodb:*:{ACCT}:table/t"}),
        ("S3ReadPolicy", {"BucketName": "b"},
         {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion",
          "s3:GetLifecycleConfiguration"}, {"arn:aws:s3:::b", "arn:aws:s3:::b/*"}),
        ("S3WritePolicy", {"BucketName": "b"},
         {"s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration"},
         {"arn:aws:s3:::b", "arn:aws:s3:::b/*"}),
        ("S3CrudPolicy", {"BucketName": "b"},
         {"s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion",
          "s3:GetLifecycleConfiguration", "s3:PutObject", "s3:PutObjectAcl",
          "s3:PutLifecycleConfiguration", "s3:DeleteObject"},
         {"arn:aws:s3:::b", "arn:aws:s3:::b/*"}),
        ("SQSSendMessagePolicy", {"QueueName": "q"}, {"sqs:SendMessage"},
         {f"arn:aws:sqs:*:{ACCT}:q"}),
        ("SQSPollerPolicy", {"QueueName": "q"},
         {"sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch", "sqs:DeleteMessage",
          "sqs:DeleteMessageBatch", "sqs:GetQueueAttributes", "sqs:ReceiveMessage"},
         {f"arn:aws:sqs:*:{ACCT}:q"}),
        ("SNSPublishMessagePolicy", {"TopicName": "t"}, {"sns:Publish"},
         {f"arn:aws:sns:*:{ACCT}:t"}),
        ("EventBridgePutEventsPolicy", {"EventBusName": "default"}, {"events:PutEvents"},
         {f"arn:aws:events:*:{ACCT}:event-bus/default"}),
        ("LambdaInvokePolicy", {"FunctionName": "worker"}, {"lambda:InvokeFunction"},
         {f"arn:aws:lambda:*:{ACCT}:function:worker",
          f"arn:aws:lambda:*:{ACCT}:function:worker:*"}),
        ("AWSSecretsManagerGetSecretValuePolicy", {"SecretArn": {"Ref": "Secret"}},
         {"secretsmanager:GetSecretValue"}, {f"arn:aws:secretsmanager:*:{ACCT}:secret:api"}),
        ("SSMParameterReadPolicy", {"ParameterName": "shop/db/host"},
         {"ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"},
         {f"arn:aws:ssm:*:{ACCT}:parameter/shop/db/host"}),
        ("KMSDecryptPolicy", {"KeyId": "k1"}, {"kms:Decrypt"}, {f"arn:aws:kms:*:{ACCT}:key/k1"}),
        ("KMSEncryptPolicy", {"KeyId": "k1"}, {"kms:Encrypt"}, {f"arn:aws:kms:*:{ACCT}:key/k1"}),
    ],
)
def test_templates(name: str, params: dict[str, Any], actions: set[str],
                   resources: set[str]) -> None:
    sts = _one(name, params)
    assert {a for s in sts for a in s["actions"]} == actions
    assert resources <= {r for s in sts for r in s["resources"]}
    assert all(s["effect"] == "allow" for s in sts)
    assert all("*" not in s["resources"] for s in sts)  # never an every-resource grant


def test_every_template_is_covered_above_or_by_crud() -> None:
    assert {"DynamoDBCrudPolicy", "SSMParameterWithSlashPrefixReadPolicy"} | {
        "DynamoDBReadPolicy", "DynamoDBWritePolicy", "S3ReadPolicy", "S3WritePolicy",
        "S3CrudPolicy", "SQSSendMessagePolicy", "SQSPollerPolicy", "SNSPublishMessagePolicy",
        "EventBridgePutEventsPolicy", "LambdaInvokePolicy",
        "AWSSecretsManagerGetSecretValuePolicy", "SSMParameterReadPolicy", "KMSDecryptPolicy",
        "KMSEncryptPolicy"} == set(TEMPLATES)


def test_inline_statements_and_managed_policies() -> None:
    out = convert_policies(
        [
            "AWSLambdaBasicExecutionRole",
            "arn:aws:iam::aws:policy/AmazonDynamoDBFullAccess",
            {"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject",
                 "Resource": {"Fn::Sub": "arn:aws:s3:::my-bucket/*"}},
                {"Effect": "Deny", "NotAction": ["dynamodb:DeleteItem"],
                 "Resource": {"Fn::GetAtt": ["Table", "Arn"]}},
                {"Effect": "Allow", "Action": "x:Y", "Resource": "*", "Principal": "*"},
            ]},
            {"NoSuchPolicyTemplate": {"A": "b"}},
            {"DynamoDBCrudPolicy": {}},
        ],
        _resolver(),
        "Resources.Fn.Policies",
    )
    assert out.statements == [
        {"effect": "allow", "actions": ["s3:GetObject"], "resources": ["arn:aws:s3:::my-bucket/*"]},
        {"effect": "deny", "not_actions": ["dynamodb:DeleteItem"],
         "resources": [f"arn:aws:dynamodb:*:{ACCT}:table/orders"]},
    ]
    joined = "\n".join(out.notes)
    # the all-account managed policy is reported, never turned into a grant
    assert "AmazonDynamoDBFullAccess has no equivalent" in joined
    assert "Resources.Fn.Policies[2].Statement[2]" in joined and "Principal" in joined
    assert "NoSuchPolicyTemplate has no equivalent" in joined
    assert "missing parameter TableName" in joined
    assert "AWSLambdaBasicExecutionRole" not in joined


def test_a_single_policy_string() -> None:
    out = convert_policies("AWSLambdaBasicExecutionRole", _resolver(), "P")
    assert out.statements == [] and out.notes == []


def test_logging_and_tracing_grants_are_left_out() -> None:
    acct = ACCT
    out = convert_policies([{"Statement": [
        {"Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:PutLogEvents"],
         "Resource": "*"},
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments", "dynamodb:GetItem"],
         "Resource": [f"arn:aws:logs:us-east-1:{acct}:log-group:x",
                      {"Fn::GetAtt": ["Table", "Arn"]}]},
    ]}], _resolver(), "P")
    # an Allow of logs:* on * would be an every-resource grant the deploy gate refuses
    assert out.statements == [{"effect": "allow", "actions": ["dynamodb:GetItem"],
                               "resources": [f"arn:aws:dynamodb:*:{acct}:table/orders"]}]
    assert any("logs:CreateLogGroup" in n for n in out.notes)
    assert any("arn:aws:logs" in n for n in out.notes)
