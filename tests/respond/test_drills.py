"""Drills on real throw-away nodes: every scenario passes on a default build, and fails
with a clear report when its detection rule is removed or when its playbook is.

The default build and the no-playbook run each run every scenario on ONE node
(``run_drills``, what ``ramparts drill all`` does); the no-playbook results are checked one
test per scenario, so one failing scenario does not hide the others.  Rule removal runs
each scenario on its own node with only that scenario's rules removed (a node takes its
rules at start), about 6 s each.  TTD and TTC are reported, never asserted beyond being
positive.

Those runs are independent (each its own throw-away node, data dir, ports and rule set)
and are mostly waiting for a node's evidence to settle, so the ``drills`` fixture starts
them together on a few threads and each test waits for the one it checks: the file's
wall time is about that of the longest run instead of their sum.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml

from ramparts.respond.drills import history
from ramparts.respond.drills.base import Check, DrillResult, Scenario
from ramparts.respond.drills.catalog import SCENARIOS
from ramparts.respond.drills.node import ThrowawayNode
from ramparts.respond.drills.runner import check_timeline, run_drills

RULES = Path(__file__).resolve().parents[2] / "ramparts" / "respond" / "rules"
AVAILABLE = [s for s in SCENARIOS.values() if s.unavailable is None]


def _rules_without(target: Path, drop: set[str]) -> Path:
    """A copy of the shipped rule set lacking the rules in ``drop`` (for ``--detections``)."""
    target.mkdir()
    kept = 0
    for f in sorted(RULES.glob("*.yaml")):
        doc = yaml.safe_load(f.read_text())
        rules = [r for r in doc["rules"] if r["id"] not in drop]
        kept += len(rules)
        if rules:
            (target / f.name).write_text(yaml.safe_dump({"rules": rules}))
    assert kept > 0
    return target


def _by_name(results: list[DrillResult]) -> dict[str, DrillResult]:
    return {r.scenario: r for r in results}


def _check(result: DrillResult, name: str) -> tuple[bool, str]:
    (found,) = [c for c in result.checks if c.name == name]
    return found.passed, found.reason


def test_the_catalog_has_the_issue_scenarios_each_with_its_shipped_rule_and_playbook() -> None:
    assert set(SCENARIOS) == {
        "credential-stuffing",
        "injection-burst",
        "secret-exfiltration",
        "egress-unknown-host",
        "backdoored-dependency",
        "audit-tampering",
    }
    assert [s.name for s in SCENARIOS.values() if s.unavailable] == []
    for s in AVAILABLE:  # every available scenario names a shipped rule and its playbook
        shipped = {
            r["id"] for f in RULES.glob("*.yaml") for r in yaml.safe_load(f.read_text())["rules"]
        }
        assert set(s.rules) <= shipped, s.name
        assert s.containment in s.playbook(), s.name


def _fake_audit_rule(rules: Path) -> Path:
    """adv-irp3 F2: a rule with audit-tampering's id that fires on any deploy."""
    (rules / "fake.yaml").write_text(
        yaml.safe_dump(
            {
                "rules": [
                    {
                        "id": "audit-verification-failure",
                        "title": "fake: fires on any deploy, never on a chain failure",
                        "severity": "critical",
                        "category": "A10",
                        "kind": "threshold",
                        "match": {"kind": "registry.deploy"},
                        "threshold": 1,
                    }
                ]
            }
        )
    )
    return rules


@pytest.fixture(scope="module")
def drills(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Future]]:
    """Every drill run of this file, started together; each test takes the one it checks.

    Keys: ``default`` (every scenario, default build, one node), ``no-playbook`` (every
    scenario with no playbook, one node), ``fake-rule`` (audit-tampering with a rule that
    fires on the drill's own deploy), ``no-rule:<scenario>`` (that scenario alone on its
    own node, only its own rules removed) and ``cli`` (``ramparts drill credential-stuffing``
    as a subprocess, failed-auth-burst removed: (process, its --data-dir)).  Three at a time:
    the machine may be busy.
    """
    base = tmp_path_factory.mktemp("drill-rules")
    runs: dict[str, Callable[[], object]] = {
        "no-playbook": lambda: run_drills(AVAILABLE, install_playbook=False),
        "default": lambda: run_drills(list(SCENARIOS.values())),
    }
    for s in AVAILABLE:
        rules = _rules_without(base / f"without-{s.name}", set(s.rules))
        runs[f"no-rule:{s.name}"] = lambda s=s, rules=rules: run_drills([s], detections=rules)
    fake = _fake_audit_rule(_rules_without(base / "fake", {"audit-verification-failure"}))
    runs["fake-rule"] = lambda: run_drills([SCENARIOS["audit-tampering"]], detections=fake)
    cli_rules = _rules_without(base / "cli-rules", {"failed-auth-burst"})
    cli_data = base / "user-data"
    runs["cli"] = lambda: (
        _cli("credential-stuffing", "--detections", str(cli_rules), data_dir=cli_data),
        cli_data,
    )
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="drill") as pool:
        yield {key: pool.submit(run) for key, run in runs.items()}


