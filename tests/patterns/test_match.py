"""EventBridge / ESM filter patterns: what matches, and what does not parse."""

from __future__ import annotations

from typing import Any

import pytest

from ramparts.patterns.match import PatternError, compile_pattern, matches_any

ORDER = {"body": {"type": "order", "amount": 150, "tags": ["a", "b"], "ok": True, "none": None}}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"body": {"type": ["order"]}}, True),
        ({"body": {"type": ["refund", "order"]}}, True),
        ({"body": {"type": ["Order"]}}, False),
        ({"body": {"amount": [150]}}, True),
        ({"body": {"amount": [150.0]}}, True),
        ({"body": {"amount": ["150"]}}, False),  # types are exact
        ({"body": {"ok": [True]}}, True),
        ({"body": {"ok": [1]}}, False),
        ({"body": {"none": [None]}}, True),
        ({"body": {"tags": ["b"]}}, True),  # a list matches if any element does
        ({"body": {"type": [{"prefix": "ord"}]}}, True),
        ({"body": {"type": [{"suffix": "der"}]}}, True),
        ({"body": {"type": [{"anything-but": "order"}]}}, False),
        ({"body": {"type": [{"anything-but": ["refund", "void"]}]}}, True),
        ({"body": {"type": [{"anything-but": {"prefix": "or"}}]}}, False),
        ({"body": {"amount": [{"numeric": [">", 100, "<=", 150]}]}}, True),
        ({"body": {"amount": [{"numeric": ["<", 100]}]}}, False),
        ({"body": {"type": [{"numeric": [">", 0]}]}}, False),  # not a number
        ({"body": {"missing": [{"exists": False}]}}, True),
        ({"body": {"missing": [{"exists": True}]}}, False),
        ({"body": {"type": [{"exists": True}]}}, True),
        ({"body": {"missing": ["x"]}}, False),
        ({"body": {"type": ["order"], "amount": [{"numeric": ["<", 10]}]}}, False),  # all keys
        ({"body": {"type": {"nested": ["x"]}}}, False),
    ],
)
def test_matching(pattern: dict[str, Any], expected: bool) -> None:
    assert compile_pattern(pattern).matches(ORDER) is expected


def test_any_pattern_may_match_and_none_lets_all_through() -> None:
    a = compile_pattern({"body": {"type": ["refund"]}})
    b = compile_pattern({"body": {"amount": [{"numeric": [">=", 150]}]}})
    assert matches_any([a, b], ORDER)
    assert not matches_any([a], ORDER)
    assert matches_any([], ORDER)


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ([], "non-empty object"),
        ({}, "non-empty object"),
        ({"body": "order"}, "pattern.body: expected an object or a list"),
        ({"body": {"type": []}}, "cannot be empty"),
        ({"body": {"type": [["x"]]}}, "neither a value nor a matcher"),
        ({"body": {"type": [{"prefix": 1}]}}, "prefix takes a string"),
        ({"body": {"type": [{"exists": "yes"}]}}, "exists takes true or false"),
        ({"body": {"n": [{"numeric": [">>", 1]}]}}, "not a numeric operator"),
        ({"body": {"n": [{"numeric": [">", "1"]}]}}, "compares with numbers"),
        ({"body": {"n": [{"numeric": ["<", 1, ">", 0]}]}}, "lower bound then an upper"),
        ({"body": {"n": [{"numeric": [">"]}]}}, "one or two"),
        ({"body": {"n": [{"wildcard": "*"}]}}, "unknown matcher 'wildcard'"),
        ({"body": {"n": [{"prefix": "a", "suffix": "b"}]}}, "exactly one operator"),
        ({"body": {"n": [{"anything-but": []}]}}, "non-empty list"),
        ({"body": {"n": [{"anything-but": {"suffix": "x"}}]}}, "a value, a list or a prefix"),
    ],
)
def test_patterns_that_do_not_parse_are_refused(pattern: Any, says: str) -> None:
    with pytest.raises(PatternError, match=says):
        compile_pattern(pattern)


def test_depth_is_bounded() -> None:
    pattern: dict[str, Any] = {"x": ["y"]}
    for _ in range(20):
        pattern = {"x": pattern}
    with pytest.raises(PatternError, match="deeper"):
        compile_pattern(pattern)
