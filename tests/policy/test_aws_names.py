"""Roles in AWS names: aliases of the native actions and resources, with the same IAM semantics."""

from __future__ import annotations

from typing import Any

from ramparts.aws.accounts import account_id
from ramparts.manifest import parse_manifest
from ramparts.policy import aws as aws_names
from ramparts.policy.document import resource_arn
from ramparts.policy.evaluator import ALLOWED, EXPLICIT_DENY, IMPLICIT_DENY, RolePolicy

APP = "shop"
ACCOUNT = account_id(APP)


def role(*statements: dict[str, Any]) -> RolePolicy:
    manifest = parse_manifest(
        {
            "app": APP,
            "functions": {
                "fn": {"handler": "h.py:handler", "role": {"statements": list(statements)}}
            },
        }
    )
    return RolePolicy(APP, manifest.functions["fn"])


def st(effect: str, actions: list[str], resources: list[str], **kw: Any) -> dict[str, Any]:
    return {"effect": effect, "actions": actions, "resources": resources, **kw}


def decide(policy: RolePolicy, action: str, kind: str, path: str) -> str:
    return policy.decide(action, resource_arn(APP, kind, path)).outcome


def test_dynamodb_get_item_on_a_table_arn_is_kv_get_item_on_every_key_and_nothing_else() -> None:
    p = role(st("allow", ["dynamodb:GetItem"], ["arn:aws:dynamodb:*:*:table/orders"]))
    assert decide(p, "kv:GetItem", "kv", "orders/o-1") == ALLOWED
    assert decide(p, "kv:GetItem", "kv", "orders/a/b") == ALLOWED
    assert decide(p, "kv:PutItem", "kv", "orders/o-1") == IMPLICIT_DENY
    assert decide(p, "kv:Query", "kv", "orders/o-1") == IMPLICIT_DENY
    assert decide(p, "kv:GetItem", "kv", "orders2/o-1") == IMPLICIT_DENY
    assert decide(p, "kv:GetItem", "kv", "customers/c-1") == IMPLICIT_DENY
    assert decide(p, "objects:GetObject", "objects", "orders/o-1") == IMPLICIT_DENY


