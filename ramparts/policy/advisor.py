"""``ramparts policy suggest``: the smallest role for what a function really does.

Two sources, merged:

(a) what the broker *recorded*: every ``resource.access`` audit event of the
    function (allowed or denied) within a window -- the audit trail in the
    state store is the usage record, so nothing extra is written per call;
(b) what the code *says*: a static read of the handler's context calls with
    literal arguments (``static.py``).

Observed item keys are data (order ids), so a kv key generalises to its
table (``kv:orders/*``) and an object key to its common folder
(``objects:uploads/images/*``); a literal key in the code stays exact.
Names of topics, secrets and functions are kept as they are.  The result is
a short-form role plus a diff against the current role: grants never used
(remove) and calls that were denied or would be (add).

It does not see code paths that did not run in the window and that the
static read cannot follow; review the proposal before deploying it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ramparts.manifest import FunctionConfig
from ramparts.policy import aws as aws_names
from ramparts.policy.document import Statement, expand_resource, short_resource
from ramparts.policy.evaluator import RolePolicy
from ramparts.policy.matching import arn_matcher, glob_matcher
from ramparts.policy.static import StaticAccess


@dataclass
class Use:
    """One (action, resource) the function used or tried, with where it came from."""

    action: str
    resource: str  # short form (kv:orders/o-1); a pattern for code with f-strings
    allowed: int = 0
    denied: int = 0
    last_seen: float = 0.0
    code: list[str] = field(default_factory=list)  # file:line
    aws_service: str = ""  # set when every observed call came through the AWS API (dynamodb...)
    native_calls: int = 0  # calls through context.* (not the AWS API)

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "resource": self.resource,
            "allowed": self.allowed,
            "denied": self.denied,
            "last_seen": self.last_seen or None,
            "code": self.code,
            **({"via": "aws", "aws_service": self.aws_service} if self.aws_service else {}),
        }


def observed_uses(
    events: Iterable[dict[str, Any]], app: str, function: str, since: float
) -> dict[tuple[str, str], Use]:
    """Fold the broker's audit events of ``function`` since ``since`` into uses."""
    who = f"function:{function}"
    uses: dict[tuple[str, str], Use] = {}
    events = list(events)
    # calls that came through the AWS API: the endpoint's accepted-signature event
    # carries the same request id as the broker's decision (ramparts.aws.endpoint)
    via_aws = {
        str(e.get("request_id")): str(e.get("action", ""))[len("aws:") :]
        for e in events
        if e.get("kind") == "aws.auth" and e.get("decision") == "allow" and e.get("request_id")
    }
    for e in events:
        if e.get("kind") != "resource.access" or (e.get("ts") or 0) < since:
            continue
        if str(e.get("principal", "")).split("@", 1)[0] != who:
            continue
        key = (str(e["action"]), short_resource(app, str(e["resource"])))
        use = uses.setdefault(key, Use(*key))
        service = via_aws.get(str(e.get("request_id")), "")
        if service:
            use.aws_service = use.aws_service or service
        else:
            use.native_calls += 1
        if e.get("decision") == "allow":
            use.allowed += 1
        else:
            use.denied += 1
        use.last_seen = max(use.last_seen, float(e.get("ts") or 0))
    return uses


def _common_folder(keys: list[str]) -> str:
    prefix = os.path.commonprefix(keys)
    return prefix[: prefix.rfind("/") + 1] if "/" in prefix else ""


def propose(
    uses: dict[tuple[str, str], Use], static: list[StaticAccess]
) -> tuple[list[tuple[str, str]], list[str], list[dict[str, Any]]]:
    """(action, resource pattern) grants, secret names, and code calls left unresolved."""
    literal = {(a.action, a.resource) for a in static if a.resource and "*" not in a.resource}
    grants: set[tuple[str, str]] = set()
    secrets: set[str] = set()
    unresolved = []
    for a in static:
        if a.resource is None:
            unresolved.append({"action": a.action, "code": f"{a.file}:{a.line}"})
        elif a.action == "secrets:GetSecretValue" and "*" not in a.resource:
            secrets.add(a.resource.partition(":")[2])
        else:
            grants.add((a.action, a.resource))
    by_container: dict[tuple[str, str, str], list[str]] = {}
    for (action, resource), _use in uses.items():
        kind, _, rest = resource.partition(":")
        if action == "secrets:GetSecretValue" and kind == "secret":
            secrets.add(rest)
        elif kind in ("kv", "objects") and "/" in rest and (action, resource) not in literal:
            container, _, key = rest.partition("/")
            by_container.setdefault((action, kind, container), []).append(key)
        elif kind in ("kv", "objects", "topic", "function", "secret", "key"):
            grants.add((action, resource))
        # resources outside this app are never proposed
    for (action, kind, container), keys in by_container.items():
        folder = _common_folder(keys) if kind == "objects" else ""
        grants.add((action, f"{kind}:{container}/{folder}*"))
    # drop grants another grant of the same action already covers
    kept = sorted(
        (a, r)
        for a, r in grants
        if not any(a == a2 and r2 != r and glob_matcher(r2)(r) for a2, r2 in grants)
    )
    return kept, sorted(secrets), unresolved


