"""The dispatcher on a real node over the shared-bus backends: idle queues and leases.

(Batches like event source mappings are in test_dispatcher.py; the two files were one,
split by theme so the two test workers can share them.)
"""

from __future__ import annotations

import re
import socket
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app

IDLE_MANIFEST = """
app: idle
functions:
  waiter:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:got/*"]}
    triggers:
      - topic: {name: rarely}
"""

IDLE_HANDLER = """
def handler(event, context):
    context.kv.put("got", context.aws_request_id, {"n": 1})
"""


def _redis_url() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            pass
    except OSError:
        pytest.skip("Redis not reachable on 127.0.0.1:6379")
    return f"redis://127.0.0.1:6379/0?key_prefix=rtlease{uuid.uuid4().hex[:8]}:"


def _nats_url() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=0.5):
            pass
    except OSError:
        pytest.skip("NATS not reachable on 127.0.0.1:4222")
    tag = uuid.uuid4().hex[:8]
    return f"nats://127.0.0.1:4222?stream=RTIDLE{tag}&subjects=rtidle{tag}.q"


# An ERROR line of ours or of a bus driver (the node log's format: "<time> ERROR <logger>:").
_ERROR_LINE = re.compile(r"^\S+ \S+ ERROR (ramparts|nats|asyncio)\b.*$", re.M)


@pytest.mark.nats
def test_an_idle_nats_queue_logs_no_errors(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data", {"RAMPARTS_BUS_URL": _nats_url()}).start()
    try:
        node.deploy_ok(make_app(tmp_path / "app", IDLE_MANIFEST, {"h.py": IDLE_HANDLER}))
        # The consumer fetches with a one-second wait: let several idle cycles pass.
        time.sleep(6)
        r = node.control.post("/v1/topics/rarely/publish", json={"message": {"n": 1}})
        assert r.status_code == 200, r.text
        node.wait_invocations("waiter", 1, timeout=30)
        time.sleep(3)
    finally:
        node.close()
    log = (tmp_path / f"node-{node.admin_port}.log").read_text(errors="replace")
    errors = [m.group(0) for m in _ERROR_LINE.finditer(log)]
    assert errors == [], log[-4000:]


SLOW_MANIFEST = """
app: slow
functions:
  slow:
    handler: h.py:handler
    timeout: 300s
    concurrency: 4
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:runs/*"]}
    triggers:
      - topic: {name: jobs, retries: 3, backoff: 100ms}
"""

# The first delivery hangs (as if mid-invocation when the node dies) unless told how long;
# every delivery records itself.
SLOW_HANDLER = """
import json
import time


def handler(event, context):
    record = event["Records"][0]
    attempt = record["attributes"]["ApproximateReceiveCount"]
    body = json.loads(record["body"])
    context.kv.put("runs", f"{record['messageId']}-{attempt}", {"attempt": attempt})
    if attempt == "1":
        time.sleep(body.get("sleep", 280))
    return "ok"
"""


def _runs(node: RunningNode) -> list[dict]:
    r = node.control.get("/v1/kv/runs", params={"app": "slow", "limit": 1000})
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _wait_runs(node: RunningNode, count: int, timeout: float) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(node)
        if len(runs) >= count:
            return runs
        time.sleep(0.2)
    raise AssertionError(f"{len(_runs(node))} of {count} runs after {timeout}s")


def test_a_heartbeat_keeps_a_slow_handler_s_short_lease(tmp_path: Path) -> None:
    # Leases of 1.5 s, a handler of 6 s, room for more deliveries (concurrency 4): without
    # the heartbeat the message would be leased out again while it is being handled.
    node = RunningNode(tmp_path / "data", {"RAMPARTS_BUS_LEASE": "1.5"}).start()
    try:
        node.deploy_ok(make_app(tmp_path / "app", SLOW_MANIFEST, {"h.py": SLOW_HANDLER}))
        r = node.control.post("/v1/topics/jobs/publish", json={"message": {"sleep": 6}})
        assert r.status_code == 200, r.text
        node.wait_invocations("slow", 1, timeout=60, status="ok")
        time.sleep(2)
        assert [i["item"]["attempt"] for i in _runs(node)] == ["1"]
        assert len(node.invocations("slow")) == 1
    finally:
        node.close()


def _crash_mid_invocation_then_restart(node: RunningNode, app: Path) -> None:
    node.deploy_ok(app)
    r = node.control.post("/v1/topics/jobs/publish", json={"message": {}})
    assert r.status_code == 200, r.text
    _wait_runs(node, 1, timeout=60)  # the first delivery is inside the handler now
    node.kill9()
    node.start()


@pytest.mark.redis
def test_a_restarted_node_takes_back_its_redis_leases_at_once(tmp_path: Path) -> None:
    # A lease far longer than the test waits: only the reclaim at start can deliver in time.
    env = {"RAMPARTS_BUS_URL": _redis_url(), "RAMPARTS_BUS_LEASE": "600"}
    node = RunningNode(tmp_path / "data", env).start()
    try:
        app = make_app(tmp_path / "app", SLOW_MANIFEST, {"h.py": SLOW_HANDLER})
        _crash_mid_invocation_then_restart(node, app)
        runs = _wait_runs(node, 2, timeout=60)
        assert sorted(i["item"]["attempt"] for i in runs) == ["1", "2"]
        node.wait_invocations("slow", 1, timeout=60, status="ok")
    finally:
        node.close()


@pytest.mark.nats
def test_a_crashed_node_s_nats_leases_come_back_after_one_short_lease(tmp_path: Path) -> None:
    # NATS cannot hand a restarted node its own leases; a short lease bounds the wait.
    env = {"RAMPARTS_BUS_URL": _nats_url(), "RAMPARTS_BUS_LEASE": "3"}
    node = RunningNode(tmp_path / "data", env).start()
    try:
        app = make_app(tmp_path / "app", SLOW_MANIFEST, {"h.py": SLOW_HANDLER})
        _crash_mid_invocation_then_restart(node, app)
        runs = _wait_runs(node, 2, timeout=60)
        assert sorted(i["item"]["attempt"] for i in runs) == ["1", "2"]
        node.wait_invocations("slow", 1, timeout=60, status="ok")
    finally:
        node.close()