def test_every_scenario_passes_on_a_default_build(drills: dict[str, Future]) -> None:
    results = _by_name(drills["default"].result())
    assert set(results) == {s.name for s in AVAILABLE} == set(SCENARIOS)
    for s in AVAILABLE:
        r = results[s.name]
        assert r.status == "passed", (s.name, r.checks)
        names = [c.name for c in r.checks]
        assert names == [
            *(f"detected:{rule}" for rule in s.rules),
            "incident",
            "playbook",
            "timeline",
            "contained",
        ]
        assert r.ttd_seconds is not None and r.ttd_seconds > 0
        assert r.ttc_seconds is not None and r.ttc_seconds > 0
        assert r.incident and len(r.incident) == 32


@pytest.mark.parametrize("name", [s.name for s in AVAILABLE])
def test_each_scenario_fails_clearly_without_its_detection_rule(
    name: str, drills: dict[str, Future]
) -> None:
    s = SCENARIOS[name]
    (r,) = drills[f"no-rule:{name}"].result()  # only this scenario's own rules removed
    assert r.status == "failed", r.checks
    for rule in s.rules:
        passed, reason = _check(r, f"detected:{rule}")
        assert not passed and f"no alert from rule {rule}" in reason
    assert r.reason.startswith(f"no alert from rule {s.rules[0]}")
    assert _check(r, "contained") == (False, "nothing to contain: no alert was raised")
    assert r.ttd_seconds is None and r.ttc_seconds is None


def test_a_rule_firing_on_the_drills_own_setup_does_not_count_as_detection(
    drills: dict[str, Future],
) -> None:
    """adv-irp3 F2: a rule with the scenario's id that fires on the drill's deploy, never on
    the tampering, made audit-tampering pass with TTD 0.0.  Only an alert whose evidence
    includes records of the attack, raised after it started, is a detection."""
    (r,) = drills["fake-rule"].result()  # see _fake_audit_rule
    assert r.status == "failed", r.checks
    passed, reason = _check(r, "detected:audit-verification-failure")
    assert not passed
    assert "before the attack started" in reason and "did not detect the attack" in reason
    assert r.reason == reason
    assert r.ttd_seconds is None


@pytest.fixture(scope="module")
def without_playbooks(drills: dict[str, Future]) -> dict[str, DrillResult]:
    """Every scenario with no playbook installed, on one node (the checks are per scenario)."""
    return _by_name(drills["no-playbook"].result())


@pytest.mark.parametrize("name", [s.name for s in AVAILABLE])
def test_each_scenario_fails_clearly_without_its_playbook(
    name: str, without_playbooks: dict[str, DrillResult]
) -> None:
    s = SCENARIOS[name]
    r = without_playbooks[name]
    assert r.status == "failed", r.checks
    (rule,) = s.rules
    assert _check(r, f"detected:{rule}")[0] is True  # the detection still works
    passed, reason = _check(r, "playbook")
    assert not passed
    assert reason == f"no playbook on the node matches rule {rule}: nothing acted"
    assert r.ttc_seconds is None
    if s.name == "injection-burst":  # a medium alert opens no incident by itself
        assert _check(r, "incident")[0] is False
    contained = [c for c in r.checks if c.name == "contained"]
    assert all(not c.passed for c in contained)  # and the attack was not contained


