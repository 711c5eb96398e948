"""SQS on a real node: send_message from a handler reaches the queue's topic trigger."""

from __future__ import annotations

import hashlib
import json
from typing import Any

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


def _sqs(node: RunningNode, function: str = "producer") -> Any:
    return boto_client(node, "sqs", function, app=APP)


def test_send_message_in_a_handler_reaches_the_consumer_as_an_sqs_record(
    node: RunningNode, moto_server: str
) -> None:
    attrs = {
        "Author": {"DataType": "String", "StringValue": "ada"},
        "Count": {"DataType": "Number", "StringValue": "3"},
    }
    answer = call(
        node,
        "producer",
        {
            "service": "sqs",
            "op": "send_message",
            "queue_url_from_env": True,
            "args": {"MessageBody": '{"order": 1}', "MessageAttributes": attrs},
        },
    )
    event = wait_seen(node, "on-orders", lambda e: e["Records"][0]["body"] == '{"order": 1}')
    (record,) = event["Records"]
    assert record["eventSource"] == "aws:sqs"
    assert record["messageId"] == answer["MessageId"]
    assert record["md5OfBody"] == answer["MD5OfMessageBody"]
    assert record["messageAttributes"]["Author"]["stringValue"] == "ada"
    assert record["messageAttributes"]["Count"]["dataType"] == "Number"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    # the digests are the ones the reference SQS returns for the same message
    import boto3

    ref = boto3.client(
        "sqs",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    url = ref.create_queue(QueueName="orders")["QueueUrl"]
    expected = ref.send_message(QueueUrl=url, MessageBody='{"order": 1}', MessageAttributes=attrs)
    assert answer["MD5OfMessageBody"] == expected["MD5OfMessageBody"]
    assert answer["MD5OfMessageAttributes"] == expected["MD5OfMessageAttributes"]


def test_get_queue_url_and_attributes(node: RunningNode) -> None:
    sqs = _sqs(node)
    url = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
    assert url.endswith(f"/{ACCOUNT}/orders")
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]
    assert attrs == {"QueueArn": f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"}


def test_send_message_batch_reports_each_entry(node: RunningNode) -> None:
    sqs = _sqs(node)
    url = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
    out = sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "batch-a"},
            {"Id": "b", "MessageBody": "batch-b", "DelaySeconds": 5000},
        ],
    )
    assert [s["Id"] for s in out["Successful"]] == ["a"]
    assert [f["Id"] for f in out["Failed"]] == ["b"]
    assert out["Failed"][0]["SenderFault"] is True
    wait_seen(node, "on-orders", lambda e: e["Records"][0]["body"] == "batch-a")


def test_fifo_queue_carries_the_group_id(node: RunningNode) -> None:
    sqs = _sqs(node)
    url = f"{sqs.meta.endpoint_url}/{ACCOUNT}/orders.fifo"
    out = sqs.send_message(
        QueueUrl=url, MessageBody="fifo-1", MessageGroupId="g1", MessageDeduplicationId="d1"
    )
    assert out["SequenceNumber"]
    event = wait_seen(node, "on-orders", lambda e: e["Records"][0]["body"] == "fifo-1")
    assert event["Records"][0]["attributes"]["MessageGroupId"] == "g1"


