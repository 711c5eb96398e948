"""Wildcard and ARN matching, the way IAM matches actions and resources.

``*`` matches any run of characters (including none) and ``?`` exactly one.
Actions match case-insensitively; resources and ARNs case-sensitively.  An
ARN pattern is matched segment by segment, so a wildcard in one segment
never spills into the next (``arn:*:kv:app:table/x`` cannot swallow
colons); the last segment (the resource path) may hold colons and slashes
like any other character.  A pattern with a ``/`` after
its literal prefix keeps the segment boundary: ``table/orders/*`` needs the
slash and so never matches ``table/orders-archive/x``.

A literal ``*`` or ``?`` (what a policy variable such as ``${*}`` or a
substituted context value produces) is written as ``\\x00*`` / ``\\x00?``;
see ``escape_literal``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache

Matcher = Callable[[str], bool]

_ESC = "\x00"


def escape_literal(value: str) -> str:
    """Make ``value`` match only itself inside a glob pattern."""
    if _ESC in value or "*" in value or "?" in value:
        return value.replace(_ESC, _ESC + _ESC).replace("*", _ESC + "*").replace("?", _ESC + "?")
    return value


def has_wildcard(pattern: str) -> bool:
    return "*" in pattern.replace(_ESC + "*", "") or "?" in pattern.replace(_ESC + "?", "")


def _always(_: str) -> bool:
    return True


@lru_cache(maxsize=8192)
def glob_matcher(pattern: str, ignore_case: bool = False) -> Matcher:
    """Compile a glob into the cheapest test that decides it.

    Plain strings become an equality test, ``prefix*`` a ``startswith``; only
    patterns with inner wildcards pay for a regular expression.  With
    ``ignore_case`` the *subject* must already be lower-cased by the caller
    (actions are lowered once per decision, not once per statement).
    """
    if pattern == "*":
        return _always
    text = pattern.lower() if ignore_case else pattern
    if _ESC not in text:
        star, qmark = text.count("*"), "?" in text
        if not star and not qmark:
            return text.__eq__
        if star == 1 and text.endswith("*") and not qmark:
            prefix = text[:-1]
            return lambda s: s.startswith(prefix)
    regex = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == _ESC and i + 1 < len(text):
            regex.append(re.escape(text[i + 1]))
            i += 2
            continue
        regex.append(".*" if c == "*" else "." if c == "?" else re.escape(c))
        i += 1
    compiled = re.compile("".join(regex), re.DOTALL)
    return lambda s: compiled.fullmatch(s) is not None


def arn_matcher(pattern: str) -> Matcher:
    """Match an ARN (or ``*``, or any other string) as IAM's Resource element does.

    AWS ARNs have six segments (``arn:aws:s3:::bucket/key``); ours have five
    (``arn:ramparts:kv:APP:table/orders/o-1``).  Either way the subject is
    split into as many segments as the pattern has, the last one keeping
    any further colons.
    """
    if pattern == "*":
        return _always
    if pattern.startswith("arn:") and pattern.count(":") >= 4:
        parts = pattern.split(":", 5)
        n = len(parts)
        if not any(has_wildcard(p) or _ESC in p for p in parts[:-1]):
            # the usual case: only the resource path may hold wildcards
            head = ":".join(parts[:-1]) + ":"
            tail = glob_matcher(parts[-1])
            size = len(head)
            return lambda s: s.startswith(head) and tail(s[size:])
        segs = [glob_matcher(p) for p in parts]

        def by_segment(s: str) -> bool:
            got = s.split(":", n - 1)
            return len(got) == n and all(m(g) for m, g in zip(segs, got, strict=True))

        return by_segment
    return glob_matcher(pattern)


def action_matcher(pattern: str) -> Matcher:
    """Actions are case-insensitive: the subject passed in must be lower-cased."""
    return glob_matcher(pattern, True)
