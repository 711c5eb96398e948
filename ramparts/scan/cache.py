"""Per-file scan results kept between scans, keyed by the file's content.

A redeploy usually changes a few files, so what a scan learns about an
unchanged file is reused: the per-file families' results (bandit,
detect-secrets, the logic checks; see ``runner.py``), whether and how a file
parses (``source.py``), the def/class spans that scope its findings
(``scope.py``), and the taint result of the whole app (``app_cache.py``).  An
entry's name is the sha256 of what the result depends on: for a per-file one
the family, the family's version string (scanner package versions, the source
of our modules that make and map the result), the file's path in the app and
the sha256 of its content; a change to any of them is a miss, and the file is
scanned again.

Integrity: a cache hit can hide a finding, so an entry is only trusted if we
wrote it.  Each entry carries an HMAC-SHA256 over its name and body, keyed by
a random key made on first use and kept next to the entries in a 0600 file in
a 0700 directory.  A corrupted, truncated, renamed or foreign entry (one
written with another key, or by hand) fails the check and is rescanned, never
trusted.  What this does not stop: someone who can already write as the
scanning user (and so can read the key) can forge entries; they could as well
change the scanner.  Entries are JSON, never pickle.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import importlib.util
import json
import os
import secrets
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

_KEY_FILE = "key"
_KEY_BYTES = 32


def default_directory() -> Path:
    """The CLI's cache: ``$XDG_CACHE_HOME/ramparts/scan`` (``~/.cache`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ramparts" / "scan"


def content_digest(text: str) -> str:
    """The sha256 of a file's text, as entry names use it."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def entry_name(family: str, version: str, rel: str, text: str) -> str:
    """What a per-file result depends on, hashed: a change to any part is a miss."""
    return digest_name(family, version, rel, content_digest(text))


def digest_name(family: str, version: str, rel: str, content: str) -> str:
    """``entry_name`` for a file whose content digest is already known."""
    return hashlib.sha256(json.dumps([family, version, rel, content]).encode()).hexdigest()


def source_digest(*modules: ModuleType | str) -> str:
    """The sha256 of our modules' source (a package's: every .py file under it).

    Part of a version string: an edit to a rule, a check or the code that maps
    its output is a miss for every entry made before it.  A module may be
    named rather than passed, so that its version costs no import of it (and
    of the libraries it loads).
    """
    digest = hashlib.sha256()
    for mod in modules:
        name = mod if isinstance(mod, str) else mod.__name__
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            raise ModuleNotFoundError(name)
        path = Path(spec.origin)
        files = sorted(path.parent.rglob("*.py")) if path.name == "__init__.py" else [path]
        for file in files:
            where = f"{name}:{file.relative_to(path.parent).as_posix()}"
            digest.update(where.encode() + b"\0" + file.read_bytes() + b"\0")
    return digest.hexdigest()


class ScanCache:
    """A directory of HMAC-signed JSON entries; any unreadable entry counts as a miss."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._key = _load_key(directory / _KEY_FILE)
        self._held: dict[str, bytes] | None = None

    def hold(self) -> None:
        """Keep new entries in memory until ``commit``: a scan that fails writes nothing."""
        self._held = {}

    def commit(self) -> None:
        """Write what ``hold`` kept back (the scan it belongs to completed)."""
        held, self._held = self._held or {}, None
        for name, body in held.items():
            self._write(name, body)

    def get(self, name: str) -> Any | None:
        if self._held is not None and name in self._held:
            return json.loads(self._held[name])
        try:
            raw = self._path(name).read_bytes()
            mac, body = raw.split(b"\n", 1)
        except (OSError, ValueError):
            return None
        if not hmac.compare_digest(mac, self._mac(name, body).encode()):
            return None
        try:
            return json.loads(body)
        except ValueError:
            return None

    def put(self, name: str, value: Any) -> None:
        """Store an entry atomically; a cache that cannot be written only costs time."""
        body = json.dumps(value, separators=(",", ":")).encode()
        if self._held is not None:
            self._held[name] = body
        else:
            self._write(name, body)

    def _write(self, name: str, body: bytes) -> None:
        path = self._path(name)
        with contextlib.suppress(OSError):
            path.parent.mkdir(mode=0o700, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as out:
                    out.write(self._mac(name, body).encode() + b"\n" + body)
                os.replace(tmp, path)
            except OSError:
                Path(tmp).unlink(missing_ok=True)

    def _path(self, name: str) -> Path:
        return self.directory / name[:2] / f"{name}.json"

    def _mac(self, name: str, body: bytes) -> str:
        return hmac.new(self._key, name.encode() + b"\n" + body, hashlib.sha256).hexdigest()


def _load_key(path: Path) -> bytes:
    """The cache's HMAC key, made once (``O_EXCL``, 0600) and read back by later scans."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        key = path.read_bytes()
        if len(key) == _KEY_BYTES:
            return key
        # a truncated or foreign key file: replace it, which invalidates every entry
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".key-")
        key = secrets.token_bytes(_KEY_BYTES)
        with os.fdopen(fd, "wb") as out:
            out.write(key)
        os.replace(tmp, path)
        return key
    key = secrets.token_bytes(_KEY_BYTES)
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    return key
