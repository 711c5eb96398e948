"""Content-addressed code artifacts: packing an app dir, unpacking it safely.

An app is shipped to the node as a deterministic tar.gz (sorted entries, zero
mtimes and owners), so the same tree always yields the same bytes and the
same digest: that digest is what makes versions immutable and redeploys of
identical code free.
"""

from __future__ import annotations

import errno
import gzip
import hashlib
import io
import os
import shutil
import stat
import tarfile
import tempfile
import zlib
from pathlib import Path

from ramparts.errors import InvalidRequest, StorageFull, UnshippedEntries, VersionIntegrityError
from ramparts.manifest import MANIFEST_NAME

MAX_ARCHIVE_BYTES = 64 * 1024 * 1024
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_FILES = 10_000
# An upload may unpack to at most this many times its own size (source code compresses
# 3-10x; a run of zeros 1000x), or to EXPANSION_FLOOR_BYTES, whichever is larger.
MAX_EXPANSION_RATIO = 100
EXPANSION_FLOOR_BYTES = 8 * 1024 * 1024
# An entry name may have at most this many path components and bytes: far past any
# real source tree, well short of the recursion and PATH_MAX limits a crafted one hits.
MAX_PATH_DEPTH = 64
MAX_PATH_BYTES = 1024
_FULL = (errno.ENOSPC, errno.EDQUOT)
_CHUNK = 1024 * 1024

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


def shipped_files(app_dir: Path) -> list[Path]:
    """Every file ``pack_app`` ships, sorted: the deploy gate scans exactly these."""
    files: list[Path] = []
    for root, dirs, names in os.walk(app_dir):
        dirs[:] = sorted(d for d in dirs if d not in _EXCLUDED_DIRS)
        for name in sorted(names):
            path = Path(root) / name
            if name.endswith(_EXCLUDED_SUFFIXES) or path.is_symlink() or not path.is_file():
                continue
            files.append(path)
    return files


def unshipped_entries(names: list[str]) -> list[str]:
    """The archive entry names ``pack_app`` would never have packed, sorted.

    The gate walks an app with ``shipped_files``; an entry under an excluded
    directory (``.git``, ``.venv``, ``node_modules``, tool caches) or a compiled
    ``.pyc``/``.pyo`` would be installed but never scanned, so the node refuses
    an archive holding one rather than run code its gate never read.
    """
    found: list[str] = []
    for name in names:
        parts = [p for p in name.split("/") if p not in ("", ".")]
        if any(p in _EXCLUDED_DIRS for p in parts) or (
            parts and parts[-1].endswith(_EXCLUDED_SUFFIXES)
        ):
            found.append(name)
    return sorted(found)


def _executable(path: Path) -> bool:
    return bool(path.stat().st_mode & stat.S_IXUSR)


def pack_app(app_dir: Path) -> bytes:
    """Deterministic tar.gz of an app directory (what ``ramparts deploy`` uploads)."""
    buf = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar,
    ):
        for path in shipped_files(app_dir):
            rel = path.relative_to(app_dir).as_posix()
            data = path.read_bytes()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            # The executable bit travels (allow_exec needs it); nothing else of the mode.
            info.mode = 0o755 if _executable(path) else 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def expansion_limit(archive_bytes: int) -> int:
    """How many bytes an archive of ``archive_bytes`` may decompress to."""
    return min(
        MAX_UNPACKED_BYTES, max(EXPANSION_FLOOR_BYTES, archive_bytes * MAX_EXPANSION_RATIO)
    )


def _gunzip_bounded(data: bytes, limit: int) -> tempfile.SpooledTemporaryFile[bytes]:
    """Decompress ``data`` in chunks, stopping as soon as it passes ``limit`` bytes.

    A gzip bomb is refused after at most ``limit`` bytes of work, never
    decompressed in full (tarfile would, just to list the members).
    """
    out: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(
        max_size=16 * 1024 * 1024
    )
    total = 0
    with gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb") as gz:
        while chunk := gz.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                out.close()
                raise InvalidRequest(
                    f"the app archive unpacks to more than {limit // (1024 * 1024)} MiB "
                    f"({MAX_EXPANSION_RATIO}x its {len(data)} bytes, at least "
                    f"{EXPANSION_FLOOR_BYTES // (1024 * 1024)} MiB): refused as a "
                    "decompression bomb",
                    code="archive_too_large",
                )
            out.write(chunk)
    out.seek(0)
    return out


