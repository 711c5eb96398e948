"""Prometheus metrics against a real node: counters move with what the node did, the
admin endpoint needs the token, and the token-free listener answers on loopback only."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import RunningNode, free_port, make_app

MANIFEST = """
app: met
functions:
  hello:
    handler: h.py:hello
    triggers:
      - http: {method: GET, path: /hello, auth: none}
      - http: {method: GET, path: /private, auth: api_key}
  snoop:
    handler: h.py:snoop
  dialer:
    handler: h.py:dialer
  gated:
    handler: h.py:gated
    timeout: 60s
    concurrency: 1
    role:
      statements:
        - {effect: allow, actions: ["kv:GetItem"], resources: ["kv:gate/*"]}
    triggers:
      - topic: {name: slow}
  broken:
    handler: h.py:broken
    triggers:
      - topic: {name: work, retries: 0}
"""

HANDLERS = """
from ramparts import AccessDenied


def hello(event, context):
    return {"statusCode": 200, "body": "hi"}


def snoop(event, context):
    try:
        context.kv.get("payroll", "ceo")
    except AccessDenied:
        return "denied"
    return "allowed"


def dialer(event, context):
    import socket

    try:
        socket.create_connection(("203.0.113.9", 80), timeout=2)
    except Exception as exc:
        return type(exc).__name__
    return "connected"


def gated(event, context):
    import time

    for _ in range(500):
        if context.kv.get("gate", "open") is not None:
            return "done"
        time.sleep(0.1)
    return "gave up"


def broken(event, context):
    raise RuntimeError("boom")
"""


@pytest.fixture(scope="module")
def met(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("metrics")
    running = RunningNode(base / "data", {"RAMPARTS_METRICS_PORT": str(free_port())})
    running.metrics_port = int(running.env["RAMPARTS_METRICS_PORT"])  # type: ignore[attr-defined]
    running.start()
    try:
        running.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLERS}))
        yield running
    finally:
        running.close()


def scrape(node: RunningNode) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = node.control.get("/metrics")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    out = {}
    for family in text_string_to_metric_families(r.text):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def value(node: RunningNode, name: str, **labels: str) -> float:
    return scrape(node).get((name, tuple(sorted(labels.items()))), 0.0)


def wait_above(node: RunningNode, name: str, floor: float, **labels: str) -> float:
    """Counters are fed once the audit/invocation writers stored a batch: wait for it."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        got = value(node, name, **labels)
        if got > floor:
            return got
        time.sleep(0.2)
    raise AssertionError(f"{name}{labels} stayed at {value(node, name, **labels)}")


def test_admin_metrics_need_the_token(met: RunningNode) -> None:
    with httpx.Client(base_url=f"http://127.0.0.1:{met.admin_port}", timeout=30) as anon:
        r = anon.get("/metrics")
        assert r.status_code == 401
        assert r.json()["code"] == "unauthorized"
        assert "ramparts_" not in r.text
        r = anon.get("/metrics", headers={"authorization": "Bearer rat_" + "x" * 43})
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"


def test_invocations_durations_and_cold_starts_are_counted(met: RunningNode) -> None:
    labels = {"function": "hello", "trigger": "http", "outcome": "ok"}
    before = value(met, "ramparts_invocations_total", **labels)
    for _ in range(3):
        assert met.gateway.get("/hello").status_code == 200
    deadline = time.monotonic() + 30
    while value(met, "ramparts_invocations_total", **labels) < before + 3:
        assert time.monotonic() < deadline, "invocations were not counted"
        time.sleep(0.2)
    samples = scrape(met)
    count = samples[("ramparts_invocation_duration_seconds_count",
                     (("function", "hello"), ("trigger", "http")))]
    assert count >= 3
    assert samples[("ramparts_cold_starts_total", (("function", "hello"),))] >= 1


def test_failed_invocations_count_as_errors(met: RunningNode) -> None:
    r = met.control.post("/v1/functions/broken/invoke", json={"event": {}})
    assert r.json()["status"] == "error"
    wait_above(met, "ramparts_invocation_errors_total", 0,
               function="broken", trigger="invoke", outcome="error")
    assert value(met, "ramparts_invocations_total",
                 function="broken", trigger="invoke", outcome="error") >= 1
    assert value(met, "ramparts_invocations_total",
                 function="broken", trigger="invoke", outcome="ok") == 0


def test_failed_authentications_are_counted(met: RunningNode) -> None:
    gateway = value(met, "ramparts_auth_failures_total", surface="gateway")
    control = value(met, "ramparts_auth_failures_total", surface="control")
    assert met.gateway.get("/private").status_code == 401
    with httpx.Client(base_url=f"http://127.0.0.1:{met.admin_port}", timeout=30) as anon:
        assert anon.get("/v1/functions").status_code == 401
    wait_above(met, "ramparts_auth_failures_total", gateway, surface="gateway")
    wait_above(met, "ramparts_auth_failures_total", control, surface="control")


