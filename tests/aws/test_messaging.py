"""Pieces shared by the SQS, SNS, EventBridge and Lambda services, without a node.

The attribute digest is compared with moto's server (the reference AWS
implementation here): the same boto3 ``send_message`` against moto returns
the ``MD5OfMessageAttributes`` our function must compute.
"""

from __future__ import annotations

import base64
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from ramparts.aws import messaging
from ramparts.aws.accounts import account_id
from ramparts.aws.lambda_ import parse_function_name
from ramparts.aws.service import AwsError, Caller
from ramparts.aws.sqs import queue_from_url
from ramparts.runtime.types import FunctionSpec
from tests.conftest import free_port

ATTRS = {
    "Author": {"DataType": "String", "StringValue": "Ada"},
    "Count": {"DataType": "Number", "StringValue": "42"},
    "Blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01binary"},
    "Kind": {"DataType": "String.custom", "StringValue": "x y"},
}


def _caller(app: str = "shop") -> Caller:
    spec = FunctionSpec(
        app=app, function="producer", version="v1", code_dir=Path("."), handler="h.py:h"
    )
    return Caller(spec=spec, account=account_id(app), region="us-east-1")


@pytest.fixture(scope="module")
def moto_endpoint() -> str:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _boto(service: str, endpoint: str):  # noqa: ANN202
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_attribute_digest_is_the_one_sqs_returns(moto_endpoint: str) -> None:
    sqs = _boto("sqs", moto_endpoint)
    url = sqs.create_queue(QueueName="digest")["QueueUrl"]
    answer = sqs.send_message(QueueUrl=url, MessageBody="hello", MessageAttributes=ATTRS)
    wire = {
        name: {**value, "BinaryValue": base64.b64encode(value["BinaryValue"]).decode()}
        if "BinaryValue" in value
        else value
        for name, value in ATTRS.items()
    }
    attributes = messaging.parse_attributes(wire)
    assert messaging.md5_of_attributes(attributes) == answer["MD5OfMessageAttributes"]
    assert messaging.md5_text("hello") == answer["MD5OfMessageBody"]


def test_attribute_records_have_the_lambda_sqs_shape() -> None:
    (blob,) = messaging.parse_attributes({"B": {"DataType": "Binary", "BinaryValue": "AAE="}})
    assert blob.record() == {
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "Binary",
        "binaryValue": "AAE=",
    }
    (text,) = messaging.parse_attributes({"S": {"DataType": "String", "StringValue": "v"}})
    assert text.record()["stringValue"] == "v"
    assert text.sns() == {"Type": "String", "Value": "v"}


@pytest.mark.parametrize(
    "raw",
    [
        {"aws.reserved": {"DataType": "String", "StringValue": "v"}},
        {"k": {"DataType": "Weird", "StringValue": "v"}},
        {"k": {"DataType": "Number", "StringValue": "not-a-number"}},
        {"k": {"DataType": "String", "StringValue": ""}},
        {"k": {"DataType": "Binary", "BinaryValue": "!!!"}},
        {f"k{i}": {"DataType": "String", "StringValue": "v"} for i in range(11)},
        "not a map",
    ],
)
def test_bad_attributes_are_refused_with_an_aws_code(raw: object) -> None:
    with pytest.raises(AwsError) as err:
        messaging.parse_attributes(raw)
    assert err.value.code == "InvalidParameterValue"


def test_queue_url_of_the_callers_own_account_names_the_topic() -> None:
    caller = _caller()
    url = f"http://127.0.0.1:8080/{caller.account}/orders"
    assert queue_from_url(caller, url) == "orders"
    assert queue_from_url(caller, f"/{caller.account}/orders.fifo") == "orders.fifo"


