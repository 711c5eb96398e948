"""Detections on a real node: attacks over HTTP raise alerts that ``ramparts alerts`` lists and a
real local webhook receives (signed); benign traffic of the same volume raises none; an invalid
rule file stops the node from starting."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningNode, free_port, make_app
from tests.respond.test_notifier import Receiver

SECRET = b"webhook-signing-secret-0123456789"
WATCHED = {"failed-auth-burst", "policy-denial-burst", "deploy-then-errors"}

MANIFEST = """
app: det
functions:
  hello:
    handler: h.py:hello
    triggers:
      - http: {method: GET, path: /hello, auth: api_key}
  prober:
    handler: h.py:prober
    role:
      statements:
        - effect: allow
          actions: [kv:GetItem]
          resources: ["kv:mine/*"]
    triggers:
      - http: {method: GET, path: /probe, auth: api_key}
  flaky:
    handler: h.py:flaky
"""
HANDLER = """
from ramparts import AccessDenied

def hello(event, context):
    return {"statusCode": 200, "body": "hi"}

def flaky(event, context):
    raise RuntimeError("release 2 broke this")

def prober(event, context):
    table = (event.get("queryStringParameters") or {}).get("table", "mine")
    try:
        context.kv.get(table, "k")
        return {"statusCode": 200, "body": "read"}
    except AccessDenied:
        return {"statusCode": 403, "body": "denied"}
