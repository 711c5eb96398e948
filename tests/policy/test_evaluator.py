"""The evaluator: explicit deny > allow > implicit deny, wildcards, NotAction/NotResource,
variables, roles from ramparts.yaml and the decision cache."""

from __future__ import annotations

from typing import Any

import pytest

from ramparts.manifest import parse_manifest
from ramparts.policy.document import parse_policy
from ramparts.policy.evaluator import (
    ALLOWED,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    Evaluator,
    RolePolicy,
    expand_resource,
    normalize_context,
    resource_arn,
)

APP = "shop"


def kv(path: str) -> str:
    return resource_arn(APP, "kv", path)


def role(*statements: dict[str, Any], secrets: list[str] | None = None) -> RolePolicy:
    manifest = parse_manifest(
        {
            "app": APP,
            "functions": {
                "fn": {
                    "handler": "h.py:handler",
                    "role": {"statements": list(statements)},
                    "secrets": secrets or [],
                }
            },
        }
    )
    return RolePolicy(APP, manifest.functions["fn"])


def allow(actions: list[str], resources: list[str], **kw: Any) -> dict[str, Any]:
    return {"effect": "allow", "actions": actions, "resources": resources, **kw}


def deny(actions: list[str], resources: list[str], **kw: Any) -> dict[str, Any]:
    return {"effect": "deny", "actions": actions, "resources": resources, **kw}


ORDERS = [
    allow(["kv:GetItem", "kv:PutItem", "kv:Query"], ["kv:orders/*"]),
    deny(["kv:PutItem"], ["kv:orders/locked-*"]),
    allow(["topics:Publish"], ["topic:order-created"]),
    allow(["objects:Get*"], ["objects:uploads/images/*"]),
]

TABLE = [
    # (action, resource, outcome)
    ("kv:GetItem", kv("orders/o-1"), ALLOWED),
    ("kv:PutItem", kv("orders/o-1"), ALLOWED),
    ("kv:PutItem", kv("orders/locked-1"), EXPLICIT_DENY),  # deny beats the allow
    ("kv:GetItem", kv("orders/locked-1"), ALLOWED),  # the deny is only for PutItem
    ("kv:DeleteItem", kv("orders/o-1"), IMPLICIT_DENY),  # never granted
    ("kv:GetItem", kv("orders-archive/x"), IMPLICIT_DENY),  # orders/* is not orders-archive/*
    ("kv:GetItem", kv("orders"), IMPLICIT_DENY),  # the table name alone is not orders/...
    ("kv:GetItem", resource_arn("other-app", "kv", "orders/o-1"), IMPLICIT_DENY),
    ("kv:Query", kv("orders/*"), ALLOWED),
    ("KV:getitem", kv("orders/o-1"), ALLOWED),  # actions are case-insensitive
    ("kv:GetItem", kv("Orders/o-1"), IMPLICIT_DENY),  # resources are case-sensitive
    ("topics:Publish", resource_arn(APP, "topic", "order-created"), ALLOWED),
    ("topics:Publish", resource_arn(APP, "topic", "order-created-2"), IMPLICIT_DENY),
    ("objects:GetObject", resource_arn(APP, "objects", "uploads/images/a.png"), ALLOWED),
    ("objects:GetObject", resource_arn(APP, "objects", "uploads/docs/a.pdf"), IMPLICIT_DENY),
    ("objects:PutObject", resource_arn(APP, "objects", "uploads/images/a.png"), IMPLICIT_DENY),
    ("kvx:GetItem", kv("orders/o-1"), IMPLICIT_DENY),
]


@pytest.mark.parametrize(("action", "resource", "outcome"), TABLE)
def test_decisions(action: str, resource: str, outcome: str) -> None:
    assert role(*ORDERS).decide(action, resource).outcome == outcome


def test_a_role_with_no_statements_can_do_nothing() -> None:
    manifest = parse_manifest({"app": APP, "functions": {"f": {"handler": "h.py:handler"}}})
    policy = RolePolicy(APP, manifest.functions["f"])
    assert policy.decide("kv:GetItem", kv("orders/o-1")).outcome == IMPLICIT_DENY
    assert policy.decide("secrets:GetSecretValue", resource_arn(APP, "secret", "x")).outcome == (
        IMPLICIT_DENY
    )


def test_secrets_list_grants_only_those_secrets() -> None:
    policy = role(secrets=["payments-key"])
    secret = resource_arn(APP, "secret", "payments-key")
    assert policy.decide("secrets:GetSecretValue", secret).outcome == ALLOWED
    assert policy.decide("secrets:GetSecretValue", secret + "-2").outcome == IMPLICIT_DENY
    assert policy.decide("secrets:PutSecretValue", secret).outcome == IMPLICIT_DENY


