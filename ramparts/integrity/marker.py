"""The clean-stop marker: present only while no node runs on the data dir after a clean stop.

A node removes it when it starts and writes it as the last thing of a clean
stop, so a start that finds no marker (next to existing data) follows a crash,
a ``kill -9`` or a power cut: the case where damaged files are likely.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from ramparts.errors import StorageError
from ramparts.files import describe_os_error, write_private

MARKER_FILE = "clean-stop"


def was_clean(data_dir: Path) -> bool:
    """Whether the last node on ``data_dir`` stopped cleanly (read-only)."""
    return (data_dir / MARKER_FILE).exists()


def mark_started(data_dir: Path) -> bool:
    """Remove the marker (durably) and say whether it was there."""
    path = data_dir / MARKER_FILE
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise StorageError(f"cannot remove {path}: {describe_os_error(exc)}") from exc
    with contextlib.suppress(OSError):
        fd = os.open(data_dir, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    return True


def mark_stopped(data_dir: Path) -> None:
    """Write the marker: every backend file is closed and consistent."""
    write_private(data_dir / MARKER_FILE, b"ramparts: this data dir was stopped cleanly\n")
