"""Audit retention: ``--retain-audit`` prunes by itself, and the chain still verifies.

Also the option's bad input: a clear message naming it, a non-zero exit.
"""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path

import pytest

from ramparts.config import Settings
from ramparts.errors import ConfigError
from tests.conftest import RunningNode
from tests.startup import up_refused


def test_retention_prunes_old_records_and_the_chain_verifies(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data", {"RAMPARTS_RETAIN_AUDIT": "4s"}).start()
    try:
        for i in range(8):
            node.control.get(f"/v1/old-{i}", headers={"authorization": "Bearer wrong"})
        deadline = time.monotonic() + 60
        events = node.audit()
        while time.monotonic() < deadline:
            events = node.audit()
            if any(e["kind"] == "audit.anchor" for e in events) and not any(
                e["resource"].startswith("/v1/old-") for e in events
            ):
                break
            time.sleep(0.5)
        else:
            raise AssertionError(f"not pruned: {[e['kind'] for e in events]}")
        anchor = next(e for e in events if e["kind"] == "audit.anchor")
        assert anchor["detail"]["signed"]["pruned_through"] >= 8
        verdict = node.control.post("/v1/audit/verify").json()
        assert verdict["ok"], verdict["problem"]
        (part,) = verdict["partitions"]
        assert part["first_seq"] > 1
    finally:
        node.close()


def test_manual_prune_below_the_retention_is_refused(tmp_path: Path) -> None:
    """Wipe everything, then wipe the record of the wipe: refused, since a prune's own
    record must live at least one retention period."""
    node = RunningNode(tmp_path / "data").start()  # the default retention, 365 days
    try:
        for i in range(4):
            node.control.get(f"/v1/keep-{i}", headers={"authorization": "Bearer wrong"})
        r = node.control.post("/v1/audit/prune", params={"older_than": "0.001"})
        assert r.status_code == 400, r.text
        assert r.json()["code"] == "below_retention"
        out = node.cli("audit-log", "prune", "--older-than", "1s")
        assert out.returncode == 1
        assert "--older-than" in out.stdout + out.stderr
        assert "--retain-audit" in out.stdout + out.stderr
        assert "Traceback" not in out.stdout + out.stderr
        events = node.audit()
        assert sum(e["resource"].startswith("/v1/keep-") for e in events) == 4
        assert not any(e["kind"] == "audit.anchor" for e in events)
        refused = [e for e in events if e["kind"] == "audit.prune"]
        assert refused and all(e["decision"] == "deny" for e in refused)
        # At the retention itself a manual prune runs (nothing is that old yet).
        r = node.control.post("/v1/audit/prune", params={"older_than": str(365 * 86400)})
        assert r.status_code == 200 and r.json()["deleted"] == 0
    finally:
        node.close()


def test_manual_prune_keeps_the_chain_verifiable(tmp_path: Path) -> None:
    """A short retention on the node lets a manual prune delete what it is older than."""
    node = RunningNode(tmp_path / "data", {"RAMPARTS_RETAIN_AUDIT": "2s"}).start()
    try:
        for i in range(6):
            node.control.get(f"/v1/old-{i}", headers={"authorization": "Bearer wrong"})
        time.sleep(2.2)  # those records are older than the retention now
        out = node.cli("audit-log", "prune", "--older-than", "2s")
        assert out.returncode == 0, out.stdout + out.stderr
        with sqlite3.connect(node.data_dir / "state.db") as conn:
            (first,) = conn.execute("SELECT min(pseq) FROM audit_events "
                                    "WHERE part IS NOT NULL").fetchone()
        assert first > 1  # old records went, whole (by this prune or the node's own)
        events = node.audit()
        assert any(e["kind"] == "audit.anchor" for e in events)
        assert not any(e["resource"].startswith("/v1/old-") for e in events)
        verdict = node.cli("audit-log", "verify", "--json")
        assert verdict.returncode == 0, verdict.stdout
        assert json.loads(verdict.stdout)["ok"]
    finally:
        node.close()


def test_retention_setting_parses_durations(monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("RAMPARTS_RETAIN_AUDIT", "30d")
    assert Settings.from_env(tmp_path).retain_audit == 30 * 86400
    monkeypatch.setenv("RAMPARTS_RETAIN_AUDIT", "a while")
    with pytest.raises(ConfigError, match="RAMPARTS_RETAIN_AUDIT"):
        Settings.from_env(tmp_path)
    monkeypatch.delenv("RAMPARTS_RETAIN_AUDIT")
    assert Settings.from_env(tmp_path).retain_audit == 365 * 86400


def test_bad_retain_audit_option_is_refused_by_name(tmp_path: Path) -> None:
    out = up_refused(tmp_path / "data", "--retain-audit", "forever")
    assert out.returncode == 1
    assert "--retain-audit" in out.stderr + out.stdout
    assert "Traceback" not in out.stderr
    out = up_refused(tmp_path / "data", "--audit-checkpoint-interval", "0s")
    assert out.returncode == 1
    assert "--audit-checkpoint-interval" in out.stderr + out.stdout
