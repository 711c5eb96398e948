"""What a JSON request body may cost the gateway before a handler sees it.

Parsing and walking a JSON body costs per value, not per byte: 6 MB of empty
arrays (``[[],[],...]``) is two million Python lists, ~150 MiB and seconds of
CPU, while 6 MB of letters is one string.  So a body is measured before it is
parsed: the number of JSON values it holds is counted on the raw bytes (C-speed
``bytes.count``, and a string-stripping regex only when the quick bound is over
the limit, ramparts.gateway.json_count), and a body with more than ``max_values``
values is refused with 413
``too_many_json_values`` without ever being built.  What is parsed is then
checked for nesting depth and duplicate object keys in one iterative walk,
bounded by the same limit.

Sits between the body read and the WAF in the gateway's request path
(ramparts.gateway.app); the gateway runs it in a worker thread for large bodies.
"""

from __future__ import annotations

from typing import Any

import orjson

from ramparts.gateway.checks import GatewayDenied
from ramparts.gateway.json_count import json_key_count, json_value_count, quick_value_bound
from ramparts.runtime.nesting import MAX_DEPTH, orjson_depth_exceeded


def parse_json_body(raw: bytes, max_values: int) -> Any:
    """``raw`` parsed, or GatewayDenied when it is too big, invalid, too deep or ambiguous.

    Refusals: 413 ``too_many_json_values`` (more than ``max_values`` values,
    containers and scalars alike, counted before parsing), 400 ``invalid_json``,
    400 ``too_deeply_nested`` (more than MAX_DEPTH levels), 400
    ``duplicate_json_key`` (an object names a key twice: parsers disagree on which
    value wins, so a WAF that saw one value cannot vouch for the other).
    """
    if quick_value_bound(raw) > max_values and json_value_count(raw) > max_values:
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
    if keys != raw.count(b":") and keys != json_key_count(raw):
        raise GatewayDenied(
            400,
            "duplicate_json_key",
            "an object in the JSON body names the same key more than once",
            reason="duplicate_json_key",
        )
    return parsed


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
