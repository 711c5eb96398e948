"""The dispatcher on a real node: batches like event source mappings (partial batch
failures, whole-batch failures, batch windows, filters).

Idle queues and leases over the shared-bus backends are in test_dispatcher_leases.py.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningNode, make_app

# -- batches like event source mappings --------------------------------------------------------

BATCH_MANIFEST = """
app: batch
functions:
  pt-sqs:
    handler: pt_sqs.py:lambda_handler
    role: &seen
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - topic: {name: orders, batch_size: 6, batch_window: 10s,
                report_batch_item_failures: true, retries: 3, backoff: 100ms}
  pt-ddb:
    handler: pt_ddb.py:lambda_handler
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem", "kv:GetItem"], resources: ["kv:seen/*"]}
    triggers:
      - table: {name: stock, batch_size: 4, batch_window: 10s,
                report_batch_item_failures: true, retries: 3, backoff: 100ms}
  aws-ddb:
    handler: aws_ddb.py:handler
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem", "kv:GetItem"], resources: ["kv:seen/*"]}
    triggers:
      - table: {name: ledger, batch_size: 4, batch_window: 10s,
                report_batch_item_failures: true, retries: 3, backoff: 100ms}
  bad-reply:
    handler: plain.py:bad_reply
    role: *seen
    triggers:
      - topic: {name: replies, batch_size: 3, batch_window: 10s,
                report_batch_item_failures: true, retries: 1, backoff: 100ms}
  boom:
    handler: plain.py:boom
    role: *seen
    triggers:
      - topic: {name: bombs, batch_size: 3, batch_window: 10s,
                report_batch_item_failures: true, retries: 1, backoff: 100ms}
  window:
    handler: plain.py:record
    role: *seen
    triggers:
      - topic: {name: trickle, batch_size: 100, batch_window: 3s}
  filtered:
    handler: plain.py:record
    role: *seen
    triggers:
      - topic:
          name: events
          filters:
            - {body: {type: [order], amount: [{numeric: [">", 100]}]}}
            - {body: {region: [{anything-but: [eu, us]}], tag: [{exists: true}]}}
      - table:
          name: goods
          filters:
            - {eventName: [INSERT], dynamodb: {NewImage: {sku: {S: [{prefix: "A-"}]}}}}
"""

# Powertools' documented partial-batch example for SQS, unchanged but for the
# failure rule and the bookkeeping the test reads back.
PT_SQS = """
import json

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

processor = BatchProcessor(event_type=EventType.SQS)
CONTEXT = None


def record_handler(record: SQSRecord):
    payload = record.json_body
    count = record.attributes.approximate_receive_count
    CONTEXT.kv.put("seen", f"pt-sqs-{payload['n']}-{count}", {"id": record.message_id})
    if payload.get("fail") and count == "1":
        raise ValueError("cannot process this one yet")


def lambda_handler(event, context):
    global CONTEXT
    CONTEXT = context
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
"""

PT_DDB = """
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
STATE = {}


def record_handler(record: DynamoDBRecord):
    # Stream records carry no receive count: the table of what was seen tells.
    kv, image = STATE["context"].kv, record.dynamodb.new_image
    seen = f"pt-ddb-{image['sku']}-{record.event_id}"
    tries = 2 if kv.get("seen", f"{seen}-1") is not None else 1
    kv.put("seen", f"{seen}-{tries}", {})
    if image.get("fail") and tries == 1:
        raise ValueError("cannot process this one yet")


def lambda_handler(event, context):
    STATE["context"] = context
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
"""

# AWS's documented partial batch response for DynamoDB streams ("Implementing
# partial batch responses"): it stops at the first failure and reports only that
# record, relying on Lambda retrying everything from it on.  The processing step
# (with the bookkeeping the test reads back) is ours.
AWS_DDB = """
def process(record, context):
    kv = context.kv
    sku = record["dynamodb"]["Keys"]["key"]["S"]
    seen = f"aws-ddb-{sku}-{record['eventID']}"
    tries = 2 if kv.get("seen", f"{seen}-1") is not None else 1
    kv.put("seen", f"{seen}-{tries}", {})
    if record["dynamodb"]["NewImage"].get("fail", {}).get("BOOL") and tries == 1:
        raise ValueError("cannot process this one yet")


def handler(event, context):
    records = event.get("Records")
    curRecordSequenceNumber = ""

    for record in records:
        try:
            # Process your record
            curRecordSequenceNumber = record["dynamodb"]["SequenceNumber"]
            process(record, context)
        except Exception:
            # Return failed record's sequence number
            return {"batchItemFailures": [{"itemIdentifier": curRecordSequenceNumber}]}

    return {"batchItemFailures": []}
"""

PLAIN = """
import json


def record(event, context):
    for r in event["Records"]:
        what = json.loads(r["body"]) if "body" in r else r["dynamodb"]["Keys"]["key"]["S"]
        context.kv.put("seen", f"{context.function_name}-{r.get('messageId', r.get('eventID'))}",
                       {"what": what, "batch": context.aws_request_id,
                        "size": len(event["Records"])})


def boom(event, context):
    for r in event["Records"]:
        count = r["attributes"]["ApproximateReceiveCount"]
        context.kv.put("seen", f"boom-{json.loads(r['body'])['n']}-{count}", {})
    raise RuntimeError("the whole batch fails")


def bad_reply(event, context):
    for r in event["Records"]:
        body = json.loads(r["body"])
        count = r["attributes"]["ApproximateReceiveCount"]
        context.kv.put("seen", f"bad-reply-{body['n']}-{count}", {})
    kind = json.loads(event["Records"][0]["body"])["kind"]
    if kind == "unknown-id":
        return {"batchItemFailures": [{"itemIdentifier": "no-such-message"}]}
    if kind == "wrong-type":
        return {"batchItemFailures": "all of them"}
    return {"batchItemFailures": [{"itemIdentifier": 7}]}
"""

_PT_WHEELS = ("aws-lambda-powertools>=3", "jmespath", "typing-extensions")


@pytest.fixture(scope="session")
def powertools_wheels() -> list[Path]:
    """Powertools' wheels, fetched once into the ignored .venv/wheelhouse (never vendored)."""
    house = Path(__file__).resolve().parents[2] / ".venv" / "wheelhouse" / "powertools"
    house.mkdir(parents=True, exist_ok=True)
    if not list(house.glob("aws_lambda_powertools-*.whl")):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--only-binary",
                ":all:",
                "--no-deps",
                "-d",
                str(house),
                *_PT_WHEELS,
            ],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            pytest.skip(f"cannot download aws-lambda-powertools: {done.stderr[-300:]}")
    return sorted(house.glob("*.whl"))


@pytest.fixture(scope="module")
def batch(
    node: RunningNode, tmp_path_factory: pytest.TempPathFactory, powertools_wheels: list[Path]
) -> RunningNode:
    root = make_app(
        tmp_path_factory.mktemp("batch") / "app",
        BATCH_MANIFEST,
        {"pt_sqs.py": PT_SQS, "pt_ddb.py": PT_DDB, "aws_ddb.py": AWS_DDB, "plain.py": PLAIN},
    )
    lines = []
    for wheel in powertools_wheels:
        shutil.copy(wheel, root / wheel.name)
        lines.append(f"./{wheel.name}")
    (root / "requirements.txt").write_text("\n".join(lines) + "\n")
    node.deploy_ok(root)
    return node


def _seen(node: RunningNode, prefix: str) -> dict[str, dict]:
    r = node.control.get("/v1/kv/seen", params={"app": "batch", "limit": 1000})
    assert r.status_code == 200, r.text
    return {i["key"]: i["item"] for i in r.json()["items"] if i["key"].startswith(prefix)}


def _wait_seen(node: RunningNode, prefix: str, keys: set[str], timeout: float = 90) -> dict:
    deadline = time.monotonic() + timeout
    got: dict[str, dict] = {}
    while time.monotonic() < deadline:
        got = _seen(node, prefix)
        if keys <= set(got):
            return got
        time.sleep(0.2)
    raise AssertionError(f"missing {sorted(keys - set(got))}; have {sorted(got)}")


def _publish(node: RunningNode, topic: str, message: object) -> str:
    r = node.control.post(f"/v1/topics/{topic}/publish", json={"message": message, "app": "batch"})
    assert r.status_code == 200, r.text
    return r.json()["message_ids"][0]


def _settle(node: RunningNode, prefix: str, seconds: float = 4.0) -> dict[str, dict]:
    """What ``prefix`` holds once nothing more arrives for ``seconds`` (no redelivery)."""
    got = _seen(node, prefix)
    while True:
        time.sleep(seconds)
        now = _seen(node, prefix)
        if now == got:
            return now
        got = now


def _put(node: RunningNode, table: str, key: str, item: dict) -> None:
    r = node.control.put(f"/v1/kv/{table}/{key}", json={"item": item, "app": "batch"})
    assert r.status_code == 200, r.text


@pytest.fixture(scope="module")
def sent(batch: RunningNode) -> dict[str, object]:
    """The input of each batch-failure and filter test, sent once, up front, by test.

    Each of those tests then waits for and checks only its own function's records (its
    own topic or table, its own key prefix, its own invocations and dead letters), so
    their batch windows, retries and settling run at the same time on the shared node
    instead of one after another.  The waits are the tests' own, unchanged.
    """
    out: dict[str, object] = {}
    out["pt-sqs"] = {n: _publish(batch, "orders", {"n": n, "fail": n in (1, 4)}) for n in range(6)}
    for sku, fail in (("s1", False), ("s2", True), ("s3", False), ("s4", False)):
        _put(batch, "stock", sku, {"sku": sku, "fail": fail})
    for sku, fail in (("l1", False), ("l2", True), ("l3", False), ("l4", False)):
        _put(batch, "ledger", sku, {"sku": sku, "fail": fail})
    for n, kind in enumerate(("unknown-id", "unknown-id", "unknown-id")):
        _publish(batch, "replies", {"n": n, "kind": kind})
    for n, kind in enumerate(("wrong-type",) * 3, start=10):
        _publish(batch, "replies", {"n": n, "kind": kind})
    out["boom"] = {_publish(batch, "bombs", {"n": n}) for n in range(3)}
    out["filtered-passes"] = [
        _publish(batch, "events", {"type": "order", "amount": 150}),
        _publish(batch, "events", {"region": "ap", "tag": "x"}),
    ]
    out["filtered-blocked"] = [
        _publish(batch, "events", {"type": "order", "amount": 50}),
        _publish(batch, "events", {"type": "refund", "amount": 500}),
        _publish(batch, "events", {"region": "eu", "tag": "x"}),
        _publish(batch, "events", {"region": "ap"}),
        _publish(batch, "events", "not json at all"),
    ]
    for sku in ("A-1", "B-1"):
        _put(batch, "goods", sku, {"sku": sku})
    _put(batch, "goods", "A-1", {"sku": "A-1", "v": 2})  # a MODIFY: the pattern wants INSERTs
    return out


def test_powertools_sqs_partial_failures_retry_only_the_reported(
    batch: RunningNode, sent: dict[str, Any]
) -> None:
    ids = sent["pt-sqs"]  # six orders, 1 and 4 failing their first delivery
    first = {f"pt-sqs-{n}-1" for n in range(6)}
    retried = {"pt-sqs-1-2", "pt-sqs-4-2"}
    _wait_seen(batch, "pt-sqs-", first | retried)
    got = _settle(batch, "pt-sqs-")
    # The failed records came back once with ApproximateReceiveCount 2; the others never.
    assert set(got) == first | retried
    assert {got[f"pt-sqs-{n}-1"]["id"] for n in range(6)} == set(ids.values())
    # One invocation for the six (batch full), one for the two retried.
    assert len(batch.invocations("pt-sqs")) == 2


def test_powertools_stream_partial_failures_retry_only_the_reported(
    batch: RunningNode, sent: dict[str, Any]
) -> None:
    # sent: stock items s1..s4 put in order, s2 failing its first processing
    deadline = time.monotonic() + 90
    got: dict[str, dict] = {}
    while time.monotonic() < deadline:
        got = _seen(batch, "pt-ddb-")
        if len(got) >= 5:
            break
        time.sleep(0.2)
    got = _settle(batch, "pt-ddb-")
    per_sku: dict[str, list[int]] = {}
    for key in got:
        _pt, _ddb, sku, _event_id, tries = key.split("-")
        per_sku.setdefault(sku, []).append(int(tries))
    # As on Lambda, the reported record is the stream's checkpoint: it and the records
    # after it come back, those before it were acked.
    assert {sku: sorted(t) for sku, t in per_sku.items()} == {
        "s1": [1], "s2": [1, 2], "s3": [1, 2], "s4": [1, 2]
    }


def test_aws_stream_example_that_stops_at_its_first_failure_loses_nothing(
    batch: RunningNode, sent: dict[str, Any]
) -> None:
    # sent: ledger items l1..l4 put in order, l2 failing its first processing
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(_seen(batch, "aws-ddb-")) < 5:
        time.sleep(0.2)
    got = _settle(batch, "aws-ddb-")
    per_sku: dict[str, list[int]] = {}
    for key in got:
        _aws, _ddb, sku, _event_id, tries = key.split("-")
        per_sku.setdefault(sku, []).append(int(tries))
    # l3 and l4 were never reached in the first invocation: retried with l2, each
    # processed exactly once; nothing acked unprocessed.
    assert {sku: sorted(t) for sku, t in per_sku.items()} == {
        "l1": [1], "l2": [1, 2], "l3": [1], "l4": [1]
    }
    assert len(batch.invocations("aws-ddb")) == 2


def test_malformed_batch_item_failures_fail_the_whole_batch(
    batch: RunningNode, sent: dict[str, Any]
) -> None:
    # sent: replies 0-2 answered with an unknown item id, 10-12 with the wrong type
    everything = {f"bad-reply-{n}-{c}" for n in (0, 1, 2, 10, 11, 12) for c in (1, 2)}
    _wait_seen(batch, "bad-reply-", everything)
    # Every record retried (not acked) and, its retry used up, dead-lettered: none lost.
    deadline = time.monotonic() + 60
    letters: list[dict] = []
    while time.monotonic() < deadline and len(letters) < 6:
        r = batch.control.get("/v1/dead-letters", params={"function": "bad-reply"})
        letters = r.json()["dead_letters"]
        time.sleep(0.2)
    assert len(letters) == 6
    assert all("invalid batch response" in d["error"] for d in letters)
    assert set(_settle(batch, "bad-reply-")) == everything


def test_an_exception_fails_the_whole_batch(batch: RunningNode, sent: dict[str, Any]) -> None:
    ids = sent["boom"]  # three bombs
    everything = {f"boom-{n}-{c}" for n in range(3) for c in (1, 2)}
    _wait_seen(batch, "boom-", everything)
    deadline = time.monotonic() + 60
    letters: list[dict] = []
    while time.monotonic() < deadline and len(letters) < 3:
        r = batch.control.get("/v1/dead-letters", params={"function": "boom"})
        letters = r.json()["dead_letters"]
        time.sleep(0.2)
    assert {d["message_id"] for d in letters} == ids
    assert all("the whole batch fails" in d["error"] for d in letters)
    assert set(_settle(batch, "boom-")) == everything


def test_batch_window_gathers_messages_into_one_invocation(batch: RunningNode) -> None:
    ids = {_publish(batch, "trickle", {"n": n}) for n in range(5)}
    got = _wait_seen(batch, "window-", {f"window-{i}" for i in ids})
    assert {item["size"] for item in got.values()} == {5}
    assert len({item["batch"] for item in got.values()}) == 1


def test_filters_ack_what_no_pattern_matches_without_invoking(
    batch: RunningNode, sent: dict[str, Any]
) -> None:
    # sent: two events that match a pattern, five that do not, goods A-1 and B-1 inserted
    # and A-1 modified (the table pattern wants INSERTs of A- skus only)
    passes, blocked = sent["filtered-passes"], sent["filtered-blocked"]
    _wait_seen(batch, "filtered-", {f"filtered-{m}" for m in passes})
    got = _settle(batch, "filtered-")
    table = [v["what"] for v in got.values() if isinstance(v["what"], str)]
    assert table == ["A-1"]
    assert {k for k, v in got.items() if not isinstance(v["what"], str)} == {
        f"filtered-{m}" for m in passes
    }
    assert not any(f"filtered-{m}" in got for m in blocked)
    assert len(batch.invocations("filtered")) == 3


def test_a_filter_that_does_not_parse_is_refused_at_deploy(
    node: RunningNode, tmp_path: Path
) -> None:
    app = make_app(
        tmp_path / "badfilter",
        """
        app: badfilter
        functions:
          f:
            handler: h.py:handler
            triggers:
              - topic: {name: t, filters: [{body: {amount: [{numeric: [">>", 1]}]}}]}
        """,
        {"h.py": "def handler(event, context):\n    return None\n"},
    )
    out = node.cli("deploy", str(app))
    assert out.returncode != 0
    assert f"{app / 'ramparts.yaml'}: functions.f.triggers" in out.stderr
    assert "filters" in out.stderr and "numeric operator" in out.stderr
    assert "Traceback" not in out.stderr
    r = node.control.post("/v1/functions/f/invoke", json={"event": {}})
    assert r.status_code == 404, r.text