def unpack_archive(data: bytes, dest: Path, *, shipped_only: bool = False) -> None:
    """Unpack an uploaded archive, refusing anything but plain files inside ``dest``.

    Size is bounded twice before anything is written: the compressed upload
    (``MAX_ARCHIVE_BYTES``) and what it decompresses to (``expansion_limit``).
    With ``shipped_only`` (a deploy) an entry ``pack_app`` never ships is
    refused (``UnshippedEntries``) before anything is written: the gate scans
    exactly what is installed.
    """
    if len(data) > MAX_ARCHIVE_BYTES:
        raise InvalidRequest("the app archive is too large", code="archive_too_large")
    try:
        raw = _gunzip_bounded(data, expansion_limit(len(data)))
    except OSError as exc:
        if exc.errno in _FULL:
            raise StorageFull("no space left on the node to unpack the app") from None
        raise InvalidRequest(
            "the app archive is not a valid tar.gz", code="invalid_archive"
        ) from exc
    except (EOFError, zlib.error) as exc:
        raise InvalidRequest(
            "the app archive is not a valid tar.gz", code="invalid_archive"
        ) from exc
    try:
        with raw, tarfile.open(fileobj=raw, mode="r:") as tar:
            members = tar.getmembers()
            if len(members) > MAX_FILES:
                raise InvalidRequest("the app archive has too many files", code="invalid_archive")
            total = 0
            for m in members:
                _check_name(m.name)
                if not (m.isfile() or m.isdir()):
                    raise InvalidRequest(
                        f"archive entry {m.name!r} is not a plain file", code="invalid_archive"
                    )
                total += m.size
                if total > MAX_UNPACKED_BYTES:
                    raise InvalidRequest(
                        "the app archive unpacks too large", code="archive_too_large"
                    )
            unshipped = unshipped_entries([m.name for m in members]) if shipped_only else []
            if unshipped:
                raise UnshippedEntries(unshipped)
            _extract(tar, members, dest)
    except OSError as exc:
        if exc.errno in _FULL:
            raise StorageFull("no space left on the node's data disk to unpack the app") from None
        raise InvalidRequest(
            "the app archive is not a valid tar.gz", code="invalid_archive"
        ) from exc
    except (tarfile.TarError, EOFError) as exc:
        raise InvalidRequest(
            "the app archive is not a valid tar.gz", code="invalid_archive"
        ) from exc


