"""The drill history: one JSON line per drill run, under the operator's data dir.

``<data dir>/drills/history.jsonl`` (mode 0600 in a 0700 dir).  A file rather
than the node's state store because a drill never touches the operator's
node: it runs against its own throw-away node, and a history must survive
that node.  Lines that do not parse, or hold a wrong type or an out-of-range
value, are skipped and counted, not fatal, so a torn last line (a crash
mid-write) or an edited one does not hide the rest.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
from pathlib import Path
from typing import Any

from ramparts.respond.drills.base import DrillResult
from ramparts.respond.drills.errors import HistoryError

FIELDS = (
    "scenario", "started_at", "status", "ttd_seconds", "ttc_seconds", "incident", "reason",
    "scheduled", "detections", "playbook",
)  # fmt: skip


# The file is bounded: past MAX_BYTES (about 6,000 runs) the oldest lines are dropped,
# keeping the newest half, so a 5 s schedule cannot grow it (or the report's memory) forever.
MAX_BYTES = 4 * 1024 * 1024


def setup(row: dict[str, Any]) -> str:
    """How a recorded run was set up: ``scheduled`` or ``manual``, then what differed from
    the shipped chain (``custom rules``, ``custom playbook``, ``no playbook``); ``-`` for a
    line written before runs recorded it."""
    if "scheduled" not in row:
        return "-"
    parts = ["scheduled" if row.get("scheduled") else "manual"]
    if row.get("detections", "shipped") != "shipped":
        parts.append("custom rules")
    book = row.get("playbook", "shipped")
    if book == "none":
        parts.append("no playbook")
    elif book != "shipped":
        parts.append("custom playbook")
    return ", ".join(parts)


def history_path(data_dir: Path) -> Path:
    return data_dir / "drills" / "history.jsonl"


def append(data_dir: Path, result: DrillResult, *, max_bytes: int = MAX_BYTES) -> Path:
    """Append ``result``; past ``max_bytes`` the oldest lines go, keeping the newest half.

    Writers (a node's schedule, a manual ``ramparts drill``) take an exclusive lock on the
    file; the prune writes the kept lines to a new file and renames it over the old one, so
    a crash mid-prune loses nothing, and a writer that opened the old file re-opens it.
    """
    path = history_path(data_dir)
    line = json.dumps(result.to_dict(), sort_keys=True) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        while True:
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
            with os.fdopen(fd, "r+", encoding="utf-8") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                if os.fstat(fd).st_ino != os.stat(path).st_ino:
                    continue  # pruned (replaced) while we waited for the lock
                fh.write(line)
                fh.flush()
                if os.fstat(fd).st_size > max_bytes:
                    _prune(path, fh, max_bytes // 2)
                return path
    except OSError as exc:
        raise HistoryError(f"cannot write the drill history {path}: {exc.strerror}") from exc


def _prune(path: Path, fh: Any, keep: int) -> None:
    """Replace ``path`` by its newest whole lines totalling at most ``keep`` bytes."""
    fh.seek(0)
    lines = fh.read().splitlines(keepends=True)
    kept: list[str] = []
    size = 0
    for line in reversed(lines):
        size += len(line.encode("utf-8"))
        if size > keep and kept:
            break
        kept.append(line)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.writelines(reversed(kept))
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


def read(data_dir: Path) -> tuple[list[dict[str, Any]], int]:
    """(records by start time, oldest first; lines skipped as unreadable); no file is no
    history.  The file is in completion order: a manual run overlapping a scheduled one
    ends later but may have started earlier."""
    path = history_path(data_dir)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return [], 0
    except OSError as exc:
        raise HistoryError(f"cannot read the drill history {path}: {exc.strerror}") from exc
    rows: list[dict[str, Any]] = []
    skipped = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            skipped += 1
            continue
        if not _well_formed(row):
            skipped += 1
            continue
        rows.append(row)
    rows.sort(key=_started)  # stable: equal times keep the file's order
    return rows, skipped


_LATEST = 253402300799  # 9999-12-31T23:59:59Z, the last time a date can show


def _number(value: Any, high: float) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 <= value <= high
    )


def _well_formed(row: Any) -> bool:
    """A line parses but holds wrong types or out-of-range values (an edited file): it is
    skipped and counted like a torn one rather than breaking the report (or its JSON:
    ``1e400`` parses to infinity)."""
    if not isinstance(row, dict) or not isinstance(row.get("scenario"), str):
        return False
    if not _number(row.get("started_at"), _LATEST):
        return False
    if any(
        row.get(k) is not None and not _number(row[k], _LATEST)
        for k in ("ttd_seconds", "ttc_seconds")
    ):
        return False
    if any(
        row.get(k) is not None and not isinstance(row[k], str)
        for k in ("status", "reason", "incident", "detections", "playbook")
    ):
        return False
    return "scheduled" not in row or isinstance(row["scheduled"], bool)


def _started(row: dict[str, Any]) -> float:
    value = row.get("started_at")
    return float(value) if isinstance(value, int | float) else 0.0