def test_a_deny_in_aws_names_beats_an_allow_in_native_names() -> None:
    p = role(
        st("allow", ["kv:*"], ["kv:orders/*"]),
        st("deny", ["dynamodb:DeleteItem"], [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders"]),
    )
    assert decide(p, "kv:GetItem", "kv", "orders/o-1") == ALLOWED
    assert decide(p, "kv:DeleteItem", "kv", "orders/o-1") == EXPLICIT_DENY


def test_a_deny_in_native_names_beats_an_allow_in_aws_names() -> None:
    p = role(
        st("allow", ["s3:*"], ["arn:aws:s3:::uploads/*", "arn:aws:s3:::uploads"]),
        st("deny", ["objects:DeleteObject"], ["objects:uploads/*"]),
    )
    assert decide(p, "objects:GetObject", "objects", "uploads/a.png") == ALLOWED
    assert decide(p, "objects:PutObject", "objects", "uploads/a.png") == ALLOWED
    assert decide(p, "objects:ListBucket", "objects", "uploads") == ALLOWED
    assert decide(p, "objects:DeleteObject", "objects", "uploads/a.png") == EXPLICIT_DENY
    assert decide(p, "objects:GetObject", "objects", "other/a.png") == IMPLICIT_DENY


def test_another_accounts_arn_never_matches() -> None:
    other = account_id("someone-else")
    p = role(
        st("allow", ["dynamodb:*"], [f"arn:aws:dynamodb:us-east-1:{other}:table/orders"]),
        st("allow", ["sqs:SendMessage"], [f"arn:aws:sqs:us-east-1:{other}:jobs"]),
    )
    assert decide(p, "kv:GetItem", "kv", "orders/o-1") == IMPLICIT_DENY
    assert decide(p, "topics:Publish", "topic", "jobs") == IMPLICIT_DENY
    mine = role(st("allow", ["sqs:SendMessage"], [f"arn:aws:sqs:us-east-1:{ACCOUNT}:jobs"]))
    assert decide(mine, "topics:Publish", "topic", "jobs") == ALLOWED


def test_another_region_never_matches() -> None:
    p = role(st("allow", ["sns:Publish"], [f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts"]))
    assert decide(p, "topics:Publish", "topic", "alerts") == IMPLICIT_DENY
    p = role(st("allow", ["sns:Publish"], [f"arn:aws:sns:*:{ACCOUNT}:alerts"]))
    assert decide(p, "topics:Publish", "topic", "alerts") == ALLOWED


def test_action_wildcards_expand_over_the_aliases() -> None:
    p = role(st("allow", ["dynamodb:Get*", "dynamodb:Batch*"], ["arn:aws:dynamodb:*:*:table/t"]))
    assert decide(p, "kv:GetItem", "kv", "t/k") == ALLOWED
    assert decide(p, "kv:PutItem", "kv", "t/k") == ALLOWED  # BatchWriteItem puts
    assert decide(p, "kv:DeleteItem", "kv", "t/k") == ALLOWED  # and deletes
    assert decide(p, "kv:Query", "kv", "t/k") == IMPLICIT_DENY


def test_not_action_and_not_resource_in_aws_names() -> None:
    p = role(
        {
            "effect": "allow",
            "not_actions": ["dynamodb:DeleteItem"],
            "resources": ["arn:aws:dynamodb:*:*:table/t"],
        },
        {
            "effect": "allow",
            "actions": ["s3:GetObject"],
            "not_resources": ["arn:aws:s3:::private/*"],
        },
    )
    assert decide(p, "kv:GetItem", "kv", "t/k") == ALLOWED
    assert decide(p, "kv:DeleteItem", "kv", "t/k") == IMPLICIT_DENY
    assert decide(p, "objects:GetObject", "objects", "public/x") == ALLOWED
    assert decide(p, "objects:GetObject", "objects", "private/x") == IMPLICIT_DENY


def test_each_service_maps_to_its_native_resource() -> None:
    cases = [
        (
            "secretsmanager:GetSecretValue",
            f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db-password-??????",
            "secrets:GetSecretValue",
            "secret",
            "db-password",
        ),
        (
            "ssm:GetParameter",
            f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/app/db/url",
            "secrets:GetSecretValue",
            "secret",
            "app.db.url",
        ),
        (
            "lambda:InvokeFunction",
            f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:worker",
            "functions:Invoke",
            "function",
            "worker",
        ),
        (
            "events:PutEvents",
            f"arn:aws:events:us-east-1:{ACCOUNT}:event-bus/default",
            "topics:Publish",
            "topic",
            "default",
        ),
        ("kms:Decrypt", f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k-1", "kms:Decrypt", "key", "k-1"),
    ]
    for aws_action, arn, native, kind, path in cases:
        p = role(st("allow", [aws_action], [arn]))
        assert decide(p, native, kind, path) == ALLOWED, (aws_action, arn)
        assert decide(p, native, kind, path + "x") == IMPLICIT_DENY, (aws_action, arn)


def test_unaliased_aws_actions_match_no_native_call() -> None:
    assert aws_names.expand_action("dynamodb:CreateTable") == ["dynamodb:CreateTable"]
    p = role(st("allow", ["dynamodb:CreateTable"], ["*"]))
    assert decide(p, "kv:PutItem", "kv", "t/k") == IMPLICIT_DENY


def _event(kind: str, request_id: str, action: str, resource: str = "", ts: float = 100.0) -> dict:
    return {
        "kind": kind,
        "decision": "allow",
        "principal": "function:fn@abcdef123456",
        "action": action,
        "resource": resource,
        "request_id": request_id,
        "ts": ts,
    }


def test_policy_suggest_proposes_aws_names_for_calls_through_the_aws_api() -> None:
    from ramparts.policy.advisor import observed_uses, suggest

    events = [
        # a boto3 GetItem: the endpoint's accepted signature, then the broker's decision
        _event("aws.auth", "r1", "aws:dynamodb", "endpoint:POST /"),
        _event("resource.access", "r1", "kv:GetItem", kv_arn("orders/o-1")),
        # a context.kv.put of another table: stays native
        _event("resource.access", "r2", "kv:PutItem", kv_arn("audit/a-1")),
    ]
    uses = observed_uses(events, APP, "fn", since=0)
    assert uses[("kv:GetItem", "kv:orders/o-1")].to_dict()["via"] == "aws"
    config = parse_manifest(
        {"app": APP, "functions": {"fn": {"handler": "h.py:handler"}}}
    ).functions["fn"]
    out = suggest(APP, "fn", config, uses, [])
    statements = out["suggested"]["role"]["statements"]
    flat = {(a, r) for s in statements for a in s["actions"] for r in s["resources"]}
    assert ("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders") in flat
    assert ("kv:PutItem", "kv:audit/*") in flat
    added = {
        (d["statement"]["actions"][0], d["statement"]["resources"][0])
        for d in out["diff"]
        if d["op"] == "add"
    }
    assert ("dynamodb:GetItem", f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/orders") in added
    # and the proposal, deployed as a role, allows exactly what was observed
    p = role(*statements)
    assert decide(p, "kv:GetItem", "kv", "orders/o-1") == ALLOWED
    assert decide(p, "kv:PutItem", "kv", "orders/o-1") == IMPLICIT_DENY


def kv_arn(path: str) -> str:
    return resource_arn(APP, "kv", path)


def test_kms_star_grants_the_key_calls_and_never_the_api_key_admin_actions() -> None:
    # KMS calls are native ``kms:*`` (not ``keys:*``, which is API-key administration)
    p = role(st("allow", ["kms:*"], ["*"]))
    assert decide(p, "kms:Decrypt", "key", "orders") == ALLOWED
    assert p.decide("keys:CreateKey", "*").outcome == IMPLICIT_DENY
    assert p.decide("keys:RevokeKey", "*").outcome == IMPLICIT_DENY


def test_a_deny_on_wildcard_aws_arns_denies_what_aws_would() -> None:
    # found by the adversarial review: these compiled to nothing, so the Deny never applied
    for pattern in (
        "arn:aws:dynamodb:*:*:*",
        "arn:*:dynamodb:*:*:table/orders",
        "arn:aws:*:*:*:*",
        "arn:aws:dynamodb:*:*:tab*",
        f"arn:aws:dynamodb:us-*:{ACCOUNT[:4]}*:table/orders",
    ):
        p = role(st("allow", ["kv:*"], ["*"]), st("deny", ["*"], [pattern]))
        assert decide(p, "kv:GetItem", "kv", "orders/o-1") == EXPLICIT_DENY, pattern
    for pattern, action, kind, path in (
        ("arn:aws:kms:*:*:*", "kms:Decrypt", "key", "orders"),
        ("arn:aws:ssm:*:*:parameter*", "secrets:GetSecretValue", "secret", "db.password"),
        ("arn:aws:*:*:*:*", "objects:GetObject", "objects", "uploads/a"),
    ):
        p = role(st("allow", ["*"], ["*"]), st("deny", ["*"], [pattern]))
        assert decide(p, action, kind, path) == EXPLICIT_DENY, pattern


def test_an_allow_on_an_inexact_aws_pattern_grants_nothing_but_star_grants_all() -> None:
    p = role(st("allow", ["dynamodb:GetItem"], ["arn:aws:dynamodb:*:*:tab*"]))
    assert decide(p, "kv:GetItem", "kv", "orders/o-1") == IMPLICIT_DENY
    p = role(st("allow", ["dynamodb:GetItem"], ["arn:aws:dynamodb:*:*:*"]))
    assert decide(p, "kv:GetItem", "kv", "orders/o-1") == ALLOWED
    assert decide(p, "kv:PutItem", "kv", "orders/o-1") == IMPLICIT_DENY
    # another account's, even through a wildcard that does not match the app's
    p = role(st("allow", ["dynamodb:GetItem"], ["arn:aws:dynamodb:*:0*:*"]))
    assert decide(p, "kv:GetItem", "kv", "orders/o-1") == IMPLICIT_DENY
    # Ramparts' own ARNs are never read as AWS ones
    p = role(st("allow", ["kv:GetItem"], [f"arn:ramparts:kv:{APP}:table/orders/*"]))
    assert decide(p, "kv:GetItem", "kv", "orders/o-1") == ALLOWED


def test_an_allow_on_a_table_s_index_or_stream_grants_no_item_of_the_table() -> None:
    # second adversarial review: table/T/index/* and table/T/* granted the table's items
    for pattern in (
        "arn:aws:dynamodb:*:*:table/orders/index/*",
        "arn:aws:dynamodb:*:*:table/orders/*",
    ):
        p = role(st("allow", ["dynamodb:*"], [pattern]))
        assert decide(p, "kv:PutItem", "kv", "orders/o-1") == IMPLICIT_DENY, pattern
        p = role(st("allow", ["kv:*"], ["*"]), st("deny", ["dynamodb:*"], [pattern]))
        assert decide(p, "kv:PutItem", "kv", "orders/o-1") == EXPLICIT_DENY, pattern
