"""Integrity checks of the node's own files: refuse to start on damaged or lost data.

``ramparts up`` runs ``check_data_dir`` before it opens a backend, and
``ramparts doctor`` runs the same checks on demand.  What is checked:

* SQLite ``PRAGMA quick_check`` on the embedded state store (``state.db``) and
  the embedded bus (``bus.db``): after an unclean shutdown at any size, and at
  every start while a file (with its WAL) is at most ``QUICK_CHECK_ALWAYS_BELOW``
  bytes; ``doctor`` always runs it.  quick_check reads the whole file (about
  0.5 s per 500 MB from the page cache), which is why large files are
  checked only when a crash makes damage likely.
* The embedded bus's accepted-message count against its sidecar
  (``ramparts.bus.embedded``), at every start: it is O(1).

A failed check raises ``DataIntegrityError`` naming the file, the check,
what was lost and what to do; ``accept`` records an operator's
``--accept-data-loss`` so the node can start with what is left.
"""

from __future__ import annotations

from ramparts.integrity.checks import QUICK_CHECK_ALWAYS_BELOW, accept, check_data_dir
from ramparts.integrity.marker import mark_started, mark_stopped
from ramparts.integrity.report import Problem, Report

__all__ = [
    "QUICK_CHECK_ALWAYS_BELOW",
    "Problem",
    "Report",
    "accept",
    "check_data_dir",
    "mark_started",
    "mark_stopped",
]
