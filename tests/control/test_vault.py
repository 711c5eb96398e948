"""Secrets belong to apps: cross-app reads, shares, --app rules and move, on a real node."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.events.webhooks import sign_webhook
from tests.conftest import RunningNode, make_app

HANDLERS = """
from ramparts import AccessDenied


def handler(event, context):
    try:
        return {"ok": context.secrets.get(event["name"])}
    except AccessDenied as exc:
        return {"denied": [exc.action, exc.resource]}
    except Exception as exc:
        return {"error": type(exc).__name__, "code": getattr(exc, "code", None)}


def hook(event, context):
    return {"statusCode": 202}
"""

VICTIM = """
app: victim
functions:
  owner:
    handler: h.py:handler
    secrets: [victim-secret, shared-secret]
"""

# The thief's roles name the victim's secrets: names alone must not reach them.
THIEF = """
app: thief
functions:
  reader:
    handler: h.py:handler
    secrets: [victim-secret, shared-secret, own-secret]
  late:
    handler: h.py:handler
    secrets: [shared-secret]
  strict:
    handler: h.py:handler
  hook:
    handler: h.py:hook
    triggers:
      - webhook: {path: /hooks/thief, scheme: standard, secret: victim-hook}
"""

VICTIM_VALUE = "victim-value-7f3a9c"  # noqa: S105 - test data
SHARED_VALUE = "shared-value-81bd2e"  # noqa: S105
HOOK_VALUE = "whsec_dmljdGltLWhvb2stc2VjcmV0"  # noqa: S105


@pytest.fixture(scope="module")
def two_apps(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("apps")
    node = RunningNode(base / "data").start()
    try:
        node.deploy_ok(make_app(base / "victim", VICTIM, {"h.py": HANDLERS}))
        node.deploy_ok(make_app(base / "thief", THIEF, {"h.py": HANDLERS}))
        for name, value in (
            ("victim-secret", VICTIM_VALUE),
            ("shared-secret", SHARED_VALUE),
            ("victim-hook", HOOK_VALUE),
        ):
            r = node.control.put(
                f"/v1/secrets/{name}", params={"app": "victim"}, json={"value": value}
            )
            assert r.status_code == 200, r.text
        r = node.control.put(
            "/v1/secrets/own-secret", params={"app": "thief"}, json={"value": "thief-own-value"}
        )
        assert r.status_code == 200, r.text
        yield node
    finally:
        node.close()


def read(node: RunningNode, fn: str, name: str) -> dict:
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {"name": name}})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok", r.json()
    return r.json()["result"]


def test_a_role_naming_another_apps_secret_is_denied(two_apps: RunningNode) -> None:
    arn = "arn:ramparts:secrets:thief:secret/victim-secret"
    assert read(two_apps, "reader", "victim-secret") == {
        "denied": ["secrets:GetSecretValue", arn]
    }
    # the owner reads it, and the thief still reads its own secrets
    assert read(two_apps, "owner", "victim-secret") == {"ok": VICTIM_VALUE}
    assert read(two_apps, "reader", "own-secret") == {"ok": "thief-own-value"}
    denied = [
        e
        for e in two_apps.audit()
        if e["kind"] == "resource.access"
        and e["decision"] == "deny"
        and e["resource"] == arn
        and e["detail"].get("reason") == "not_shared"
    ]
    assert denied


def test_a_webhook_cannot_verify_with_another_apps_secret(two_apps: RunningNode) -> None:
    body = b'{"x": 1}'
    headers = {
        **sign_webhook("standard", HOOK_VALUE, body, msg_id="msg_cross"),
        "content-type": "application/json",
    }
    r = two_apps.gateway.post("/hooks/thief", content=body, headers=headers)
    assert r.status_code == 503, r.text
    assert r.json()["code"] == "webhook_secret_unavailable"


def test_share_is_explicit_audited_and_the_readers_policy_decides(two_apps: RunningNode) -> None:
    assert read(two_apps, "reader", "shared-secret")["denied"][0] == "secrets:GetSecretValue"
    done = two_apps.cli("secrets", "share", "shared-secret", "--app", "victim", "--with", "thief")
    assert done.returncode == 0, done.stderr
    assert read(two_apps, "reader", "shared-secret") == {"ok": SHARED_VALUE}
    # shared with the app, but this function's role does not allow it
    assert read(two_apps, "strict", "shared-secret") == {
        "denied": ["secrets:GetSecretValue", "arn:ramparts:secrets:thief:secret/shared-secret"]
    }
    listed = json.loads(two_apps.cli("secrets", "list", "--app", "victim", "--json").stdout)
    row = next(s for s in listed["secrets"] if s["name"] == "shared-secret")
    assert row["shared_with"] == ["thief"] and SHARED_VALUE not in json.dumps(listed)
    # only what was shared: the victim's other secret stays out of reach
    assert read(two_apps, "reader", "victim-secret")["denied"][0] == "secrets:GetSecretValue"

    done = two_apps.cli("secrets", "unshare", "shared-secret", "--app", "victim", "--with", "thief")
    assert done.returncode == 0, done.stderr
    # a function that has not cached the value (see the 30 s worker cache) is refused at once
    assert read(two_apps, "late", "shared-secret") == {
        "denied": ["secrets:GetSecretValue", "arn:ramparts:secrets:thief:secret/shared-secret"]
    }
    again = two_apps.cli(
        "secrets", "unshare", "shared-secret", "--app", "victim", "--with", "thief"
    )
    assert again.returncode != 0 and "share_not_found" in again.stderr

    events = [e for e in two_apps.audit() if e["kind"] in ("secrets.share", "secrets.unshare")]
    assert [(e["kind"], e["resource"], e["detail"]["reader"]) for e in events] == [
        ("secrets.share", "arn:ramparts:secrets:victim:secret/shared-secret", "thief"),
        ("secrets.unshare", "arn:ramparts:secrets:victim:secret/shared-secret", "thief"),
    ]


def test_sharing_refuses_what_would_be_ambiguous(two_apps: RunningNode) -> None:
    # the thief owns own-secret: a share of a victim secret of that name would never be read
    r = two_apps.control.put(
        "/v1/secrets/own-secret", params={"app": "victim"}, json={"value": "victim-copy"}
    )
    assert r.status_code == 200
    r = two_apps.control.post(
        "/v1/secrets/own-secret/share", params={"app": "victim"}, json={"with": "thief"}
    )
    assert r.status_code == 409 and r.json()["code"] == "secret_name_taken"
    r = two_apps.control.post(
        "/v1/secrets/own-secret/share", params={"app": "victim"}, json={"with": "victim"}
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"
    r = two_apps.control.post(
        "/v1/secrets/own-secret/share", params={"app": "victim"}, json={"with": "_unassigned"}
    )
    assert r.status_code == 400 and r.json()["code"] == "reserved_app"
    assert read(two_apps, "reader", "own-secret") == {"ok": "thief-own-value"}


def test_app_rules_of_the_cli(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data").start()
    try:
        # the first command through the real entry point, the rest in-process
        cli = node.cli_in_process
        # no app deployed: the owner must be named, and nothing is stored
        out = node.cli("secrets", "set", "db", "--stdin", stdin="first-value")
        assert out.returncode != 0
        assert "--app" in out.stderr and "no app is deployed" in out.stderr
        assert "Traceback" not in out.stderr
        assert json.loads(cli("secrets", "list", "--json").stdout)["secrets"] == []
        # an app that is not deployed yet may be named
        out = cli("secrets", "set", "db", "--app", "solo", "--stdin", stdin="first-value")
        assert out.returncode == 0, out.stderr
        # the reserved owner and bad names are refused, naming --app
        out = cli("secrets", "set", "db", "--app", "_unassigned", "--stdin", stdin="v-x")
        assert out.returncode != 0 and "reserved" in out.stderr
        out = cli("secrets", "set", "db", "--app", "Bad/App", "--stdin", stdin="v-x")
        assert out.returncode != 0 and "--app" in out.stderr
        # exactly one app: --app may be left out
        app = make_app(
            tmp_path / "solo",
            "app: solo\nfunctions:\n  f:\n    handler: h.py:handler\n    secrets: [db]\n",
            {"h.py": HANDLERS},
        )
        node.deploy_ok(app)
        out = cli("secrets", "set", "db", "--stdin", stdin="second-value")
        assert out.returncode == 0, out.stderr
        assert cli("secrets", "get", "db").stdout.strip() == "second-value"
        assert "2" in cli("secrets", "versions", "db").stdout
        assert read(node, "f", "db") == {"ok": "second-value"}
        # several apps: --app is required again, for reads and changes alike
        other = make_app(
            tmp_path / "other", "app: other\nfunctions:\n  g:\n    handler: h.py:handler\n",
            {"h.py": HANDLERS},
        )
        node.deploy_ok(other)
        for args in (("set", "db", "--stdin"), ("get", "db"), ("rotate", "db", "--generate")):
            out = cli("secrets", *args, stdin="third-value")
            assert out.returncode != 0, args
            assert "--app" in out.stderr and "solo" in out.stderr and "other" in out.stderr
        assert cli("secrets", "get", "db", "--app", "solo").stdout.strip() == "second-value"
        out = cli("secrets", "get", "db", "--app", "other")
        assert out.returncode != 0 and "secret_not_found" in out.stderr
        # rotation, deletion and restore are per app
        assert cli("secrets", "rotate", "db", "--app", "solo", "--generate").returncode == 0
        assert cli("secrets", "delete", "db", "--app", "solo").returncode == 0
        out = cli("secrets", "get", "db", "--app", "solo")
        assert out.returncode != 0 and "secret_not_found" in out.stderr
        assert cli("secrets", "restore", "db", "--app", "solo").returncode == 0
        restored = cli("secrets", "get", "db", "--app", "solo").stdout.strip()
        assert restored and restored != "second-value"  # the rotated version
        # the reserved owner is never an app name
        bad = make_app(
            tmp_path / "bad",
            "app: _unassigned\nfunctions:\n  h:\n    handler: h.py:handler\n",
            {"h.py": HANDLERS},
        )
        r = node.deploy(bad)
        assert r.status_code == 422 and "reserved" in r.text
        out = cli("deploy", str(bad))
        assert out.returncode != 0 and "reserved" in out.stderr
    finally:
        node.close()
