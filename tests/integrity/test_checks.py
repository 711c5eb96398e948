"""Damaged and lost data is detected at start and by ``ramparts doctor``, against real nodes.

The attacks are the fault-injection run's: random bytes in the embedded bus's
WAL after a ``kill -9`` (SQLite then silently drops every later transaction)
and random bytes inside ``state.db``.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app
from tests.startup import corrupt, up_refused, wal_frames

MANIFEST = """
app: backlog
functions:
  slow:
    handler: h.py:handler
    concurrency: 1
    timeout: 30s
    triggers:
      - topic: {name: work, retries: 5, backoff: 100ms}
"""

HANDLER = """
import time


def handler(event, context):
    time.sleep(20)  # keeps the backlog queued while the test kills the node
"""

pytestmark = pytest.mark.timeout(400)  # several node starts on a busy machine

_MISSING = re.compile(r"(\d+) accepted messages are missing")


def _backlog(tmp_path: Path, total: int) -> RunningNode:
    """A node with ``total`` accepted messages queued, killed with SIGKILL."""
    node = RunningNode(tmp_path / "data").start()
    try:
        node.deploy_ok(make_app(tmp_path / "app", MANIFEST, {"h.py": HANDLER}))
        for n in range(total):
            r = node.control.post("/v1/topics/work/publish", json={"message": {"n": n}})
            assert r.status_code == 200, r.text
        node.kill9()
    finally:
        node.close()
    return node


def test_corrupted_bus_wal_after_kill_9_refuses_start_then_accept_is_audited(
    tmp_path: Path,
) -> None:
    total = 40
    node = _backlog(tmp_path, total)
    data = node.data_dir
    wal = data / "bus.db-wal"
    frames, frame = wal_frames(wal)
    assert frames > 4, f"the kill left no WAL to damage ({frames} frames)"
    # 64 bytes inside the page of a middle frame: SQLite's recovery drops it and all after.
    corrupt(wal, 32 + (frames // 2) * frame + 24 + 100, 64)

    out = up_refused(data)
    assert out.returncode == 3, out.stderr
    text = " ".join(out.stderr.split())
    assert str(data / "bus.db") in text
    assert "accepted-count" in text
    lost = _MISSING.search(text)
    assert lost is not None, text
    assert 0 < int(lost.group(1)) <= total
    assert "--accept-data-loss" in text and "what to do" in text
    assert "Traceback" not in out.stderr
    # doctor sees the same, and exits non-zero
    doctor = node.cli("doctor")
    assert doctor.returncode == 3, doctor.stdout + doctor.stderr
    assert f"{lost.group(1)} accepted messages are missing" in " ".join(doctor.stderr.split())

    # The operator accepts the loss: the node starts and the audit log says what was lost.
    accepted = RunningNode(data)
    accepted.command = lambda: [*RunningNode.command(accepted), "--accept-data-loss"]  # type: ignore[method-assign]
    try:
        accepted.start()
        deadline = time.monotonic() + 30
        events: list[dict] = []
        while time.monotonic() < deadline and not events:
            events = [e for e in accepted.audit() if e["kind"] == "storage.data_loss_accepted"]
            time.sleep(0.2)
        assert events, "no audit event for the accepted loss"
        detail = events[0]["detail"]
        assert detail["check"] == "accepted-count"
        assert detail["missing_messages"] == int(lost.group(1))
        assert events[0]["resource"] == "file:bus.db"
    finally:
        accepted.close()
    # Accepted once is accepted: a normal start after it is not refused again.
    again = RunningNode(data).start()
    again.close()
    assert node.cli("doctor").returncode == 0


def test_random_bytes_inside_state_db_refuse_start_naming_quick_check(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data").start()
    node.close()  # a clean stop: the WAL is folded into state.db
    state = node.data_dir / "state.db"
    assert state.stat().st_size > 8 * 4096
    corrupt(state, 2 * 4096, 8 * 1024)

    out = up_refused(node.data_dir)
    assert out.returncode == 3, out.stderr
    text = " ".join(out.stderr.split())
    assert str(state) in text and "quick_check" in text
    assert "restore state.db from a backup" in text
    assert "Traceback" not in out.stderr

    doctor = node.cli("doctor")
    assert doctor.returncode == 3
    assert "quick_check" in doctor.stderr and "state.db" in doctor.stderr
    as_json = node.cli("doctor", "--json")
    assert as_json.returncode == 3
    assert '"check": "quick_check"' in as_json.stdout


def test_doctor_passes_a_healthy_data_dir_running_and_stopped(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data").start()
    try:
        assert node.control.get("/v1/status").status_code == 200
        running = node.cli("doctor")
        assert running.returncode == 0, running.stdout + running.stderr
        assert "state.db: quick_check ok" in running.stdout
        assert "bus.db: accepted-message count ok" in running.stdout
    finally:
        node.close()
    stopped = node.cli("doctor")
    assert stopped.returncode == 0, stopped.stdout + stopped.stderr
    assert "clean-stop marker" not in stopped.stderr


def test_doctor_without_a_data_dir_says_so(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "nothing-here")
    out = node.cli("doctor")
    assert out.returncode == 1
    assert "no data dir" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("name", ["state.db", "bus.db", "bus.db.accepted"])
def test_a_directory_in_place_of_a_data_file_is_named_not_called_damage(
    tmp_path: Path, name: str
) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / name).mkdir()
    for out in (RunningNode(data).cli("doctor"), up_refused(data)):
        assert out.returncode == 1, out.stdout + out.stderr
        assert "is not a regular file" in out.stderr and name in out.stderr, out.stderr
        assert "Traceback" not in out.stderr and "damaged" not in out.stderr


def test_accepting_a_state_store_that_cannot_open_still_names_why(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    (data / "state.db").write_bytes(b"not a database, just what was left on the disk\n" * 200)
    refused = up_refused(data)
    assert refused.returncode == 3 and "quick_check" in refused.stderr
    out = up_refused(data, "--accept-data-loss")
    assert out.returncode == 1
    assert "cannot open state store" in out.stderr and "file is not a database" in out.stderr
    assert "Traceback" not in out.stderr
