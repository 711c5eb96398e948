"""Malformed policies are refused with the path of the bad field, as documents and at deploy."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ramparts.errors import ManifestError
from ramparts.manifest import parse_manifest
from ramparts.policy.document import parse_policy
from ramparts.policy.errors import PolicyError

OK = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kv:GetItem", "Resource": "*"}],
}


def with_statement(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(OK)
    st = doc["Statement"][0]
    for k, v in changes.items():
        if v is None:
            st.pop(k, None)
        else:
            st[k] = v
    return doc


@pytest.mark.parametrize(
    ("doc", "path", "reason"),
    [
        ("nope", "", "a policy document is a JSON object"),
        ({"Statement": []} | {"Versoin": "x"}, "Versoin", "unknown field"),
        ({"Version": "2020-01-01", "Statement": []}, "Version", "must be 2012-10-17 or 2008-10-17"),
        ({"Version": "2012-10-17"}, "Statement", "is required"),
        (with_statement(Effect="allow"), "Statement[0].Effect", "must be Allow or Deny"),
        (with_statement(Effect=None), "Statement[0].Effect", "must be Allow or Deny"),
        (with_statement(Action=None), "Statement[0]", "needs exactly one of Action or NotAction"),
        (
            with_statement(NotAction="kv:*"),
            "Statement[0]",
            "needs exactly one of Action or NotAction",
        ),
        (
            with_statement(Resource=None),
            "Statement[0]",
            "needs exactly one of Resource or NotResource",
        ),
        (with_statement(Action=[]), "Statement[0].Action", "needs at least one entry"),
        (
            with_statement(Action=["kv:GetItem", 3]),
            "Statement[0].Action[1]",
            "entries are non-empty strings",
        ),
        (
            with_statement(Action="GetItem"),
            "Statement[0].Action",
            "'GetItem' is not an action such as kv:GetItem, kv:* or *",
        ),
        (
            with_statement(Resource="orders/*"),
            "Statement[0].Resource",
            "'orders/*' is not an ARN, '*'",
        ),
        (
            with_statement(Principal={"AWS": "*"}),
            "Statement[0].Principal",
            "identity policies name no Principal",
        ),
        (with_statement(Condtion={}), "Statement[0].Condtion", "unknown field"),
        (
            with_statement(Condition={"StringEqualz": {"a": "b"}}),
            "Statement[0].Condition.StringEqualz",
            "unknown condition operator 'StringEqualz'",
        ),
        (
            with_statement(Condition={"ForSomeValues:StringEquals": {"a": "b"}}),
            "Statement[0].Condition.ForSomeValues:StringEquals",
            "unknown set operator",
        ),
        (
            with_statement(Condition={"NumericLessThan": {"n": "ten"}}),
            "Statement[0].Condition.NumericLessThan.n",
            "invalid numeric value 'ten'",
        ),
        (
            with_statement(Condition={"DateLessThan": {"t": ["2024-01-01", "soon"]}}),
            "Statement[0].Condition.DateLessThan.t[1]",
            "invalid date value 'soon'",
        ),
        (
            with_statement(Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/33"}}),
            "Statement[0].Condition.IpAddress.aws:SourceIp",
            "invalid ip value",
        ),
        (
            with_statement(Condition={"Bool": {"aws:SecureTransport": "yes"}}),
            "Statement[0].Condition.Bool.aws:SecureTransport",
            "invalid bool value",
        ),
        (
            with_statement(Condition={"Null": {"k": "maybe"}}),
            "Statement[0].Condition.Null.k",
            "Null takes true or false",
        ),
        (
            with_statement(Condition={"StringEquals": {}}),
            "Statement[0].Condition.StringEquals",
            "must be an object of condition key: value",
        ),
        (
            with_statement(Condition={"StringEquals": {"k": {"x": 1}}}),
            "Statement[0].Condition.StringEquals.k",
            "values are strings, numbers or booleans",
        ),
        (
            with_statement(Resource="arn:ramparts:kv:a:table/${ramparts:principal"),
            "Statement[0].Resource",
            "unterminated policy variable",
        ),
        (
            {
                "Version": "2012-10-17",
                "Statement": [OK["Statement"][0] | {"Sid": "A"}, OK["Statement"][0] | {"Sid": "A"}],
            },
            "Statement[1].Sid",
            "duplicate Sid 'A'",
        ),
    ],
)
def test_malformed_documents(doc: Any, path: str, reason: str) -> None:
    with pytest.raises(PolicyError) as info:
        parse_policy(doc)
    assert info.value.path == path
    assert info.value.reason.startswith(reason)


def test_a_single_statement_object_is_accepted() -> None:
    doc = parse_policy({"Version": "2012-10-17", "Statement": OK["Statement"][0]})
    assert len(doc.statements) == 1


def manifest_with_role(role: Any, **extra: Any) -> dict[str, Any]:
    return {"app": "shop", **extra, "functions": {"api": {"handler": "h.py:handler", "role": role}}}


@pytest.mark.parametrize(
    ("role", "field", "reason"),
    [
        (
            {"statements": [{"effect": "permit", "actions": ["kv:GetItem"], "resources": ["*"]}]},
            "functions.api.role.statements[0].effect",
            "Input should be 'allow' or 'deny'",
        ),
        (
            {
                "statements": [
                    {"effect": "allow", "actions": ["kv:GetItem"], "resources": ["tables:orders/*"]}
                ]
            },
            "functions.api.role.statements[0].resources[0]",
            "'tables:orders/*' is not an ARN",
        ),
        (
            {
                "statements": [
                    {
                        "effect": "allow",
                        "actions": ["kv:GetItem"],
                        "resources": ["*"],
                        "conditions": {"IpAddress": {"aws:SourceIp": "nope"}},
                    }
                ]
            },
            "functions.api.role.statements[0].conditions.IpAddress.aws:SourceIp",
            "invalid ip value 'nope'",
        ),
        (
            {"statements": [{"effect": "allow", "resources": ["*"]}]},
            "functions.api.role.statements[0].actions",
            "give exactly one of actions or not_actions",
        ),
        (
            {
                "statements": [
                    {
                        "effect": "allow",
                        "actions": ["kv:GetItem"],
                        "resources": ["*"],
                        "condition": {},
                    }
                ]
            },
            "functions.api.role.statements[0].condition",
            "unknown field",
        ),
        (
            {
                "policies": [
                    OK,
                    {
                        "Version": "2012-10-17",
                        "Statement": [{"Effect": "Allow", "Action": "kv:GetItem"}],
                    },
                ]
            },
            "functions.api.role.policies[1].Statement[0]",
            "needs exactly one of Resource or NotResource",
        ),
        ("missing", "functions.api.role", "unknown role 'missing'"),
        ("Bad Name", "functions.api.role", "'Bad Name' is not a role name"),
    ],
)
def test_malformed_roles_are_refused_at_deploy(role: Any, field: str, reason: str) -> None:
    with pytest.raises(ManifestError) as info:
        parse_manifest(manifest_with_role(role))
    fields = {p: r for p, r in info.value.problems}
    assert field in fields, info.value.problems
    assert fields[field].startswith(reason)


def test_a_malformed_shared_role_names_its_own_path() -> None:
    data = manifest_with_role(
        "reader",
        roles={
            "reader": {
                "statements": [{"effect": "allow", "actions": ["kv GetItem"], "resources": ["*"]}]
            }
        },
    )
    with pytest.raises(ManifestError) as info:
        parse_manifest(data)
    assert info.value.problems[0][0] == "roles.reader.statements[0].actions[0]"


def test_the_existing_short_form_still_works() -> None:
    manifest = parse_manifest(
        manifest_with_role(
            {
                "statements": [
                    {
                        "effect": "allow",
                        "actions": ["kv:PutItem", "kv:GetItem"],
                        "resources": ["kv:orders/*"],
                    }
                ]
            }
        )
    )
    role = manifest.functions["api"].role
    assert role is not None and not isinstance(role, str)
    assert role.statements[0].actions == ["kv:PutItem", "kv:GetItem"]