@pytest.mark.parametrize(
    ("pattern", "resource", "matches"),
    [
        ("kv:orders/*", "orders/x", True),
        ("kv:orders/*", "orders/a/b/c", True),
        ("kv:orders/*", "orders-archive/x", False),
        ("kv:orders/?", "orders/x", True),
        ("kv:orders/?", "orders/xy", False),
        ("kv:orders/o-*-eu", "orders/o-1-eu", True),
        ("kv:orders/o-*-eu", "orders/o-1-us", False),
        ("kv:*", "anything/at-all", True),
        ("kv:orders/o-1", "orders/o-1", True),
        ("kv:orders/o-1", "orders/o-10", False),
    ],
)
def test_resource_wildcards(pattern: str, resource: str, matches: bool) -> None:
    policy = role(allow(["kv:GetItem"], [pattern]))
    assert policy.decide("kv:GetItem", kv(resource)).allowed is matches


@pytest.mark.parametrize(
    ("pattern", "action", "matches"),
    [
        ("kv:*", "kv:GetItem", True),
        ("kv:*", "kvx:GetItem", False),
        ("kv:Get*", "kv:GetItem", True),
        ("kv:Get*", "kv:PutItem", False),
        ("kv:?etItem", "kv:GetItem", True),
        ("*", "functions:Invoke", True),
        ("KV:GETITEM", "kv:getitem", True),
    ],
)
def test_action_wildcards(pattern: str, action: str, matches: bool) -> None:
    policy = role(allow([pattern], ["*"]))
    assert policy.decide(action, kv("t/k")).allowed is matches


def test_arn_segments_do_not_bleed() -> None:
    doc = parse_policy(
        {
            "Version": "2012-10-17",
            "Statement": {
                "Effect": "Allow",
                "Action": "*",
                "Resource": "arn:ramparts:kv:*:table/orders/*",
            },
        }
    )
    ev = Evaluator([doc])
    assert ev.decide("kv:GetItem", "arn:ramparts:kv:any-app:table/orders/1").allowed
    # a wildcard in the app segment does not swallow the colons of the next segments
    assert not ev.decide("kv:GetItem", "arn:ramparts:kv:a:b:table/orders/1").allowed


def test_not_action_and_not_resource() -> None:
    policy = role(
        {"effect": "allow", "not_actions": ["kv:DeleteItem"], "resources": ["kv:orders/*"]},
        {"effect": "deny", "actions": ["kv:*"], "not_resources": ["kv:orders/*", "kv:audit/*"]},
    )
    assert policy.decide("kv:PutItem", kv("orders/1")).allowed
    assert policy.decide("kv:DeleteItem", kv("orders/1")).outcome == IMPLICIT_DENY
    assert policy.decide("kv:GetItem", kv("users/1")).outcome == EXPLICIT_DENY
    assert policy.decide("kv:GetItem", kv("audit/1")).outcome == IMPLICIT_DENY


def test_policy_variables_scope_each_function_to_its_own_table() -> None:
    policy = role(allow(["kv:*"], ["kv:${ramparts:function}/*"]))
    ctx = normalize_context({"ramparts:function": "fn"})
    assert policy.decide("kv:GetItem", kv("fn/1"), ctx).allowed
    assert not policy.decide("kv:GetItem", kv("other/1"), ctx).allowed
    # no value for the variable: the resource cannot match (IAM's rule, and fail closed)
    assert not policy.decide("kv:GetItem", kv("fn/1"), {}).allowed


def test_substituted_values_are_literal() -> None:
    policy = role(allow(["kv:GetItem"], ["kv:users/${ramparts:principal}/*"]))
    ctx = normalize_context({"ramparts:principal": "*"})
    assert not policy.decide("kv:GetItem", kv("users/alice/1"), ctx).allowed
    assert policy.decide("kv:GetItem", kv("users/*/1"), ctx).allowed


def test_variable_default_value() -> None:
    policy = role(allow(["kv:GetItem"], ["kv:users/${ramparts:principal, 'anonymous'}/*"]))
    assert policy.decide("kv:GetItem", kv("users/anonymous/1"), {}).allowed


def test_conditions_from_the_short_form() -> None:
    policy = role(
        allow(
            ["kv:GetItem"],
            ["kv:reports/*"],
            conditions={
                "IpAddress": {"aws:SourceIp": ["10.0.0.0/8"]},
                "ForAnyValue:StringEquals": {"ramparts:PrincipalScopes": ["reports:read"]},
            },
        )
    )
    ok = normalize_context(
        {"aws:SourceIp": "10.1.2.3", "ramparts:PrincipalScopes": ["a", "reports:read"]}
    )
    assert policy.decide("kv:GetItem", kv("reports/1"), ok).allowed
    wrong_ip = {**ok, "aws:sourceip": "192.0.2.1"}
    assert not policy.decide("kv:GetItem", kv("reports/1"), wrong_ip).allowed
    no_scope = {**ok, "ramparts:principalscopes": ["a"]}
    assert not policy.decide("kv:GetItem", kv("reports/1"), no_scope).allowed
    assert not policy.decide("kv:GetItem", kv("reports/1"), {}).allowed


