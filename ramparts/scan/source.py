"""The scanned tree, read and parsed once and shared by every scanner.

Bandit, the taint rules and the secret scanner all need the same files; the
tree is walked once, each ``.py`` file parsed once (``pyparse.py``: newer
syntax through libcst), and the ``ast`` objects handed to both bandit and the
taint engine (bandit only annotates nodes, it does not rewrite them).

Fail closed: the walk is ``pack_app``'s own (``shipped_files``), so the scan
reads exactly what a deploy uploads, ``site-packages/`` and ``.deps/``
included.  A file is left unread only for a reason that is reported: the
user excluded it (``scan: {exclude: [...]}`` in ``ramparts.yaml``), or it is
a binary data file no scanner reads (an ``Exclusion``); a ``.py`` file that
does not parse, is not text, or is too big to scan is a ``Problem`` the gate
turns into a high finding (RP-G001, RP-G002, RP-G003), as is a text file too
big for the secret scanner.

With a result cache (``cache.py``), whether and how a ``.py`` file parses is
kept per file content, and a file known to parse is parsed only when a scanner
asks for its ``tree``: a rescan whose every result is cached never builds one.
A file the cache says parses but that does not parse after all fails the scan
(``ScannerFailed``), never passes unread.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import metadata
from pathlib import Path
from typing import Any

from ramparts.scan import pyparse
from ramparts.scan.cache import ScanCache, content_digest, digest_name, source_digest
from ramparts.scan.errors import ScannerFailed
from ramparts.scan.exclusions import ExcludeSpec, Exclusion
from ramparts.scan.pyparse import Unparsable, parse_python

# A .py file is code: parsed, walked by bandit and the taint engine, and
# secret-scanned.  Parsing and bandit take about a second for 2 MiB; detect-secrets
# (per line) takes far longer, a minute or more on a busy 2-core node.  Past this
# limit the gate fails (RP-G003) rather than skip the file.
MAX_CODE_BYTES = 4 * 1024 * 1024
# Other text (configuration, data) is only secret-scanned; larger text must be
# excluded explicitly (scan.exclude) or it fails the gate.  Binary data is listed.
MAX_TEXT_BYTES = 2 * 1024 * 1024
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Problem:
    """Why a shipped file could not be scanned: a gate rule id and the reason."""

    rule_id: str  # RP-G001 unparsable, RP-G002 not text, RP-G003 too big
    reason: str
    line: int = 1


@dataclass
class SourceFile:
    rel: str  # '/'-separated, relative to the root
    path: Path
    text: str | None  # None for files that could not be read as text
    problem: Problem | None = None
    newer_grammar: bool = False  # parsed through libcst: syntax newer than this Python's
    parses: bool = False  # a .py file that parses: ``tree`` is (or will be) its ast
    _tree: ast.Module | None = field(default=None, repr=False, compare=False)

    @property
    def tree(self) -> ast.Module | None:
        """The ``ast`` of a .py file that parses, built on first use; None otherwise."""
        if self._tree is None and self.parses:
            assert self.text is not None
            try:
                self._tree = parse_python(self.text, filename=self.rel).tree
            except Unparsable as exc:  # the cache said it parses: fail closed, never skip
                raise ScannerFailed(f"{self.rel} no longer parses ({exc.reason}); "
                                    "the gate fails closed") from None
        return self._tree

    @tree.setter
    def tree(self, value: ast.Module | None) -> None:
        self._tree, self.parses = value, value is not None

    @cached_property
    def digest(self) -> str:
        """The sha256 of the text (what cache entries about this file are keyed by)."""
        assert self.text is not None
        return content_digest(self.text)

    @property
    def is_python(self) -> bool:
        return self.rel.endswith(".py")

    @property
    def module(self) -> str:
        """Dotted module name as the handler's sys.path (the app root) sees it."""
        parts = self.rel[:-3].split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        return ".".join(parts)

    def line(self, number: int) -> str:
        if self.text is None or number < 1:
            return ""
        lines = self.text.splitlines()
        return lines[number - 1] if number <= len(lines) else ""


@dataclass
class SourceTree:
    root: Path
    files: list[SourceFile] = field(default_factory=list)
    excluded: list[Exclusion] = field(default_factory=list)

    @property
    def python(self) -> list[SourceFile]:
        return [f for f in self.files if f.is_python and f.parses]

    @property
    def problems(self) -> list[SourceFile]:
        return [f for f in self.files if f.problem is not None]

    def get(self, rel: str) -> SourceFile | None:
        return next((f for f in self.files if f.rel == rel), None)

    @property
    def lines(self) -> int:
        return sum(f.text.count("\n") + 1 for f in self.files if f.text is not None)


def load_tree(root: Path, exclude: Iterable[str] = (),
              cache: ScanCache | None = None) -> SourceTree:
    """Read every file ``pack_app`` would ship from ``root``, less the user's exclusions.

    With ``cache``, a ``.py`` file whose parse outcome is cached is not parsed
    here (its ``tree`` is built when a scanner first asks for it).
    """
    # the packer's walk loads the manifest models (pydantic): a worker process, which
    # imports this module for ``SourceFile`` only, would pay for them on every start
    from ramparts.registry.artifacts import shipped_files

    spec = ExcludeSpec(list(exclude))
    tree = SourceTree(root)
    for path in shipped_files(root):
        rel = path.relative_to(root).as_posix()
        pattern = spec.match(rel)
        if pattern is not None:
            tree.excluded.append(Exclusion(rel, f"excluded by scan.exclude {pattern!r}", pattern))
            continue
        sf = _read(rel, path, cache)
        if sf.text is None and sf.problem is None:
            tree.excluded.append(Exclusion(rel, "binary data: not text, no scanner reads it"))
        tree.files.append(sf)
    return tree


