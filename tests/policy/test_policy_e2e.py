"""End to end on a real node: roles enforced by the broker, conditions fed from the gateway,
denials audited, and the simulate/suggest/lint commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: pol
roles:
  own-table:
    statements:
      - {effect: allow, actions: ["kv:GetItem", "kv:PutItem"],
         resources: ["kv:${ramparts:function}/*"]}
functions:
  orders:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["kv:GetItem", "kv:PutItem"],
           resources: ["kv:${ramparts:function}/*"]}
        - {effect: allow, actions: ["topics:Publish"], resources: ["topic:never-used"]}
    secrets: [orders-key]
  billing:
    handler: h.py:handler
    role: own-table
    secrets: [billing-key]
  gated:
    handler: h.py:gated
    role:
      statements:
        - effect: allow
          actions: ["kv:GetItem"]
          resources: ["kv:gated/*"]
          conditions:
            IpAddress: {"aws:SourceIp": "127.0.0.0/8"}
            StringEquals: {"ramparts:trigger": "http"}
    triggers:
      - http: {method: GET, path: /gated, auth: none}
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
        "own-put": lambda: context.kv.put(context.function_name, "k", {"v": 1}),
        "own-get": lambda: context.kv.get("orders", "k"),
        "steal-table": lambda: context.kv.get("billing", "invoice-1"),
        "steal-secret": lambda: context.secrets.get("billing-key"),
    }
    return attempt(calls[op])


def gated(event, context):
    return attempt(lambda: context.kv.get("gated", "x"))
"""


@pytest.fixture(scope="module")
def pol(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    node.deploy_ok(make_app(tmp_path_factory.mktemp("pol") / "app", MANIFEST, {"h.py": HANDLERS}))
    return node


def call(node: RunningNode, fn: str, op: str) -> dict:
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {"op": op}})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok", r.json()
    return r.json()["result"]


def test_another_functions_table_and_secret_are_denied_and_audited(pol: RunningNode) -> None:
    assert call(pol, "orders", "own-put") == {"ok": None}
    assert call(pol, "orders", "own-get") == {"ok": {"v": 1}}
    table = "arn:ramparts:kv:pol:table/billing/invoice-1"
    secret = "arn:ramparts:secrets:pol:secret/billing-key"
    assert call(pol, "orders", "steal-table") == {"denied": ["kv:GetItem", table]}
    assert call(pol, "orders", "steal-secret") == {"denied": ["secrets:GetSecretValue", secret]}
    events = [e for e in pol.audit() if e["kind"] == "resource.access"]
    denied = {
        (e["principal"].split("@")[0], e["action"], e["resource"], e["detail"]["reason"])
        for e in events
        if e["decision"] == "deny"
    }
    assert ("function:orders", "kv:GetItem", table, "ImplicitlyDenied") in denied
    assert ("function:orders", "secrets:GetSecretValue", secret, "ImplicitlyDenied") in denied
    allowed = [
        e
        for e in events
        if e["decision"] == "allow" and e["principal"].startswith("function:orders@")
    ]
    assert {e["detail"]["statement"] for e in allowed} == {"role.Statement[0]"}


def test_the_shared_role_scopes_billing_to_its_own_table(pol: RunningNode) -> None:
    assert call(pol, "billing", "own-put") == {"ok": None}
    assert call(pol, "billing", "steal-table") == {"ok": None}  # its own table: allowed
    assert call(pol, "billing", "own-get")["denied"][0] == "kv:GetItem"  # orders' table


def test_conditions_see_the_gateway_request(pol: RunningNode) -> None:
    # through the gateway: trigger http, source 127.0.0.1 -> allowed (the item is missing)
    r = pol.gateway.get("/gated")
    assert r.status_code == 200, r.text
    assert r.json() == {"ok": None}
    # the same function invoked from the control API carries no HTTP context -> denied
    assert call(pol, "gated", "x")["denied"][0] == "kv:GetItem"


