"""The host-side broker: every context call is checked against the role and audited."""

from __future__ import annotations

import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: brk
functions:
  reader:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["kv:*"], resources: ["kv:mine/*"]}
        - {effect: deny, actions: ["kv:DeleteItem"], resources: ["kv:mine/locked"]}
        - {effect: allow, actions: ["objects:PutObject", "objects:GetObject"],
           resources: ["objects:files/*"]}
        - {effect: allow, actions: ["functions:Invoke"], resources: ["function:helper"]}
        - {effect: allow, actions: ["topics:Publish"], resources: ["topic:allowed"]}
    secrets: [granted-secret]
  helper:
    handler: h.py:helper
  nobody:
    handler: h.py:handler
"""

HANDLERS = """
from ramparts import AccessDenied


def attempt(fn):
    try:
        return {"ok": fn()}
    except AccessDenied as exc:
        return {"denied": [exc.action, exc.resource]}
    except Exception as exc:
        return {"error": type(exc).__name__, "code": getattr(exc, "code", None)}


def handler(event, context):
    op = event["op"]
    calls = {
        "put": lambda: context.kv.put("mine", "a", {"v": 1}),
        "get": lambda: context.kv.get("mine", "a"),
        "query": lambda: context.kv.query("mine", prefix="a"),
        "delete-locked": lambda: context.kv.delete("mine", "locked"),
        "other-table": lambda: context.kv.get("orders-archive", "x"),
        "prefix-trick": lambda: context.kv.get("mine-archive", "x"),
        "object-roundtrip": lambda: (context.objects.put("files", "b.bin", b"\\x00\\xff"),
                                     list(context.objects.get("files", "b.bin")))[1],
        "object-missing": lambda: context.objects.get("files", "nope"),
        "secret-granted": lambda: context.secrets.get("granted-secret"),
        "secret-other": lambda: context.secrets.get("other-secret"),
        "invoke": lambda: context.invoke("helper", {"x": 2}),
        "invoke-other": lambda: context.invoke("nobody", {}),
        "publish-denied": lambda: context.publish("forbidden", {"x": 1}),
        "bad-key": lambda: context.kv.get("mine", "\\x00bad"),
    }
    return attempt(calls[op])


def helper(event, context):
    return event["x"] * 21
"""


@pytest.fixture(scope="module")
def brk(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    node.deploy_ok(make_app(tmp_path_factory.mktemp("brk") / "app", MANIFEST, {"h.py": HANDLERS}))
    return node


def call(node: RunningNode, fn: str, op: str) -> dict:
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {"op": op}})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok", r.json()
    return r.json()["result"]


def test_allowed_calls_work(brk: RunningNode) -> None:
    assert call(brk, "reader", "put") == {"ok": None}
    assert call(brk, "reader", "get") == {"ok": {"v": 1}}
    assert call(brk, "reader", "query") == {"ok": [{"key": "a", "item": {"v": 1}}]}
    assert call(brk, "reader", "object-roundtrip") == {"ok": [0, 255]}
    assert call(brk, "reader", "invoke") == {"ok": 42}


def test_denials_raise_access_denied_and_are_audited(brk: RunningNode) -> None:
    arn = "arn:ramparts:kv:brk:table"
    assert call(brk, "reader", "delete-locked") == {
        "denied": ["kv:DeleteItem", f"{arn}/mine/locked"]
    }  # explicit deny beats kv:*
    assert call(brk, "reader", "other-table") == {
        "denied": ["kv:GetItem", f"{arn}/orders-archive/x"]
    }
    assert call(brk, "reader", "prefix-trick") == {
        "denied": ["kv:GetItem", f"{arn}/mine-archive/x"]
    }  # mine/* is not mine-archive/*
    assert call(brk, "reader", "secret-other")["denied"][0] == "secrets:GetSecretValue"
    assert call(brk, "reader", "invoke-other")["denied"][0] == "functions:Invoke"
    assert call(brk, "reader", "publish-denied")["denied"][0] == "topics:Publish"
    # a function without a role can do nothing
    assert call(brk, "nobody", "get")["denied"][0] == "kv:GetItem"
    events = [e for e in brk.audit() if e["kind"] == "resource.access"]
    denied = {
        (e["principal"].split("@")[0], e["action"], e["resource"])
        for e in events
        if e["decision"] == "deny"
    }
    assert ("function:reader", "kv:GetItem", f"{arn}/orders-archive/x") in denied
    assert ("function:nobody", "kv:GetItem", f"{arn}/mine/a") in denied
    allowed = [e for e in events if e["decision"] == "allow" and e["action"] == "kv:PutItem"]
    assert allowed and allowed[0]["detail"]["reason"] == "Allowed"


def test_errors_from_the_host(brk: RunningNode) -> None:
    assert call(brk, "reader", "object-missing")["error"] == "NotFound"
    # the granted secret is not configured on this node: a clear not-found, not a leak
    assert call(brk, "reader", "secret-granted") == {
        "error": "NotFound",
        "code": "secret_not_found",
    }
    assert call(brk, "reader", "bad-key") == {"error": "InvalidRequest", "code": "invalid_argument"}
