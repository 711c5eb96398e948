"""Garbage collection of the registry: versions no alias points to, after a retention.

Versions are immutable and every deploy of changed code adds one, with its
code archive in the state store and its unpacked tree (and maybe a
dependency install) under the data dir.  A version that no alias has pointed
to for the retention period (``RAMPARTS_VERSION_RETENTION``, default 7 days:
the rollback window) is deleted with its alias history; then the archives,
unpacked trees and dependency installs that no remaining version uses.
Aliased versions are kept however old.  The store does its part in one
transaction (``VersionCollector``); each node then clears its own data dir.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from ramparts.config import Settings
from ramparts.errors import ConfigError
from ramparts.store.base import Collected, Store, VersionRecord


@dataclass
class GcReport:
    retention: float
    versions: list[VersionRecord] = field(default_factory=list)
    artifacts: list[str] = field(default_factory=list)  # archives deleted from the store
    local_dirs: int = 0  # unpacked trees and dependency installs removed on this node

    def to_dict(self) -> dict[str, object]:
        return {
            "retention": self.retention,
            "versions": [
                {"function": v.function, "version": v.version, "seq": v.seq}
                for v in self.versions
            ],
            "artifacts": len(self.artifacts),
            "local_dirs": self.local_dirs,
        }


def collect_versions(store: Store, retention: float) -> tuple[GcReport, Collected]:
    """Delete, in the store, the versions and archives ``retention`` seconds allow.

    The node's own directories are left to ``sweep``, which runs once the
    caller has stopped the deleted versions' zygotes and forgotten their specs:
    only then does "in use" mean in use by a version that still exists.
    """
    # A sealing wrapper passes the capability through from the backend it wraps.
    collector = getattr(store, "collect_versions", None)
    if collector is None:
        raise ConfigError("this state store cannot collect old versions")
    collected: Collected = collector(time.time() - retention)
    return GcReport(retention, list(collected.versions), list(collected.artifacts)), collected


def sweep(settings: Settings, collected: Collected, *, in_use_deps: set[str]) -> int:
    """Remove the unpacked trees and installs no remaining version uses; how many.

    ``in_use_deps``: the installs of the specs this node still runs.  Callers
    hold the registry's deploy lock, so no deploy of this node has an unpacked
    tree or an install that is not yet committed.
    """
    removed = _sweep(settings.artifacts_dir, collected.kept_artifacts)
    return removed + _sweep(settings.deps_dir, collected.kept_requirements | in_use_deps)


def _sweep(root: Path, keep: set[str]) -> int:
    """Remove every entry of ``root`` not in ``keep`` (temp dirs of work in progress stay)."""
    if not root.is_dir():
        return 0
    removed = 0
    for entry in root.iterdir():
        if entry.name.startswith(".") or entry.name in keep or not entry.is_dir():
            continue
        _force_rmtree(entry)
        removed += 1
    return removed


def _force_rmtree(path: Path) -> None:
    """Trees are read-only (0555) on purpose: make them writable to the node, then delete."""
    for dirpath, dirs, _ in os.walk(path):
        for d in dirs:
            full = os.path.join(dirpath, d)
            if not os.path.islink(full):
                os.chmod(full, 0o700)
    os.chmod(path, 0o700)
    shutil.rmtree(path, ignore_errors=True)
