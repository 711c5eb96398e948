"""The drill history: one JSON line per drill run, under the operator's data dir.

``<data dir>/drills/history.jsonl`` (mode 0600 in a 0700 dir).  A file rather
than the node's state store because a drill never touches the operator's
node: it runs against its own throw-away node, and a history must survive
that node.  Lines that do not parse are skipped and counted, not fatal, so a
torn last line (a crash mid-write) does not hide the rest.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ramparts.respond.drills.base import DrillResult
from ramparts.respond.drills.errors import HistoryError

FIELDS = ("scenario", "started_at", "status", "ttd_seconds", "ttc_seconds", "incident", "reason")


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
    """(records oldest first, lines skipped as unreadable); no file is no history."""
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
        if not isinstance(row, dict) or not isinstance(row.get("scenario"), str):
            skipped += 1
            continue
        rows.append(row)
    return rows, skipped
