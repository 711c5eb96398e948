"""``scan: {exclude: [...]}`` patterns: checked when the manifest loads, matched by the gate.

The packer ships every file of the app dir, so the gate reads every one of
them unless the user says otherwise here.  Patterns are gitignore-style
(pathspec's ``GitIgnoreSpec``: ``vendor/**``, ``*.csv``, ``/top-level.py``)
against the file's path relative to the app dir.  Only exclusions: a ``!``
negation would make "why was this file not scanned" depend on pattern order.
The manifest and the handler files (and the requirements files the node
installs from) cannot be excluded: they are what runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pathspec

MAX_PATTERNS = 200
MAX_PATTERN_CHARS = 256
AUDIT_PATHS = 100  # paths per reason an audit event names (the count is always whole)


@dataclass(frozen=True)
class Exclusion:
    """A shipped file no scanner read, and why (always listed in the gate's output)."""

    path: str
    reason: str
    pattern: str | None = None  # the user's scan.exclude pattern, when that was why

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "reason": self.reason}
        if self.pattern is not None:
            out["pattern"] = self.pattern
        return out


def grouped(exclusions: list[Exclusion], paths: int = AUDIT_PATHS) -> list[dict[str, Any]]:
    """Exclusions by reason, each with its whole count and its first ``paths`` paths.

    What a deploy report and audit event carry: every reason (each user
    pattern, each kind of unread file) with how many files it left unread,
    bounded in size however many files an archive holds.
    """
    groups: dict[str, dict[str, Any]] = {}
    for e in exclusions:
        g = groups.setdefault(e.reason, {"reason": e.reason, "count": 0, "paths": []})
        if e.pattern is not None:
            g["pattern"] = e.pattern
        g["count"] += 1
        if len(g["paths"]) < paths:
            g["paths"].append(e.path)
    return list(groups.values())


def check_pattern(pattern: str) -> str:
    """The pattern, or ``ValueError`` saying what is wrong with it."""
    if not pattern.strip():
        raise ValueError("an empty pattern")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"a pattern of at most {MAX_PATTERN_CHARS} characters")
    if any(ch in pattern for ch in "\0\r\n"):
        raise ValueError(f"{pattern!r}: one line, no control characters")
    if pattern.startswith(("!", "#")):
        raise ValueError(f"{pattern!r}: only plain exclusions (no '!' negation, no '#' comment)")
    if ".." in pattern.strip("/").split("/") or "\\" in pattern:
        raise ValueError(f"{pattern!r}: a path inside the app dir, with '/' and no '..'")
    try:
        spec = pathspec.GitIgnoreSpec.from_lines([pattern])
    except ValueError as exc:  # pathspec's GitIgnorePatternError
        raise ValueError(f"{pattern!r} is not a valid pattern ({exc})") from None
    if not spec.patterns or getattr(spec.patterns[0], "regex", None) is None:
        raise ValueError(f"{pattern!r} is not a valid pattern")
    return pattern


class ExcludeSpec:
    """The user's patterns, compiled once; ``match`` names the first that covers a path."""

    def __init__(self, patterns: list[str]) -> None:
        self._specs = [(p, pathspec.GitIgnoreSpec.from_lines([p])) for p in patterns]

    def match(self, rel: str) -> str | None:
        return next((p for p, spec in self._specs if spec.match_file(rel)), None)
