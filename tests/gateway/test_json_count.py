"""Counting a JSON text's values on its raw bytes (ramparts.gateway.json_count)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ramparts.gateway.json_count import json_key_count, json_value_count, quick_value_bound


def _empties(count: int, pair: bytes = b"[]") -> bytes:
    return b"[" + b",".join([pair] * count) + b"]"


def _reference_count(value: Any) -> int:
    """Values in a parsed JSON value, counted the obvious (slow) way."""
    if isinstance(value, dict):
        return 1 + sum(_reference_count(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(_reference_count(v) for v in value)
    return 1


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b"{}",
        b"[ [ ] , { } ]",
        b'{"a": [1, {}], "b": "x,[{:"}',
        b'["a\\"b,[c", "\\\\", 1, null]',
        orjson.dumps([{"k,": ["v,]", [], {"x": [{}, "[,]"]}]}] * 3000),
        _empties(5000, b"{}"),
    ],
)
def test_value_count_is_exact(body: bytes) -> None:
    assert json_value_count(body) == _reference_count(orjson.loads(body))


def test_value_count_of_escaped_quote_runs_stays_linear() -> None:
    """``"\\"\\"...``: a string regex that retries from every quote would take minutes."""
    body = b'["' + b'\\"' * 1_000_000 + b'"' + b",1" * 2000 + b"]"
    assert json_value_count(body) == 2002


def test_quick_bound_is_never_below_the_count() -> None:
    body = b'["a,b,c", [1, [2, {"k": "[{"}]], {}]'
    assert quick_value_bound(body) >= json_value_count(body) == _reference_count(orjson.loads(body))


def test_key_count_counts_duplicates_and_ignores_colons_in_strings() -> None:
    assert json_key_count(b'{"a": "http://x:1", "a": {"b": "c:d"}}') == 3