"""


class Env:
    def __init__(self, node: RunningNode, hook: Receiver, key: str) -> None:
        self.node, self.hook, self.key = node, hook, key

    def settled(self, timeout: float = 60.0) -> dict[str, Any]:
        """Wait until every audit and invocation record stored so far was evaluated."""
        deadline = time.monotonic() + timeout
        stats: dict[str, Any] = {}
        while time.monotonic() < deadline:
            stored = len(self.node.audit())  # flushes the audit buffer first
            r = self.node.control.get("/v1/alerts", params={"limit": 1000})
            assert r.status_code == 200, r.text
            stats = r.json()["detections"]
            if stats["evaluated"] >= stored and stats["pending"] == 0:
                return r.json()
            time.sleep(0.2)
        raise AssertionError(f"detections did not catch up: {stats}")

    def alerts(self, *args: str) -> list[dict[str, Any]]:
        done = self.node.cli("alerts", "--json", *args)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    def wait_alert(self, rule: str, count: int, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        found: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            found = [a for a in self.alerts() if a["rule"] == rule]
            if found and found[0]["count"] >= count:
                return found[0]
            time.sleep(0.3)
        raise AssertionError(f"no {rule} alert with count {count}: {found}")

    def posted(self, rule: str) -> list[tuple[dict[str, str], dict[str, Any]]]:
        return [
            (h, json.loads(b)) for h, b in self.hook.received
            if json.loads(b)["alert"]["rule"] == rule
        ]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    base = tmp_path_factory.mktemp("detect")
    secret_file = base / "hook-secret"
    secret_file.write_bytes(SECRET)
    os.chmod(secret_file, 0o600)
    hook = Receiver()
    node = RunningNode(
        base / "data",
        {
            "RAMPARTS_ALERT_WEBHOOK": hook.url,
            "RAMPARTS_ALERT_WEBHOOK_SECRET_FILE": str(secret_file),
        },
    ).start()
    try:
        node.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLER}))
        r = node.control.post("/v1/keys", json={"name": "det", "scopes": []})
        assert r.status_code == 200, r.text
        yield Env(node, hook, str(r.json()["key"]))
    finally:
        node.close()
        hook.close()


def test_benign_traffic_of_the_same_volume_raises_no_alert(env: Env) -> None:
    for _ in range(25):
        assert env.node.gateway.get("/hello", headers={"x-api-key": env.key}).status_code == 200
    for _ in range(12):
        r = env.node.gateway.get("/probe", params={"table": "mine"},
                                 headers={"x-api-key": env.key})
        assert r.status_code == 200, r.text
    env.node.wait_invocations("prober", 12)
    out = env.settled()
    assert [a for a in out["alerts"] if a["rule"] in WATCHED] == []
    posted = [json.loads(b)["alert"]["rule"] for _, b in env.hook.received]
    assert [rule for rule in posted if rule in WATCHED] == []


def test_bad_api_keys_from_one_address_raise_one_alert_listed_and_posted(env: Env) -> None:
    for i in range(25):
        r = env.node.gateway.get("/hello", headers={"x-api-key": f"rk_bogus{i:04d}xxxxxxxxxxxx"})
        assert r.status_code == 401
    alert = env.wait_alert("failed-auth-burst", 25)  # one alert; the flood adds to its count
    assert alert["severity"] == "high" and alert["category"] == "A2"
    assert alert["group"] == "detail.source_ip=127.0.0.1"
    assert len([a for a in env.alerts() if a["rule"] == "failed-auth-burst"]) == 1
    # the evidence: the ids of the refusals' audit records (the ids SIEM export carries);
    # past the first ten, a flood's refusals are aggregated (ramparts.ratelimit.aggregate),
    # so fewer records than refusals, whose counts the rule weighed to 25
    assert 10 < len(alert["evidence"]) < 25
    assert len(set(alert["evidence"])) == len(alert["evidence"])
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in alert["evidence"])
    # the alert is an audit record itself (SIEM export carries it)
    (record,) = [
        e for e in env.node.audit()
        if e["kind"] == "alert" and e["detail"].get("alert_id") == alert["id"]
    ]
    assert record["detail"]["rule"] == "failed-auth-burst"
    assert record["detail"]["evidence"] == alert["evidence"][:20]
    # and was POSTed once to the webhook, signed with the secret
    deadline = time.monotonic() + 30
    while not env.posted("failed-auth-burst") and time.monotonic() < deadline:
        time.sleep(0.1)
    posted = env.posted("failed-auth-burst")
    assert len(posted) == 1
    headers, body = posted[0]
    assert body["type"] == "alert" and body["alert"]["id"] == alert["id"]
    raw = next(b for h, b in env.hook.received if h is headers)
    mac = hmac.new(SECRET, headers["x-ramparts-timestamp"].encode() + b"." + raw, hashlib.sha256)
    assert hmac.compare_digest(headers["x-ramparts-signature"], "sha256=" + mac.hexdigest())
    table = env.node.cli("alerts", "--severity", "high")
    assert table.returncode == 0 and "failed-auth-burst" in table.stdout


def test_a_policy_denial_burst_raises_an_alert_for_the_function(env: Env) -> None:
    for _ in range(12):
        r = env.node.gateway.get("/probe", params={"table": "users"},
                                 headers={"x-api-key": env.key})
        assert r.status_code == 403, r.text
    alert = env.wait_alert("policy-denial-burst", 12)
    assert alert["group"] == "principal=prober"
    assert alert["severity"] == "medium" and alert["category"] == "A5"
    assert [a["rule"] for a in env.alerts("--severity", "critical")
            if a["rule"] in WATCHED] == []
    assert "policy-denial-burst" in {a["rule"] for a in env.alerts("--since", "1h")}


def test_a_deploy_followed_by_failing_invocations_raises_an_alert(env: Env) -> None:
    for _ in range(5):  # within 10 minutes of the fixture's deploy
        r = env.node.control.post("/v1/functions/flaky/invoke", json={"event": {}})
        assert r.status_code == 200 and r.json()["status"] == "error", r.text
    alert = env.wait_alert("deploy-then-errors", 6)  # the deploy and 5 failures
    assert alert["group"] == "flaky" and alert["severity"] == "high"
    assert [e.startswith("invocation:") for e in alert["evidence"]] == [False] + [True] * 5


def test_bad_filters_are_refused_clearly(env: Env) -> None:
    done = env.node.cli("alerts", "--since", "yesterday")
    assert done.returncode != 0 and "--since" in done.stderr and "Traceback" not in done.stderr
    done = env.node.cli("alerts", "--severity", "urgent")
    assert done.returncode != 0 and "--severity" in done.stderr
    r = env.node.control.get("/v1/alerts", params={"severity": "urgent"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_severity"
    r = env.node.control.get("/v1/alerts", params={"since": "nan"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_since"
    anonymous = env.node.control.get("/v1/alerts", headers={"authorization": "Bearer " + "x" * 40})
    assert anonymous.status_code == 401


def test_an_invalid_rule_file_stops_the_node_from_starting(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "broken.yaml").write_text(
        "id: x\ntitle: t\nseverity: high\ncategory: A2\nkind: threshold\n"
        "match: {kind: gateway.auth}\ngroup_by: [detail.source_ip]\nwindow: forever\n"
    )
    env = {**os.environ, "RAMPARTS_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "up", "--port", str(free_port()),
         "--admin-port", str(free_port()), "--detections", str(rules)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert str(rules / "broken.yaml") in done.stderr.replace("\n", "")
    assert "window" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "data" / "state.db").exists()  # nothing was opened


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--alert-webhook", "http://alerts.example.com/hook"], "--alert-webhook"),
        (["--alert-webhook-secret-file", "/nonexistent"], "needs --alert-webhook"),
        (["--alert-webhook", "https://alerts.example.com/hook",
          "--alert-webhook-secret-file", "/nonexistent/key"], "--alert-webhook-secret-file"),
    ],
)
def test_a_bad_webhook_option_stops_the_start(
    tmp_path: Path, args: list[str], words: str
) -> None:
    env = {**os.environ, "RAMPARTS_DATA_DIR": str(tmp_path / "data")}
    done = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "up", "--port", str(free_port()),
         "--admin-port", str(free_port()), *args],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert words in done.stderr.replace("\n", "") and "Traceback" not in done.stderr
