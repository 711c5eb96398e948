"""What a JSON request body may cost the gateway before a handler sees it.

Parsing and walking a JSON body costs per value, not per byte: 6 MB of empty
arrays (``[[],[],...]``) is two million Python lists, ~150 MiB and seconds of
CPU, while 6 MB of letters is one string.  So a body is measured before it is
parsed: the number of JSON values it holds is counted on the raw bytes (C-speed
``bytes.count``, and a string-stripping regex only when the quick bound is over
the limit), and a body with more than ``max_values`` values is refused with 413
``too_many_json_values`` without ever being built.  What is parsed is then
checked for nesting depth and duplicate object keys in one iterative walk,
bounded by the same limit.

Sits between the body read and the WAF in the gateway's request path
(ramparts.gateway.app); the gateway runs it in a worker thread for large bodies.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from ramparts.gateway.checks import GatewayDenied
from ramparts.runtime.nesting import MAX_DEPTH, orjson_depth_exceeded

#: A JSON string once its escaped quotes and backslashes are gone.  Not the usual
#: ``"(?:[^"\\]|\\.)*"``: on ``"\"\"\"...`` that one retries from every quote (quadratic).
_STRING = re.compile(rb'"[^"]*"')


def parse_json_body(raw: bytes, max_values: int) -> Any:
    """``raw`` parsed, or GatewayDenied when it is too big, invalid, too deep or ambiguous.

    Refusals: 413 ``too_many_json_values`` (more than ``max_values`` values,
    containers and scalars alike, counted before parsing), 400 ``invalid_json``,
    400 ``too_deeply_nested`` (more than MAX_DEPTH levels), 400
    ``duplicate_json_key`` (an object names a key twice: parsers disagree on which
    value wins, so a WAF that saw one value cannot vouch for the other).
    """
    if _quick_bound(raw) > max_values and json_value_count(raw) > max_values:
        raise GatewayDenied(
            413,
            "too_many_json_values",
            f"the JSON body holds more than {max_values} values",
            detail={"max_values": max_values},
        )
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if orjson_depth_exceeded(exc):
            raise _too_deep() from None
        raise GatewayDenied(400, "invalid_json", "the body is not valid JSON") from None
    depth, keys = _shape(parsed)
    if depth > MAX_DEPTH:
        raise _too_deep()
    if keys != raw.count(b":") and keys != _structure(raw).colons:
        raise GatewayDenied(
            400,
            "duplicate_json_key",
            "an object in the JSON body names the same key more than once",
            reason="duplicate_json_key",
        )
    return parsed


def json_value_count(raw: bytes) -> int:
    """How many values (objects, arrays and scalars, the outermost included) ``raw`` holds.

    Every value but the outermost is an element of a non-empty container, and a
    container of n elements has n-1 commas: values = 1 + commas + non-empty
    containers, counted outside strings.  For text that is not JSON the count
    is meaningless but finite; the parser refuses it next.
    """
    return _structure(raw).values


def _quick_bound(raw: bytes) -> int:
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


def _shape(value: Any) -> tuple[int, int]:
    """(nesting depth, capped at MAX_DEPTH + 1; object keys in all) of a parsed value.

    Iterative: a value nested far beyond the interpreter's recursion limit is
    measured without RecursionError.  Its cost is one step per value, which the
    value count has already bounded.
    """
    deepest = 0
    keys = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            keys += len(current)
            children: Any = current.values()
        elif isinstance(current, list):
            children = current
        else:
            continue
        if depth > MAX_DEPTH:
            return MAX_DEPTH + 1, keys
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest, keys


def _too_deep() -> GatewayDenied:
    return GatewayDenied(
        400,
        "too_deeply_nested",
        f"the JSON body nests deeper than {MAX_DEPTH} levels",
        reason="too_deeply_nested",
    )
