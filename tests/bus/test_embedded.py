"""What only the embedded bus promises: one file, one process, owner-only."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from ramparts.bus import open_bus
from ramparts.errors import BackendError, ConfigError


@pytest.mark.parametrize(
    "url",
    [
        "embedded://bus.db",  # "bus.db" is a host here, not a path
        "embedded://host/tmp/bus.db",
        "embedded:///tmp/dir/",
        "embedded:///tmp/bus.db?mode=memory",
    ],
)
def test_url_must_name_an_absolute_file(url: str) -> None:
    with pytest.raises(ConfigError):
        open_bus(url)


async def test_a_second_process_or_instance_is_kept_out(tmp_path: Path) -> None:
    url = f"embedded://{tmp_path}/bus.db"
    first = open_bus(url)
    await first.open()
    try:
        with pytest.raises(BackendError, match="in use by another process"):
            await open_bus(url).open()
    finally:
        await first.close()
    second = open_bus(url)  # free again once the first closed
    await second.open()
    await second.close()


async def test_files_are_owner_only_and_durable(tmp_path: Path) -> None:
    path = tmp_path / "data" / "bus.db"
    bus = open_bus(f"embedded://{path}")
    await bus.open()
    try:
        await bus.enqueue("q", b"secret payload")
        for file in [path, path.with_name("bus.db-wal")]:
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, file
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        with sqlite3.connect(path) as conn:
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        await bus.close()


async def test_unopened_bus_raises_backend_error(tmp_path: Path) -> None:
    bus = open_bus(f"embedded://{tmp_path}/bus.db")
    with pytest.raises(BackendError, match="not open"):
        await bus.enqueue("q", b"x")
