"""The scanned tree, read and parsed once and shared by every scanner.

Bandit, the taint rules and the secret scanner all need the same files; the
tree is walked once, each ``.py`` file parsed once, and the ``ast`` objects
handed to both bandit and the taint engine (bandit only annotates nodes, it
does not rewrite them).  The walk skips the same folders as ``pack_app``, so
the scan sees exactly what a deploy uploads.
"""

from __future__ import annotations

import ast
import os
from dataclasses import dataclass, field
from pathlib import Path

from ramparts.registry.artifacts import _EXCLUDED_DIRS

MAX_TEXT_BYTES = 2 * 1024 * 1024  # larger files are data, not code or config
_SKIP_DIRS = _EXCLUDED_DIRS | {".deps", "site-packages"}


@dataclass
class SourceFile:
    rel: str  # '/'-separated, relative to the root
    path: Path
    text: str | None  # None for binary or oversized files
    tree: ast.Module | None = None
    syntax_error: str | None = None

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

    @property
    def python(self) -> list[SourceFile]:
        return [f for f in self.files if f.is_python and f.tree is not None]

    def get(self, rel: str) -> SourceFile | None:
        return next((f for f in self.files if f.rel == rel), None)

    @property
    def lines(self) -> int:
        return sum(f.text.count("\n") + 1 for f in self.files if f.text is not None)


def load_tree(root: Path) -> SourceTree:
    tree = SourceTree(root)
    for dirpath, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(names):
            path = Path(dirpath) / name
            if name.endswith((".pyc", ".pyo")) or path.is_symlink() or not path.is_file():
                continue
            rel = path.relative_to(root).as_posix()
            tree.files.append(_read(rel, path))
    return tree


def _read(rel: str, path: Path) -> SourceFile:
    try:
        if path.stat().st_size > MAX_TEXT_BYTES:
            return SourceFile(rel, path, None)
        raw = path.read_bytes()
    except OSError:
        return SourceFile(rel, path, None)
    if b"\0" in raw[:8192]:
        return SourceFile(rel, path, None)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    sf = SourceFile(rel, path, text)
    if rel.endswith(".py"):
        try:
            sf.tree = ast.parse(text, filename=rel)
        except (SyntaxError, ValueError) as exc:
            sf.syntax_error = f"line {getattr(exc, 'lineno', '?')}: {getattr(exc, 'msg', exc)}"
    return sf