def _in_aws_names(
    app: str, grants: list[tuple[str, str]], uses: dict[tuple[str, str], Use]
) -> list[tuple[str, str]]:
    """Grants used only through the AWS API, written in AWS names (docs/aws/policies.md)."""
    out = []
    for action, resource in grants:
        matching = [
            u for u in uses.values() if u.action == action and glob_matcher(resource)(u.resource)
        ]
        services = {u.aws_service for u in matching}
        only_aws = matching and all(u.aws_service and not u.native_calls for u in matching)
        names = (
            aws_names.aws_names_for(app, action, resource, services.pop())
            if only_aws and len(services) == 1
            else None
        )
        out.append(names or (action, resource))
    return out


def statements_for(grants: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Group grants into few short-form statements: resources that share their actions."""
    actions_of: dict[str, set[str]] = {}
    for action, resource in grants:
        actions_of.setdefault(resource, set()).add(action)
    grouped: dict[tuple[str, ...], list[str]] = {}
    for resource, actions in actions_of.items():
        grouped.setdefault(tuple(sorted(actions)), []).append(resource)
    return [
        {"effect": "allow", "actions": list(actions), "resources": sorted(resources)}
        for actions, resources in sorted(grouped.items())
    ]


def _short_statement(app: str, st: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {"effect": st.effect.lower()}
    out["not_actions" if st.not_action else "actions"] = list(st.actions)
    out["not_resources" if st.not_resource else "resources"] = [
        short_resource(app, r) for r in st.resources
    ]
    if st.source.get("Condition"):
        out["conditions"] = st.source["Condition"]
    return out


def _covers(st: Statement, app: str, action: str, resource: str) -> bool:
    if not st.action_applies(action.lower()):
        return False
    if st.not_resource or st.variables:
        return True
    target = expand_resource(app, resource)
    return any(arn_matcher(r)(target) or glob_matcher(target)(r) for r in st.resources)


def suggest(
    app: str,
    function: str,
    config: FunctionConfig,
    uses: dict[tuple[str, str], Use],
    static: list[StaticAccess],
) -> dict[str, Any]:
    """The proposal and its diff against ``config``'s current role."""
    for a in static:
        if a.resource is not None:
            use = uses.setdefault((a.action, a.resource), Use(a.action, a.resource))
            use.code.append(f"{a.file}:{a.line}")
    grants, secrets, unresolved = propose(uses, static)
    policy = RolePolicy(app, config, cache=False)
    diff: list[dict[str, Any]] = []
    needed = [(a, r) for a, r in grants] + [
        ("secrets:GetSecretValue", f"secret:{s}") for s in secrets
    ]
    for st in policy.statements:
        short = _short_statement(app, st)
        if st.deny:
            diff.append({"op": "keep", "statement": short, "why": "denies are kept"})
            continue
        users = [f"{a} {r}" for a, r in needed if _covers(st, app, a, r)]
        if users:
            diff.append({"op": "keep", "statement": short, "why": "used: " + ", ".join(users[:3])})
        else:
            diff.append(
                {"op": "remove", "statement": short, "why": "never used in the window nor in code"}
            )
    for action, resource in needed:
        decision = policy.decide(action, expand_resource(app, resource), {})
        if decision.allowed:
            continue
        use = uses.get((action, resource))
        why = []
        if use and use.denied:
            why.append(f"denied {use.denied} time(s)")
        if use and use.code:
            why.append("called at " + ", ".join(use.code[:3]))
        diff.append(
            {
                "op": "add",
                "statement": {"effect": "allow", "actions": [action], "resources": [resource]},
                "why": "; ".join(why) or "used by the code",
            }
        )
    role: dict[str, Any] = {"statements": statements_for(_in_aws_names(app, grants, uses))}
    for entry in diff:
        if entry["op"] == "add":
            (action,), (resource,) = entry["statement"]["actions"], entry["statement"]["resources"]
            (action, resource), *_ = _in_aws_names(app, [(action, resource)], uses)
            entry["statement"] = {"effect": "allow", "actions": [action], "resources": [resource]}
    return {
        "function": function,
        "app": app,
        "observed": [u.to_dict() for _, u in sorted(uses.items())],
        "unresolved": unresolved,
        "suggested": {"role": role, "secrets": secrets},
        "current": {"role": [_short_statement(app, s) for s in policy.statements]},
        "diff": diff,
    }
