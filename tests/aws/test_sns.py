"""SNS on a real node: publish from a handler reaches the topic's triggers."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ramparts.aws.accounts import account_id
from tests.aws.conftest import boto_client
from tests.aws.messaging_app import (
    ACCOUNT,
    APP,
    VICTIM,
    call,
    denials,
    deploy_both,
    victim_untouched,
    wait_seen,
)
from tests.conftest import RunningNode


@pytest.fixture(scope="module")
def node(aws_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    return deploy_both(aws_node, tmp_path_factory)


def _sns(node: RunningNode, function: str = "producer") -> Any:
    return boto_client(node, "sns", function, app=APP)


def _arn(topic: str, account: str = ACCOUNT, region: str = "us-east-1") -> str:
    return f"arn:aws:sns:{region}:{account}:{topic}"


def test_publish_in_a_handler_reaches_the_consumer(node: RunningNode) -> None:
    answer = call(
        node,
        "producer",
        {
            "service": "sns",
            "op": "publish",
            "topic_arn_from_env": True,
            "args": {
                "Message": "hello news",
                "Subject": "greeting",
                "MessageAttributes": {"lang": {"DataType": "String", "StringValue": "en"}},
            },
        },
    )
    assert answer["MessageId"]
    event = wait_seen(node, "on-news", lambda e: e["Records"][0]["body"] == "hello news")
    (record,) = event["Records"]
    # a default (SQS-shaped) trigger gets the raw message, attributes as SQS shows them
    assert record["eventSource"] == "aws:sqs"
    assert record["messageId"] == answer["MessageId"]
    assert record["messageAttributes"]["lang"]["stringValue"] == "en"


def test_a_trigger_with_shape_sns_gets_sns_records(node: RunningNode) -> None:
    sns = _sns(node)
    out = sns.publish(
        TopicArn=_arn("news-sns"),
        Message="as sns",
        Subject="subj",
        MessageAttributes={"n": {"DataType": "Number", "StringValue": "7"}},
    )
    event = wait_seen(node, "on-news-sns", lambda e: e["Records"][0]["Sns"]["Message"] == "as sns")
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    sns_part = record["Sns"]
    assert sns_part["Type"] == "Notification"
    assert sns_part["MessageId"] == out["MessageId"]
    assert sns_part["TopicArn"] == _arn("news-sns")
    assert sns_part["Subject"] == "subj"
    assert sns_part["MessageAttributes"] == {"n": {"Type": "Number", "Value": "7"}}


def test_message_structure_json_picks_the_default(node: RunningNode) -> None:
    sns = _sns(node)
    sns.publish(
        TargetArn=_arn("news"),
        Message=json.dumps({"default": "structured default", "email": "ignored"}),
        MessageStructure="json",
    )
    wait_seen(node, "on-news", lambda e: e["Records"][0]["body"] == "structured default")
    sns.publish(
        TopicArn=_arn("news"),
        Message=json.dumps({"default": "d", "sqs": "for sqs", "lambda": "for lambda"}),
        MessageStructure="json",
    )
    wait_seen(node, "on-news", lambda e: e["Records"][0]["body"] == "for lambda")


def test_publish_batch(node: RunningNode) -> None:
    sns = _sns(node)
    out = sns.publish_batch(
        TopicArn=_arn("news"),
        PublishBatchRequestEntries=[
            {"Id": "one", "Message": "batch one"},
            {"Id": "two", "Message": "batch two"},
        ],
    )
    assert sorted(s["Id"] for s in out["Successful"]) == ["one", "two"]
    assert out.get("Failed", []) == []
    wait_seen(node, "on-news", lambda e: e["Records"][0]["body"] == "batch two")


def test_errors_have_the_codes_of_the_reference_sns(node: RunningNode, moto_server: str) -> None:
    ref = boto3.client(
        "sns",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ref_arn = ref.create_topic(Name="news")["TopicArn"]
    sns = _sns(node)
    with pytest.raises(ClientError) as ours:
        sns.publish(TopicArn=_arn("nobody"), Message="m")
    with pytest.raises(ClientError) as theirs:
        ref.publish(TopicArn=ref_arn[: -len("news")] + "nobody", Message="m")
    assert ours.value.response["Error"]["Code"] == theirs.value.response["Error"]["Code"]
    assert ours.value.response["Error"]["Code"] == "NotFound"
    # SNS refuses a JSON structure without "default" (moto accepts it)
    with pytest.raises(ClientError) as ours:
        sns.publish(TopicArn=_arn("news"), Message="{}", MessageStructure="json")
    assert ours.value.response["Error"]["Code"] == "InvalidParameter"
    with pytest.raises(ClientError) as ours:
        sns.publish_batch(
            TopicArn=_arn("news"),
            PublishBatchRequestEntries=[{"Id": "x", "Message": "1"}, {"Id": "x", "Message": "2"}],
        )
    with pytest.raises(ClientError) as theirs:
        ref.publish_batch(
            TopicArn=ref_arn,
            PublishBatchRequestEntries=[{"Id": "x", "Message": "1"}, {"Id": "x", "Message": "2"}],
        )
    assert ours.value.response["Error"]["Code"] == theirs.value.response["Error"]["Code"]
    with pytest.raises(ClientError) as ours:
        sns.publish_batch(
            TopicArn=_arn("news"),
            PublishBatchRequestEntries=[{"Id": f"e{i}", "Message": "m"} for i in range(11)],
        )
    assert ours.value.response["Error"]["Code"] == "TooManyEntriesInBatchRequest"


def test_another_accounts_topic_is_refused(node: RunningNode) -> None:
    sns = _sns(node)
    for arn in (
        _arn("news", account=account_id(VICTIM)),
        _arn("news", account="123456789012"),
        _arn("news", region="eu-west-1"),
    ):
        with pytest.raises(ClientError) as err:
            sns.publish(TopicArn=arn, Message="cross-app")
        assert err.value.response["Error"]["Code"] == "AuthorizationError"
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert victim_untouched(node)


def test_a_role_without_publish_is_denied_and_audited(node: RunningNode) -> None:
    answer = call(
        node,
        "stranger",
        {"service": "sns", "op": "publish", "topic_arn_from_env": True, "args": {"Message": "no"}},
    )
    assert answer["error"] == "AuthorizationError"
    assert denials(node, "topics:Publish", "topic/news")


def test_a_role_in_aws_names_decides_the_same_way(node: RunningNode) -> None:
    sns = _sns(node, "aws-named")
    sns.publish(TopicArn=_arn("news"), Message="aws-named news")
    wait_seen(node, "on-news", lambda e: e["Records"][0]["body"] == "aws-named news")
    with pytest.raises(ClientError) as err:  # not granted
        sns.publish(TopicArn=_arn("news-sns"), Message="x")
    assert err.value.response["Error"]["Code"] == "AuthorizationError"
    # the other app's topic of the same name is not this grant's
    with pytest.raises(ClientError) as err:
        sns.publish(TopicArn=_arn("news", account=account_id(VICTIM)), Message="x")
    assert err.value.response["Error"]["Code"] == "AuthorizationError"
    assert victim_untouched(node)
