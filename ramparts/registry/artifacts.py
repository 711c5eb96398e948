"""Content-addressed code artifacts: packing an app dir, unpacking it safely.

An app is shipped to the node as a deterministic tar.gz (sorted entries, zero
mtimes and owners), so the same tree always yields the same bytes and the
same digest: that digest is what makes versions immutable and redeploys of
identical code free.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from ramparts.errors import InvalidRequest
from ramparts.manifest import MANIFEST_NAME

MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_FILES = 10_000

_EXCLUDED_DIRS = {
    ".git",
    ".venv",
    "venv",
    "__pycache__",
    ".ramparts",
    "node_modules",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
}
_EXCLUDED_SUFFIXES = (".pyc", ".pyo")


def _included_files(app_dir: Path) -> list[Path]:
    files: list[Path] = []
    for root, dirs, names in os.walk(app_dir):
        dirs[:] = sorted(d for d in dirs if d not in _EXCLUDED_DIRS)
        for name in sorted(names):
            path = Path(root) / name
            if name.endswith(_EXCLUDED_SUFFIXES) or path.is_symlink() or not path.is_file():
                continue
            files.append(path)
    return files


def pack_app(app_dir: Path) -> bytes:
    """Deterministic tar.gz of an app directory (what ``ramparts deploy`` uploads)."""
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in _included_files(app_dir):
            rel = path.relative_to(app_dir).as_posix()
            data = path.read_bytes()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def unpack_archive(data: bytes, dest: Path) -> None:
    """Unpack an uploaded archive, refusing anything but plain files inside ``dest``."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise InvalidRequest("the app archive is too large", code="archive_too_large")
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            members = tar.getmembers()
            if len(members) > MAX_FILES:
                raise InvalidRequest("the app archive has too many files", code="invalid_archive")
            total = 0
            for m in members:
                if not (m.isfile() or m.isdir()):
                    raise InvalidRequest(
                        f"archive entry {m.name!r} is not a plain file", code="invalid_archive"
                    )
                total += m.size
                if total > MAX_UNPACKED_BYTES:
                    raise InvalidRequest(
                        "the app archive unpacks too large", code="archive_too_large"
                    )
            # The "data" filter refuses absolute paths, '..', links and device files.
            tar.extractall(dest, filter="data")
    except (tarfile.TarError, OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InvalidRequest(
            "the app archive is not a valid tar.gz", code="invalid_archive"
        ) from exc


def tree_digest(app_dir: Path) -> str:
    """sha256 over (relative path, content hash) of every file but the manifest."""
    h = hashlib.sha256()
    for path in _included_files(app_dir):
        rel = path.relative_to(app_dir).as_posix()
        if rel == MANIFEST_NAME:
            continue
        h.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def materialize(data: bytes, dest: Path) -> Path:
    """Unpack an artifact at ``dest`` once (atomic rename), read-only thereafter."""
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=dest.parent))
    try:
        unpack_archive(data, tmp)
        # Read-only for everyone; the 0700 data dir already keeps other users out.
        for root, dirs, names in os.walk(tmp):
            for name in names:
                os.chmod(Path(root) / name, 0o444)
            for name in dirs:
                os.chmod(Path(root) / name, 0o555)  # noqa: S103
        os.chmod(tmp, 0o555)  # noqa: S103
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():  # someone else won the race: theirs is identical
                raise
    finally:
        if tmp.exists():
            _force_rmtree(tmp)
    return dest


def _force_rmtree(path: Path) -> None:
    for root, dirs, _ in os.walk(path):
        for d in dirs:
            os.chmod(Path(root) / d, 0o700)
    os.chmod(path, 0o700)
    shutil.rmtree(path, ignore_errors=True)
