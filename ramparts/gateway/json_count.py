"""Counting the values of a JSON text without parsing it.

Parsing costs per value (6 MB of ``[[],[],...]`` is two million Python lists),
so the gateway (ramparts.gateway.json_body) and the WAF's body reader
(ramparts.gateway.waf.request) count first, on the raw bytes, in linear time
and constant extra memory, and parse only what is within their limit.
"""

from __future__ import annotations

import re

#: A JSON string once its escaped quotes and backslashes are gone.  Not the usual
#: ``"(?:[^"\\]|\\.)*"``: on ``"\"\"\"...`` that one retries from every quote (quadratic).
_STRING = re.compile(rb'"[^"]*"')


def json_value_count(raw: bytes) -> int:
    """How many values (objects, arrays and scalars, the outermost included) ``raw`` holds.

    Every value but the outermost is an element of a non-empty container, and a
    container of n elements has n-1 commas: values = 1 + commas + non-empty
    containers, counted outside strings.  For text that is not JSON the count
    is meaningless but finite; the parser refuses it next.
    """
    return _structure(raw).values


def quick_value_bound(raw: bytes) -> int:
    """An upper bound of ``json_value_count`` (strings' commas and brackets included).

    A few C-speed passes: most bodies are under the limit by this bound alone.
    """
    return 1 + raw.count(b",") + raw.count(b"[") + raw.count(b"{")


#: Bytes handed to one C-level regex call: each call holds the GIL, so a large body
#: measured in a worker thread still lets the event loop run between slices.
_SLICE = 64 * 1024
_WHITESPACE = b" \t\r\n"


class _Counts:
    """Structural characters outside strings, summed slice by slice."""

    __slots__ = ("colons", "commas", "containers", "empty")

    def __init__(self) -> None:
        self.commas = self.containers = self.empty = self.colons = 0

    @property
    def values(self) -> int:
        return 1 + self.commas + self.containers - self.empty


def _structure(raw: bytes) -> _Counts:
    """Exact counts of ``,`` ``:`` and (empty) containers outside the strings of ``raw``.

    Linear: escaped backslashes and quotes are dropped first, so a string is
    ``"[^"]*"`` and a slice boundary is only ever placed outside one.
    """
    text = raw.replace(b"\\\\", b"").replace(b'\\"', b"")
    counts = _Counts()
    tail = b""
    pos = 0
    while pos < len(text):
        end = min(len(text), pos + _SLICE)
        piece = text[pos:end]
        if piece.count(b'"') % 2:  # a string runs past the slice: stop before it opens
            opening = piece.rindex(b'"')
            if opening == 0:  # one string longer than a slice: skip it whole
                closing = text.find(b'"', pos + 1)
                pos = len(text) if closing < 0 else closing + 1
                tail = b""
                continue
            end = pos + opening
            piece = piece[:opening]
        bare = _STRING.sub(b"0", piece).translate(None, _WHITESPACE)
        counts.commas += bare.count(b",")
        counts.colons += bare.count(b":")
        counts.containers += bare.count(b"[") + bare.count(b"{")
        joined = tail + bare
        counts.empty += joined.count(b"[]") + joined.count(b"{}")
        tail = bare[-1:] if bare[-1:] in (b"[", b"{") else b""
        pos = end
    return counts


def json_key_count(raw: bytes) -> int:
    """How many object members ``raw`` names (``:`` outside strings), duplicates included."""
    return _structure(raw).colons
