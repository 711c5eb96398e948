"""What only the embedded bus promises: one file, one process, owner-only."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from ramparts.bus import embedded, open_bus
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


async def _filled(path: Path, ids: list[str]) -> None:
    bus = open_bus(f"embedded://{path}")
    await bus.open()
    try:
        for message_id in ids:
            await bus.enqueue("q", b"x", message_id=message_id)
    finally:
        await bus.close()


def _copy_db(src: Path, dst: Path) -> None:
    dst.mkdir()
    for name in ("bus.db", "bus.db-wal"):
        if (src / name).exists():
            shutil.copy2(src / name, dst / name)


async def test_accepted_messages_lost_from_the_file_are_counted(tmp_path: Path) -> None:
    """A file rolled back behind what it accepted (a restored copy here; a WAL whose
    later frames SQLite dropped in the field) is refused, with the loss counted."""
    data = tmp_path / "data"
    path = data / "bus.db"
    await _filled(path, ["a", "b", "b"])  # a duplicate id is not a new accepted message
    assert embedded.inspect_file(path) == embedded.AcceptedStatus(2, 2)
    _copy_db(data, tmp_path / "backup")
    await _filled(path, ["c", "d", "e"])
    for name in ("bus.db", "bus.db-wal"):
        (data / name).unlink(missing_ok=True)
        if (tmp_path / "backup" / name).exists():
            shutil.copy2(tmp_path / "backup" / name, data / name)
    status = embedded.inspect_file(path)
    assert (status.recorded, status.present, status.missing) == (5, 2, 3)
    with pytest.raises(BackendError, match="3 accepted messages are missing"):
        await open_bus(f"embedded://{path}").open()
    assert embedded.inspect_file(path).missing == 3  # refusing changed nothing
    assert embedded.accept_loss(path).missing == 3
    assert embedded.inspect_file(path) == embedded.AcceptedStatus(5, 5)
    await _filled(path, ["f"])  # opens again, and the count goes on from the accepted one
    assert embedded.inspect_file(path) == embedded.AcceptedStatus(6, 6)


async def test_a_missing_or_damaged_count_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bus.db"
    await _filled(path, ["a"])
    sidecar = tmp_path / "bus.db.accepted"
    good = sidecar.read_bytes()
    sidecar.write_bytes(good[:-1] + bytes([good[-1] ^ 1]))
    assert embedded.inspect_file(path).unverifiable
    with pytest.raises(BackendError, match="count file is damaged"):
        await open_bus(f"embedded://{path}").open()
    sidecar.unlink()
    with pytest.raises(BackendError, match="count file is missing"):
        await open_bus(f"embedded://{path}").open()
    embedded.accept_loss(path)
    await _filled(path, ["b"])
    assert embedded.inspect_file(path) == embedded.AcceptedStatus(2, 2)


async def test_publishes_are_fsynced_acks_and_leases_are_not(tmp_path: Path) -> None:
    """An enqueue always commits with synchronous=FULL, even right after acks.

    Leases and acks commit with NORMAL (in the WAL, not fsynced): losing one in
    a power cut only redelivers.  An enqueue must never inherit that setting.
    """
    bus = open_bus(f"embedded://{tmp_path}/bus.db")
    assert isinstance(bus, embedded.EmbeddedBus)
    await bus.open()

    async def setting() -> int:
        return await bus._run(lambda: bus._db().execute("PRAGMA synchronous").fetchone()[0])

    try:
        await bus.enqueue("q", b"one")
        assert await setting() == 2  # FULL
        got = await bus.receive("q", max_messages=10, wait=0.0)
        assert await setting() == 1  # NORMAL
        await bus.ack_many(got)
        assert await setting() == 1
        await bus.enqueue("q", b"two")
        assert await setting() == 2
        (msg,) = await bus.receive("q", max_messages=10, wait=0.0)
        await bus.retry(msg, delay=0.0)
        await bus.enqueue("q", b"three")
        assert await setting() == 2
        assert await bus.depth("q") == 2
    finally:
        await bus.close()
    # What was acked stays acked, what was enqueued stays, across a reopen.
    bus = open_bus(f"embedded://{tmp_path}/bus.db")
    await bus.open()
    try:
        bodies = sorted(m.body for m in await bus.receive("q", max_messages=10, wait=0.0))
        assert bodies == [b"three", b"two"]
    finally:
        await bus.close()


async def test_concurrent_acks_share_commits_and_all_land(tmp_path: Path) -> None:
    """Group commit: acks issued together all return committed, across a reopen."""
    url = f"embedded://{tmp_path}/bus.db"
    bus = open_bus(url)
    await bus.open()
    try:
        for n in range(60):
            await bus.enqueue("q", str(n).encode())
        got = await bus.receive("q", max_messages=60, wait=0.0)
        assert len(got) == 60
        keep, acked = got[:10], got[10:]
        await asyncio.gather(*(bus.ack_many(acked[i:i + 5]) for i in range(0, 50, 5)))
        assert await bus.depth("q") == 10
    finally:
        await bus.close()
    bus = open_bus(url)
    await bus.open()
    try:
        left = await bus.receive("q", max_messages=60, wait=0.0)
        assert sorted(m.body for m in left) == sorted(m.body for m in keep)
    finally:
        await bus.close()
