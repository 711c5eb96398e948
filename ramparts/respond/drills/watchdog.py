"""A throw-away node must not outlive whoever started it.

The drill's node runs in a session of its own (so a stop reaches its workers),
which also means nothing stops it when its starter dies without cleaning up
(``kill -9``, the OOM killer, a closed terminal).  Two guards:

- In the node: ``ThrowawayNode`` passes its own pid in ``RAMPARTS_DRILL_PARENT``
  (internal, not an operator setting).  ``guard`` (called by ``ramparts up``)
  starts a thread that polls the node's parent pid; once it is no longer that
  pid (the parent died and the node was reparented), the node stops its session
  the way a drill's stop does (SIGTERM, a clean shutdown), removes its drill
  work dir (data dir with the admin token and master key, log) and SIGKILLs what
  is left of its session.  Polling ``getppid`` rather than ``PR_SET_PDEATHSIG``:
  the latter fires when the parent *thread* ends, and a scheduled drill starts
  its node from a worker thread.
- At the start of a drill: ``reap_stale`` removes ``ramparts-drill-*`` dirs in
  the temp dir whose recorded owner (pid and start time, so a reused pid is not
  taken for it) is gone, after killing their node's session if it still runs.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import shutil
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PARENT_ENV = "RAMPARTS_DRILL_PARENT"
PREFIX = "ramparts-drill-"
OWNER_FILE = "owner.json"
POLL = 0.5  # seconds between looks at the parent
GRACE = 30.0  # for the clean shutdown before the session is killed

log = logging.getLogger("ramparts.respond")


def start_time(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (None: no such process)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return None  # exited, not yet reaped
    return int(fields[19])


def write_owner(work_dir: Path, node_pid: int | None = None) -> None:
    """Record who owns ``work_dir`` (this process) and, once started, its node."""
    me = os.getpid()
    record: dict[str, Any] = {"pid": me, "start": start_time(me)}
    if node_pid is not None:
        record.update(node=node_pid, node_start=start_time(node_pid))
    tmp = work_dir / (OWNER_FILE + ".tmp")
    tmp.write_text(json.dumps(record))
    tmp.replace(work_dir / OWNER_FILE)


def _alive(pid: Any, start: Any) -> bool:
    return isinstance(pid, int) and pid > 0 and start is not None and start_time(pid) == start


def reap_stale(root: Path | None = None) -> list[Path]:
    """Remove the drill work dirs under ``root`` (the temp dir) whose owner is gone."""
    root = root or Path(tempfile.gettempdir())
    reaped: list[Path] = []
    uid = os.getuid()
    for work in root.glob(PREFIX + "*"):
        try:
            if work.stat().st_uid != uid:
                continue
            owner = json.loads((work / OWNER_FILE).read_text())
        except (OSError, ValueError):
            continue  # not ours, or its owner has not written the record yet
        if not isinstance(owner, dict) or _alive(owner.get("pid"), owner.get("start")):
            continue
        node = owner.get("node")
        if _alive(node, owner.get("node_start")):
            with contextlib.suppress(OSError):
                os.killpg(node, signal.SIGKILL)  # its own session: pgid == pid
        shutil.rmtree(work, ignore_errors=True)
        log.warning(
            "removed the drill work dir %s left by a stopped drill (pid %s)", work, owner.get("pid")
        )
        reaped.append(work)
    return reaped


def guard(data_dir: Path) -> None:
    """In a drill's node (``RAMPARTS_DRILL_PARENT`` set): stop when that parent is gone."""
    raw = os.environ.pop(PARENT_ENV, None)  # not passed on to workers
    if raw is None:
        return
    try:
        parent = int(raw)
    except ValueError:
        return
    work = data_dir.parent
    try:
        owner = json.loads((work / OWNER_FILE).read_text())
    except (OSError, ValueError):
        return  # only a work dir a drill made (and its node, a session leader) is guarded
    if owner.get("pid") != parent or not work.name.startswith(PREFIX):
        return
    if os.getpgrp() != os.getpid():
        return
    threading.Thread(target=_watch, args=(parent, work), name="drill-watchdog", daemon=True).start()


def _watch(parent: int, work: Path) -> None:
    while os.getppid() == parent:
        time.sleep(POLL)
    log.warning("the drill that started this node (pid %d) is gone: stopping", parent)
    atexit.register(_finish, work)  # after the clean shutdown below
    with contextlib.suppress(OSError):
        os.killpg(os.getpgrp(), signal.SIGTERM)  # like the drill's own stop
    time.sleep(GRACE)
    _finish(work)  # the shutdown hung


def _finish(work: Path) -> None:
    shutil.rmtree(work, ignore_errors=True)
    with contextlib.suppress(OSError):
        os.killpg(os.getpgrp(), signal.SIGKILL)  # workers, zygote, this process
