"""The logic family in the deploy gate, on a real ``ramparts up`` node.

An app that reads a JWT without verifying its signature passes every
injection rule (no attacker data reaches a sink), so only RP-L001 can
refuse it; its twin that verifies the token deploys.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.scan.gate import run_gate
from tests.conftest import RunningNode, make_app

UNVERIFIED = """
import jwt


def handler(event, context):
    token = event["headers"]["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, options={"verify_signature": False})
    return {"statusCode": 200, "body": claims["sub"]}
"""
DECODE_LINE = 7  # the jwt.decode line, after dedent

VERIFIED = """
import jwt


def handler(event, context):
    token = event["headers"]["authorization"].removeprefix("Bearer ")
    claims = jwt.decode(token, context.secrets.get("jwt-key"), algorithms=["HS256"])
    return {"statusCode": 200, "body": claims["sub"]}
"""


def manifest(app: str) -> str:
    return f"""
app: {app}
functions:
  {app}-fn:
    handler: h.py:handler
    timeout: 5s
    secrets: [jwt-key]
    triggers:
      - http: {{method: GET, path: /{app}, auth: api_key}}
"""


@pytest.fixture(scope="module")
def logic_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    node = RunningNode(tmp_path_factory.mktemp("logic") / "data",
                       {"RAMPARTS_ADVISORIES": "off"}).start()
    try:
        yield node
    finally:
        node.close()


def test_an_unverified_jwt_refuses_the_deploy_on_the_node(logic_node: RunningNode,
                                                         tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", manifest("nojwt"), {"h.py": UNVERIFIED})
    r = logic_node.deploy(app)  # the raw archive: the node scans it itself
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "scan_failed"
    assert [(f["rule_id"], f["path"], f["line"], f["severity"], f["cwe"])
            for f in body["findings"]] == [("RP-L001", "h.py", DECODE_LINE, "high", "CWE-347")]
    names = {f["name"] for f in logic_node.control.get("/v1/functions").json()["functions"]}
    assert "nojwt-fn" not in names


def test_the_verified_twin_passes_the_gate(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", manifest("jwtok"), {"h.py": VERIFIED})
    result = run_gate(app)
    assert result.passed, [f.to_dict() for f in result.blocking]
    assert not [f for f in result.findings if f.family == "logic"]
    assert "RP-L001" in result.rules  # SARIF lists the family's rules even when clean
