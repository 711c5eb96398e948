"""The drill history: one JSON line per drill run, under the operator's data dir.

``<data dir>/drills/history.jsonl`` (mode 0600 in a 0700 dir).  A file rather
than the node's state store because a drill never touches the operator's
node: it runs against its own throw-away node, and a history must survive
that node.  Lines that do not parse, or hold a wrong type or an out-of-range
value, are skipped and counted, not fatal, so a torn last line (a crash
mid-write) or an edited one does not hide the rest.
"""

from __future__ import annotations

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


def append(data_dir: Path, result: DrillResult) -> Path:
    path = history_path(data_dir)
    record = result.to_dict()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
    except OSError as exc:
        raise HistoryError(f"cannot write the drill history {path}: {exc.strerror}") from exc
    return path


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
