"""Intrinsic functions resolved offline into what boto3 calls against the node accept."""

from __future__ import annotations

import pytest

from ramparts.aws.accounts import account_id
from ramparts.aws.sam.errors import Unresolvable
from ramparts.aws.sam.intrinsics import NO_VALUE, Resolver
from ramparts.aws.sam.resources import Catalog, Resource, function_name

ACCT = account_id("shop")


def _resolver() -> Resolver:
    cat = Catalog("shop", ACCT, "eu-west-1")
    for lid, rtype, kind, name in [
        ("Orders", "AWS::DynamoDB::Table", "table", "shop-orders"),
        ("Queue", "AWS::SQS::Queue", "queue", "jobs"),
        ("Topic", "AWS::SNS::Topic", "topic", "alerts"),
        ("Bucket", "AWS::S3::Bucket", "bucket", "uploads"),
        ("Bus", "AWS::Events::EventBus", "bus", "orders-bus"),
        ("Secret", "AWS::SecretsManager::Secret", "secret", "db-creds"),
        ("Param", "AWS::SSM::Parameter", "parameter", "shop.db.host"),
        ("Key", "AWS::KMS::Key", "key", "Key"),
        ("Fn", "AWS::Serverless::Function", "function", "worker"),
    ]:
        cat.resources[lid] = Resource(lid, rtype, kind, name)
    cat.others["Machine"] = "AWS::Serverless::StateMachine"
    template = {
        "Parameters": {"Stage": {"Type": "String", "Default": "dev"},
                       "Subnets": {"Type": "CommaDelimitedList", "Default": "a, b"},
                       "NoDefault": {"Type": "String"}},
        "Conditions": {"IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
                       "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]}},
        "Mappings": {"Sizes": {"dev": {"mem": 128}}},
    }
    return Resolver.from_template(template, cat)


R = _resolver()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"Ref": "AWS::Region"}, "eu-west-1"),
        ({"Ref": "AWS::AccountId"}, ACCT),
        ({"Ref": "AWS::StackName"}, "shop"),
        ({"Ref": "AWS::Partition"}, "aws"),
        ({"Ref": "Stage"}, "dev"),
        ({"Ref": "Subnets"}, ["a", "b"]),
        ({"Ref": "Orders"}, "shop-orders"),
        ({"Fn::GetAtt": ["Orders", "Arn"]}, f"arn:aws:dynamodb:eu-west-1:{ACCT}:table/shop-orders"),
        ({"Fn::GetAtt": ["Orders", "StreamArn"]},
         f"arn:aws:dynamodb:eu-west-1:{ACCT}:table/shop-orders/stream/*"),
        ({"Ref": "Queue"}, f"https://sqs.eu-west-1.amazonaws.com/{ACCT}/jobs"),
        ({"Fn::GetAtt": ["Queue", "Arn"]}, f"arn:aws:sqs:eu-west-1:{ACCT}:jobs"),
        ({"Fn::GetAtt": ["Queue", "QueueName"]}, "jobs"),
        ({"Fn::GetAtt": ["Queue", "QueueUrl"]}, f"https://sqs.eu-west-1.amazonaws.com/{ACCT}/jobs"),
        ({"Ref": "Topic"}, f"arn:aws:sns:eu-west-1:{ACCT}:alerts"),
        ({"Fn::GetAtt": ["Topic", "TopicName"]}, "alerts"),
        ({"Ref": "Bucket"}, "uploads"),
        ({"Fn::GetAtt": ["Bucket", "Arn"]}, "arn:aws:s3:::uploads"),
        ({"Ref": "Bus"}, "orders-bus"),
        ({"Fn::GetAtt": ["Bus", "Arn"]}, f"arn:aws:events:eu-west-1:{ACCT}:event-bus/orders-bus"),
        ({"Ref": "Secret"}, f"arn:aws:secretsmanager:eu-west-1:{ACCT}:secret:db-creds"),
        ({"Ref": "Param"}, "/shop/db/host"),
        ({"Fn::GetAtt": ["Key", "Arn"]}, f"arn:aws:kms:eu-west-1:{ACCT}:key/Key"),
        ({"Ref": "Fn"}, "worker"),
        ({"Fn::GetAtt": ["Fn", "Arn"]}, f"arn:aws:lambda:eu-west-1:{ACCT}:function:worker"),
        ({"Fn::Sub": "${AWS::StackName}-${Stage}-${Orders}"}, "shop-dev-shop-orders"),
        ({"Fn::Sub": "${Queue.Arn}"}, f"arn:aws:sqs:eu-west-1:{ACCT}:jobs"),
        ({"Fn::Sub": "${!Literal}-${Stage}"}, "${Literal}-dev"),
        ({"Fn::Sub": ["${A}/${B}", {"A": "x", "B": {"Ref": "Stage"}}]}, "x/dev"),
        ({"Fn::Join": ["-", ["a", {"Ref": "Stage"}, 3]]}, "a-dev-3"),
        ({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]}, "b"),
        ({"Fn::If": ["IsProd", "big", "small"]}, "small"),
        ({"Fn::If": ["NotProd", "yes", "no"]}, "yes"),
        ({"Fn::FindInMap": ["Sizes", {"Ref": "Stage"}, "mem"]}, 128),
        ({"Fn::Base64": "hi"}, "aGk="),
        ({"Fn::Join": ["", []]}, ""),
        ({"List": ["a", {"Ref": "AWS::NoValue"}, "b"]}, {"List": ["a", "b"]}),
        ({"Keep": 1, "Drop": {"Ref": "AWS::NoValue"}}, {"Keep": 1}),
    ],
)
def test_resolves(value: object, expected: object) -> None:
    assert R.resolve(value) == expected


def test_no_value_alone() -> None:
    assert R.resolve({"Ref": "AWS::NoValue"}) is NO_VALUE


def test_policy_resolver_uses_any_region_and_the_apps_account() -> None:
    pol = R.for_policies()
    assert pol.resolve({"Fn::GetAtt": ["Orders", "Arn"]}) == (
        f"arn:aws:dynamodb:*:{ACCT}:table/shop-orders"
    )
    assert pol.resolve({"Fn::Sub": "arn:aws:sqs:${AWS::Region}:${AWS::AccountId}:x"}) == (
        f"arn:aws:sqs:*:{ACCT}:x"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"Fn::ImportValue": "shared"}, "another stack"),
        ({"Ref": "Nope"}, "not a resource or parameter"),
        ({"Ref": "Machine"}, "no equivalent"),
        ({"Ref": "NoDefault"}, "no Default"),
        ({"Fn::GetAtt": ["Bucket", "WebsiteURL"]}, "no equivalent"),
        ({"Fn::If": ["Unknown", 1, 2]}, "not declared"),
        ({"Fn::Select": [5, ["a"]]}, "out of range"),
        ({"Fn::FindInMap": ["Sizes", "prod", "mem"]}, "not in Mappings"),
        ({"Fn::GetAZs": ""}, "no offline value"),
        ({"Fn::Join": ["-", [{"a": 1}]]}, "joins only strings"),
    ],
)
def test_unresolvable(value: object, reason: str) -> None:
    with pytest.raises(Unresolvable, match=reason):
        R.resolve(value)


@pytest.mark.parametrize(
    ("logical", "name"),
    [("HelloWorldFunction", "hello-world-function"), ("APIHandler", "api-handler"),
     ("s3_processor", "s3-processor"), ("Fn2", "fn2")],
)
def test_function_names(logical: str, name: str) -> None:
    assert function_name(logical) == name
