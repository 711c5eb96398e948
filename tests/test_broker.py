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
        - {effect: allow, actions: ["topics:Publish"], resources: ["topic:deep"]}
    secrets: [granted-secret]
  helper:
    handler: h.py:helper
  nobody:
    handler: h.py:handler
"""

HANDLERS = """
from ramparts import AccessDenied


def nest(depth):
    value = 1
    for _ in range(depth):
        value = [value]
    return value


def attempt(fn):
    try:
        return {"ok": fn()}
    except AccessDenied as exc:
        return {"denied": [exc.action, exc.resource]}
    except Exception as exc:
        return {"error": type(exc).__name__, "code": getattr(exc, "code", None),
                "message": str(exc)}


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
        "deep-item": lambda: context.kv.put("mine", "deep", {"v": nest(event.get("depth", 130))}),
        "deep-publish": lambda: context.publish("deep", nest(event.get("depth", 130))),
    }
    return attempt(calls[op])


def helper(event, context):
    return event["x"] * 21
"""


@pytest.fixture(scope="module")
def brk(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    node.deploy_ok(make_app(tmp_path_factory.mktemp("brk") / "app", MANIFEST, {"h.py": HANDLERS}))
    return node


def call(node: RunningNode, fn: str, op: str, **extra: object) -> dict:
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {"op": op, **extra}})
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
    granted = call(brk, "reader", "secret-granted")
    assert (granted["error"], granted["code"]) == ("NotFound", "secret_not_found")
    bad_key = call(brk, "reader", "bad-key")
    assert (bad_key["error"], bad_key["code"]) == ("InvalidRequest", "invalid_argument")


def _nest(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


def test_deeply_nested_items_and_messages_get_a_clear_refusal(brk: RunningNode) -> None:
    # From a handler: a clear InvalidRequest naming the limit, never a RecursionError
    # or "the message must be JSON".
    for op in ("deep-item", "deep-publish"):
        for depth in (130, 300, 5000):
            out = call(brk, "reader", op, depth=depth)
            assert out["error"] == "InvalidRequest", (op, depth, out)
            assert out["code"] == "too_deeply_nested", (op, depth, out)
            assert "deeper than 64 levels" in out["message"]
    # Just inside the limit still works.
    assert call(brk, "reader", "deep-item", depth=60) == {"ok": None}
    # The control API: a 400 with the same stable code, and nothing stored.
    r = brk.control.put("/v1/kv/mine/deep2", json={"app": "brk", "item": {"v": _nest(130)}})
    assert r.status_code == 400 and r.json()["code"] == "too_deeply_nested", r.text
    assert brk.control.get("/v1/kv/mine/deep2", params={"app": "brk"}).status_code == 404
    r = brk.control.post(
        "/v1/topics/deep/publish", json={"app": "brk", "message": _nest(130)}
    )
    assert r.status_code == 400 and r.json()["code"] == "too_deeply_nested", r.text
    # Deeper than the JSON parser itself takes: still a clear 400, not a 500.
    deep_body = '{"app": "brk", "item": {"v": ' + "[" * 2000 + "]" * 2000 + "}}"
    r = brk.control.put(
        "/v1/kv/mine/deep3", content=deep_body, headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["code"] == "too_deeply_nested"
