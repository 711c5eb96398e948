"""Property tests: adding a deny never widens access; removing an allow never widens access."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ramparts.policy.document import parse_policy
from ramparts.policy.evaluator import Evaluator, normalize_context

ACTION_PATTERNS = [
    "*",
    "kv:*",
    "kv:GetItem",
    "kv:Put*",
    "kv:?etItem",
    "objects:*",
    "topics:Publish",
    "secrets:GetSecretValue",
]
ACTIONS = [
    "kv:GetItem",
    "kv:PutItem",
    "kv:DeleteItem",
    "objects:GetObject",
    "topics:Publish",
    "secrets:GetSecretValue",
]
BASE = "arn:ramparts:kv:shop:table/"
RESOURCE_PATTERNS = [
    "*",
    BASE + "*",
    BASE + "orders/*",
    BASE + "orders/o-?",
    BASE + "users/*",
    "arn:ramparts:*:shop:*",
    BASE + "${ramparts:function}/*",
    "arn:ramparts:secrets:shop:secret/*",
]
RESOURCES = [
    BASE + "orders/o-1",
    BASE + "orders/o-10",
    BASE + "orders-archive/x",
    BASE + "users/u",
    BASE + "fn/k",
    "arn:ramparts:secrets:shop:secret/s",
    "arn:ramparts:objects:shop:bucket/b/k",
]
CONDITIONS: list[dict[str, Any]] = [
    {"StringEquals": {"ramparts:trigger": "http"}},
    {"StringNotEquals": {"ramparts:trigger": "topic"}},
    {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
    {"ForAnyValue:StringEquals": {"ramparts:PrincipalScopes": ["a"]}},
    {"ForAllValues:StringEquals": {"ramparts:PrincipalScopes": ["a", "b"]}},
    {"Null": {"ramparts:principal": "true"}},
    {"StringEqualsIfExists": {"ramparts:principal": "alice"}},
]


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3))
    out["NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action"] = actions
    resources = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=3))
    out["NotResource" if draw(st.booleans()) and draw(st.booleans()) else "Resource"] = resources
    conditions = draw(st.lists(st.sampled_from(CONDITIONS), max_size=2))
    if conditions:
        merged: dict[str, Any] = {}
        for c in conditions:
            for op, body in c.items():
                merged.setdefault(op, {}).update(body)
        out["Condition"] = merged
    return out


contexts = st.fixed_dictionaries(
    {},
    optional={
        "ramparts:trigger": st.sampled_from(["http", "topic", "invoke"]),
        "aws:SourceIp": st.sampled_from(["10.1.2.3", "192.0.2.1"]),
        "ramparts:PrincipalScopes": st.lists(st.sampled_from(["a", "b", "c"]), max_size=3),
        "ramparts:principal": st.sampled_from(["alice", "bob"]),
        "ramparts:function": st.sampled_from(["fn", "other"]),
    },
)
requests = st.tuples(st.sampled_from(ACTIONS), st.sampled_from(RESOURCES), contexts)


def allowed(stmts: list[dict[str, Any]], request: tuple[str, str, dict[str, Any]]) -> bool:
    action, resource, context = request
    doc = parse_policy({"Version": "2012-10-17", "Statement": stmts})
    return (
        Evaluator([doc], cache=False).decide(action, resource, normalize_context(context)).allowed
    )


@settings(max_examples=400, deadline=None)
@given(st.lists(statements(), max_size=5), statements(effect="Deny"), requests)
def test_adding_a_deny_never_widens_access(
    stmts: list[dict[str, Any]], extra: dict[str, Any], request: tuple[str, str, dict[str, Any]]
) -> None:
    if allowed([*stmts, extra], request):
        assert allowed(stmts, request)


@settings(max_examples=400, deadline=None)
@given(st.lists(statements(), min_size=1, max_size=6), st.data(), requests)
def test_removing_an_allow_never_widens_access(
    stmts: list[dict[str, Any]], data: st.DataObject, request: tuple[str, str, dict[str, Any]]
) -> None:
    allows = [i for i, s in enumerate(stmts) if s["Effect"] == "Allow"]
    if not allows:
        return
    drop = data.draw(st.sampled_from(allows))
    fewer = [s for i, s in enumerate(stmts) if i != drop]
    if allowed(fewer, request):
        assert allowed(stmts, request)


@settings(max_examples=200, deadline=None)
@given(st.lists(statements(), max_size=5), requests)
def test_the_cache_never_changes_an_answer(
    stmts: list[dict[str, Any]], request: tuple[str, str, dict[str, Any]]
) -> None:
    action, resource, context = request
    doc = parse_policy({"Version": "2012-10-17", "Statement": stmts})
    cached = Evaluator([doc])
    ctx = normalize_context(context)
    first = cached.decide(action, resource, ctx)
    assert cached.decide(action, resource, ctx) == first
    assert Evaluator([doc], cache=False).decide(action, resource, ctx) == first
