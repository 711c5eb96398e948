"""Partial batch failures on the shared-bus backends (Redis, NATS), on a real node.

The embedded bus has its own tests (test_dispatcher.py); here the same contract
runs over Redis and NATS JetStream: a handler's ``batchItemFailures`` retries
exactly the reported records and acks the rest, and a malformed response fails
the whole batch (every record retried, then dead-lettered, none lost).
"""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: shared
functions:
  partial:
    handler: h.py:lambda_handler
    role: &seen
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - topic: {name: orders, batch_size: 5, batch_window: 10s,
                report_batch_item_failures: true, retries: 3, backoff: 100ms}
  malformed:
    handler: h.py:bad_reply
    role: *seen
    triggers:
      - topic: {name: replies, batch_size: 3, batch_window: 10s,
                report_batch_item_failures: true, retries: 1, backoff: 100ms}
"""

# AWS's documented partial batch response for SQS ("Implementing partial batch
# responses"), with the processing step and the bookkeeping the test reads back.
HANDLER = """
import json

CONTEXT = None


def process_message(record):
    body = json.loads(record["body"])
    count = record["attributes"]["ApproximateReceiveCount"]
    CONTEXT.kv.put("seen", f"partial-{body['n']}-{count}", {"id": record["messageId"]})
    if body.get("fail") and count == "1":
        raise ValueError("not this time")


def lambda_handler(event, context):
    global CONTEXT
    CONTEXT = context
    if event:
        batch_item_failures = []
        sqs_batch_response = {}
        for record in event["Records"]:
            try:
                process_message(record)
            except Exception:
                batch_item_failures.append({"itemIdentifier": record["messageId"]})
        sqs_batch_response["batchItemFailures"] = batch_item_failures
        return sqs_batch_response


def bad_reply(event, context):
    for r in event["Records"]:
        body = json.loads(r["body"])
        count = r["attributes"]["ApproximateReceiveCount"]
        context.kv.put("seen", f"malformed-{body['n']}-{count}", {})
    return {"batchItemFailures": [{"itemIdentifier": "no-such-message"}]}
"""


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _bus_url(backend: str) -> str:
    tag = uuid.uuid4().hex[:8]
    if backend == "redis":
        if not _reachable(6379):
            pytest.skip("Redis not reachable on 127.0.0.1:6379")
        return f"redis://127.0.0.1:6379/0?key_prefix=rtbatch{tag}:"
    if not _reachable(4222):
        pytest.skip("NATS not reachable on 127.0.0.1:4222")
    return f"nats://127.0.0.1:4222?stream=RTBATCH{tag}&subjects=rtbatch{tag}.q"


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("nats", marks=pytest.mark.nats),
    ],
)
def shared(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningNode]:
    url = _bus_url(request.param)
    base = tmp_path_factory.mktemp(f"batch-{request.param}")
    node = RunningNode(base / "data", {"RAMPARTS_BUS_URL": url}).start()
    try:
        node.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLER}))
        yield node
    finally:
        node.close()


def _seen(node: RunningNode, prefix: str) -> dict[str, dict]:
    r = node.control.get("/v1/kv/seen", params={"app": "shared", "limit": 1000})
    assert r.status_code == 200, r.text
    return {i["key"]: i["item"] for i in r.json()["items"] if i["key"].startswith(prefix)}


def _wait_seen(node: RunningNode, prefix: str, keys: set[str], timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    got: dict[str, dict] = {}
    while time.monotonic() < deadline:
        got = _seen(node, prefix)
        if keys <= set(got):
            return
        time.sleep(0.2)
    raise AssertionError(f"missing {sorted(keys - set(got))}; have {sorted(got)}")


def _settle(node: RunningNode, prefix: str, seconds: float = 4.0) -> dict[str, dict]:
    """What ``prefix`` holds once nothing more arrives for ``seconds`` (no redelivery)."""
    got = _seen(node, prefix)
    while True:
        time.sleep(seconds)
        now = _seen(node, prefix)
        if now == got:
            return now
        got = now


def _publish(node: RunningNode, topic: str, message: object) -> str:
    r = node.control.post(f"/v1/topics/{topic}/publish", json={"message": message, "app": "shared"})
    assert r.status_code == 200, r.text
    return r.json()["message_ids"][0]


def test_reported_failures_retry_exactly_those_records(shared: RunningNode) -> None:
    ids = {n: _publish(shared, "orders", {"n": n, "fail": n in (0, 3)}) for n in range(5)}
    first = {f"partial-{n}-1" for n in range(5)}
    retried = {"partial-0-2", "partial-3-2"}
    _wait_seen(shared, "partial-", first | retried)
    got = _settle(shared, "partial-")
    # The two reported records came back once (receive count 2); the other three were acked.
    assert set(got) == first | retried
    assert {got[f"partial-{n}-1"]["id"] for n in range(5)} == set(ids.values())
    assert got["partial-0-2"]["id"] == ids[0] and got["partial-3-2"]["id"] == ids[3]
    assert len(shared.invocations("partial")) == 2  # the full batch, then the two retried
    r = shared.control.get("/v1/dead-letters", params={"function": "partial"})
    assert r.json()["dead_letters"] == []


def test_a_malformed_response_fails_the_whole_batch(shared: RunningNode) -> None:
    ids = {_publish(shared, "replies", {"n": n}) for n in range(3)}
    everything = {f"malformed-{n}-{c}" for n in range(3) for c in (1, 2)}
    _wait_seen(shared, "malformed-", everything)
    deadline = time.monotonic() + 60
    letters: list[dict] = []
    while time.monotonic() < deadline and len(letters) < 3:
        r = shared.control.get("/v1/dead-letters", params={"function": "malformed"})
        letters = r.json()["dead_letters"]
        time.sleep(0.2)
    # Every record retried (none acked on the bad answer), then dead-lettered: none lost.
    assert {d["message_id"] for d in letters} == ids
    assert all("invalid batch response" in d["error"] for d in letters)
    assert set(_settle(shared, "malformed-")) == everything
