"""Template findings in the deploy gate: severities, the gate's verdict, SARIF, baselines.

The gate is run as ``ramparts scan`` runs it (``run_gate`` on an app dir with a
``ramparts.yaml``), with a SAM template beside the manifest.
"""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

from ramparts.scan.baseline import load_baseline, today
from ramparts.scan.gate import GateOptions, run_gate
from ramparts.scan.sarif import to_sarif
from tests.scan.apps import clean_app
from tests.scan.test_sarif import assert_valid, validator  # noqa: F401 - the fixture

TEMPLATES = Path(__file__).parent / "templates"


def _app(tmp_path: Path, template: str) -> Path:
    app = clean_app(tmp_path / "app")
    shutil.copy(TEMPLATES / template, app / "template.yaml")
    return app


def test_a_vulnerable_template_fails_the_gate(tmp_path: Path) -> None:
    result = run_gate(_app(tmp_path, "sam_vuln.yaml"))
    assert not result.passed
    blocking = {(f.rule_id, f.path) for f in result.blocking}
    assert {("RP-I003", "template.yaml"), ("RP-I005", "template.yaml"),
            ("RP-I010", "template.yaml")} <= blocking
    assert {f.family for f in result.blocking} == {"iac"}  # the clean handler adds nothing
    assert "RP-I001" in result.rules and result.rules["RP-I003"].cwe == "CWE-732"
    # one finding per leaked variable: the template rule, not also detect-secrets'
    lines = [(f.path, f.line) for f in result.findings if f.path == "template.yaml"
             and f.rule_id in ("RP-I010", "RP-S001")]
    assert len(lines) == len(set(lines)) == 2


def test_the_fixed_template_passes_the_gate(tmp_path: Path) -> None:
    result = run_gate(_app(tmp_path, "serverless_fixed.yml"))
    assert result.passed, [f.to_dict() for f in result.blocking]
    assert not [f for f in result.findings if f.family == "iac"]


def test_a_malformed_template_fails_closed(tmp_path: Path) -> None:
    app = clean_app(tmp_path / "app")
    (app / "template.yaml").write_text("Transform: AWS::Serverless-2016-10-31\n"
                                       "Resources:\n  Fn:\n    Type: [unclosed\n")
    result = run_gate(app)
    assert not result.passed
    [f] = result.blocking
    assert (f.rule_id, f.path, f.severity.name) == ("RP-I001", "template.yaml", "HIGH")
    assert str(tmp_path) not in f.message


def test_sarif_carries_template_findings_and_rules(tmp_path: Path,
                                                   validator) -> None:  # noqa: F811
    log = to_sarif(run_gate(_app(tmp_path, "sam_vuln.yaml")))
    assert_valid(validator, log)
    run = log["runs"][0]
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert "iac" in rules["RP-I005"]["properties"]["tags"]
    assert "external/cwe/cwe-732" in rules["RP-I005"]["properties"]["tags"]
    located = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
               for r in run["results"]}
    assert ("RP-I002", "template.yaml") in located


def test_a_baseline_accepts_a_template_finding_and_survives_edits_above(tmp_path: Path) -> None:
    app = _app(tmp_path, "sam_vuln.yaml")
    first = run_gate(app)
    admin = next(f for f in first.findings if f.rule_id == "RP-I003"
                 and "AdministratorAccess" in f.message)
    baseline = app / ".ramparts-baseline.json"
    baseline.write_text(json.dumps({"version": 1, "accepted": [
        {"id": admin.id, "reason": "break-glass function, reviewed",
         "expires": (today() + timedelta(days=60)).isoformat()}]}))
    template = app / "template.yaml"
    template.write_text(template.read_text().replace("Resources:\n",
                                                     "Resources:\n  # a comment above\n", 1))
    again = run_gate(app, GateOptions(baseline=load_baseline(baseline, baseline.name)))
    accepted = [f for f in again.accepted if f.rule_id == "RP-I003"]
    assert [(f.id, f.line) for f in accepted] == [(admin.id, admin.line + 1)]
    assert not again.passed  # the other high findings still block
