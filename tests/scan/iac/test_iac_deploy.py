"""A bad SAM template next to ramparts.yaml blocks the deploy on a real node.

The node is the enforcement point: the archive is POSTed straight to the
control API (no client-side scan), and the template rules run there.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningNode
from tests.scan.apps import clean_app

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Timeout: 5
    ReservedConcurrentExecutions: 10
Resources:
  NotesFunction:
    Type: AWS::Serverless::Function
    Properties:
      Handler: h.handler
      Runtime: python3.12
      Policies:
        - {POLICY}
      Events:
        Save:
          Type: HttpApi
          Properties:
            Path: /notes
            Method: post
            Auth:
              Authorizer: NotesJwt
"""
ADMIN_LINE = 14


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    running = RunningNode(tmp_path_factory.mktemp("iac") / "data",
                          {"RAMPARTS_ADVISORIES": "off"}).start()
    try:
        yield running
    finally:
        running.close()


def _functions(node: RunningNode) -> set[str]:
    return {f["name"] for f in node.control.get("/v1/functions").json()["functions"]}


def test_an_admin_role_in_the_template_refuses_the_deploy(node: RunningNode,
                                                          tmp_path: Path) -> None:
    app = clean_app(tmp_path / "app", app="iacbad", path="/iacbad")
    (app / "template.yaml").write_text(TEMPLATE.replace("{POLICY}", "AdministratorAccess"))
    r = node.deploy(app)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "scan_failed"
    found = {(f["rule_id"], f["path"], f["line"], f["severity"], f["cwe"])
             for f in body["findings"]}
    assert found == {("RP-I003", "template.yaml", ADMIN_LINE, "high", "CWE-732")}
    assert str(node.data_dir) not in r.text
    assert "iacbad-fn" not in _functions(node)
    denied = [e for e in node.audit() if e["kind"] == "scan.gate"][-1]
    assert denied["decision"] == "deny" and denied["resource"] == "app:iacbad"


def test_the_fixed_template_deploys(node: RunningNode, tmp_path: Path) -> None:
    app = clean_app(tmp_path / "app", app="iacgood", path="/iacgood")
    fixed = TEMPLATE.replace("{POLICY}", "DynamoDBCrudPolicy: {TableName: !Ref Notes}")
    (app / "template.yaml").write_text(fixed + "  Notes:\n    Type: AWS::Serverless::SimpleTable"
                                       "\n    Properties:\n      SSESpecification:\n"
                                       "        SSEEnabled: true\n")
    report = node.deploy_ok(app)
    assert report["scan"]["passed"] is True
    assert "iacgood-fn" in _functions(node)


def test_the_cli_refuses_a_malformed_template_before_uploading(node: RunningNode,
                                                               tmp_path: Path) -> None:
    app = clean_app(tmp_path / "app", app="iacbroken", path="/iacbroken")
    (app / "serverless.yml").write_text("service: notes\nfunctions:\n  save: [unclosed\n")
    done = node.cli("deploy", str(app), "--offline")
    assert done.returncode == 1
    text = " ".join(done.stderr.split())
    assert "RP-I001" in text and "serverless.yml" in text and "Traceback" not in text
    assert "iacbroken-fn" not in _functions(node)
