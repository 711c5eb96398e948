"""How deeply a JSON value handed to the host may nest.

KV items and topic messages cross several JSON encoders on their way (the
worker's stdlib ``json``, orjson on the host, the DynamoDB-shaped change
records of table triggers), each with its own recursion limit and its own
way of failing: a ``RecursionError``, orjson's "Recursion limit reached", a
decoder refusing what an encoder wrote.  One explicit limit, checked without
recursion before any of them runs, turns all of that into one clear refusal.

The same limit bounds JSON bodies at the gateway and the control API
(orjson parses 1024 levels, but code that later walks a parsed value recurses
per level and reaches the interpreter's 1000-frame limit first), with the same
error code, ``too_deeply_nested``.

Lives in ``runtime`` because the worker's ``context`` (which must not import
the host), the broker and both listeners check it.
"""

from __future__ import annotations

from typing import Any

from ramparts.errors import InvalidRequest

#: Containers (objects and arrays) inside one another, counting the outermost.
MAX_DEPTH = 64


def nesting_depth(value: Any, limit: int = MAX_DEPTH) -> int:
    """The container depth of ``value``, or ``limit + 1`` as soon as it is exceeded.

    Iterative, so a value nested far beyond the interpreter's recursion limit
    is measured (and refused) without raising ``RecursionError`` itself.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        current, depth = stack.pop()
        if isinstance(current, dict):
            children: Any = current.values()
        elif isinstance(current, list | tuple):
            children = current
        else:
            continue
        if depth > limit:
            return limit + 1
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def body_too_deep(raw: bytes, value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a JSON body ``value`` (parsed from ``raw``) nests more than ``limit`` levels.

    Counting brackets in ``raw`` is a bound no walk can beat, and it is cheap:
    most bodies stop there.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    return nesting_depth(value, limit) > limit


def orjson_depth_exceeded(error: Exception) -> bool:
    """Whether an orjson decode error is its own depth limit (1024), not a syntax error."""
    return "depth limit" in str(error)


def check_nesting(value: Any, what: str) -> None:
    """Refuse ``value`` with a clear ``too_deeply_nested`` error if it nests too deep."""
    if nesting_depth(value) > MAX_DEPTH:
        raise InvalidRequest(
            f"{what} is nested deeper than {MAX_DEPTH} levels", code="too_deeply_nested"
        )
