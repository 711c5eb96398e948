"""Quarantine and lowered limits on a real node.

Quarantine: HTTP answers 503 ``function_quarantined``, direct invokes are refused, topic events
wait in the bus (not consumed, not dead-lettered) and are delivered after the release.  Lowered
limits: past a lowered rate or concurrency a call gets 429 ``function_throttled``.  Every change
and refusal is audited; the CLI drives it."""

from __future__ import annotations

import concurrent.futures
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: qa
functions:
  web:
    handler: h.py:web
    triggers:
      - http: {method: GET, path: /web, auth: none}
  worker:
    handler: h.py:worker
    triggers:
      - topic: {name: jobs, retries: 0, dead_letter: jobs-dlq}
  slow:
    handler: h.py:slow
    concurrency: 4
    timeout: 30s
    triggers:
      - http: {method: GET, path: /slow, auth: none}
  thumb:
    handler: h.py:worker
    triggers:
      - object: {bucket: uploads, events: [created]}
  dlq:
    handler: h.py:worker
    triggers:
      - topic: {name: jobs-dlq}
  nightly:
    handler: h.py:worker
    triggers:
      - schedule: {cron: "0 3 1 1 *"}
"""
HANDLER = """
def web(event, context):
    return {"statusCode": 200, "body": "served"}

def worker(event, context):
    return {"ok": True}

def slow(event, context):
    import time
    if (event.get("queryStringParameters") or {}).get("wait"):
        time.sleep(10)
    return {"statusCode": 200, "body": "slow"}
