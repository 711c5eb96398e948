"""SQS, S3, DynamoDB Streams and EventBridge event shapes.

Each expected dict copies the structure of AWS's documented example event
(Lambda developer guide: "Using AWS Lambda with Amazon SQS", the S3 "Event
message structure", the DynamoDB Streams tutorial's input.txt, and the
EventBridge scheduled event) with our values filled in.
"""

from __future__ import annotations

import base64
import hashlib
import math
from decimal import Decimal

import pytest

from ramparts.aws.accounts import account_id
from ramparts.errors import InvalidRequest
from ramparts.events.shapes import (
    dynamodb_event,
    dynamodb_record,
    from_dynamodb_item,
    from_dynamodb_json,
    s3_event,
    s3_record,
    scheduled_event,
    sqs_event,
    sqs_record,
    to_dynamodb_item,
    to_dynamodb_json,
)

# --- SQS -------------------------------------------------------------------------


def test_sqs_event_matches_the_documented_example() -> None:
    record = sqs_record(
        message_id="059f36b4-87a3-44ab-83d2-661975830a7d",
        body="test",
        topic="my-queue",
        app="orders",
        attempt=1,
        sent_at=1545082649.183,
        first_received_at=1545082649.185,
    )
    handle = record.pop("receiptHandle")
    assert isinstance(handle, str) and handle
    assert sqs_event([record]) == {
        "Records": [
            {
                "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
                "body": "test",
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": "1545082649183",
                    "SenderId": "orders",
                    "ApproximateFirstReceiveTimestamp": "1545082649185",
                },
                "messageAttributes": {},
                # the md5OfBody of "test" in AWS's example
                "md5OfBody": "098f6bcd4621d373cade4e832627b4f6",
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:us-east-1:{account_id('orders')}:my-queue",
                "awsRegion": "us-east-1",
            }
        ]
    }


def test_sqs_record_attempts_attributes_and_unicode_md5() -> None:
    body = '{"order": "caf\u00e9"}'
    record = sqs_record(
        message_id="m1",
        body=body,
        topic="t",
        app="a",
        attempt=3,
        sent_at=10.0,
        attributes={"MessageGroupId": "g1", "SenderId": "svc"},
    )
    assert record["attributes"] == {
        "ApproximateReceiveCount": "3",
        "SentTimestamp": "10000",
        "SenderId": "svc",
        "ApproximateFirstReceiveTimestamp": "10000",
        "MessageGroupId": "g1",
    }
    assert record["md5OfBody"] == hashlib.md5(body.encode()).hexdigest()
    first = sqs_record(message_id="m1", body=body, topic="t", app="a", attempt=1, sent_at=10.0)
    assert first["receiptHandle"] != record["receiptHandle"]


# --- S3 ----------------------------------------------------------------------------


def test_s3_put_matches_the_documented_structure() -> None:
    record = s3_record(
        event_name="ObjectCreated:Put",
        bucket="uploads",
        key="images/red flower.jpg",
        size=1024,
        etag="0123456789abcdef0123456789abcdef",
        sequencer="0A1B2C3D4E5F678901",
        app="orders",
        time=1.5,
        request_id="EXAMPLE123456789",
    )
    assert s3_event([record]) == {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "1970-01-01T00:00:01.500Z",
                "eventName": "ObjectCreated:Put",
                "userIdentity": {"principalId": "orders"},
                "requestParameters": {"sourceIPAddress": "127.0.0.1"},
                "responseElements": {
                    "x-amz-request-id": "EXAMPLE123456789",
                    "x-amz-id-2": "ramparts",
                },
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "ramparts",
                    "bucket": {
                        "name": "uploads",
                        "ownerIdentity": {"principalId": "orders"},
                        "arn": "arn:aws:s3:::uploads",
                    },
                    "object": {
                        "key": "images/red+flower.jpg",
                        "size": 1024,
                        "eTag": "0123456789abcdef0123456789abcdef",
                        "sequencer": "0A1B2C3D4E5F678901",
                    },
                },
            }
        ]
    }


def test_s3_delete_carries_no_size_or_etag() -> None:
    record = s3_record(
        event_name="ObjectRemoved:Delete",
        bucket="uploads",
        key="a.txt",
        size=None,
        etag=None,
        sequencer="0055AED6DCD90281E5",
        app="orders",
        time=0.0,
        request_id="r",
    )
    assert record["eventName"] == "ObjectRemoved:Delete"
    assert record["s3"]["object"] == {"key": "a.txt", "sequencer": "0055AED6DCD90281E5"}


