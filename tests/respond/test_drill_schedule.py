"""Drills the node schedules itself (``--drill-every``): on a real node with a short interval a
drill runs on its own throw-away node, lands in ``ramparts drill report`` and the audit log,
and stopping the node mid-run interrupts the drill (its throw-away node goes too) without
recording it.  Bad schedule values refuse the start, naming the option."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningNode, free_port


def _report(node: RunningNode) -> list[dict[str, Any]]:
    out = node.cli("drill", "report", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _drill_nodes(parent: int) -> list[int]:
    """Pids of the throw-away nodes ``parent`` started (``ramparts up`` children of it)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == parent and b"up" in cmdline and b"ramparts.cli.main" in cmdline:
            found.append(int(entry.name))
    return found


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"  # exited; its parent (gone too) no longer reaps it


def test_a_scheduled_drill_runs_is_reported_and_stops_with_the_node(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    node = RunningNode(
        tmp_path / "data",
        {"RAMPARTS_DRILL_EVERY": "5s", "RAMPARTS_DRILL_SCENARIOS": "credential-stuffing"},
    ).start()
    try:
        deadline = time.monotonic() + 300
        rows: list[dict[str, Any]] = []
        while not rows and time.monotonic() < deadline:
            time.sleep(1)
            rows = _report(node)
        assert rows, node.log_text()
        first = rows[0]
        assert first["scenario"] == "credential-stuffing"
        assert first["status"] == "passed", first
        assert first["ttd_seconds"] > 0 and first["ttc_seconds"] > 0
        assert (first["scheduled"], first["detections"], first["playbook"]) == (
            True,
            "shipped",
            "shipped",
        )
        runs = [e for e in node.audit() if e["kind"] == "drill.run"]
        assert runs and runs[0]["decision"] == "allow"
        assert runs[0]["resource"] == "drill:credential-stuffing"
        assert runs[0]["principal"].startswith("node:")
        # the next run starts 5 s after this one ended: stop the node while it runs
        assert node.proc is not None
        children: list[int] = []
        while not children and time.monotonic() < deadline:
            time.sleep(0.2)
            children = _drill_nodes(node.proc.pid)
        assert children, "the second scheduled run did not start"
        recorded = len(_report(node))
        node.stop()
        assert node.proc.returncode == 0, node.log_text()
        assert all(_gone(pid) for pid in children)  # the throw-away node did not outlive it
        after = _report(node)
        assert len(after) == recorded  # the interrupted run is not recorded
        assert all(r["status"] == "passed" for r in after), after
    finally:
        node.close()


def _up(data_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "ramparts.cli.main",
            "up",
            "--port",
            str(free_port()),
            "--admin-port",
            str(free_port()),
            *args,
        ],
        env={**os.environ, "RAMPARTS_DATA_DIR": str(data_dir), **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--drill-every", "soon"], {}, "--drill-every: 'soon' is not a duration"),
        (["--drill-every", "1s"], {}, "must be 0 (off) or a duration from 5s to 366d"),
        ([], {"RAMPARTS_DRILL_EVERY": "400d"}, "RAMPARTS_DRILL_EVERY) must be 0 (off)"),
        ([], {"RAMPARTS_DRILL_EVERY": "daily"}, "RAMPARTS_DRILL_EVERY: 'daily' is not a duration"),
        (
            ["--drill-every", "1h", "--drill-scenarios", "credential-stuffing,nope"],
            {},
            "unknown drill scenario 'nope'",
        ),
        (["--drill-every", "1h", "--drill-scenarios", " , "], {}, "--drill-scenarios"),
        # checked even with the schedule off, so a typo shows before it is turned on
        (
            ["--drill-every", "0", "--drill-scenarios", "nope"],
            {},
            "--drill-scenarios (RAMPARTS_DRILL_SCENARIOS): unknown drill scenario 'nope'",
        ),
        (
            [],
            {"RAMPARTS_DRILL_EVERY": "0", "RAMPARTS_DRILL_SCENARIOS": "credential-stuffing,,"},
            "RAMPARTS_DRILL_SCENARIOS): 'credential-stuffing,,' has an empty item",
        ),
        (
            ["--drill-scenarios", "credential-stuffing, credential-stuffing"],
            {},
            "scenario 'credential-stuffing' is listed twice",
        ),
    ],
)
def test_bad_schedule_values_refuse_the_start(
    tmp_path: Path, args: list[str], env: dict[str, str], message: str
) -> None:
    done = _up(tmp_path / "data", *args, **env)
    assert done.returncode != 0
    text = " ".join((done.stderr + done.stdout).split())
    assert message in text, text
    assert "Traceback" not in done.stderr


_STARTER = """
import sys, time
from pathlib import Path
from ramparts.respond.drills.node import ThrowawayNode
node = ThrowawayNode(Path(sys.argv[1]), []).start()
print(node._proc.pid, flush=True)
time.sleep(600)
"""


def test_a_throwaway_node_does_not_outlive_its_starter_killed_with_9(tmp_path: Path) -> None:
    """kill -9 skips the drill's own stop: the node notices its parent is gone, stops its
    session and removes its work dir (admin token, master key); a later drill reaps what an
    older one left behind."""
    work = tmp_path / "ramparts-drill-killed"
    work.mkdir(mode=0o700)
    # host proxy settings (a dead port) must not reach the drill's loopback clients or its
    # node (adv-irp4b F6): with them, the start would fail
    proxy = "http://127.0.0.1:9"
    env = {**os.environ, "HTTP_PROXY": proxy, "https_proxy": proxy, "ALL_PROXY": proxy}
    starter = subprocess.Popen(
        [sys.executable, "-c", _STARTER, str(work)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert starter.stdout is not None
        line = starter.stdout.readline()
        assert line.strip().isdigit(), (line, (work / "node.log").read_text(errors="replace"))
        child = int(line)
        assert (work / "data" / "admin-token").exists()
        environ = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        assert not [v for v in environ if v.split(b"=")[0].lower().endswith(b"_proxy")]
    finally:
        starter.kill()  # SIGKILL: no cleanup of its own
        starter.wait()
    deadline = time.monotonic() + 120
    while not (_gone(child) and not work.exists()) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _gone(child), "the throw-away node outlived the process that started it"
    assert not work.exists(), sorted(p.name for p in work.rglob("*"))


def test_a_drill_reaps_work_dirs_whose_owner_is_gone(tmp_path: Path) -> None:
    from ramparts.respond.drills.watchdog import reap_stale, write_owner

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    stale, live = tmp_path / "ramparts-drill-stale", tmp_path / "ramparts-drill-live"
    for d in (stale, live):
        (d / "data").mkdir(parents=True)
        (d / "data" / "admin-token").write_text("t")
        write_owner(d)  # this process: alive
    record = json.loads((stale / "owner.json").read_text())
    (stale / "owner.json").write_text(json.dumps({**record, "pid": int(dead.stdout)}))
    (tmp_path / "ramparts-drill-unowned").mkdir()  # no record: not known to be stale
    assert reap_stale(tmp_path) == [stale]
    assert not stale.exists() and live.exists() and (tmp_path / "ramparts-drill-unowned").exists()