def test_iam_json_documents_in_a_role() -> None:
    manifest = parse_manifest(
        {
            "app": APP,
            "functions": {
                "fn": {
                    "handler": "h.py:handler",
                    "role": {
                        "policies": [
                            {
                                "Version": "2012-10-17",
                                "Statement": [
                                    {
                                        "Sid": "Read",
                                        "Effect": "Allow",
                                        "Action": "kv:GetItem",
                                        "Resource": "arn:ramparts:kv:shop:table/orders/*",
                                    },
                                    {
                                        "Sid": "NoSecrets",
                                        "Effect": "Deny",
                                        "Action": "secrets:*",
                                        "Resource": "*",
                                    },
                                ],
                            }
                        ]
                    },
                    "secrets": ["k"],
                }
            },
        }
    )
    policy = RolePolicy(APP, manifest.functions["fn"])
    assert policy.decide("kv:GetItem", kv("orders/1")).statement == "Read"
    # an explicit deny in the role beats the grant implied by secrets:
    decision = policy.decide("secrets:GetSecretValue", resource_arn(APP, "secret", "k"))
    assert (decision.outcome, decision.statement) == (EXPLICIT_DENY, "NoSecrets")


def test_shared_roles() -> None:
    manifest = parse_manifest(
        {
            "app": APP,
            "roles": {"reader": {"statements": [allow(["kv:GetItem"], ["kv:orders/*"])]}},
            "functions": {
                "a": {"handler": "h.py:handler", "role": "reader"},
                "b": {"handler": "h.py:handler", "role": "reader"},
                "c": {"handler": "h.py:handler"},
            },
        }
    )
    for fn in ("a", "b"):
        decision = RolePolicy(APP, manifest.functions[fn]).decide("kv:GetItem", kv("orders/1"))
        assert decision.allowed and decision.statement == "reader.Statement[0]"
    assert not RolePolicy(APP, manifest.functions["c"]).decide("kv:GetItem", kv("orders/1")).allowed


def test_an_unresolved_role_fails_closed() -> None:
    from ramparts.manifest import FunctionConfig

    config = FunctionConfig.model_validate({"handler": "h.py:handler", "role": "reader"})
    with pytest.raises(ValueError):
        RolePolicy(APP, config)


def test_explain_lists_every_applicable_statement() -> None:
    policy = role(*ORDERS, allow(["kv:*"], ["kv:orders/locked-*"]))
    explanation = policy.explain("kv:PutItem", kv("orders/locked-1"))
    out = explanation.to_dict()
    assert out["decision"] == EXPLICIT_DENY
    assert out["denied_by"] == ["role.Statement[1]"]
    assert out["allowed_by"] == ["role.Statement[0]", "role.Statement[4]"]


def test_decision_cache_is_keyed_by_the_context_the_role_reads() -> None:
    policy = role(
        allow(
            ["kv:GetItem"],
            ["kv:orders/*"],
            conditions={"StringEquals": {"ramparts:trigger": "http"}},
        )
    )
    r = kv("orders/1")
    assert policy.decide("kv:GetItem", r, {"ramparts:trigger": "http"}).allowed
    assert not policy.decide("kv:GetItem", r, {"ramparts:trigger": "topic"}).allowed
    assert policy.decide("kv:GetItem", r, {"ramparts:trigger": "http"}).allowed
    assert policy._cacheable


def test_roles_that_read_the_clock_are_not_cached() -> None:
    policy = role(
        allow(
            ["kv:GetItem"],
            ["kv:orders/*"],
            conditions={"DateLessThan": {"aws:CurrentTime": "2100-01-01T00:00:00Z"}},
        )
    )
    assert not policy._cacheable
    r = kv("orders/1")
    assert policy.decide("kv:GetItem", r, {"aws:currenttime": "2099-01-01T00:00:00Z"}).allowed
    assert not policy.decide("kv:GetItem", r, {"aws:currenttime": "2101-01-01T00:00:00Z"}).allowed


def test_expand_resource() -> None:
    assert expand_resource(APP, "kv:orders/*") == "arn:ramparts:kv:shop:table/orders/*"
    assert expand_resource(APP, "objects:up/a") == "arn:ramparts:objects:shop:bucket/up/a"
    assert expand_resource(APP, "topic:t") == "arn:ramparts:topics:shop:topic/t"
    assert expand_resource(APP, "secret:s") == "arn:ramparts:secrets:shop:secret/s"
    assert expand_resource(APP, "function:f") == "arn:ramparts:functions:shop:function/f"
    assert expand_resource(APP, "*") == "*"