@pytest.mark.parametrize(
    "url",
    [
        f"http://127.0.0.1:8080/{account_id('other-app')}/orders",  # another app's account
        "http://127.0.0.1:8080/orders",
        "http://127.0.0.1:8080/123/orders/extra",
        "http://127.0.0.1:8080/notdigits/orders",
    ],
)
def test_queue_url_of_another_account_or_malformed_does_not_exist(url: str) -> None:
    with pytest.raises(AwsError) as err:
        queue_from_url(_caller(), url)
    assert err.value.code == "QueueDoesNotExist"


def test_function_names_in_every_form_lambda_accepts() -> None:
    caller = _caller()
    arn = f"arn:aws:lambda:us-east-1:{caller.account}:function:worker"
    assert parse_function_name(caller, "worker", None) == "worker"
    assert parse_function_name(caller, "worker:$LATEST", None) == "worker"
    assert parse_function_name(caller, arn, None) == "worker"
    assert parse_function_name(caller, arn + ":$LATEST", "$LATEST") == "worker"
    assert parse_function_name(caller, f"{caller.account}:function:worker", None) == "worker"


@pytest.mark.parametrize(
    ("name", "qualifier", "code"),
    [
        (
            f"arn:aws:lambda:us-east-1:{account_id('other-app')}:function:worker",
            None,
            "AccessDeniedException",
        ),
        (
            f"arn:aws:lambda:eu-west-1:{account_id('shop')}:function:worker",
            None,
            "AccessDeniedException",
        ),
        (f"{account_id('other-app')}:function:worker", None, "AccessDeniedException"),
        ("worker:live", None, "ResourceNotFoundException"),
        ("worker", "3", "ResourceNotFoundException"),
        ("Bad_Name", None, "ResourceNotFoundException"),
        ("arn:aws:sqs:us-east-1:1:function:worker", None, "InvalidParameterValueException"),
    ],
)
def test_function_names_refused(name: str, qualifier: str | None, code: str) -> None:
    with pytest.raises(AwsError) as err:
        parse_function_name(_caller(), name, qualifier)
    assert err.value.code == code


def _delivered(extra: dict[str, object]) -> dict[str, object]:
    import orjson

    from ramparts.events.subscriptions import encode_body, event_for_delivery

    body = orjson.loads(encode_body("topic", None, "shop", "consumer", "orders", "hi", extra))
    return event_for_delivery(body, "m-1", 1)


def test_a_topic_message_with_attributes_is_an_sqs_record_carrying_them() -> None:
    (attr,) = messaging.parse_attributes({"k": {"DataType": "String", "StringValue": "v"}})
    event = _delivered({"attributes": {"k": attr.record()}, "system": {"MessageGroupId": "g"}})
    (record,) = event["Records"]
    assert record["body"] == "hi"
    assert record["messageAttributes"] == {"k": attr.record()}
    assert record["attributes"]["MessageGroupId"] == "g"
    assert record["attributes"]["ApproximateReceiveCount"] == "1"


def test_an_sns_shaped_trigger_gets_the_sns_record() -> None:
    arn = "arn:aws:sns:us-east-1:123456789012:orders"
    event = _delivered(
        {
            "shape": "sns",
            "sns": {
                "TopicArn": arn,
                "Subject": "s",
                "MessageAttributes": {"k": {"Type": "String", "Value": "v"}},
            },
        }
    )
    (record,) = event["Records"]
    assert record["EventSource"] == "aws:sns"
    assert record["Sns"]["Message"] == "hi"
    assert record["Sns"]["TopicArn"] == arn
    assert record["Sns"]["Subject"] == "s"
    assert record["Sns"]["MessageId"] == "m-1"
    assert record["Sns"]["MessageAttributes"] == {"k": {"Type": "String", "Value": "v"}}
    # a message that came through SQS or context.publish is converted
    plain = _delivered(
        {"shape": "sns", "attributes": {"a": {"dataType": "String", "stringValue": "x"}}}
    )
    assert plain["Records"][0]["Sns"]["MessageAttributes"] == {
        "a": {"Type": "String", "Value": "x"}
    }
    assert plain["Records"][0]["Sns"]["TopicArn"].endswith(":orders")