@pytest.mark.parametrize(
    ("key", "encoded"),
    [
        ("red flower.jpg", "red+flower.jpg"),
        ("dir/sub/file.txt", "dir/sub/file.txt"),
        ("a+b=c&d.txt", "a%2Bb%3Dc%26d.txt"),
        ("caf\u00e9.png", "caf%C3%A9.png"),
    ],
)
def test_s3_keys_are_url_encoded_like_s3(key: str, encoded: str) -> None:
    record = s3_record(
        event_name="ObjectCreated:Put",
        bucket="b",
        key=key,
        size=1,
        etag="e",
        sequencer="s",
        app="a",
        time=0.0,
        request_id="r",
    )
    assert record["s3"]["object"]["key"] == encoded


def test_s3_rejects_unknown_event_names_and_incomplete_puts() -> None:
    common = {"bucket": "b", "key": "k", "sequencer": "s", "app": "a", "time": 0.0}
    with pytest.raises(InvalidRequest):
        s3_record(event_name="Bogus", size=1, etag="e", request_id="r", **common)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest):
        s3_record(event_name="ObjectCreated:Put", size=None, etag=None, request_id="r", **common)


# --- DynamoDB Streams ------------------------------------------------------------------

# AWS's tutorial uses a number key {"Id": {"N": "101"}}; our table keys are
# strings, and "101" as S has the same size as 101 as N, so SizeBytes match.
DDB = {"table": "ExampleTable", "app": "orders", "key": "101", "key_attribute": "Id"}


def test_dynamodb_event_matches_the_documented_example() -> None:
    records = [
        dynamodb_record(
            event_name="INSERT",
            new_image={"Message": "New item!"},
            old_image=None,
            sequence_number="111",
            time=1428537600.7,
            event_id="1",
            **DDB,
        ),
        dynamodb_record(
            event_name="MODIFY",
            new_image={"Message": "This item has changed"},
            old_image={"Message": "New item!"},
            sequence_number="222",
            time=1428537600.0,
            event_id="2",
            **DDB,
        ),
        dynamodb_record(
            event_name="REMOVE",
            new_image=None,
            old_image={"Message": "This item has changed"},
            sequence_number="333",
            time=1428537600.0,
            event_id="3",
            **DDB,
        ),
    ]
    arn = (
        f"arn:aws:dynamodb:us-east-1:{account_id('orders')}"
        ":table/ExampleTable/stream/1970-01-01T00:00:00.000"
    )
    key = {"Id": {"S": "101"}}

    def record(event_id: str, name: str, stream: dict) -> dict:
        return {
            "eventID": event_id,
            "eventName": name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": "us-east-1",
            "dynamodb": {
                "ApproximateCreationDateTime": 1428537600.0,
                "Keys": key,
                **stream,
                "StreamViewType": "NEW_AND_OLD_IMAGES",
            },
            "eventSourceARN": arn,
        }

    assert dynamodb_event(records) == {
        "Records": [
            record(
                "1",
                "INSERT",
                {
                    "NewImage": {"Message": {"S": "New item!"}, **key},
                    "SequenceNumber": "111",
                    "SizeBytes": 26,  # as in AWS's example
                },
            ),
            record(
                "2",
                "MODIFY",
                {
                    "NewImage": {"Message": {"S": "This item has changed"}, **key},
                    "OldImage": {"Message": {"S": "New item!"}, **key},
                    "SequenceNumber": "222",
                    "SizeBytes": 59,
                },
            ),
            record(
                "3",
                "REMOVE",
                {
                    "OldImage": {"Message": {"S": "This item has changed"}, **key},
                    "SequenceNumber": "333",
                    "SizeBytes": 38,
                },
            ),
        ]
    }


def test_dynamodb_size_bytes_match_a_captured_stream() -> None:
    # A real stream capture: key {"id": S}, images {"id", "key"}; sizes 27 and 17.
    common = {"table": "blog-post", "app": "a", "key": "1", "key_attribute": "id", "time": 0.0}
    modify = dynamodb_record(
        event_name="MODIFY",
        new_image={"key": "updated"},
        old_image={"key": "value"},
        sequence_number="1",
        event_id="e",
        **common,
    )
    assert modify["dynamodb"]["SizeBytes"] == 27
    insert = dynamodb_record(
        event_name="INSERT",
        new_image={"key": "original"},
        old_image=None,
        sequence_number="2",
        event_id="f",
        **{**common, "key": "2"},
    )
    assert insert["dynamodb"]["SizeBytes"] == 17


def test_dynamodb_default_key_attribute_and_typed_images() -> None:
    record = dynamodb_record(
        event_name="INSERT",
        table="orders",
        key="o-1",
        new_image={"total": 12.5, "items": ["a"], "paid": True},
        old_image=None,
        sequence_number="1",
        app="shop",
        time=0.0,
        event_id="e",
    )
    assert record["dynamodb"]["Keys"] == {"key": {"S": "o-1"}}
    assert record["dynamodb"]["NewImage"] == {
        "key": {"S": "o-1"},
        "total": {"N": "12.5"},
        "items": {"L": [{"S": "a"}]},
        "paid": {"BOOL": True},
    }


