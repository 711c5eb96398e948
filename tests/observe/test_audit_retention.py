"""Audit retention: ``--retain-audit`` prunes by itself, and the chain still verifies.

Also the option's bad input: a clear message naming it, a non-zero exit.
"""

from __future__ import annotations

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
