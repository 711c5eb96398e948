"""Concurrency caps on a real node: excess synchronous calls get 429 function_throttled
at once (they wait at most RAMPARTS_THROTTLE_WAIT for a worker, not the function's
timeout), per function and per app (``app_limits.concurrency``); excess events wait in
the bus and are all delivered, without using up a retry."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: crowd
app_limits:
  concurrency: 1
functions:
  slow-a:
    handler: h.py:slow
    timeout: 20s
    concurrency: 2
    triggers:
      - http: {method: GET, path: /a, auth: none}
  slow-b:
    handler: h.py:slow
    timeout: 20s
    concurrency: 2
    triggers:
      - http: {method: GET, path: /b, auth: none}
  drain-a:
    handler: h.py:quick
    concurrency: 2
    triggers:
      - topic: {name: work, retries: 0}
  drain-b:
    handler: h.py:quick
    concurrency: 2
    triggers:
      - topic: {name: work, retries: 0}
"""

SOLO_MANIFEST = """
app: solo
functions:
  single:
    handler: h.py:slow
    timeout: 20s
    concurrency: 1
    triggers:
      - http: {method: GET, path: /single, auth: none}
"""

HANDLERS = """
import time

def slow(event, context):
    time.sleep(1.5)
    return {"statusCode": 200, "body": "done"}

def quick(event, context):
    time.sleep(0.2)
"""


@pytest.fixture(scope="module")
def crowd(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("crowd")
    node.deploy_ok(make_app(base / "crowd", MANIFEST, {"h.py": HANDLERS}))
    node.deploy_ok(make_app(base / "solo", SOLO_MANIFEST, {"h.py": HANDLERS}))
    yield node


def _get_all(node: RunningNode, paths: list[str]) -> list[tuple[int, str]]:
    def one(path: str) -> tuple[int, str]:
        with httpx.Client(base_url=f"http://127.0.0.1:{node.port}", timeout=60) as c:
            r = c.get(path)
            code = r.json()["code"] if r.status_code != 200 else ""
            return r.status_code, code

    with ThreadPoolExecutor(len(paths)) as pool:
        return list(pool.map(one, paths))


def _wait_audit(node: RunningNode, kind: str, resource: str, timeout: float = 15) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in node.audit() if e["kind"] == kind and e["resource"] == resource]
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {kind} audit event for {resource}")


def test_a_second_call_to_a_function_at_its_cap_is_throttled(crowd: RunningNode) -> None:
    # With concurrency 1 and a 1.5 s handler, of three simultaneous calls one runs and the
    # others find no free worker: each would have queued up to the 20 s timeout before.
    outcomes = _get_all(crowd, ["/single"] * 3)
    assert (200, "") in outcomes
    assert (429, "function_throttled") in outcomes, outcomes
    assert set(outcomes) <= {(200, ""), (429, "function_throttled")}
    runs = [r for r in crowd.invocations("single") if r["status"] == "ok"]
    assert len(runs) == outcomes.count((200, ""))
    events = _wait_audit(crowd, "concurrency.throttled", "function:single")
    assert events[0]["decision"] == "deny" and events[0]["detail"]["scope"] == "function:single"
    assert events[0]["detail"]["route"] == "GET /single"
    assert sum(e["detail"]["count"] for e in events) == outcomes.count((429, "function_throttled"))


def test_the_app_cap_spans_its_functions(crowd: RunningNode) -> None:
    # Each function alone could run two at once; the app may run one.
    outcomes = _get_all(crowd, ["/a", "/b", "/a", "/b"])
    assert (429, "function_throttled") in outcomes, outcomes
    assert (200, "") in outcomes
    ran = sum(
        1 for fn in ("slow-a", "slow-b") for r in crowd.invocations(fn) if r["status"] == "ok"
    )
    assert ran == outcomes.count((200, ""))
    events = [
        e for e in crowd.audit()
        if e["kind"] == "concurrency.throttled" and e["detail"]["scope"] == "app:crowd"
    ]
    deadline = time.monotonic() + 10
    while not events and time.monotonic() < deadline:
        time.sleep(0.2)
        events = [
            e for e in crowd.audit()
            if e["kind"] == "concurrency.throttled" and e["detail"]["scope"] == "app:crowd"
        ]
    assert events and events[0]["detail"]["concurrency"] == 1


def test_events_beyond_the_cap_wait_and_are_all_delivered(crowd: RunningNode) -> None:
    # Two consumers of one topic share an app slot: deliveries are throttled often.  With
    # retries: 0 a throttle counted as a failure would dead-letter the event at once.
    total = 6
    for n in range(total):
        r = crowd.control.post(
            "/v1/topics/work/publish", json={"message": {"n": n}, "app": "crowd"}
        )
        assert r.status_code == 200, r.text
    crowd.wait_invocations("drain-a", total, status="ok", timeout=60)
    crowd.wait_invocations("drain-b", total, status="ok", timeout=60)
    throttled = [
        r for fn in ("drain-a", "drain-b") for r in crowd.invocations(fn)
        if r["status"] == "throttled"
    ]
    assert throttled  # the cap did hold deliveries back, and each came back later
    for fn in ("drain-a", "drain-b"):
        letters = crowd.control.get("/v1/dead-letters", params={"function": fn}).json()
        assert letters["dead_letters"] == []
