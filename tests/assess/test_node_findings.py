"""Posture findings that depend on how the node runs: TLS off its loopback, a broken audit
chain, and advisories found in a live version after its deploy.  Each starts its node so."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ramparts.respond.ruleset import load_rules
from tests.conftest import RunningNode
from tests.registry.test_advisory_check import advisory_dir, plant
from tests.registry.test_sbom import deps_app
from tests.sandbox.test_node_sandbox import _NodeWithoutNamespaces as NodeWithoutNamespaces

APPS = Path(__file__).parent / "apps"


class PlainHttpNode(RunningNode):
    """A node whose gateway listens on every address without TLS (``--insecure-http``)."""

    def command(self) -> list[str]:
        return [*super().command(), "--host", "0.0.0.0", "--insecure-http"]  # noqa: S104


def audit_json(node: RunningNode, *args: str) -> dict[str, Any]:
    done = node.cli("audit", "--format", "json", *args)
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout)


def rules(report: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for f in report["findings"]:
        out.setdefault(f["rule"], []).append(f)
    return out


@pytest.fixture(scope="module")
def plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    node = PlainHttpNode(tmp_path_factory.mktemp("plain") / "data", {"RAMPARTS_ADVISORIES": "off"})
    node.start()
    try:
        yield node
    finally:
        node.close()


def test_plain_http_off_loopback_is_critical(plain: RunningNode) -> None:
    found = rules(audit_json(plain)).get("RP-A010", [])
    assert [(f["resource"], f["severity"], f["scope"]) for f in found] == [
        ("gateway 0.0.0.0", "critical", "node")
    ]
    assert "--insecure-http" in found[0]["evidence"]


def test_a_failed_chain_verification_is_critical(plain: RunningNode) -> None:
    assert plain.cli("audit-log", "verify").returncode == 0
    assert "RP-A014" not in rules(audit_json(plain))
    with sqlite3.connect(plain.data_dir / "state.db", timeout=60) as db:
        seq = db.execute("SELECT min(seq) FROM audit_events WHERE hash IS NOT NULL").fetchone()[0]
        db.execute("UPDATE audit_events SET principal = 'intruder' WHERE seq = ?", (seq,))
    broken = plain.cli("audit-log", "verify")
    assert broken.returncode != 0, broken.stdout
    found = rules(audit_json(plain))
    assert [f["resource"] for f in found["RP-A014"]] == ["audit log"]
    assert "failed" in found["RP-A014"][0]["evidence"]
    assert "RP-A013" not in found  # verified recently, and failing: one finding, the critical one


def test_an_advisory_found_after_deploy_names_the_live_version(tmp_path: Path) -> None:
    root = advisory_dir(tmp_path / "osv")
    node = RunningNode(tmp_path / "data", {"RAMPARTS_ADVISORIES": str(root)}).start()
    try:
        deployed = node.deploy_ok(deps_app(tmp_path / "a", "deps", "deps-fn", "auditdep"))
        version = deployed["functions"][0]["version"]
        before = rules(audit_json(node, "--app", "deps"))
        # a source and the daily re-check are configured, and the node is not a day old
        assert "RP-A017" not in before and "RP-A018" not in before
        plant(root, "TEST-2026-0099", "auditdep")
        assert node.cli("advisories", "check").returncode == 1  # a hit
        after = rules(audit_json(node, "--app", "deps"))
        assert [(f["resource"], f["function"]) for f in after["RP-A017"]] == [
            (f"function:deps-fn:{version[:12]} auditdep 1.0", "deps-fn")
        ]
        assert after["RP-A017"][0]["evidence"] == "TEST-2026-0099 (high), fixed in 1.1"
        assert "RP-A018" not in after
        # the source goes away: the next re-check fails, and the audit says so
        root.rename(tmp_path / "gone")
        assert node.cli("advisories", "check").returncode != 0
        failing = rules(audit_json(node, "--app", "deps"))
        assert "found no advisory source" in failing["RP-A018"][0]["evidence"]
        assert "RP-A017" in failing  # what was found stays found
    finally:
        node.close()


def test_a_degraded_sandbox_names_each_missing_layer(tmp_path: Path) -> None:
    node = NodeWithoutNamespaces(tmp_path / "data", "--allow-degraded-sandbox")
    node.env["RAMPARTS_ADVISORIES"] = "off"
    node.start()
    try:
        found = rules(audit_json(node)).get("RP-A015", [])
        assert "sandbox:user_namespace" in {f["resource"] for f in found}
        assert all(f["severity"] == "high" and f["scope"] == "node" for f in found)
    finally:
        node.close()


class BroadProxyNode(RunningNode):
    """A node that trusts X-Forwarded-For from one proxy, a /12 and a public network."""

    def command(self) -> list[str]:
        return [*super().command(), "--forwarded-allow-ips", "127.0.0.1,10.0.0.0/12,1.2.3.0/28"]


def test_broad_or_public_trusted_proxies_are_flagged(tmp_path: Path) -> None:
    # issue 17 F8: every client inside a trusted network chooses its own address
    node = BroadProxyNode(tmp_path / "data").start()
    try:
        found = rules(audit_json(node)).get("RP-A022", [])
    finally:
        node.close()
    assert sorted((f["resource"], f["severity"], f["scope"]) for f in found) == [
        ("forwarded-allow-ips 1.2.3.0/28", "high", "node"),
        ("forwarded-allow-ips 10.0.0.0/12", "high", "node"),
    ]
    evidence = {f["resource"]: f["evidence"] for f in found}
    assert "holds public addresses" in evidence["forwarded-allow-ips 1.2.3.0/28"]
    assert "wider than /24" in evidence["forwarded-allow-ips 10.0.0.0/12"]


def test_no_trusted_proxies_no_proxy_finding(plain: RunningNode) -> None:
    assert "RP-A022" not in rules(audit_json(plain))


# -- immutable infrastructure, incident response, audits (RP-A024..RP-A026) --------------------
def test_a_version_altered_after_deploy_fails_its_integrity_check(
    plain: RunningNode, tmp_path: Path
) -> None:
    plain.deploy_ok(APPS / "good")
    assert "RP-A024" not in rules(audit_json(plain, "--app", "good"))
    with sqlite3.connect(plain.data_dir / "state.db", timeout=60) as db:
        (artifact,) = db.execute(
            "SELECT DISTINCT artifact FROM versions WHERE function = 'health'"
        ).fetchone()
    handler = plain.data_dir / "artifacts" / artifact / "health.py"
    handler.write_text(handler.read_text() + "\nBACKDOOR = True\n")
    found = rules(audit_json(plain, "--app", "good"))["RP-A024"]
    assert sorted(f["function"] for f in found) == ["health", "orders"]  # one tree, two functions
    assert all(f["severity"] == "critical" and f["scope"] == "app" for f in found)
    assert all(f["evidence"].startswith("artifact_tampered: ") for f in found)
    assert all(f["evidence"].endswith("(alias live)") for f in found)


def test_high_and_critical_rules_without_a_playbook_are_named(
    plain: RunningNode, tmp_path: Path
) -> None:
    severe = {r.id for r in load_rules() if r.severity in ("high", "critical")}
    assert severe  # the shipped rules have some

    def uncovered() -> set[str]:
        found = rules(audit_json(plain)).get("RP-A025", [])
        assert all(f["scope"] == "node" and f["severity"] == "medium" for f in found)
        return {f["resource"].removeprefix("rule:") for f in found}

    assert uncovered() == severe  # a node starts with no playbook
    one = sorted(severe)[0]
    book = tmp_path / "books.yaml"
    book.write_text(
        "playbooks:\n"
        f"  - name: audit-one\n    match: {{rules: [{one}]}}\n"
        "    actions: [{snapshot_evidence: {window: 10m}}]\n"
    )
    assert plain.cli("playbook", "apply", str(book)).returncode == 0
    try:
        assert uncovered() == severe - {one}
        book.write_text(
            "playbooks:\n"
            "  - name: audit-high\n    match: {severity: high}\n"
            "    actions: [{snapshot_evidence: {window: 10m}}]\n"
        )
        assert plain.cli("playbook", "apply", str(book)).returncode == 0
        assert uncovered() == set()
    finally:
        for name in ("audit-one", "audit-high"):
            plain.cli("playbook", "delete", name)


def test_a_posture_audit_not_run_recently_is_reported(plain: RunningNode) -> None:
    audit_json(plain)  # a run, recorded after its report
    assert "RP-A026" not in rules(audit_json(plain))
    found = rules(audit_json(plain, "--audit-max-age", "0"))["RP-A026"]
    assert [(f["resource"], f["severity"], f["scope"]) for f in found] == [
        ("posture audit", "low", "node")
    ]
    assert found[0]["evidence"].startswith("last ramparts audit run ")
