"""The checks themselves: SQLite quick_check and the bus's accepted-message count.

Every check opens the files read-only, so it never changes what it inspects
(a refused start leaves the evidence as it was) and is safe next to a
running node, which is what lets ``ramparts doctor`` run at any time.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ramparts.bus import embedded
from ramparts.config import Settings
from ramparts.errors import BackendError, ConfigError
from ramparts.integrity.marker import was_clean
from ramparts.integrity.report import Problem, Report

# quick_check reads every page: cheap for small files, so they are checked at every
# start; bigger ones only after an unclean stop (and always by `ramparts doctor`).
QUICK_CHECK_ALWAYS_BELOW = 256 * 1024 * 1024
_QUICK_CHECK_LINES = 5  # the first few complaints say enough


def check_data_dir(settings: Settings, *, full: bool = False) -> Report:
    """Check the embedded backends' files under ``settings``; never writes to them.

    ``full`` runs quick_check whatever the size (``ramparts doctor``).
    """
    clean = was_clean(settings.data_dir)
    report = Report(clean_stop=clean)
    state = _sqlite_file(settings.state_url)
    bus = _bus_file(settings.bus_url)
    if state is None:
        report.notes.append("state store is not embedded SQLite: its server checks it")
    if bus is None:
        report.notes.append("bus is not the embedded bus: its server checks it")
    sidecar = None if bus is None else bus.with_name(bus.name + ".accepted")
    for path in (state, bus, sidecar):
        _not_in_the_way(path)
    for path, kind in ((state, "state"), (bus, "bus")):
        if path is None or not path.exists():
            continue
        size = _size(path)
        if full or not clean or size <= QUICK_CHECK_ALWAYS_BELOW:
            _quick_check(report, path, kind)
        else:
            report.notes.append(
                f"{path.name}: quick_check skipped ({size // (1024 * 1024)} MiB after a clean "
                "stop); run 'ramparts doctor' to check it"
            )
    if bus is not None:
        _accepted_count(report, bus)
    return report


def accept(report: Report) -> None:
    """Let a node start after the operator accepted ``report``'s losses.

    The bus's count is brought back in line with its file, so the next start
    does not report the same, already accepted, loss again.  Damaged pages
    stay damaged: quick_check keeps failing until the file is repaired.
    """
    for problem in report.problems:
        if problem.check == "accepted-count":
            try:
                embedded.accept_loss(problem.file)
            except sqlite3.Error as exc:
                raise BackendError(f"cannot update {problem.file}: {exc}") from exc


# -- the checks ------------------------------------------------------------------------------


def _quick_check(report: Report, path: Path, kind: str) -> None:
    try:
        conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=30.0)
        try:
            rows = conn.execute("PRAGMA quick_check").fetchmany(_QUICK_CHECK_LINES)
        finally:
            conn.close()
        lines = [str(r[0]) for r in rows]
    except sqlite3.Error as exc:  # "file is not a database", "database disk image is malformed"
        lines = [str(exc)]
    if lines == ["ok"]:
        report.passed.append(f"{path.name}: quick_check ok")
        return
    report.problems.append(
        Problem(
            file=path,
            check="quick_check",
            detail="; ".join(lines),
            lost=_LOST[kind],
            advice=_ADVICE[kind].format(name=path.name, dir=path.parent),
        )
    )


def _not_in_the_way(path: Path | None) -> None:
    """A directory (or anything but a file) where a data file belongs is not damage.

    quick_check would call it a disk I/O error and advise on damaged pages;
    the operator needs to hear that something is in the way instead.
    """
    if path is not None and path.exists() and not path.is_file():
        raise ConfigError(
            f"{path} is not a regular file (a directory or something else is in the way): "
            "move it aside and start again"
        )


def _accepted_count(report: Report, path: Path) -> None:
    try:
        status = embedded.inspect_file(path)
    except sqlite3.Error as exc:
        if any(p.file == path for p in report.problems):
            return  # quick_check already said the file cannot be read
        report.problems.append(
            Problem(
                file=path,
                check="accepted-count",
                detail=f"cannot read the accepted-message count: {exc}",
                lost="unknown: the file cannot be read",
                advice=_ADVICE["bus"].format(name=path.name, dir=path.parent),
            )
        )
        return
    if not (status.missing or status.unverifiable):
        report.passed.append(f"{path.name}: accepted-message count ok ({status.present})")
        return
    lost = (
        f"{status.missing} accepted messages are missing"
        if status.missing
        else "unknown: accepted messages may be missing"
    )
    report.problems.append(
        Problem(
            file=path,
            check="accepted-count",
            detail=embedded.describe_status(status),
            lost=lost,
            advice=(
                f"keep a copy of {path.name}, {path.name}-wal and {path.name}.accepted from "
                f"{path.parent}; if the lost messages matter, restore {path.name} from a backup "
                "or publish them again. Starting with --accept-data-loss keeps what is left and "
                "records the loss in the audit log"
            ),
            missing_messages=status.missing,
        )
    )


_LOST = {
    "state": (
        "rows in the damaged pages are unreadable: deployed versions, KV items, objects, "
        "secrets, keys or audit events may be affected"
    ),
    "bus": "queued messages in the damaged pages are unreadable",
}

_ADVICE = {
    "state": (
        "stop here and keep a copy of {name}* from {dir}; restore {name} from a backup (and "
        "remove {name}-wal and {name}-shm beside it), or salvage what is readable with "
        "'sqlite3 {name} .recover | sqlite3 recovered.db' and put that in its place. "
        "--accept-data-loss starts anyway, but requests that touch damaged data will fail"
    ),
    "bus": (
        "keep a copy of {name}* from {dir}; restore {name} from a backup, or move {name}, "
        "{name}-wal, {name}-shm and {name}.accepted aside to start with an empty queue "
        "(the messages queued in it are then lost)"
    ),
}


def _sqlite_file(url: str) -> Path | None:
    if url.split(":", 1)[0] != "sqlite":
        return None
    try:
        database = make_url(url).database
    except ArgumentError:
        return None  # opening the store reports the bad URL
    if not database or database == ":memory:":
        return None
    return Path(database)


def _bus_file(url: str) -> Path | None:
    if url.split(":", 1)[0] != "embedded":
        return None
    return embedded.file_for(url)


def _size(path: Path) -> int:
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += path.with_name(path.name + suffix).stat().st_size
        except OSError:
            pass
    return total