@pytest.mark.parametrize(
    ("name", "new", "old"),
    [
        ("INSERT", None, None),
        ("INSERT", {}, {}),
        ("MODIFY", {}, None),
        ("REMOVE", {}, {}),
        ("UPSERT", {}, None),
    ],
)
def test_dynamodb_record_refuses_images_a_stream_would_not_carry(
    name: str, new: dict | None, old: dict | None
) -> None:
    with pytest.raises(InvalidRequest):
        dynamodb_record(
            event_name=name,  # type: ignore[arg-type]
            new_image=new,
            old_image=old,
            sequence_number="1",
            time=0.0,
            event_id="e",
            **DDB,
        )


@pytest.mark.parametrize(
    ("value", "typed"),
    [
        ("s", {"S": "s"}),
        ("", {"S": ""}),
        (7, {"N": "7"}),
        (-7, {"N": "-7"}),
        (2.5, {"N": "2.5"}),
        (Decimal("1.10"), {"N": "1.10"}),
        (True, {"BOOL": True}),
        (False, {"BOOL": False}),
        (None, {"NULL": True}),
        (b"\x00\xff", {"B": "AP8="}),
        ({"a": 1, "b": [None]}, {"M": {"a": {"N": "1"}, "b": {"L": [{"NULL": True}]}}}),
        ((1, "x"), {"L": [{"N": "1"}, {"S": "x"}]}),
        ({"b", "a"}, {"SS": ["a", "b"]}),
        ({2, 1}, {"NS": ["1", "2"]}),
        ({b"\x01"}, {"BS": ["AQ=="]}),
    ],
)
def test_to_dynamodb_json(value: object, typed: dict) -> None:
    assert to_dynamodb_json(value) == typed


def test_dynamodb_json_round_trip() -> None:
    item = {
        "str": "caf\u00e9",
        "int": 12345678901234567890,
        "neg": -3,
        "float": 0.1,
        "big": 1e300,
        "tiny": 1e-7,
        "true": True,
        "false": False,
        "null": None,
        "bytes": b"\x00\x01binary",
        "empty_map": {},
        "empty_list": [],
        "nested": {"list": [1, 2.5, "x", {"deep": [None, b"b"]}], "flag": False},
        "tags": {"a", "b"},
        "scores": {1, 2, 3},
        "blobs": {b"x", b"y"},
    }
    typed = to_dynamodb_item(item)
    assert from_dynamodb_item(typed) == item
    assert isinstance(from_dynamodb_json(typed["int"]), int)
    assert isinstance(from_dynamodb_json(typed["float"]), float)
    assert isinstance(from_dynamodb_json(typed["true"]), bool)


@pytest.mark.parametrize(
    ("typed", "value"),
    [({"N": "1.0"}, 1.0), ({"N": "1E+2"}, 100.0), ({"N": "-0.5"}, -0.5), ({"N": "10"}, 10)],
)
def test_from_dynamodb_json_numbers(typed: dict, value: float) -> None:
    result = from_dynamodb_json(typed)
    assert result == value and type(result) is type(value)


@pytest.mark.parametrize(
    "value", [math.nan, math.inf, -math.inf, Decimal("NaN"), set(), object(), {1: "x"}, {1, "a"}]
)
def test_to_dynamodb_json_refuses_what_dynamodb_refuses(value: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        to_dynamodb_json(value)
    assert info.value.code == "invalid_dynamodb_value"


@pytest.mark.parametrize(
    "typed",
    [
        {},
        {"S": "a", "N": "1"},
        {"X": "?"},
        {"N": "nan"},
        {"N": "1_000"},
        {"N": "twelve"},
        {"N": 12},
        {"B": "not base64!"},
        {"M": [1]},
        {"L": [{"Q": 1}]},
        "S",
    ],
)
def test_from_dynamodb_json_refuses_malformed_values(typed: object) -> None:
    with pytest.raises(InvalidRequest):
        from_dynamodb_json(typed)  # type: ignore[arg-type]


def test_binary_attribute_is_base64_in_the_event() -> None:
    assert base64.b64decode(to_dynamodb_json(b"hi")["B"]) == b"hi"


# --- EventBridge ---------------------------------------------------------------------


def test_scheduled_event_matches_the_documented_example() -> None:
    # AWS's example time, 2019-03-01T01:23:45Z, plus a fraction that is dropped.
    event = scheduled_event(
        rule="nightly-report",
        app="orders",
        time=1551403425.75,
        event_id="cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
    )
    assert event == {
        "version": "0",
        "id": "cdc73f9d-aea9-11e3-9d5a-835b769c0d9c",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id("orders"),
        "time": "2019-03-01T01:23:45Z",
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:{account_id('orders')}:rule/nightly-report"],
        "detail": {},
    }