@pytest.mark.parametrize(
    ("entries", "code"),
    [
        (
            [{"Id": "x", "MessageBody": "1"}, {"Id": "x", "MessageBody": "2"}],
            "BatchEntryIdsNotDistinct",
        ),
        ([{"Id": f"e{i}", "MessageBody": "m"} for i in range(11)], "TooManyEntriesInBatchRequest"),
        ([{"Id": "bad id!", "MessageBody": "m"}], "InvalidBatchEntryId"),
    ],
)
def test_bad_batches_are_refused_like_sqs_refuses_them(
    node: RunningNode, moto_server: str, entries: list[dict[str, str]], code: str
) -> None:
    sqs = _sqs(node)
    url = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
    with pytest.raises(ClientError) as ours:
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    shape = type(ours.value).__name__
    assert shape == code
    import boto3

    ref = boto3.client(
        "sqs",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ref_url = ref.create_queue(QueueName="orders")["QueueUrl"]
    with pytest.raises(ClientError) as theirs:
        ref.send_message_batch(QueueUrl=ref_url, Entries=entries)
    assert ours.value.response["Error"]["Code"] == theirs.value.response["Error"]["Code"]


def test_unknown_queue_and_another_accounts_queue_do_not_exist(node: RunningNode) -> None:
    sqs = _sqs(node)
    base = sqs.meta.endpoint_url
    for url in (f"{base}/{ACCOUNT}/nobody", f"{base}/123456789012/orders"):
        with pytest.raises(sqs.exceptions.QueueDoesNotExist) as err:
            sqs.send_message(QueueUrl=url, MessageBody="lost?")
        assert err.value.response["Error"]["Code"] == "AWS.SimpleQueueService.NonExistentQueue"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="nobody")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="orders", QueueOwnerAWSAccountId="123456789012")


def test_a_role_without_publish_is_denied_and_audited(node: RunningNode) -> None:
    answer = call(
        node,
        "stranger",
        {
            "service": "sqs",
            "op": "send_message",
            "queue_url_from_env": True,
            "args": {"MessageBody": "not allowed"},
        },
    )
    assert answer["error"] == "AccessDenied"
    assert denials(node, "topics:Publish", "topic/orders")
    for op, args in (
        ("get_queue_url", {"QueueName": "orders"}),
        ("get_queue_attributes", {"QueueUrl": f"http://h/{ACCOUNT}/orders"}),
    ):
        answer = call(node, "stranger", {"service": "sqs", "op": op, "args": args})
        assert answer["error"] == "AccessDenied", op


def test_receive_and_delete_are_not_offered(node: RunningNode) -> None:
    sqs = _sqs(node)
    url = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
    with pytest.raises(sqs.exceptions.UnsupportedOperation) as err:
        sqs.receive_message(QueueUrl=url)
    assert "ReceiveMessage" in err.value.response["Error"]["Message"]
    with pytest.raises(sqs.exceptions.UnsupportedOperation):
        sqs.delete_message(QueueUrl=url, ReceiptHandle="x")


def test_the_consumer_saw_json_bodies_unchanged(node: RunningNode) -> None:
    sqs = _sqs(node)
    url = sqs.get_queue_url(QueueName="orders")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": "unicode é"}))
    wait_seen(
        node, "on-orders", lambda e: json.loads(e["Records"][0]["body"]) == {"n": "unicode é"}
    )


def test_another_apps_queue_is_never_reached(node: RunningNode) -> None:
    sqs = _sqs(node)
    url = f"{sqs.meta.endpoint_url}/{account_id(VICTIM)}/orders"
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message(QueueUrl=url, MessageBody="cross-app")
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "x"}])
    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        sqs.get_queue_url(QueueName="orders", QueueOwnerAWSAccountId=account_id(VICTIM))
    assert victim_untouched(node)


