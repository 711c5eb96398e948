"""EventBridge / event-source-mapping filter patterns: parse once, match many.

Triggers take ``filters: [PATTERN, ...]`` written the way Lambda's event
source mappings take ``FilterCriteria``, so a pattern copied from a SAM
template means the same here.  A pattern is a JSON object whose leaves are
lists of matchers; a record matches when every key of the pattern matches,
and a leaf matches when any of its matchers does.  Supported matchers:

* exact values: strings, numbers (compared as numbers), ``true``/``false``
  and ``null``;
* ``{"prefix": "s"}`` and ``{"suffix": "s"}``;
* ``{"anything-but": v}`` with a value, a list of values or ``{"prefix": s}``;
* ``{"numeric": [">", 0, "<=", 5]}`` (one or two comparisons);
* ``{"exists": true|false}``.

Parsing is strict: anything else (an unknown matcher, an empty list, a
comparison with no number) is refused with a message naming where, because
a pattern that silently matches nothing would ack every record unseen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Pattern", "PatternError", "compile_pattern", "matches_any"]

_MAX_DEPTH = 16
_MAX_VALUES = 1024
_NUMERIC_OPS = {"<", "<=", "=", ">", ">="}
_MISSING = object()


class PatternError(ValueError):
    """A filter pattern that does not parse; the message names where."""


@dataclass(frozen=True)
class Pattern:
    """A parsed pattern: the checked source, ready to match records."""

    source: Mapping[str, Any]

    def matches(self, record: Any) -> bool:
        return _match_object(self.source, record)


def compile_pattern(pattern: Any) -> Pattern:
    """Check ``pattern`` against the syntax and return it ready for matching."""
    _check_object(pattern, "pattern", 0)
    return Pattern(pattern)


def matches_any(patterns: list[Pattern], record: Any) -> bool:
    """ESM semantics: no patterns lets everything through, else any one must match."""
    return not patterns or any(p.matches(record) for p in patterns)


# -- parsing ---------------------------------------------------------------------------


def _check_object(node: Any, where: str, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise PatternError(f"{where}: nested deeper than {_MAX_DEPTH} levels")
    if not isinstance(node, Mapping) or not node:
        raise PatternError(f"{where}: expected a non-empty object of field names")
    for key, value in node.items():
        if not isinstance(key, str):
            raise PatternError(f"{where}: field names must be strings")
        here = f"{where}.{key}"
        if isinstance(value, Mapping):
            _check_object(value, here, depth + 1)
        elif isinstance(value, list):
            _check_leaf(value, here)
        else:
            raise PatternError(f"{here}: expected an object or a list of values to match")


def _check_leaf(values: list[Any], where: str) -> None:
    if not values:
        raise PatternError(f"{where}: a list of values to match cannot be empty")
    if len(values) > _MAX_VALUES:
        raise PatternError(f"{where}: at most {_MAX_VALUES} values")
    for value in values:
        if isinstance(value, Mapping):
            _check_matcher(value, where)
        elif not _is_scalar(value):
            raise PatternError(f"{where}: {value!r} is neither a value nor a matcher")


def _check_matcher(matcher: Mapping[str, Any], where: str) -> None:
    if len(matcher) != 1:
        raise PatternError(f"{where}: a matcher has exactly one operator")
    ((op, arg),) = matcher.items()
    if op in ("prefix", "suffix"):
        if not isinstance(arg, str):
            raise PatternError(f"{where}: {op} takes a string")
    elif op == "exists":
        if not isinstance(arg, bool):
            raise PatternError(f"{where}: exists takes true or false")
    elif op == "numeric":
        _check_numeric(arg, where)
    elif op == "anything-but":
        if isinstance(arg, Mapping):
            if set(arg) != {"prefix"} or not isinstance(arg["prefix"], str):
                raise PatternError(f"{where}: anything-but takes a value, a list or a prefix")
        elif isinstance(arg, list):
            if not arg or not all(_is_scalar(v) for v in arg):
                raise PatternError(f"{where}: anything-but takes a non-empty list of values")
        elif not _is_scalar(arg):
            raise PatternError(f"{where}: anything-but takes a value, a list or a prefix")
    else:
        raise PatternError(f"{where}: unknown matcher {op!r}")


def _check_numeric(arg: Any, where: str) -> None:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise PatternError(f"{where}: numeric takes one or two [operator, number] pairs")
    for i in range(0, len(arg), 2):
        op, number = arg[i], arg[i + 1]
        if op not in _NUMERIC_OPS:
            raise PatternError(f"{where}: {op!r} is not a numeric operator")
        if not _is_number(number):
            raise PatternError(f"{where}: numeric compares with numbers, not {number!r}")
    if len(arg) == 4 and not (arg[0] in (">", ">=") and arg[2] in ("<", "<=")):
        raise PatternError(f"{where}: a numeric range is a lower bound then an upper bound")


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, str | bool | int | float)


# -- matching --------------------------------------------------------------------------


def _match_object(pattern: Mapping[str, Any], record: Any) -> bool:
    for key, want in pattern.items():
        got = record.get(key, _MISSING) if isinstance(record, Mapping) else _MISSING
        if isinstance(want, Mapping):
            if not _match_object(want, got):
                return False
        elif not _match_leaf(want, got):
            return False
    return True


def _match_leaf(matchers: list[Any], got: Any) -> bool:
    for m in matchers:
        if isinstance(m, Mapping) and "exists" in m:
            if m["exists"] == (got is not _MISSING):
                return True
            continue
        if got is _MISSING:
            continue
        values = got if isinstance(got, list) else [got]
        if any(_match_value(m, v) for v in values):
            return True
    return False


def _match_value(matcher: Any, value: Any) -> bool:
    if not isinstance(matcher, Mapping):
        return _equal(matcher, value)
    ((op, arg),) = matcher.items()
    if op == "prefix":
        return isinstance(value, str) and value.startswith(arg)
    if op == "suffix":
        return isinstance(value, str) and value.endswith(arg)
    if op == "numeric":
        return _is_number(value) and all(
            _compare(value, arg[i], arg[i + 1]) for i in range(0, len(arg), 2)
        )
    # anything-but
    if isinstance(arg, Mapping):
        return isinstance(value, str) and not value.startswith(arg["prefix"])
    banned = arg if isinstance(arg, list) else [arg]
    return not any(_equal(b, value) for b in banned)


def _equal(want: Any, got: Any) -> bool:
    if _is_number(want) or _is_number(got):
        return _is_number(want) and _is_number(got) and want == got
    return type(want) is type(got) and want == got


def _compare(value: float, op: str, bound: float) -> bool:
    if op == "<":
        return value < bound
    if op == "<=":
        return value <= bound
    if op == "=":
        return value == bound
    if op == ">":
        return value > bound
    return value >= bound
