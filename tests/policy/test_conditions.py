"""Each condition operator, with IfExists, Null, the set operators and missing keys."""

from __future__ import annotations

from typing import Any

import pytest

from ramparts.policy.conditions import parse_condition
from ramparts.policy.evaluator import normalize_context


def holds(block: dict[str, Any], context: dict[str, Any]) -> bool:
    clauses = parse_condition(block, "Condition", variables=True)
    ctx = normalize_context(context)
    return all(c.holds(ctx) for c in clauses)


CASES: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    # strings
    ({"StringEquals": {"k": "a"}}, {"k": "a"}, True),
    ({"StringEquals": {"k": "a"}}, {"k": "A"}, False),
    ({"StringEquals": {"k": ["a", "b"]}}, {"k": "b"}, True),  # values are OR
    ({"StringEquals": {"k": "a"}}, {}, False),  # missing key: false
    ({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "c"}, True),
    ({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "b"}, False),
    ({"StringNotEquals": {"k": "a"}}, {}, True),  # negated + missing key: true
    ({"StringEqualsIgnoreCase": {"k": "Alice"}}, {"k": "aLICE"}, True),
    ({"StringNotEqualsIgnoreCase": {"k": "Alice"}}, {"k": "aLICE"}, False),
    ({"StringLike": {"k": "img-*.png"}}, {"k": "img-1.png"}, True),
    ({"StringLike": {"k": "img-?.png"}}, {"k": "img-10.png"}, False),
    ({"StringNotLike": {"k": "tmp/*"}}, {"k": "tmp/x"}, False),
    ({"StringNotLike": {"k": "tmp/*"}}, {"k": "data/x"}, True),
    ({"StringEqualsIfExists": {"k": "a"}}, {}, True),
    ({"StringEqualsIfExists": {"k": "a"}}, {"k": "b"}, False),
    # several keys and operators: AND
    ({"StringEquals": {"a": "1", "b": "2"}}, {"a": "1", "b": "2"}, True),
    ({"StringEquals": {"a": "1", "b": "2"}}, {"a": "1", "b": "3"}, False),
    ({"StringEquals": {"a": "1"}, "StringLike": {"b": "x*"}}, {"a": "1", "b": "y"}, False),
    # policy variables in condition values
    (
        {"StringEquals": {"owner": "${ramparts:principal}"}},
        {"owner": "alice", "ramparts:principal": "alice"},
        True,
    ),
    ({"StringEquals": {"owner": "${ramparts:principal}"}}, {"owner": "alice"}, False),
    # numbers
    ({"NumericEquals": {"n": "10"}}, {"n": 10}, True),
    ({"NumericNotEquals": {"n": "10"}}, {"n": "11"}, True),
    ({"NumericLessThan": {"n": "10"}}, {"n": "9.5"}, True),
    ({"NumericLessThan": {"n": "10"}}, {"n": "10"}, False),
    ({"NumericLessThanEquals": {"n": "10"}}, {"n": "10"}, True),
    ({"NumericGreaterThan": {"n": "10"}}, {"n": "11"}, True),
    ({"NumericGreaterThanEquals": {"n": "10"}}, {"n": "9"}, False),
    ({"NumericEquals": {"n": "10"}}, {"n": "ten"}, False),  # not a number: no match
    # dates (ISO 8601 or epoch seconds)
    ({"DateLessThan": {"t": "2024-01-01T00:00:00Z"}}, {"t": "2023-12-31T23:59:59Z"}, True),
    ({"DateLessThanEquals": {"t": "2024-01-01"}}, {"t": "2024-01-01T00:00:00Z"}, True),
    ({"DateGreaterThan": {"t": "2024-01-01T00:00:00Z"}}, {"t": 1704067201}, True),
    ({"DateGreaterThanEquals": {"t": 1704067200}}, {"t": "2024-01-01T00:00:00+00:00"}, True),
    ({"DateEquals": {"t": "2024-01-01T00:00:00Z"}}, {"t": 1704067200}, True),
    ({"DateNotEquals": {"t": "2024-01-01T00:00:00Z"}}, {"t": 1704067200}, False),
    # booleans
    ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": True}, True),
    ({"Bool": {"aws:SecureTransport": "true"}}, {"aws:SecureTransport": "false"}, False),
    ({"BoolIfExists": {"aws:SecureTransport": "true"}}, {}, True),
    # binary
    ({"BinaryEquals": {"b": "aGVsbG8="}}, {"b": "aGVsbG8="}, True),
    ({"BinaryEquals": {"b": "aGVsbG8="}}, {"b": b"hello"}, True),
    ({"BinaryEquals": {"b": "aGVsbG8="}}, {"b": "d29ybGQ="}, False),
    # IP ranges
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.113.9"}, True),
    ({"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}, {"aws:SourceIp": "203.0.114.9"}, False),
    ({"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}, {"aws:SourceIp": "2001:db8::1"}, True),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.1"}}, {"aws:SourceIp": "10.0.0.1"}, True),
    ({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "not-an-ip"}, False),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "192.0.2.1"}, True),
    ({"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}}, {"aws:SourceIp": "10.2.3.4"}, False),
    # ARNs: segment by segment, wildcards in both ArnLike and ArnEquals
    (
        {"ArnLike": {"s": "arn:aws:sns:*:111122223333:topic-*"}},
        {"s": "arn:aws:sns:us-east-1:111122223333:topic-a"},
        True,
    ),
    (
        {"ArnLike": {"s": "arn:aws:sns:*:111122223333:topic-*"}},
        {"s": "arn:aws:sns:us-east-1:444455556666:topic-a"},
        False,
    ),
    (
        {"ArnEquals": {"s": "arn:ramparts:functions:shop:function/ship"}},
        {"s": "arn:ramparts:functions:shop:function/ship"},
        True,
    ),
    ({"ArnNotLike": {"s": "arn:aws:s3:::logs*"}}, {"s": "arn:aws:s3:::data"}, True),
    ({"ArnNotEquals": {"s": "arn:aws:s3:::data"}}, {"s": "arn:aws:s3:::data"}, False),
    ({"ArnLike": {"s": "arn:aws:s3:::x"}}, {"s": 5}, False),
    # Null
    ({"Null": {"k": "true"}}, {}, True),
    ({"Null": {"k": "true"}}, {"k": "v"}, False),
    ({"Null": {"k": "false"}}, {"k": "v"}, True),
    ({"Null": {"k": False}}, {}, False),
    # set operators over a multivalued key
    ({"ForAllValues:StringEquals": {"scopes": ["a", "b"]}}, {"scopes": ["a"]}, True),
    ({"ForAllValues:StringEquals": {"scopes": ["a", "b"]}}, {"scopes": ["a", "c"]}, False),
    ({"ForAllValues:StringEquals": {"scopes": ["a"]}}, {}, True),
    ({"ForAllValues:StringEquals": {"scopes": ["a"]}}, {"scopes": []}, True),
    ({"ForAnyValue:StringEquals": {"scopes": ["a"]}}, {"scopes": ["x", "a"]}, True),
    ({"ForAnyValue:StringEquals": {"scopes": ["a"]}}, {"scopes": ["x"]}, False),
    ({"ForAnyValue:StringEquals": {"scopes": ["a"]}}, {}, False),
    ({"ForAnyValue:StringLike": {"scopes": "orders:*"}}, {"scopes": ["orders:read"]}, True),
    ({"ForAllValues:StringNotEquals": {"scopes": ["admin"]}}, {"scopes": ["a", "b"]}, True),
    ({"ForAllValues:StringNotEquals": {"scopes": ["admin"]}}, {"scopes": ["a", "admin"]}, False),
    ({"ForAnyValue:StringNotEquals": {"scopes": ["admin"]}}, {"scopes": ["admin", "b"]}, True),
    ({"ForAnyValue:StringEqualsIfExists": {"scopes": ["a"]}}, {}, True),
    # a multivalued key without a set operator: any value may match
    ({"StringEquals": {"scopes": "a"}}, {"scopes": ["x", "a"]}, True),
    ({"StringNotEquals": {"scopes": "a"}}, {"scopes": ["x", "a"]}, False),
    # keys are case-insensitive
    ({"StringEquals": {"Ramparts:Function": "f"}}, {"ramparts:function": "f"}, True),
]


@pytest.mark.parametrize(("block", "context", "expected"), CASES)
def test_operator(block: dict[str, Any], context: dict[str, Any], expected: bool) -> None:
    assert holds(block, context) is expected