def _cli(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "drill", *args, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_cli_one_rule_removed_fails_names_it_and_the_history_keeps_it(
    drills: dict[str, Future],
) -> None:
    done, data = drills["cli"].result()  # the drill itself ran with the others
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no alert from rule failed-auth-burst" in done.stdout.replace("\n", " ").replace("│", "")
    assert "FAILED" in done.stdout and "Traceback" not in done.stderr
    # The drill never used the user's data dir for a node: only its history is there.
    assert sorted(p.name for p in data.iterdir()) == ["drills"]
    report = _cli("report", "--json", data_dir=data)
    assert report.returncode == 0, report.stderr
    (row,) = json.loads(report.stdout)
    assert row["scenario"] == "credential-stuffing" and row["status"] == "failed"
    assert row["reason"].startswith("no alert from rule failed-auth-burst")
    # run by hand with a replaced rule set: the history says so (adv-irp4b F2)
    assert (row["scheduled"], row["detections"], row["playbook"]) == (False, "custom", "shipped")
    table = _cli("report", data_dir=data)
    assert (
        table.returncode == 0 and "credential-stuffing" in table.stdout and "FAIL" in table.stdout
    )
    assert "manual" in table.stdout and "custom" in table.stdout, table.stdout  # the run column

    unknown = _cli("no-such-drill", data_dir=data)
    assert unknown.returncode == 2 and "unknown drill scenario" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    listed = _cli("list", "--json", data_dir=data)
    assert {r["scenario"] for r in json.loads(listed.stdout)} == set(SCENARIOS)


class _NoSuchDetection(Scenario):
    """A scenario whose detection does not ship (as injection-burst was before waf-block-burst)."""

    name = "no-such-detection"
    unavailable = "no shipped rule watches this"

    def attack(self, node: ThrowawayNode, work_dir: Path) -> None:
        raise AssertionError("an unavailable scenario must not run")

    def verify_contained(self, node: ThrowawayNode, incident: dict[str, Any]) -> Check:
        raise AssertionError("an unavailable scenario must not run")


def test_an_unavailable_scenario_is_reported_not_faked() -> None:
    (r,) = run_drills([_NoSuchDetection()])  # starts no node
    assert r.status == "not_available" and not r.passed and not r.checks
    assert r.reason == "not available: no shipped rule watches this"


def test_history_skips_a_torn_line_and_keeps_the_rest(tmp_path: Path) -> None:
    assert history.read(tmp_path) == ([], 0)
    history.append(tmp_path, DrillResult("credential-stuffing", 1.0, "passed", [], 0.5, 0.7))
    with history.history_path(tmp_path).open("a") as fh:
        fh.write('{"scenario": "audit-tam')  # a crash mid-write
    rows, skipped = history.read(tmp_path)
    assert [r["scenario"] for r in rows] == ["credential-stuffing"] and skipped == 1
    assert rows[0]["ttc_seconds"] == 0.7
    assert history.history_path(tmp_path).stat().st_mode & 0o077 == 0
    # lines that parse but hold bad values (an edited file) are skipped and counted too,
    # never a traceback or invalid JSON (adv-irp4b F7)
    with history.history_path(tmp_path).open("a") as fh:
        fh.write("\n")
        for bad in (
            '{"scenario": "x", "status": "passed", "started_at": 1e20}',
            '{"scenario": "x", "status": "passed", "started_at": 1e400}',
            '{"scenario": "x", "status": "passed", "started_at": 5, "ttd_seconds": "fast"}',
            '{"scenario": "x", "status": 1, "started_at": 5}',
        ):
            fh.write(bad + "\n")
    rows, skipped = history.read(tmp_path)
    assert [r["scenario"] for r in rows] == ["credential-stuffing"] and skipped == 5
    for args in (("report",), ("report", "--json")):
        done = _cli(*args, data_dir=tmp_path)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert len(json.loads(done.stdout)) == 1


def test_history_is_bounded_keeping_the_newest_runs(tmp_path: Path) -> None:
    for i in range(40):
        history.append(tmp_path, DrillResult("credential-stuffing", float(i)), max_bytes=2000)
        assert history.history_path(tmp_path).stat().st_size <= 2000
    rows, skipped = history.read(tmp_path)
    assert skipped == 0 and rows[-1]["started_at"] == 39.0 and 3 <= len(rows) < 40
    assert [r["started_at"] for r in rows] == [float(i) for i in range(40 - len(rows), 40)]
    assert history.history_path(tmp_path).stat().st_mode & 0o077 == 0
    none = _cli("report", "--scenario", "injection-burst", data_dir=tmp_path)
    assert none.returncode == 0 and "no runs of injection-burst recorded" in none.stdout
    # report-only and run-only options are checked, not ignored (adv-irp4b F12)
    for args, message in (
        (("report", "--scenario", "nope"), "--scenario: unknown drill scenario 'nope'"),
        (("credential-stuffing", "--scenario", "x"), "--scenario is for 'drill report'"),
        (("report", "--without-playbook"), "--without-playbook is for running a drill"),
    ):
        bad = _cli(*args, data_dir=tmp_path)
        text = " ".join(bad.stderr.split())
        assert bad.returncode == 2 and message in text and "Traceback" not in text, text


def test_history_says_how_each_run_was_set_up_and_sorts_by_start(tmp_path: Path) -> None:
    path = history.history_path(tmp_path)
    path.parent.mkdir(mode=0o700)
    # a line written before runs recorded their setup still reads
    path.write_text(json.dumps({"scenario": "credential-stuffing", "started_at": 30.0}) + "\n")
    history.append(tmp_path, DrillResult("injection-burst", 20.0, "passed", scheduled=True))
    history.append(
        tmp_path,
        DrillResult("credential-stuffing", 10.0, "passed", detections="custom", playbook="none"),
    )
    rows, _ = history.read(tmp_path)
    assert [r["started_at"] for r in rows] == [10.0, 20.0, 30.0]  # by start, not completion
    assert [history.setup(r) for r in rows] == [
        "manual, custom rules, no playbook",
        "scheduled",
        "-",
    ]
    custom_book = {"scheduled": False, "detections": "shipped", "playbook": "custom"}
    assert history.setup(custom_book) == "manual, custom playbook"


@pytest.mark.parametrize(
    ("timeline", "reason"),
    [
        (
            [{"kind": "step", "ts": 1.0, "text": "block_ip done"}, {"kind": "alert", "ts": 2.0}],
            "step entry 'block_ip done' comes before the alert",
        ),
        ([{"kind": "alert", "ts": 2.0}], "the incident's timeline has no step after the alert"),
        ([{"kind": "step", "ts": 3.0, "text": "x"}], "the incident's timeline has no alert entry"),
    ],
)
def test_the_timeline_check_fails_when_the_order_is_wrong(timeline: list, reason: str) -> None:
    check = check_timeline({"timeline": timeline})
    assert not check.passed and check.reason == reason
