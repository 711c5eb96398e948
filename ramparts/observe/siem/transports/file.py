"""OCSF JSON lines appended to a local file (``ocsf+file:///path``).

Each batch opens the file in append mode, writes whole lines, fsyncs and
closes it: a batch is on disk before its spool rows go, and a log rotator
that moves the file away simply gets a new one on the next batch.  A new
file is created owner-only (0600).
"""

from __future__ import annotations

import os
from typing import Any

from ramparts.observe.siem.errors import DeliveryFailed
from ramparts.observe.siem.ocsf import dumps, ocsf_event
from ramparts.observe.siem.transports.base import Transport


class FileTransport(Transport):
    def send(self, records: list[dict[str, Any]]) -> None:
        data = b"".join(dumps(ocsf_event(r, self.version)) + b"\n" for r in records)
        path = self.target.path
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            raise DeliveryFailed(f"{path}: {exc.strerror or type(exc).__name__}") from exc
