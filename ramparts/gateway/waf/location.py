"""Exact locations: which inspected value an exclusion's ``field`` names.

A location string (``$.comment.x``, ``query.q``) is for people and audit
records; it is ambiguous, because a JSON key or a parameter name may itself
contain ``.`` or ``[`` (a root key ``comment.x`` reads the same as the field
``x`` under ``comment``).  Exclusions therefore match the value's path as
segments (``("$", "comment", "x")`` vs ``("$", "comment.x")``), never the
string:

* ``$.a.b[2]``, ``$.items[*].note``: JSON fields, one segment per key or index
  (``[*]`` is any index); ``$['a.b']`` names a key that contains a dot or a
  bracket.  A JSON field covers what lies under it (``$.doc`` covers
  ``$.doc.title``), never a sibling key that merely starts with its name.
* ``query.NAME``, ``form.NAME``, ``cookie.NAME``, ``header.NAME``: NAME is the
  whole rest, taken literally: ``query.q`` is the parameter ``q`` only, not
  ``q.x``, ``q[]`` or ``q[a]``.  ``form.NAME`` also covers the part's file name
  (``form.NAME.filename``); ``header.NAME`` also covers the query parameters of a
  URL-valued header (``Referer``), inspected one by one.
* ``path``, ``body``: the whole path, the whole text body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

Segments = tuple[str | int, ...]
FILENAME = ".filename"  # the segment under a multipart field for its file name
_JSON_STEP = re.compile(r"\.([^.\[]+)|\[(\d+|\*)\]|\['((?:[^'\\]|\\.)*)'\]")
_NAMED = ("query", "form", "cookie", "header")


@dataclass(frozen=True, slots=True)
class FieldMatcher:
    """One exclusion's ``field``: the segment paths it covers (and what lies under them)."""

    spec: str
    paths: tuple[tuple[str | int | None, ...], ...]  # None: any array index
    nested: bool  # covers what lies under (JSON fields, multipart file names)

    def match(self, segments: Segments) -> bool:
        for path in self.paths:
            if len(segments) < len(path) or (len(segments) > len(path) and not self.nested):
                continue
            if all(
                want == got or (want is None and isinstance(got, int))
                for want, got in zip(path, segments, strict=False)
            ):
                return True
        return False


def field_matcher(spec: str) -> FieldMatcher:
    """The matcher for an exclusion's ``field`` (see the module docstring)."""
    if spec.startswith("$"):
        return FieldMatcher(spec, (_json_path(spec),), nested=True)
    prefix, dot, name = spec.partition(".")
    if dot and prefix in _NAMED:
        if prefix == "header":
            name = name.lower()
        paths: list[tuple[str | int | None, ...]] = [(prefix, name)]
        if prefix == "form" and name.endswith(FILENAME):
            paths.append((prefix, name[: -len(FILENAME)], FILENAME))
        return FieldMatcher(spec, tuple(paths), nested=prefix in ("form", "header"))
    return FieldMatcher(spec, ((spec,),), nested=False)


def _json_path(spec: str) -> tuple[str | int | None, ...]:
    out: list[str | int | None] = ["$"]
    pos = 1
    while pos < len(spec):
        step = _JSON_STEP.match(spec, pos)
        if step is None:  # not a path we can read: it names nothing (covers nothing)
            return ("$", "\x00unmatched", spec)
        key, index, quoted = step.groups()
        if key is not None:
            out.append(key)
        elif index is not None:
            out.append(None if index == "*" else int(index))
        else:
            out.append(re.sub(r"\\(.)", r"\1", quoted))
        pos = step.end()
    return tuple(out)
