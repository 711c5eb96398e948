"""Asynchronous triggers end to end: topics, objects, tables, schedules, webhooks,
retries with backoff, dead letters, and no loss across ``kill -9`` of the node."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from ramparts.aws.accounts import account_id
from ramparts.events.webhooks import sign_webhook
from tests.conftest import RunningNode, make_app

MANIFEST = """
app: ev
functions:
  on-topic:
    handler: h.py:record
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - topic: {name: things}
  on-object:
    handler: h.py:record
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - object: {bucket: up, events: [created, deleted], prefix: img/, suffix: .png}
  on-table:
    handler: h.py:record
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - table: {name: things, events: [insert, modify, remove]}
  on-cron:
    handler: h.py:record
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - schedule: {cron: "0 3 * * *"}
  on-hook:
    handler: h.py:record
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - webhook: {path: /hooks/test, scheme: standard, secret: hook-secret}
  flaky:
    handler: h.py:fail
    triggers:
      - topic: {name: doomed, retries: 2, backoff: 100ms, dead_letter: graveyard}
  checked:
    handler: h.py:record
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - topic: {name: orders, schema: order.json, retries: 3, dead_letter: graveyard}
  leaky:
    handler: h.py:leak
    triggers:
      - topic: {name: payments, retries: 0, dead_letter: graveyard}
  undertaker:
    handler: h.py:record
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - topic: {name: graveyard}
"""

HANDLERS = """
import json


def record(event, context):
    context.kv.put("seen", context.aws_request_id,
                   {"function": context.function_name, "event": json.dumps(event)})
    return "ok"


def fail(event, context):
    raise RuntimeError("always fails")


def leak(event, context):
    body = json.loads(event["Records"][0]["body"])
    raise ValueError(f"charge failed for card {body['card']} ({body['email']}) password=hunter22")
