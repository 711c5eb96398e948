"""Policy documents: IAM identity-policy JSON, and the short form of ``ramparts.yaml``.

A document is what IAM people already read::

    {"Version": "2012-10-17",
     "Statement": [{"Sid": "ReadOrders", "Effect": "Allow",
                    "Action": ["kv:GetItem", "kv:Query"],
                    "Resource": "arn:ramparts:kv:shop:table/orders/*",
                    "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}}]}

``parse_policy`` checks one strictly (unknown fields, a Principal, a bad
Effect, a malformed condition value are refused with the path of the field)
and compiles it into ``Statement`` objects the evaluator runs.  The short
YAML form (``effect/actions/resources/conditions``) is mapped onto the same
JSON by ``short_statement_json``, so both forms evaluate identically.

Resources in an app's role may use short names (``kv:orders/*``); with an
``app`` they expand to ARNs scoped to that app.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ramparts.policy import aws as aws_names
from ramparts.policy.conditions import Clause, parse_condition
from ramparts.policy.errors import PolicyError
from ramparts.policy.matching import action_matcher, arn_matcher
from ramparts.policy.variables import check_variables, has_variables, referenced_keys, substitute

VERSION = "2012-10-17"
_VERSIONS = ("2012-10-17", "2008-10-17")
_TOP_KEYS = {"Version", "Id", "Statement"}
_STATEMENT_KEYS = {"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
_ACTION_RE = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9*?_.-]+$")

# short resource prefix -> (ARN service, resource type)
SHORT_RESOURCES: dict[str, tuple[str, str]] = {
    "kv": ("kv", "table"),
    "objects": ("objects", "bucket"),
    "topic": ("topics", "topic"),
    "secret": ("secrets", "secret"),
    "function": ("functions", "function"),
    "key": ("kms", "key"),  # per-app KMS-style keys (ramparts.aws.kms)
}


def resource_arn(app: str, service: str, path: str) -> str:
    """``resource_arn("shop", "kv", "orders/o-1")`` -> ``arn:ramparts:kv:shop:table/orders/o-1``."""
    svc, kind = SHORT_RESOURCES[service]
    return f"arn:ramparts:{svc}:{app}:{kind}/{path}"


def expand_resource(app: str, resource: str) -> str:
    """Short name -> ARN in ``app`` (``kv:orders/*`` -> ``arn:ramparts:kv:APP:table/orders/*``)."""
    if resource == "*" or resource.startswith("arn:"):
        return resource
    prefix, sep, rest = resource.partition(":")
    if sep and prefix in SHORT_RESOURCES and rest:
        return resource_arn(app, prefix, rest)
    return resource


def short_resource(app: str, arn: str) -> str:
    """The inverse of ``expand_resource`` for ARNs of ``app`` (others are returned as they are)."""
    for short, (svc, kind) in SHORT_RESOURCES.items():
        head = f"arn:ramparts:{svc}:{app}:{kind}/"
        if arn.startswith(head):
            return f"{short}:{arn[len(head) :]}"
    return arn


# -- compiled form --------------------------------------------------------------------------------
Pattern = Callable[[str], bool]


@dataclass(frozen=True)
class Statement:
    """One statement, compiled.  ``label`` names it in explanations and audit events."""

    label: str
    deny: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    conditions: tuple[Clause, ...]
    variables: bool  # resources hold ${...} that are resolved per request
    source: dict[str, Any] = field(compare=False, hash=False, repr=False)
    _action_tests: tuple[Pattern, ...] = field(compare=False, hash=False, repr=False, default=())
    _resource_tests: tuple[Pattern, ...] = field(compare=False, hash=False, repr=False, default=())

    @property
    def effect(self) -> str:
        return "Deny" if self.deny else "Allow"

    def context_keys(self) -> set[str]:
        keys: set[str] = set()
        for c in self.conditions:
            keys |= c.keys()
        if self.variables:
            for r in self.resources:
                keys |= referenced_keys(r)
        return keys

    def action_applies(self, action_lower: str) -> bool:
        hit = any(t(action_lower) for t in self._action_tests)
        return hit != self.not_action

    def resource_applies(self, resource: str, context: Mapping[str, Any]) -> bool:
        if not self.variables:
            hit = any(t(resource) for t in self._resource_tests)
            return hit != self.not_resource
        unresolved = False
        hit = False
        for pattern in self.resources:
            resolved = substitute(pattern, context, glob=True)
            if resolved is None:
                unresolved = True
                continue
            if arn_matcher(resolved)(resource):
                hit = True
                break
        if self.not_resource:
            # an element we cannot resolve never widens an Allow (fail closed)
            return not hit and not (unresolved and not self.deny)
        return hit

    def conditions_hold(self, context: Mapping[str, Any]) -> bool:
        return all(c.holds(context) for c in self.conditions)

    def applies(self, action_lower: str, resource: str, context: Mapping[str, Any]) -> bool:
        return (
            self.action_applies(action_lower)
            and self.resource_applies(resource, context)
            and self.conditions_hold(context)
        )


@dataclass(frozen=True)
class PolicyDocument:
    version: str | None
    statements: tuple[Statement, ...]
    source: dict[str, Any] = field(compare=False, hash=False, repr=False)


# -- parsing --------------------------------------------------------------------------------------
def _strings(raw: Any, path: str) -> list[str]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError(path, "needs at least one entry")
    for i, item in enumerate(items):
        if not isinstance(item, str) or not item:
            raise PolicyError(
                f"{path}[{i}]" if isinstance(raw, list) else path, "entries are non-empty strings"
            )
    return items


def _check_action(action: str, path: str) -> None:
    if action != "*" and not _ACTION_RE.match(action):
        raise PolicyError(path, f"{action!r} is not an action such as kv:GetItem, kv:* or *")


def _check_resource(resource: str, path: str, app: str | None) -> str:
    expanded = expand_resource(app, resource) if app is not None else resource
    if expanded != "*" and not (expanded.startswith("arn:") and expanded.count(":") >= 4):
        hint = (
            " or a short name such as kv:orders/*, objects:uploads/*, topic:t, secret:s, function:f"
            if app is not None
            else ""
        )
        raise PolicyError(path, f"{resource!r} is not an ARN, '*'{hint}")
    return expanded


def parse_statement(
    raw: Any, path: str, *, version: str | None, app: str | None, label: str
) -> Statement:
    if not isinstance(raw, dict):
        raise PolicyError(path, "a statement is an object")
    for key in raw:
        if key in ("Principal", "NotPrincipal"):
            raise PolicyError(f"{path}.{key}", "identity policies name no Principal")
        if key not in _STATEMENT_KEYS:
            raise PolicyError(f"{path}.{key}", "unknown field")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{path}.Effect", "must be Allow or Deny")
    sid = raw.get("Sid")
    if sid is not None and (not isinstance(sid, str) or len(sid) > 128):
        raise PolicyError(f"{path}.Sid", "a Sid is a string of at most 128 characters")
    if ("Action" in raw) == ("NotAction" in raw):
        raise PolicyError(path, "needs exactly one of Action or NotAction")
    if ("Resource" in raw) == ("NotResource" in raw):
        raise PolicyError(path, "needs exactly one of Resource or NotResource")
    akey = "Action" if "Action" in raw else "NotAction"
    rkey = "Resource" if "Resource" in raw else "NotResource"
    actions = _strings(raw[akey], f"{path}.{akey}")
    for i, a in enumerate(actions):
        _check_action(a, f"{path}.{akey}[{i}]" if isinstance(raw[akey], list) else f"{path}.{akey}")
    # AWS names (dynamodb:GetItem, arn:aws:dynamodb:...) compile to the native ones they alias
    actions = [x for a in actions for x in aws_names.expand_action(a)]
    variables = version == VERSION
    resources = []
    uses_vars = False
    written = _strings(raw[rkey], f"{path}.{rkey}")
    if app is not None:
        # unsure how far an AWS pattern reaches? a Deny (or an Allow's NotResource) takes it wide
        wide = (effect == "Deny") != (rkey == "NotResource")
        written = [x for r in written for x in aws_names.expand_resource(app, r, wide=wide)]
    for i, r in enumerate(written):
        where = f"{path}.{rkey}[{i}]" if isinstance(raw[rkey], list) else f"{path}.{rkey}"
        if variables and has_variables(r):
            try:
                check_variables(r)
            except ValueError as exc:
                raise PolicyError(where, str(exc)) from None
            uses_vars = True
        resources.append(_check_resource(r, where, app))
    conditions: tuple[Clause, ...] = ()
    if "Condition" in raw:
        conditions = parse_condition(raw["Condition"], f"{path}.Condition", variables=variables)
    return Statement(
        label=sid or label,
        deny=effect == "Deny",
        actions=tuple(actions),
        not_action=akey == "NotAction",
        resources=tuple(resources),
        not_resource=rkey == "NotResource",
        conditions=conditions,
        variables=uses_vars,
        source=raw,
        _action_tests=tuple(action_matcher(a) for a in actions),
        _resource_tests=() if uses_vars else tuple(arn_matcher(r) for r in resources),
    )


def parse_policy(
    data: Any, *, path: str = "", app: str | None = None, label: str = "policy"
) -> PolicyDocument:
    """Check and compile an IAM identity-policy document; ``PolicyError`` names the bad field."""
    dot = f"{path}." if path else ""
    if not isinstance(data, dict):
        raise PolicyError(path, "a policy document is a JSON object")
    for key in data:
        if key not in _TOP_KEYS:
            raise PolicyError(f"{dot}{key}", "unknown field")
    version = data.get("Version")
    if version is not None and version not in _VERSIONS:
        raise PolicyError(f"{dot}Version", f"must be {' or '.join(_VERSIONS)}")
    if "Statement" not in data:
        raise PolicyError(f"{dot}Statement", "is required")
    raw = data["Statement"]
    items = raw if isinstance(raw, list) else [raw]
    statements = []
    sids: set[str] = set()
    for i, item in enumerate(items):
        where = f"{dot}Statement[{i}]" if isinstance(raw, list) else f"{dot}Statement"
        st = parse_statement(item, where, version=version, app=app, label=f"{label}.Statement[{i}]")
        sid = item.get("Sid")
        if isinstance(sid, str) and sid:
            if sid in sids:
                raise PolicyError(f"{where}.Sid", f"duplicate Sid {sid!r}")
            sids.add(sid)
        statements.append(st)
    return PolicyDocument(version, tuple(statements), data)


# -- the short form of ramparts.yaml -------------------------------------------------------------
def short_statement_json(
    *,
    effect: str,
    actions: list[str],
    resources: list[str],
    not_actions: list[str] | None = None,
    not_resources: list[str] | None = None,
    conditions: dict[str, Any] | None = None,
    sid: str | None = None,
) -> dict[str, Any]:
    """``{effect: allow, actions: [...], resources: [...]}`` -> an IAM statement object."""
    out: dict[str, Any] = {"Effect": "Allow" if effect == "allow" else "Deny"}
    if sid:
        out["Sid"] = sid
    if not_actions:
        out["NotAction"] = list(not_actions)
    if actions or not not_actions:
        out["Action"] = list(actions)
    if not_resources:
        out["NotResource"] = list(not_resources)
    if resources or not not_resources:
        out["Resource"] = list(resources)
    if conditions:
        out["Condition"] = conditions
    return out
