"""The budget and throttle settings are checked at start, naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.config import Settings
from ramparts.errors import ConfigError


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("RAMPARTS_THROTTLE_WAIT", "-1", "RAMPARTS_THROTTLE_WAIT"),
        ("RAMPARTS_THROTTLE_WAIT", "31", "RAMPARTS_THROTTLE_WAIT"),
        ("RAMPARTS_THROTTLE_WAIT", "nan", "RAMPARTS_THROTTLE_WAIT"),
        ("RAMPARTS_THROTTLE_WAIT", "soon", "RAMPARTS_THROTTLE_WAIT"),
        ("RAMPARTS_BUDGET_FLUSH_INTERVAL", "0", "RAMPARTS_BUDGET_FLUSH_INTERVAL"),
        ("RAMPARTS_BUDGET_FLUSH_INTERVAL", "61", "RAMPARTS_BUDGET_FLUSH_INTERVAL"),
        ("RAMPARTS_BUDGET_CLOCK_OFFSET", "90000", "RAMPARTS_BUDGET_CLOCK_OFFSET"),
        ("RAMPARTS_BUDGET_CLOCK_OFFSET", "inf", "RAMPARTS_BUDGET_CLOCK_OFFSET"),
    ],
)
def test_out_of_range_settings_are_refused(
    env: str, value: str, named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as err:
        Settings.from_env(tmp_path)
    assert named in err.value.message


def test_defaults(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert (s.throttle_wait, s.budget_flush_interval, s.budget_clock_offset) == (0.1, 1.0, 0.0)