"""


ORDER_SCHEMA = json.dumps(
    {
        "type": "object",
        "required": ["id", "total"],
        "properties": {"id": {"type": "string"}, "total": {"type": "number", "minimum": 0}},
    }
)


@pytest.fixture(scope="module")
def ev(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    files = {"h.py": HANDLERS, "order.json": ORDER_SCHEMA}
    node.deploy_ok(make_app(tmp_path_factory.mktemp("ev") / "app", MANIFEST, files))
    return node


def _events(node: RunningNode, function: str) -> list[dict]:
    items = node.control.get("/v1/kv/seen", params={"app": "ev", "limit": 1000}).json()["items"]
    return [json.loads(i["item"]["event"]) for i in items if i["item"]["function"] == function]


def _wait(node: RunningNode, function: str, count: int, timeout: float = 15) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = _events(node, function)
        if len(got) >= count:
            return got
        time.sleep(0.1)
    raise AssertionError(f"{function} got {len(_events(node, function))} of {count} events")


def test_topic_publish_delivers_sqs_records(ev: RunningNode) -> None:
    r = ev.control.post("/v1/topics/things/publish", json={"message": {"n": 1}, "app": "ev"})
    assert r.status_code == 200 and len(r.json()["message_ids"]) == 1
    (event,) = _wait(ev, "on-topic", 1)
    (rec,) = event["Records"]
    assert rec["eventSource"] == "aws:sqs"
    assert json.loads(rec["body"]) == {"n": 1}
    assert rec["messageId"] == r.json()["message_ids"][0]
    assert rec["attributes"]["ApproximateReceiveCount"] == "1"


def test_topic_publish_from_cli(ev: RunningNode) -> None:
    out = ev.cli("publish", "things", "--data", '{"n": 2}', "--app", "ev")
    assert out.returncode == 0, out.stderr
    _wait(ev, "on-topic", 2)
    bad = ev.cli("publish", "things", "--data", "{not json", "--app", "ev")
    assert bad.returncode != 0 and "--data is not valid JSON" in bad.stderr


def test_object_events_are_s3_records(ev: RunningNode) -> None:
    r = ev.control.put(
        "/v1/objects/up/img/a%20b.png",
        params={"app": "ev"},
        content=b"png!",
        headers={"content-type": "image/png"},
    )
    assert r.status_code == 200, r.text
    ev.control.put("/v1/objects/up/doc/skip.png", params={"app": "ev"}, content=b"x")
    ev.control.put("/v1/objects/up/img/skip.txt", params={"app": "ev"}, content=b"x")
    (created,) = _wait(ev, "on-object", 1)
    s3 = created["Records"][0]
    assert s3["eventSource"] == "aws:s3" and s3["eventName"] == "ObjectCreated:Put"
    assert s3["s3"]["bucket"]["name"] == "up"
    assert s3["s3"]["object"]["key"] == "img/a+b.png"
    assert s3["s3"]["object"]["size"] == 4
    assert (
        ev.control.delete("/v1/objects/up/img/a%20b.png", params={"app": "ev"}).status_code == 200
    )
    events = _wait(ev, "on-object", 2)
    assert {e["Records"][0]["eventName"] for e in events} == {
        "ObjectCreated:Put",
        "ObjectRemoved:Delete",
    }


def test_table_changes_are_dynamodb_records(ev: RunningNode) -> None:
    for item in ({"v": 1}, {"v": 2}):
        r = ev.control.put("/v1/kv/things/k1", json={"app": "ev", "item": item})
        assert r.status_code == 200, r.text
    assert ev.control.delete("/v1/kv/things/k1", params={"app": "ev"}).status_code == 200
    events = _wait(ev, "on-table", 3)
    names = sorted(e["Records"][0]["eventName"] for e in events)
    assert names == ["INSERT", "MODIFY", "REMOVE"]
    modify = next(e["Records"][0] for e in events if e["Records"][0]["eventName"] == "MODIFY")
    assert modify["eventSource"] == "aws:dynamodb"
    assert modify["dynamodb"]["NewImage"]["v"] == {"N": "2"}
    assert modify["dynamodb"]["OldImage"]["v"] == {"N": "1"}


def test_schedule_tick_is_eventbridge_event(ev: RunningNode) -> None:
    out = ev.cli("schedule", "run", "on-cron")
    assert out.returncode == 0, out.stderr
    (event,) = _wait(ev, "on-cron", 1)
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    r = ev.control.post("/v1/functions/on-topic/schedule")
    assert r.status_code == 404 and r.json()["code"] == "no_schedule"


def test_webhook_verified_then_delivered(ev: RunningNode) -> None:
    secret = "whsec_dGVzdHNlY3JldA=="
    body = b'{"hello": "hook"}'
    headers = {
        **sign_webhook("standard", secret, body, msg_id="msg_1"),
        "content-type": "application/json",
    }
    r = ev.gateway.post("/hooks/test", content=body, headers=headers)
    assert r.status_code == 202, r.text
    (event,) = _wait(ev, "on-hook", 1)
    assert event["rawPath"] == "/hooks/test" and json.loads(event["body"]) == {"hello": "hook"}
    # replay of the same delivery, tampered body, missing signature: refused, never delivered
    assert ev.gateway.post("/hooks/test", content=body, headers=headers).status_code == 409
    r = ev.gateway.post("/hooks/test", content=b'{"hello": "evil"}', headers=headers)
    assert r.status_code == 401 and r.json()["code"] == "webhook_signature_invalid"
    r = ev.gateway.post("/hooks/test", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 401 and r.json()["code"] == "webhook_signature_missing"
    time.sleep(0.5)
    assert len(_events(ev, "on-hook")) == 1
    kinds = {(e["kind"], e["decision"]) for e in ev.audit()}
    assert ("gateway.webhook", "deny") in kinds and ("gateway.webhook", "allow") in kinds


def test_retries_with_backoff_then_dead_letter(ev: RunningNode) -> None:
    r = ev.control.post("/v1/topics/doomed/publish", json={"message": {"n": 9}, "app": "ev"})
    mid = r.json()["message_ids"][0]
    rows = ev.wait_invocations("flaky", 3, status="error")
    assert len(rows) == 3  # first attempt + 2 retries
    gaps = [b["started_at"] - a["started_at"] for a, b in zip(rows, rows[1:], strict=False)]
    assert gaps[1] > gaps[0] * 1.2  # exponential backoff (100 ms, then 200 ms, with jitter)
    (dead,) = _wait(ev, "undertaker", 1)
    failure = json.loads(dead["Records"][0]["body"])
    assert failure["message_id"] == mid and failure["attempts"] == 3
    assert "always fails" in failure["error"]
    letters = ev.control.get("/v1/dead-letters", params={"function": "flaky"}).json()
    assert letters["dead_letters"][0]["message_id"] == mid
    time.sleep(0.5)
    assert len(ev.invocations("flaky")) == 3  # no more attempts after the dead letter


def test_topic_schema_is_enforced(ev: RunningNode) -> None:
    def publish(message: object) -> str:
        r = ev.control.post("/v1/topics/orders/publish", json={"message": message, "app": "ev"})
        assert r.status_code == 200, r.text
        return r.json()["message_ids"][0]

    bad = publish({"id": "o-1", "total": -5})
    wrong_type = publish("not an order")
    good = publish({"id": "o-2", "total": 12.5})
    # The valid message reaches the handler ...
    (delivered,) = _wait(ev, "checked", 1)
    assert json.loads(delivered["Records"][0]["body"]) == {"id": "o-2", "total": 12.5}
    assert delivered["Records"][0]["messageId"] == good
    # ... the invalid ones are dead-lettered at once with the validation error, no retries.
    deadline = time.monotonic() + 20
    letters: dict[str, dict] = {}
    while time.monotonic() < deadline and len(letters) < 2:
        rows = ev.control.get("/v1/dead-letters", params={"function": "checked"}).json()
        letters = {d["message_id"]: d for d in rows["dead_letters"]}
        time.sleep(0.1)
    assert set(letters) == {bad, wrong_type}, letters
    assert letters[bad]["attempts"] == 1
    assert "schema" in letters[bad]["error"] and "total" in letters[bad]["error"]
    assert "schema" in letters[wrong_type]["error"]

    def failures() -> list[dict]:
        bodies = [json.loads(e["Records"][0]["body"]) for e in _events(ev, "undertaker")]
        return [b for b in bodies if b.get("function") == "checked"]

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(failures()) < 2:
        time.sleep(0.1)
    assert {f["message_id"] for f in failures()} == {bad, wrong_type}
    assert all("schema" in f["error"] for f in failures())
    # The handler never ran for them: exactly one invocation, the valid one.
    time.sleep(0.5)
    assert len(ev.invocations("checked")) == 1
    assert len(_events(ev, "checked")) == 1


def test_dead_letter_text_is_redacted_and_its_reads_audited(ev: RunningNode) -> None:
    message = {"card": "4111 1111 1111 1111", "email": "jane.doe@example.com"}
    r = ev.control.post("/v1/topics/payments/publish", json={"message": message, "app": "ev"})
    mid = r.json()["message_ids"][0]
    deadline = time.monotonic() + 20
    letters: list[dict] = []
    while time.monotonic() < deadline and not letters:
        rows = ev.control.get("/v1/dead-letters", params={"function": "leaky"}).json()
        letters = [d for d in rows["dead_letters"] if d["message_id"] == mid]
        time.sleep(0.1)
    (letter,) = letters
    assert "charge failed for card" in letter["error"]
    for leaked in ("4111", "jane.doe", "example.com", "hunter22"):
        assert leaked not in letter["error"], letter["error"]
    # The CLI shows the same masked text.
    out = ev.cli("dead-letters", "--function", "leaky")
    assert out.returncode == 0 and "4111" not in out.stdout and "charge failed" in out.stdout
    # Every read of dead-letter text is an audit event naming who read what.
    reads = [e for e in ev.audit() if e["kind"] == "deadletters.read"]
    assert reads and reads[-1]["principal"] == "admin"
    assert reads[-1]["decision"] == "allow"
    assert reads[-1]["detail"]["function"] == "leaky"
    assert reads[-1]["detail"]["count"] >= 1
    # The dead-letter topic gets the masked text too.
    deadline = time.monotonic() + 20
    sent: list[dict] = []
    while time.monotonic() < deadline and not sent:
        bodies = [json.loads(e["Records"][0]["body"]) for e in _events(ev, "undertaker")]
        sent = [b for b in bodies if b.get("message_id") == mid]
        time.sleep(0.1)
    assert sent and "4111" not in sent[0]["error"] and "hunter22" not in sent[0]["error"]


def test_publish_errors(ev: RunningNode) -> None:
    r = ev.control.post("/v1/topics/things/publish", json={"app": "ev"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"
    r = ev.control.post("/v1/topics/bad%20name/publish", json={"message": 1, "app": "ev"})
    assert r.status_code == 400
    r = ev.control.post("/v1/topics/things/publish", json={"message": 1, "app": "nope"})
    assert r.status_code == 404 and r.json()["code"] == "app_not_found"
    r = ev.control.post("/v1/topics/things/publish", json={"message": "x" * 300_000, "app": "ev"})
    assert r.status_code == 400 and r.json()["code"] == "message_too_large"


KILL_MANIFEST = """
app: durable
functions:
  slow-consumer:
    handler: h.py:handler
    concurrency: 1
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:done/*"]}
    triggers:
      - topic: {name: work, retries: 5, backoff: 100ms}
"""

KILL_HANDLER = """
import json
import time


def handler(event, context):
    for record in event["Records"]:
        time.sleep(0.2)
        n = json.loads(record["body"])["n"]
        context.kv.put("done", str(n), {"n": n})
"""


def test_kill_9_loses_no_accepted_event(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", KILL_MANIFEST, {"h.py": KILL_HANDLER})
    node = RunningNode(tmp_path / "data").start()
    try:
        node.deploy_ok(app)
        total = 15
        for n in range(total):
            r = node.control.post("/v1/topics/work/publish", json={"message": {"n": n}})
            assert r.status_code == 200
        time.sleep(0.5)  # a few are done, most are still queued, one is mid-invocation
        node.kill9()
        done_before = None
        node.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            items = node.control.get("/v1/kv/done", params={"limit": 1000}).json()["items"]
            done_before = done_before if done_before is not None else len(items)
            if len(items) == total:
                break
            time.sleep(0.2)
        assert sorted(int(i["key"]) for i in items) == list(range(total))
        assert done_before < total  # the kill really interrupted the backlog
    finally:
        node.close()


REGION_MANIFEST = """
app: where
functions:
  any:
    handler: h.py:record
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - topic: {name: t}
      - object: {bucket: b}
      - table: {name: things}
"""

REGION_HANDLER = """
import json
import os


def record(event, context):
    context.kv.put("seen", context.aws_request_id, {
        "event": json.dumps(event),
        "arn": context.invoked_function_arn,
        "env": os.environ["AWS_REGION"],
    })
"""


def test_events_carry_the_node_s_region(tmp_path: Path) -> None:
    """--region (here RAMPARTS_REGION) is in every event where Lambda's name a region."""
    node = RunningNode(tmp_path / "data", {"RAMPARTS_REGION": "ap-southeast-2"}).start()
    try:
        node.deploy_ok(make_app(tmp_path / "app", REGION_MANIFEST, {"h.py": REGION_HANDLER}))
        r = node.control.post("/v1/topics/t/publish", json={"message": {"n": 1}, "app": "where"})
        assert r.status_code == 200, r.text
        r = node.control.put("/v1/objects/b/k.txt", params={"app": "where"}, content=b"x")
        assert r.status_code == 200, r.text
        r = node.control.put("/v1/kv/things/k1", json={"app": "where", "item": {"v": 1}})
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 30
        items: list[dict] = []
        while time.monotonic() < deadline and len(items) < 3:
            items = node.control.get(
                "/v1/kv/seen", params={"app": "where", "limit": 100}
            ).json()["items"]
            time.sleep(0.2)
        assert len(items) == 3, items
        by_source = {}
        acct = account_id("where")
        for i in items:
            (rec,) = json.loads(i["item"]["event"])["Records"]
            by_source[rec["eventSource"]] = rec
            assert i["item"]["env"] == "ap-southeast-2"
            assert i["item"]["arn"].startswith(f"arn:aws:lambda:ap-southeast-2:{acct}:")
        assert set(by_source) == {"aws:sqs", "aws:s3", "aws:dynamodb"}
        assert {rec["awsRegion"] for rec in by_source.values()} == {"ap-southeast-2"}
        assert by_source["aws:sqs"]["eventSourceARN"] == f"arn:aws:sqs:ap-southeast-2:{acct}:t"
        bucket = by_source["aws:s3"]["s3"]["bucket"]
        assert bucket["arn"] == "arn:aws:s3:::b"
        assert by_source["aws:dynamodb"]["eventSourceARN"].startswith(
            f"arn:aws:dynamodb:ap-southeast-2:{acct}:table/things/stream/"
        )
    finally:
        node.close()