def test_failed_sigv4_signatures_are_counted(met: RunningNode) -> None:
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    before = value(met, "ramparts_auth_failures_total", surface="sigv4")
    request = AWSRequest(
        method="POST",
        url=f"http://127.0.0.1:{met.port}/",
        data=b"Action=GetCallerIdentity&Version=2011-06-15",
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    # a key the node never issued, signed with a made-up secret and token
    SigV4Auth(
        Credentials("ASIAFORGEDFORGEDFORG", "forged-secret", "forged-token"), "sts", "us-east-1"
    ).add_auth(request)
    r = met.gateway.post("/", content=request.body, headers=dict(request.headers.items()))
    assert r.status_code == 403, r.text
    wait_above(met, "ramparts_auth_failures_total", before, surface="sigv4")


def test_policy_denials_are_counted_per_function(met: RunningNode) -> None:
    before = value(met, "ramparts_policy_denials_total", function="snoop")
    r = met.control.post("/v1/functions/snoop/invoke", json={"event": {}})
    assert r.json()["result"] == "denied"
    wait_above(met, "ramparts_policy_denials_total", before, function="snoop")


def test_dead_letters_are_counted_and_queues_reported(met: RunningNode) -> None:
    before = value(met, "ramparts_dead_letters_total", function="broken")
    r = met.control.post("/v1/topics/work/publish", json={"message": {"n": 1}, "app": "met"})
    assert r.status_code == 200
    wait_above(met, "ramparts_dead_letters_total", before, function="broken")
    samples = scrape(met)
    # Read from the bus at scrape time, one series per function with a queue.
    assert ("ramparts_queue_depth", (("function", "broken"),)) in samples
    assert samples[("ramparts_queue_depth", (("function", "broken"),))] >= 0


def test_queue_depth_follows_the_bus(met: RunningNode) -> None:
    for n in range(3):
        r = met.control.post("/v1/topics/slow/publish", json={"message": {"n": n}, "app": "met"})
        assert r.status_code == 200
    # Held by the gated handler (one at a time): the gauge sees them queued.
    wait_above(met, "ramparts_queue_depth", 0, function="gated")
    r = met.control.put("/v1/kv/gate/open", json={"app": "met", "item": {"open": True}})
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 60
    while scrape(met).get(("ramparts_queue_depth", (("function", "gated"),))) != 0:
        assert time.monotonic() < deadline, "the queue did not drain"
        time.sleep(0.2)


def test_sandbox_violations_are_counted(met: RunningNode) -> None:
    before = value(met, "ramparts_sandbox_violations_total",
                   function="dialer", kind="runtime.violation")
    r = met.control.post("/v1/functions/dialer/invoke", json={"event": {}})
    assert r.json()["result"] == "RuntimeViolation", r.json()
    wait_above(met, "ramparts_sandbox_violations_total", before,
               function="dialer", kind="runtime.violation")


def test_labels_carry_no_request_ids_paths_or_addresses(met: RunningNode) -> None:
    met.gateway.get("/private", headers={"x-request-id": "attacker-chosen"})
    met.gateway.get("/no/such/path/9f1c")
    text = met.control.get("/metrics").text
    for needle in ("attacker-chosen", "9f1c", "/private", "/hello", "127.0.0.1"):
        assert needle not in text


def test_metrics_port_serves_without_token_on_loopback_only(met: RunningNode) -> None:
    port = met.metrics_port  # type: ignore[attr-defined]
    r = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30)
    assert r.status_code == 200
    assert "ramparts_invocations_total" in r.text
    # Only /metrics is served there: the control API is not reachable without the token.
    r = httpx.get(f"http://127.0.0.1:{port}/v1/functions", timeout=30)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = httpx.post(f"http://127.0.0.1:{port}/metrics", timeout=30)
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    # The listening socket is bound to 127.0.0.1 itself, not a wildcard address.
    assert _listeners(port) == ["127.0.0.1"]


def _listeners(port: int) -> list[str]:
    """Local addresses with a TCP socket listening on ``port`` (from /proc/net/tcp{,6})."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            addr, hexport = fields[1].split(":")
            if int(hexport, 16) != port or fields[3] != "0A":  # 0A: LISTEN
                continue
            if len(addr) == 8:
                found.append(".".join(str(b) for b in reversed(bytes.fromhex(addr))))
            else:
                found.append("ipv6:" + addr)
    return found


def test_bad_metrics_port_is_refused_at_start(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data")
    done = node.cli("up", "--port", str(free_port()), "--admin-port", str(free_port()),
                    "--metrics-port", "70000")
    assert done.returncode != 0
    assert "--metrics-port" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr + done.stdout
    node.gateway.close()
    node.control.close()