# -- the query protocol (botocore before 1.31.64) ----------------------------------------------
def _query(node: RunningNode, form: dict[str, str], function: str = "producer") -> Any:
    """A form-encoded SQS request signed with SigV4 as old botocore sends it; (status, XML)."""
    from urllib.parse import urlencode
    from xml.etree import ElementTree

    import httpx
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from tests.aws.conftest import function_credentials

    creds = function_credentials(node, function, APP)
    body = urlencode({**form, "Version": "2012-11-05"})
    req = AWSRequest(
        method="POST",
        url=creds["Endpoint"] + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(
        Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"]),
        "sqs",
        creds["Region"],
    ).add_auth(req)
    r = httpx.post(req.url, content=body.encode(), headers=dict(req.headers.items()))
    root = ElementTree.fromstring(r.content)
    for el in root.iter():  # drop the namespace for short paths
        el.tag = el.tag.rpartition("}")[2]
    return r.status_code, root


def test_query_protocol_send_message_reaches_the_consumer(node: RunningNode) -> None:
    url = f"http://127.0.0.1:{node.port}/{ACCOUNT}/orders"
    status, root = _query(
        node,
        {
            "Action": "SendMessage",
            "QueueUrl": url,
            "MessageBody": "via query",
            "MessageAttribute.1.Name": "k",
            "MessageAttribute.1.Value.DataType": "String",
            "MessageAttribute.1.Value.StringValue": "v",
        },
    )
    assert status == 200
    result = root.find("SendMessageResult")
    assert result is not None
    message_id = result.findtext("MessageId")
    assert result.findtext("MD5OfMessageBody") == hashlib.md5(b"via query").hexdigest()
    assert result.findtext("MD5OfMessageAttributes")
    event = wait_seen(node, "on-orders", lambda e: e["Records"][0]["body"] == "via query")
    assert event["Records"][0]["messageId"] == message_id
    assert event["Records"][0]["messageAttributes"]["k"]["stringValue"] == "v"


def test_query_protocol_other_calls_and_errors(node: RunningNode) -> None:
    status, root = _query(node, {"Action": "GetQueueUrl", "QueueName": "orders"})
    assert status == 200 and root.findtext("GetQueueUrlResult/QueueUrl").endswith(
        f"/{ACCOUNT}/orders"
    )
    url = root.findtext("GetQueueUrlResult/QueueUrl")
    status, root = _query(
        node, {"Action": "GetQueueAttributes", "QueueUrl": url, "AttributeName.1": "QueueArn"}
    )
    assert root.findtext("GetQueueAttributesResult/Attribute/Value") == (
        f"arn:aws:sqs:us-east-1:{ACCOUNT}:orders"
    )
    status, root = _query(
        node,
        {
            "Action": "SendMessageBatch",
            "QueueUrl": url,
            "SendMessageBatchRequestEntry.1.Id": "a",
            "SendMessageBatchRequestEntry.1.MessageBody": "q-batch",
            "SendMessageBatchRequestEntry.2.Id": "b",
            "SendMessageBatchRequestEntry.2.MessageBody": "",
        },
    )
    assert status == 200
    assert root.findtext("SendMessageBatchResult/SendMessageBatchResultEntry/Id") == "a"
    assert root.findtext("SendMessageBatchResult/BatchResultErrorEntry/Id") == "b"
    status, root = _query(
        node,
        {"Action": "SendMessage", "QueueUrl": f"{url[: -len('orders')]}nobody", "MessageBody": "x"},
    )
    assert status == 400
    assert root.findtext("Error/Code") == "AWS.SimpleQueueService.NonExistentQueue"
    status, root = _query(
        node, {"Action": "SendMessage", "QueueUrl": url, "MessageBody": "x"}, function="stranger"
    )
    assert status == 403 and root.findtext("Error/Code") == "AccessDenied"
    status, root = _query(node, {"Action": "ReceiveMessage", "QueueUrl": url})
    assert root.findtext("Error/Code") == "AWS.SimpleQueueService.UnsupportedOperation"


def test_a_role_in_aws_names_decides_the_same_way(node: RunningNode) -> None:
    sqs = _sqs(node, "aws-named")
    base = f"{sqs.meta.endpoint_url}/{ACCOUNT}"
    sqs.send_message(QueueUrl=f"{base}/orders", MessageBody="aws-named")
    wait_seen(node, "on-orders", lambda e: e["Records"][0]["body"] == "aws-named")
    with pytest.raises(ClientError) as err:  # an explicit Deny in AWS names
        sqs.send_message(QueueUrl=f"{base}/orders.fifo", MessageBody="x", MessageGroupId="g")
    assert err.value.response["Error"]["Code"] == "AccessDenied"
    assert denials(node, "topics:Publish", "topic/orders.fifo")
