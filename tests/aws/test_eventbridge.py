"""EventBridge on a real node: put_events from a handler reaches the bus's topic trigger."""

from __future__ import annotations

import json
from datetime import UTC, datetime
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
    seen,
    victim_untouched,
    wait_seen,
)
from tests.conftest import RunningNode


@pytest.fixture(scope="module")
def node(aws_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    return deploy_both(aws_node, tmp_path_factory)


def _events(node: RunningNode, function: str = "producer") -> Any:
    return boto_client(node, "events", function, app=APP)


def _body(event: dict[str, Any]) -> dict[str, Any]:
    return json.loads(event["Records"][0]["body"])  # type: ignore[no-any-return]


def test_put_events_in_a_handler_reaches_the_consumer_as_an_eventbridge_event(
    node: RunningNode,
) -> None:
    answer = call(
        node,
        "producer",
        {
            "service": "events",
            "op": "put_events",
            "args": {
                "Entries": [
                    {
                        "Source": "com.example.orders",
                        "DetailType": "OrderPlaced",
                        "Detail": json.dumps({"order": "o-1"}),
                        "Resources": ["arn:aws:example:::thing"],
                    }
                ]
            },
        },
    )
    assert answer["FailedEntryCount"] == 0
    (entry,) = answer["Entries"]
    event = wait_seen(node, "on-bus", lambda e: _body(e)["id"] == entry["EventId"])
    body = _body(event)
    assert set(body) == {
        "version",
        "id",
        "detail-type",
        "source",
        "account",
        "time",
        "region",
        "resources",
        "detail",
    }
    assert body["detail-type"] == "OrderPlaced"
    assert body["source"] == "com.example.orders"
    assert body["detail"] == {"order": "o-1"}
    assert body["account"] == ACCOUNT
    assert body["region"] == "us-east-1"
    assert body["resources"] == ["arn:aws:example:::thing"]


def test_entries_fail_one_by_one_with_the_reference_codes(
    node: RunningNode, moto_server: str
) -> None:
    entries = [
        {"Source": "s", "DetailType": "t", "Detail": "{not json"},
        {
            "Source": "s",
            "DetailType": "t",
            "Detail": json.dumps({"ok": True}),
            "EventBusName": "billing",
        },
        {"DetailType": "t", "Detail": "{}"},
    ]
    ours = _events(node).put_events(Entries=entries)
    ref = boto3.client(
        "events",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    ref.create_event_bus(Name="billing")
    theirs = ref.put_events(Entries=entries)
    assert ours["FailedEntryCount"] == theirs["FailedEntryCount"] == 2
    assert [e.get("ErrorCode") for e in ours["Entries"]] == [
        e.get("ErrorCode") for e in theirs["Entries"]
    ]
    assert ours["Entries"][0]["ErrorCode"] == "MalformedDetail"
    ok_id = ours["Entries"][1]["EventId"]
    wait_seen(node, "on-bus", lambda e: _body(e)["id"] == ok_id)


def test_unknown_bus_fails_its_entry(node: RunningNode) -> None:
    out = _events(node).put_events(
        Entries=[{"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "nowhere"}]
    )
    assert out["FailedEntryCount"] == 1
    assert out["Entries"][0]["ErrorCode"] == "ResourceNotFoundException"


def test_more_than_ten_entries_is_a_validation_error(node: RunningNode) -> None:
    with pytest.raises(ClientError) as err:
        _events(node).put_events(Entries=[{"Source": "s", "DetailType": "t", "Detail": "{}"}] * 11)
    assert err.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize("account", [account_id(VICTIM), "123456789012"])
def test_another_accounts_bus_arn_is_refused(node: RunningNode, account: str) -> None:
    with pytest.raises(ClientError) as err:
        _events(node).put_events(
            Entries=[
                {"Source": "s", "DetailType": "t", "Detail": "{}"},
                {
                    "Source": "s",
                    "DetailType": "t",
                    "Detail": "{}",
                    "EventBusName": f"arn:aws:events:us-east-1:{account}:event-bus/default",
                },
            ]
        )
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert victim_untouched(node)


def test_own_bus_arn_is_accepted(node: RunningNode) -> None:
    out = _events(node).put_events(
        Entries=[
            {
                "Source": "arn-test",
                "DetailType": "t",
                "Detail": "{}",
                "EventBusName": f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/billing",
            }
        ]
    )
    assert out["FailedEntryCount"] == 0
    wait_seen(node, "on-bus", lambda e: _body(e)["source"] == "arn-test")


def test_a_role_without_publish_is_denied_and_audited(node: RunningNode) -> None:
    answer = call(
        node,
        "stranger",
        {
            "service": "events",
            "op": "put_events",
            "args": {"Entries": [{"Source": "s", "DetailType": "t", "Detail": "{}"}]},
        },
    )
    assert answer["error"] == "AccessDeniedException"
    assert denials(node, "topics:Publish", "topic/default")


def test_trigger_filters_select_events_by_detail_type(node: RunningNode) -> None:
    events = _events(node)
    out = events.put_events(
        Entries=[
            {"Source": "f", "DetailType": "Other", "Detail": "{}", "EventBusName": "billing"},
            {
                "Source": "f",
                "DetailType": "OrderPlaced",
                "Detail": "{}",
                "EventBusName": "billing",
                "Time": datetime(2024, 5, 6, 7, 8, 9, tzinfo=UTC),
            },
        ]
    )
    placed = out["Entries"][1]["EventId"]
    got = wait_seen(node, "on-placed", lambda e: _body(e)["id"] == placed)
    assert _body(got)["time"] == "2024-05-06T07:08:09Z"
    # both reached the unfiltered consumer of the bus ...
    other = out["Entries"][0]["EventId"]
    wait_seen(node, "on-bus", lambda e: _body(e)["id"] == other)
    # ... the filtered one only the event it asked for
    assert all(_body(e)["detail-type"] == "OrderPlaced" for e in seen(node, "on-placed"))


def test_a_role_in_aws_names_decides_the_same_way(node: RunningNode) -> None:
    events = _events(node, "aws-named")
    out = events.put_events(Entries=[{"Source": "aws-named", "DetailType": "t", "Detail": "{}"}])
    assert out["FailedEntryCount"] == 0
    wait_seen(node, "on-bus", lambda e: _body(e)["source"] == "aws-named")
    with pytest.raises(ClientError) as err:
        events.put_events(
            Entries=[{"Source": "s", "DetailType": "t", "Detail": "{}", "EventBusName": "billing"}]
        )
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