"""


@pytest.fixture(scope="module")
def qnode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("quarantine")
    running = RunningNode(base / "data").start()
    try:
        running.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLER}))
        yield running
    finally:
        running.close()


def _wait(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def test_quarantine_stops_http_and_invoke_and_release_resumes(qnode: RunningNode) -> None:
    assert qnode.gateway.get("/web").status_code == 200
    out = qnode.cli("quarantine", "add", "web", "--reason", "suspected compromise")
    assert out.returncode == 0, out.stderr
    r = qnode.gateway.get("/web")
    assert r.status_code == 503
    assert r.json()["code"] == "function_quarantined"
    r = qnode.control.post("/v1/functions/web/invoke", json={"event": {}})
    assert r.status_code == 503 and r.json()["code"] == "function_quarantined"
    listed = qnode.cli("quarantine", "list", "--json")
    rows = json.loads(listed.stdout)
    assert [(q["function"], q["reason"]) for q in rows] == [("web", "suspected compromise")]
    again = qnode.control.post("/v1/quarantines", json={"function": "web"})
    assert again.status_code == 409 and again.json()["code"] == "already_quarantined"

    out = qnode.cli("quarantine", "release", "web")
    assert out.returncode == 0, out.stderr
    assert qnode.gateway.get("/web").status_code == 200
    kinds = [(e["kind"], e["resource"]) for e in qnode.audit()]
    assert ("respond.quarantine", "function:web") in kinds
    assert ("respond.release", "function:web") in kinds
    refused = [e for e in qnode.audit() if e["kind"] == "function.quarantined"]
    assert refused and all(e["decision"] == "deny" for e in refused)
    assert {e["detail"]["trigger"] for e in refused} >= {"http", "invoke"}


def test_quarantined_topic_events_wait_and_are_delivered_after_release(
    qnode: RunningNode,
) -> None:
    assert (
        qnode.control.post(
            "/v1/quarantines", json={"function": "worker", "reason": "contain"}
        ).status_code
        == 200
    )
    before = len(qnode.invocations("worker"))
    r = qnode.control.post("/v1/topics/jobs/publish", json={"message": {"n": 1}})
    assert r.status_code == 200, r.text
    # Give the dispatcher ample time to (wrongly) take it: nothing runs, nothing dead-letters.
    time.sleep(4)
    assert len(qnode.invocations("worker")) == before
    assert qnode.invocations("dlq") == []
    depth = qnode.control.get("/v1/status").json()["queues"].get("worker")
    assert depth == 1
    r = qnode.control.delete("/v1/quarantines/worker")
    assert r.status_code == 200, r.text
    rows = qnode.wait_invocations("worker", before + 1, timeout=30)
    assert rows[0]["status"] == "ok"
    assert qnode.invocations("dlq") == []


def test_quarantined_object_events_wait_too(qnode: RunningNode) -> None:
    assert qnode.cli("quarantine", "add", "thumb", "--reason", "r").returncode == 0
    r = qnode.control.put("/v1/objects/uploads/a.txt", params={"app": "qa"}, content=b"x")
    assert r.status_code == 200, r.text
    time.sleep(4)  # ample time for the dispatcher to (wrongly) take it
    assert qnode.invocations("thumb") == []
    assert qnode.control.get("/v1/status").json()["queues"].get("thumb") == 1
    assert qnode.cli("quarantine", "release", "thumb").returncode == 0
    assert qnode.wait_invocations("thumb", 1, timeout=30)[0]["status"] == "ok"


def test_bad_quarantine_requests(qnode: RunningNode, tmp_path: Path) -> None:
    r = qnode.control.post("/v1/quarantines", json={"function": "nope"})
    assert r.status_code == 404 and r.json()["code"] == "function_not_found"
    r = qnode.control.delete("/v1/quarantines/web")
    assert r.status_code == 404 and r.json()["code"] == "not_quarantined"
    r = qnode.control.post("/v1/quarantines", json={"function": "web", "reason": "a\nb"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_reason"
    out = qnode.cli("quarantine", "release", "web")
    assert out.returncode != 0 and "not quarantined" in out.stderr
    assert "Traceback" not in out.stderr


def test_lowered_rate_refuses_past_it_and_clear_restores(qnode: RunningNode) -> None:
    out = qnode.cli("throttle", "set", "web", "--rate", "3/minute")
    assert out.returncode == 0, out.stderr
    codes = [qnode.gateway.get("/web").status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]
    assert qnode.gateway.get("/web").json()["code"] == "function_throttled"
    listed = json.loads(qnode.cli("throttle", "list", "--json").stdout)
    assert [(r["function"], r["rate"]) for r in listed] == [("web", "3/minute")]
    assert qnode.cli("throttle", "clear", "web").returncode == 0
    assert qnode.gateway.get("/web").status_code == 200
    kinds = [e["kind"] for e in qnode.audit()]
    assert "respond.lower" in kinds and "respond.restore" in kinds
    assert "function.lowered_limit" in kinds
    bad = qnode.control.post("/v1/limits", json={"function": "web", "rate": "lots"})
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_rate"


def test_lowered_concurrency_refuses_a_second_call(qnode: RunningNode) -> None:
    assert qnode.gateway.get("/slow").status_code == 200  # warm: no cold start below
    assert qnode.cli("throttle", "set", "slow", "--concurrency", "1").returncode == 0
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        first = pool.submit(qnode.gateway.get, "/slow", params={"wait": "1"})
        # The first call holds the only slot for 10 s; look while it does.
        second = None
        for _ in range(40):
            time.sleep(0.25)
            second = qnode.gateway.get("/slow")
            if second.status_code == 429:
                break
        assert second is not None and second.status_code == 429
        assert second.json()["code"] == "function_throttled"
        assert first.result().status_code == 200
    assert qnode.gateway.get("/slow").status_code == 200
    assert qnode.cli("throttle", "clear", "slow").returncode == 0


def test_a_manual_tick_of_a_quarantined_schedule_is_refused(qnode: RunningNode) -> None:
    """issue 17 F7: ticks are skipped during quarantine, so ``schedule run`` is refused
    rather than queueing an event that would run on release."""
    assert qnode.cli("quarantine", "add", "nightly", "--reason", "drill").returncode == 0
    try:
        out = qnode.cli("schedule", "run", "nightly")
        assert out.returncode != 0, out.stdout
        assert "function_quarantined" in out.stderr + out.stdout
        assert "Traceback" not in out.stderr
        r = qnode.control.post("/v1/functions/nightly/schedule")
        assert r.status_code == 503 and r.json()["code"] == "function_quarantined"
    finally:
        assert qnode.cli("quarantine", "release", "nightly").returncode == 0
    out = qnode.cli("schedule", "run", "nightly")
    assert out.returncode == 0, out.stderr
    qnode.wait_invocations("nightly", 1)
    # nothing from the refused ticks was held for the release: exactly the one run
    assert len(qnode.invocations("nightly")) == 1