def _check_name(name: str) -> None:
    """Refuse an entry name no honest app has, before anything is written.

    tarfile hands non-UTF-8 bytes over as surrogates and would strip a leading
    ``/``; both are refused here rather than reinterpreted, as are control
    characters, ``..`` and names deep or long enough to exhaust a recursion.
    """
    shown = name.encode("utf-8", "backslashreplace").decode("ascii", "backslashreplace")[:120]
    try:
        size = len(name.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidRequest(
            f"archive entry {shown!r} is not a valid UTF-8 name", code="invalid_archive"
        ) from None
    parts = name.split("/")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        reason = "has a control character in its name"
    elif name.startswith("/"):
        reason = "has an absolute path"
    elif ".." in parts:
        reason = "is outside the app"
    elif len(parts) > MAX_PATH_DEPTH or size > MAX_PATH_BYTES:
        reason = (
            f"is deeper than {MAX_PATH_DEPTH} directories or longer than {MAX_PATH_BYTES} bytes"
        )
    else:
        return
    raise InvalidRequest(f"archive entry {shown!r} {reason}", code="invalid_archive")


def _extract(tar: tarfile.TarFile, members: list[tarfile.TarInfo], dest: Path) -> None:
    """Extract plain files and dirs, never outside ``dest``.

    The "data" filter refuses absolute paths, '..', links and device files.  Python
    3.11.0-3.11.3 (Debian 12's 3.11.2, for one) predates it: there the same checks
    are made here, member by member, before anything is written.
    """
    if hasattr(tarfile, "data_filter"):
        tar.extractall(dest, filter="data")
        return
    root = dest.resolve()
    for m in members:
        target = (root / m.name).resolve()
        if (
            m.name.startswith("/")
            or ".." in Path(m.name).parts
            or not (target == root or target.is_relative_to(root))
        ):
            raise InvalidRequest(
                f"archive entry {m.name!r} is outside the app", code="invalid_archive"
            )
    for m in members:
        target = root / m.name
        if m.isdir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        source = tar.extractfile(m)
        if source is None:
            raise InvalidRequest(f"archive entry {m.name!r} is unreadable", code="invalid_archive")
        with source, open(target, "wb") as out:
            shutil.copyfileobj(source, out)
        os.chmod(target, 0o755 if m.mode & 0o100 else 0o644)  # noqa: S103


def tree_digest(app_dir: Path) -> str:
    """sha256 over (relative path, content hash) of every packed file but the manifest.

    The code part of a version id: the manifest's parts that make a version
    (the function's section, ``auth:``) enter the id on their own, so editing
    one function's section leaves the others' ids alone.
    """
    h = hashlib.sha256()
    for path in shipped_files(app_dir):
        rel = path.relative_to(app_dir).as_posix()
        if rel == MANIFEST_NAME:
            continue
        mark = b"x\0" if _executable(path) else b""  # an executable differs from its text
        h.update(rel.encode() + b"\0" + mark + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def artifact_digest(root: Path) -> str:
    """sha256 over everything under ``root``: every file (the manifest too), link and mode.

    The key an artifact is stored and unpacked under, and what a zygote start
    checks the unpacked tree against.  Unlike ``tree_digest`` nothing is left
    out: a file planted in the tree (a ``__pycache__`` entry, a ``.pth``), a
    link or a flipped executable bit changes it.
    """
    h = hashlib.sha256()
    for dirpath, dirs, names in os.walk(root):
        dirs.sort()
        base = Path(dirpath)
        for name in sorted([*names, *(d for d in dirs if (base / d).is_symlink())]):
            path = base / name
            rel = path.relative_to(root).as_posix().encode("utf-8", "surrogateescape")
            if path.is_symlink():
                entry = b"l\0" + os.readlink(path).encode("utf-8", "surrogateescape")
            elif path.is_file():
                mark = b"x\0" if _executable(path) else b"f\0"
                entry = mark + hashlib.sha256(path.read_bytes()).digest()
            else:
                entry = b"?\0"  # a device, fifo or socket never belongs in an artifact
            h.update(rel + b"\0" + entry + b"\n")
    return h.hexdigest()


def materialize(data: bytes, dest: Path, digest: str | None = None) -> Path:
    """Unpack an artifact at ``dest`` once (atomic rename), read-only thereafter.

    With ``digest``, a tree already at ``dest`` is kept only if it still hashes
    to it: a tampered or half-deleted one is replaced by a fresh unpack (which
    must itself hash to ``digest``, else ``VersionIntegrityError`` and nothing
    changes), so an altered tree never outlives the archive it came from.
    """
    if dest.is_dir() and (digest is None or _digest_of(dest) == digest):
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=dest.parent))
    try:
        unpack_archive(data, tmp)
        # Read-only for everyone; the 0700 data dir already keeps other users out.
        for root, dirs, names in os.walk(tmp):
            for name in names:
                path = Path(root) / name
                os.chmod(path, 0o555 if _executable(path) else 0o444)  # noqa: S103
            for name in dirs:
                os.chmod(Path(root) / name, 0o555)  # noqa: S103
        os.chmod(tmp, 0o555)  # noqa: S103
        if digest is not None and artifact_digest(tmp) != digest:
            raise VersionIntegrityError(
                f"artifact {digest[:12]}: the stored archive does not hash to its digest",
                code="artifact_tampered",
            )
        if dest.is_dir():
            _set_aside(dest)
        try:
            os.rename(tmp, dest)
        except OSError:
            if not dest.is_dir():  # someone else won the race: theirs is identical
                raise
    except OSError as exc:
        if exc.errno in _FULL:
            raise StorageFull("no space left on the node's data disk to unpack the app") from None
        raise
    finally:
        if tmp.exists():
            _force_rmtree(tmp)
    return dest


def _digest_of(path: Path) -> str | None:
    try:
        return artifact_digest(path)
    except OSError:
        return None


def _set_aside(dest: Path) -> None:
    """Move a stale tree out of the way (one rename), then delete it."""
    aside = Path(tempfile.mkdtemp(prefix=".stale-", dir=dest.parent))
    try:
        os.rename(dest, aside / "tree")
    except FileNotFoundError:
        pass  # another restore moved it first
    finally:
        _force_rmtree(aside)


def _force_rmtree(path: Path) -> None:
    for root, dirs, _ in os.walk(path):
        for d in dirs:
            os.chmod(Path(root) / d, 0o700)
    os.chmod(path, 0o700)
    shutil.rmtree(path, ignore_errors=True)
