"""How deeply a JSON body may nest before the gateway or the control API refuses it.

orjson parses up to 1024 levels, but the Python code that later walks a parsed
value (schema validation, redaction, the worker IPC encoder, a handler's own
``json.loads``) recurses once or more per level and reaches the interpreter's
1000-frame limit first: a ``RecursionError`` deep inside the node, seen by the
caller as a 500.  Real documents nest a handful of levels; both listeners
refuse anything deeper than :data:`MAX_JSON_DEPTH` up front with a 400
(``json_too_deep``).
"""

from __future__ import annotations

from collections.abc import Iterable

MAX_JSON_DEPTH = 64


def too_deep(raw: bytes, value: object, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``value`` (parsed from ``raw``) nests more than ``limit`` arrays/objects.

    Counting brackets in ``raw`` is a bound no walk can beat, and it is cheap: most
    bodies stop there.  The walk is iterative so that it cannot recurse itself.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Iterable[object] = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, dict | list))
    return False


def depth_exceeded(error: Exception) -> bool:
    """Whether an orjson decode error is its own depth limit (1024), not a syntax error."""
    return "depth limit" in str(error)