def test_simulate_explains_the_decision(pol: RunningNode) -> None:
    # each test here runs its first command as a subprocess, the rest in-process
    done = pol.cli("policy", "simulate", "orders", "kv:GetItem", "kv:orders/k")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Allowed kv:GetItem on arn:ramparts:kv:pol:table/orders/k")
    assert "role.Statement[0]" in done.stdout
    done = pol.cli_in_process(
        "policy", "simulate", "orders", "kv:GetItem", "kv:billing/x", "--json"
    )
    out = json.loads(done.stdout)
    assert out["decision"] == "ImplicitlyDenied" and out["statements"] == []
    done = pol.cli_in_process(
        "policy",
        "simulate",
        "gated",
        "kv:GetItem",
        "kv:gated/x",
        "--json",
        "--context",
        json.dumps({"aws:SourceIp": "127.0.0.1", "ramparts:trigger": "http"}),
    )
    assert json.loads(done.stdout)["decision"] == "Allowed"
    done = pol.cli_in_process("policy", "simulate", "nope", "kv:GetItem", "kv:x/y")
    assert done.returncode == 1 and "not found" in done.stderr


def test_simulate_in_aws_names_decides_as_the_aws_api_does(pol: RunningNode) -> None:
    # second adversarial review: an AWS action and ARN were evaluated as written, so a
    # native grant that boto3 calls pass through was reported ImplicitlyDenied
    from ramparts.aws.accounts import account_id

    table = f"arn:aws:dynamodb:us-east-1:{account_id('pol')}:table/orders"
    done = pol.cli("policy", "simulate", "orders", "dynamodb:PutItem", table, "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["decision"] == "Allowed", out
    assert out["action"] == "kv:PutItem" and out["resource"].startswith("arn:ramparts:kv:pol:")
    done = pol.cli_in_process(
        "policy", "simulate", "orders", "dynamodb:DeleteItem", table, "--json"
    )
    assert json.loads(done.stdout)["decision"] == "ImplicitlyDenied"


def test_suggest_diffs_the_role_against_real_use(pol: RunningNode) -> None:
    # the advisor proposes from observed use: make the use this test relies on itself,
    # rather than depending on the tests that ran before it
    assert call(pol, "orders", "own-put") == {"ok": None}
    call(pol, "orders", "steal-table")
    done = pol.cli("policy", "suggest", "orders", "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    ops = {
        (d["op"], d["statement"]["actions"][0], d["statement"]["resources"][0]) for d in out["diff"]
    }
    assert ("remove", "topics:Publish", "topic:never-used") in ops
    # denied at run time, and a literal key in the code: proposed exactly
    assert ("add", "kv:GetItem", "kv:billing/invoice-1") in ops
    assert ("keep", "kv:GetItem", "kv:${ramparts:function}/*") in ops
    suggested = out["suggested"]
    grants = {
        (action, resource)
        for st in suggested["role"]["statements"]
        for action in st["actions"]
        for resource in st["resources"]
    }
    assert ("kv:GetItem", "kv:billing/invoice-1") in grants
    assert ("kv:PutItem", "kv:orders/*") in grants  # observed keys generalise to the table
    assert not any(a == "topics:Publish" for a, _ in grants)
    assert "billing-key" in suggested["secrets"]
    text = pol.cli_in_process("policy", "suggest", "orders", "--window", "1h")
    assert text.returncode == 0, text.stderr
    assert "- allow topics:Publish on topic:never-used" in text.stdout
    assert "+ allow kv:GetItem on kv:billing/invoice-1" in text.stdout


def test_a_malformed_role_is_refused_at_deploy(pol: RunningNode, tmp_path: Path) -> None:
    bad = MANIFEST.replace('"127.0.0.0/8"', '"127.0.0.0/99"')
    r = pol.deploy(make_app(tmp_path / "bad", bad, {"h.py": HANDLERS}))
    assert r.status_code == 422
    fields = {p["field"] for p in r.json()["problems"]}
    assert "functions.gated.role.statements[0].conditions.IpAddress.aws:SourceIp" in fields


def test_a_redeploy_replaces_the_decision(pol: RunningNode, tmp_path: Path) -> None:
    assert call(pol, "orders", "steal-table")["denied"]
    widened = MANIFEST.replace(
        'resources: ["topic:never-used"]}',
        'resources: ["topic:never-used"]}\n        - {effect: allow, actions: ["kv:GetItem"], '
        'resources: ["kv:billing/*"]}',
    )
    pol.deploy_ok(make_app(tmp_path / "wider", widened, {"h.py": HANDLERS}))
    assert call(pol, "orders", "steal-table") == {"ok": None}
    pol.deploy_ok(make_app(tmp_path / "narrow", MANIFEST, {"h.py": HANDLERS}))
    assert call(pol, "orders", "steal-table")["denied"]
