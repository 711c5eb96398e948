"""Baselines: accepted findings suppress, expired ones do not, malformed files are named."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from ramparts.scan.baseline import BaselineError, load_baseline, parse_baseline, today
from ramparts.scan.gate import Acceptance, GateOptions, run_gate
from tests.scan.apps import VULN_HANDLER, VULN_LINE, vulnerable_app


def blocking_ids(root: Path) -> list[str]:
    return [f.id for f in run_gate(root).blocking]


def write_baseline(path: Path, ids: list[str], expires: str, fmt: str = "json") -> Path:
    entries = [{"id": i, "reason": "reviewed: input is an enum", "expires": expires} for i in ids]
    if fmt == "json":
        path.write_text(json.dumps({"version": 1, "accepted": entries}))
    else:
        lines = ["version: 1", "accepted:"]
        for e in entries:
            lines += [f"  - id: \"{e['id']}\"", f"    reason: \"{e['reason']}\"",
                      f"    expires: {e['expires']}"]
        path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_a_baseline_accepts_exactly_its_findings(tmp_path: Path, fmt: str) -> None:
    app = vulnerable_app(tmp_path / "app")
    ids = blocking_ids(app)
    assert len(ids) == 2  # B605 and RP-T002 on the same line
    future = (today() + timedelta(days=30)).isoformat()
    bl = load_baseline(write_baseline(tmp_path / f"bl.{fmt}", ids[:1], future, fmt))
    result = run_gate(app, GateOptions(baseline=bl))
    assert not result.passed  # the other finding still blocks
    assert [f.id for f in result.accepted] == ids[:1]
    assert result.accepted[0].accepted == {
        "source": f"baseline:{bl.name}", "reason": "reviewed: input is an enum", "expires": future
    }
    bl = load_baseline(write_baseline(tmp_path / f"all.{fmt}", ids, future, fmt))
    assert run_gate(app, GateOptions(baseline=bl)).passed


def test_the_apps_own_baseline_file_is_picked_up(tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app")
    ids = blocking_ids(app)
    write_baseline(app / ".ramparts-baseline.json", ids, (today() + timedelta(days=1)).isoformat())
    result = run_gate(app)
    assert result.passed
    assert result.baseline == ".ramparts-baseline.json"
    assert not any(f.path == ".ramparts-baseline.json" for f in result.findings)  # ids look random
    assert run_gate(app, GateOptions(use_app_baseline=False)).passed is False


def test_an_expired_entry_no_longer_suppresses_and_is_reported(tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app")
    ids = blocking_ids(app)
    yesterday = (today() - timedelta(days=1)).isoformat()
    bl = load_baseline(write_baseline(tmp_path / "bl.json", ids, yesterday))
    result = run_gate(app, GateOptions(baseline=bl))
    assert not result.passed
    assert sorted(e.id for e in result.expired) == sorted(ids)
    assert any(f"expired on {yesterday}" in n for n in result.notes)
    assert result.to_dict()["expired_baseline_entries"][0]["expires"] == yesterday
    # an entry expiring today still holds (the date is inclusive)
    bl = load_baseline(write_baseline(tmp_path / "today.json", ids, today().isoformat()))
    assert run_gate(app, GateOptions(baseline=bl)).passed


def test_stale_entries_and_unknown_acceptances_are_noted(tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app")
    ids = blocking_ids(app)
    future = (today() + timedelta(days=9)).isoformat()
    bl = load_baseline(write_baseline(tmp_path / "bl.json", [*ids, "0123456789ab"], future))
    result = run_gate(app, GateOptions(baseline=bl, accept=[Acceptance("fedcba987654", "x")]))
    assert result.passed
    assert any("match no finding any more: 0123456789ab" in n for n in result.notes)
    assert result.unused_acceptances == ["fedcba987654"]


def test_an_id_is_stable_across_unrelated_edits_but_not_a_changed_line(tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app")
    before = {f.rule_id: (f.id, f.line) for f in run_gate(app).blocking}
    (app / "h.py").write_text("# a new header comment\n\n" + (app / "h.py").read_text())
    after = {f.rule_id: (f.id, f.line) for f in run_gate(app).blocking}
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert after["RP-T002"][1] == before["RP-T002"][1] + 2 == VULN_LINE + 2
    (app / "h.py").write_text(VULN_HANDLER.replace("echo hello", "echo bye"))
    changed = {f.rule_id: f.id for f in run_gate(app).blocking}
    assert changed["RP-T002"] != before["RP-T002"][0]


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"accepted": [{"reason": "r", "expires": "2027-01-01"}]}', "accepted[0].id"),
        ('{"accepted": [{"id": "0123456789ab", "expires": "2027-01-01"}]}', "accepted[0].reason"),
        ('{"accepted": [{"id": "0123456789ab", "reason": " ", "expires": "2027-01-01"}]}',
         "accepted[0].reason"),
        ('{"accepted": [{"id": "0123456789ab", "reason": "r"}]}', "accepted[0].expires"),
        ('{"accepted": [{"id": "0123456789ab", "reason": "r", "expires": "soon"}]}',
         "accepted[0].expires"),
        ('{"accepted": [{"id": "0123456789ab", "reason": "r", "expiry": "2027-01-01"}]}',
         "accepted[0].expiry"),
        ('{"accepted": [{"id": "XYZ", "reason": "r", "expires": "2027-01-01"}]}',
         "accepted[0].id"),
        ('{"accepted": {"id": "0123456789ab"}}', "accepted"),
        ('{"version": 2, "accepted": []}', "version"),
        ('{"acepted": []}', "acepted"),
        ('["not", "a", "mapping"]', "<root>"),
        ('{"accepted": [{"id": "0123456789ab", "reason": "r", "expires": "9999-12-31"}]}',
         "accepted[0].expires"),
        ('{"accepted": [', "line 1"),
        ('{"accepted": [{"id": "0123456789ab", "reason": "r", "expires": "2027-01-01"},'
         ' {"id": "0123456789ab", "reason": "r", "expires": "2027-01-01"}]}', "accepted[1].id"),
    ],
)
def test_a_malformed_baseline_names_the_file_and_field(text: str, field: str) -> None:
    with pytest.raises(BaselineError) as info:
        parse_baseline(text, "team-baseline.json")
    assert info.value.message.startswith(f"team-baseline.json: {field}:")
    assert info.value.code == "invalid_baseline"


def test_the_cli_refuses_a_malformed_baseline_without_a_traceback(tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app")
    bad = tmp_path / "bl.yaml"
    bad.write_text("accepted:\n  - id: 0123456789ab\n    reason: ok\n    expires: someday\n")
    done = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "scan", str(app), "--baseline", str(bad),
         "--offline"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 2
    assert f"{bad}: accepted[0].expires: required: a date" in " ".join(done.stderr.split())
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


# -- F12: an acceptance covers its own function's line, not a copy of it elsewhere ----------
ADMIN = '''import os


def admin_tool(event, context):
    cmd = "ping -c1 " + event["host"]
    os.system(cmd)
'''
PUBLIC = '''

def handler(event, context):
    cmd = "ping -c1 " + event["host"]
    os.system(cmd)
'''


def _app(root: Path, text: str) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "handler.py").write_text(text)
    return root


def test_an_acceptance_does_not_cover_the_same_line_in_another_function(tmp_path: Path) -> None:
    v1 = _app(tmp_path / "v1", ADMIN)
    accepted = blocking_ids(v1)
    assert accepted
    future = (today() + timedelta(days=30)).isoformat()
    bl = load_baseline(write_baseline(tmp_path / "bl.json", accepted, future))
    assert run_gate(v1, GateOptions(baseline=bl)).passed
    v2 = _app(tmp_path / "v2", ADMIN + PUBLIC)
    result = run_gate(v2, GateOptions(baseline=bl))
    assert not result.passed
    assert {f.line for f in result.blocking} == {11}  # the copy in the public handler
    assert {f.line for f in result.accepted} == {6}


def test_a_legacy_id_matches_only_when_it_is_unambiguous(tmp_path: Path) -> None:
    future = (today() + timedelta(days=30)).isoformat()
    v1 = _app(tmp_path / "v1", ADMIN)
    legacy = [f.legacy_id for f in run_gate(v1).blocking]
    assert legacy and set(legacy).isdisjoint(blocking_ids(v1))  # ids now carry the scope
    bl = load_baseline(write_baseline(tmp_path / "old.json", legacy, future))
    assert run_gate(v1, GateOptions(baseline=bl)).passed  # an old baseline keeps working
    v2 = _app(tmp_path / "v2", ADMIN + PUBLIC)
    result = run_gate(v2, GateOptions(baseline=bl))
    assert not result.accepted  # two findings share each legacy id: neither is covered
    assert {f.line for f in result.blocking} == {6, 11}


# -- review 2, F10: a wrapped call's id covers the whole call, not its first line ----------
WRAPPED = '''import sqlite3


def handler(event, context):
    db = sqlite3.connect(":memory:")
    rows = db.execute(
        "SELECT name FROM t WHERE region = '" + event["region"] + "'"
    ).fetchall()
    os_cmd = "echo " + event["x"]
    __import__("os").system(os_cmd)
    return rows
'''


def test_a_wrapped_calls_id_changes_when_any_of_its_lines_changes(tmp_path: Path) -> None:
    def taint_ids(text: str, name: str) -> dict[int, str]:
        result = run_gate(_app(tmp_path / name, text), GateOptions(use_app_baseline=False))
        return {f.line: f.id for f in result.findings if f.rule_id == "RP-T003"}

    before = taint_ids(WRAPPED, "a")
    assert list(before) == [6]
    rewritten = WRAPPED.replace(
        '''"SELECT name FROM t WHERE region = '" + event["region"] + "'"''',
        '''"SELECT password FROM users WHERE name = '" + event["q"] + "' OR " + event["w"]''',
    )
    assert taint_ids(rewritten, "b")[6] != before[6]
    # re-indenting the same call keeps the id (whitespace is normalised)
    reflowed = WRAPPED.replace('    ).fetchall()', ').fetchall()')
    assert taint_ids(reflowed, "c") == before


def test_a_one_line_findings_id_is_keyed_on_its_line_as_before(tmp_path: Path) -> None:
    from ramparts.scan.findings import _digest

    app = vulnerable_app(tmp_path / "app")
    for f in run_gate(app).blocking:
        line = (app / f.path).read_text().splitlines()[f.line - 1]
        assert f.fingerprint_text.split("\x1f")[0] == line
        assert f.id == _digest(f.rule_id, f.path, f.scope or "", " ".join(
            f.fingerprint_text.split()))