def _read(rel: str, path: Path, cache: ScanCache | None) -> SourceFile:
    code = rel.endswith(".py")
    limit = MAX_CODE_BYTES if code else MAX_TEXT_BYTES
    try:
        size = path.stat().st_size
        if size > limit:
            if not code and _binary(path):
                return SourceFile(rel, path, None)
            what = "Python file" if code else "text file"
            return SourceFile(rel, path, None, problem=Problem(
                "RP-G003", f"{what} of {size} bytes, over the scan limit of {limit} bytes"))
        raw = path.read_bytes()
    except OSError as exc:
        return SourceFile(rel, path, None, problem=Problem(
            "RP-G002", f"cannot be read ({exc.__class__.__name__})"))
    if code:
        return _python(rel, path, raw, cache)
    decoded = decode_packed_text(raw)
    if decoded is not None:
        return SourceFile(rel, path, decoded)
    if b"\0" in raw[:_SNIFF_BYTES]:
        return SourceFile(rel, path, None)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # data in another encoding: still secret-scanned
    return SourceFile(rel, path, text)


def decode_packed_text(raw: bytes) -> str | None:
    """Text stored as UTF-16 (with a BOM) or gzip-compressed (up to the text limit), else None.

    Both hold NUL bytes, so they used to be listed as binary and never
    secret-scanned: a key in a UTF-16 ``config.ini`` or a ``.gz`` of it went
    unseen.  Compressed data that is not text, or larger than the limit once
    decompressed, stays binary (listed as not scanned).
    """
    import gzip
    import zlib

    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            return None
    bom_less = _utf16_without_bom(raw[:_SNIFF_BYTES])
    if bom_less is not None:
        try:
            return raw.decode(bom_less)
        except UnicodeDecodeError:
            return None
    if raw[:2] == b"\x1f\x8b":
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as fh:
                inner = fh.read(MAX_TEXT_BYTES + 1)
        except (OSError, EOFError, zlib.error):
            return None
        if len(inner) > MAX_TEXT_BYTES:
            return None
        if inner[:2] in (b"\xff\xfe", b"\xfe\xff"):
            return inner.decode("utf-16", "replace")
        return None if b"\0" in inner[:_SNIFF_BYTES] else _as_text(inner)
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le'/'-be' when the bytes look like mostly-ASCII UTF-16 text: every other byte NUL."""
    head = head[: len(head) - len(head) % 2]
    if len(head) < 8:
        return None
    even, odd = head[0::2], head[1::2]
    for codec, text_bytes, zeros in (("utf-16-le", even, odd), ("utf-16-be", odd, even)):
        if zeros.count(0) >= 0.9 * len(zeros) and 0 not in text_bytes and all(
            b in (9, 10, 13) or 32 <= b < 127 for b in text_bytes[:256]
        ):
            return codec
    return None


def _as_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _binary(path: Path) -> bool:
    with path.open("rb") as fh:
        return b"\0" in fh.read(_SNIFF_BYTES)


def _python(rel: str, path: Path, raw: bytes, cache: ScanCache | None) -> SourceFile:
    """A .py file decoded as Python would (PEP 263) and parsed, or the problem why not."""
    if b"\0" in raw:
        return SourceFile(rel, path, None, problem=Problem(
            "RP-G002", "binary content (NUL bytes) in a .py file: Python would not import it "
                       "and no code rule can read it"))
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
        text = raw.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as exc:
        why = exc.reason if isinstance(exc, UnicodeDecodeError) else str(exc).split(";")[0]
        return SourceFile(rel, path, None, problem=Problem(
            "RP-G002", f"not text in its declared encoding ({why})"))
    sf = SourceFile(rel, path, text)
    name = digest_name("parse", _parse_version(), rel, sf.digest) if cache is not None else ""
    known = cache.get(name) if cache is not None else None
    if _outcome_well_formed(known):
        _apply_outcome(sf, known)
        return sf
    try:
        parsed = parse_python(text, filename=rel)
    except Unparsable as exc:
        sf.problem = Problem("RP-G001", exc.reason, exc.line)
    else:
        sf.tree, sf.newer_grammar = parsed.tree, parsed.newer_grammar
    if cache is not None:
        problem = sf.problem
        cache.put(name, {"parses": sf.parses, "newer_grammar": sf.newer_grammar,
                         "problem": [problem.reason, problem.line] if problem else None})
    return sf


@cache
def _parse_version() -> str:
    """What a parse outcome depends on: the Python minor, libcst's version, our parser."""
    return "|".join([
        f"python{sys.version_info.major}.{sys.version_info.minor}",
        f"libcst=={metadata.version('libcst')}",
        source_digest(pyparse, "ramparts.scan.newer_syntax"),  # named: libcst stays unloaded
    ])


def _outcome_well_formed(entry: Any) -> bool:
    if not (isinstance(entry, dict) and isinstance(entry.get("parses"), bool)
            and isinstance(entry.get("newer_grammar"), bool)):
        return False
    problem = entry.get("problem")
    return (entry["parses"] and problem is None) or (
        not entry["parses"] and isinstance(problem, list) and len(problem) == 2
        and isinstance(problem[0], str) and isinstance(problem[1], int))


def _apply_outcome(sf: SourceFile, entry: dict[str, Any]) -> None:
    sf.parses, sf.newer_grammar = entry["parses"], entry["newer_grammar"]
    if entry["problem"] is not None:
        sf.problem = Problem("RP-G001", entry["problem"][0], entry["problem"][1])
