"""``ramparts policy lint``: roles that grant more than a function needs, or too much at all.

Rules (severity):

* RP-P001 high   an Allow of every action (``*``), or of everything but a list (NotAction)
* RP-P002 high   an Allow on every resource (``*``), everything but a list (NotResource),
                 or on another app's resources; medium for a whole kind (``kv:*``, every
                 table) and for a service-wide action wildcard (``kv:*``)
* RP-P003 high   privilege escalation: actions that change policies, keys, secrets,
                 deployments or aliases, or reading every secret (other functions' too)
* RP-P004 low    a statement (or a ``secrets:`` entry) no handler code could use
* RP-P005 medium a broad grant (wildcard action or a whole table/bucket) in a role with no Deny
* RP-P006 medium handler code makes a call the role does not allow (denied at run time)

What it does not catch: uses through names the static read cannot follow
(see ``static.py``), conditions (a conditional grant is judged as if its
conditions held), and whether a resource *should* be shared between apps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ramparts.manifest import FunctionConfig, Manifest, load_manifest
from ramparts.policy import aws as aws_names
from ramparts.policy.document import Statement, expand_resource, short_resource
from ramparts.policy.evaluator import RolePolicy
from ramparts.policy.matching import action_matcher, arn_matcher, glob_matcher
from ramparts.policy.static import StaticAccess, scan_handler

HIGH, MEDIUM, LOW = "high", "medium", "low"
_ORDER = {HIGH: 0, MEDIUM: 1, LOW: 2}

# Concrete actions that let a role widen its own (or anyone's) access.
ESCALATION_ACTIONS = (
    "iam:PutRolePolicy",
    "iam:AttachRolePolicy",
    "policies:PutPolicy",
    "policies:UpdateRole",
    "keys:CreateKey",
    "keys:RevokeKey",
    "identity:CreateApiKey",
    "identity:CreateClient",
    "encryption:RotateKey",
    "encryption:Decrypt",
    "secrets:PutSecretValue",
    "secrets:CreateSecret",
    "secrets:DeleteSecret",
    "secrets:RotateSecret",
    "registry:Deploy",
    "registry:SetAlias",
    "registry:Rollback",
    "functions:UpdateFunction",
)
_WHOLE_KIND = ("table/*", "bucket/*", "topic/*", "secret/*", "function/*", "key/*")


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    function: str
    where: str
    message: str
    hint: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _statement_where(fn: str, st: Statement) -> str:
    return f"functions.{fn}.role ({st.label})"


def _resource_scope(app: str, resource: str) -> str:
    """'all', 'other-app', 'kind' (a whole kind in this app) or 'narrow'."""
    if resource == "*":
        return "all"
    if resource.startswith("arn:aws:"):
        # An AWS ARN in a role stands for the native resources of this app it aliases
        # (ramparts.policy.aws); another account's or region's stands for none of them.
        natives = aws_names.expand_resource(app, resource)[1:]
        if not natives:
            # an own-account ARN with no exact native equivalent (table/T/index/*) grants
            # nothing: narrow; one that reaches nothing even taken wide is another app's
            wide = aws_names.expand_resource(app, resource, wide=True)[1:]
            return "narrow" if wide else "other-app"
        scopes = {_resource_scope(app, n) for n in natives}
        return "other-app" if "other-app" in scopes else "kind" if "kind" in scopes else "narrow"
    if resource.startswith("arn:ramparts:"):
        parts = resource.split(":", 4)
        if len(parts) == 5:
            if parts[3] != app:
                return "other-app"
            if parts[4] in _WHOLE_KIND or parts[4] == "*" or parts[2] == "*":
                return "kind"
        return "narrow"
    return "narrow" if not resource.startswith("arn:") else "other-app"


def _overlaps(st: Statement, app: str, access: StaticAccess) -> bool:
    if not st.action_applies(access.action.lower()):
        return False
    if access.resource is None or st.not_resource or st.variables:
        return True
    target = expand_resource(app, access.resource)
    if st.resources and any(arn_matcher(r)(target) for r in st.resources):
        return True
    # the code's resource is itself a pattern (kv:orders/*): does it reach a granted one?
    return any(glob_matcher(target)(r) for r in st.resources)


def lint_function(
    app: str, name: str, config: FunctionConfig, accesses: list[StaticAccess] | None
) -> list[Finding]:
    findings: list[Finding] = []

    def add(rule: str, sev: str, where: str, message: str, hint: str) -> None:
        findings.append(Finding(rule, sev, name, where, message, hint))

    policy = RolePolicy(app, config, cache=False)
    has_deny = any(s.deny for s in policy.statements)
    for st in policy.statements:
        if st.deny:
            continue
        where = _statement_where(name, st)
        if st.not_action or "*" in st.actions:
            add(
                "RP-P001",
                HIGH,
                where,
                f"{name} may perform every action"
                + (" but a few (NotAction)" if st.not_action else ""),
                "list the actions it needs (ramparts policy suggest proposes them)",
            )
        service_wide = [a for a in st.actions if a.endswith(":*")]
        if service_wide and not st.not_action:
            add(
                "RP-P002",
                MEDIUM,
                where,
                f"{name} may perform every action of {', '.join(service_wide)}",
                "name the actions, e.g. kv:GetItem and kv:PutItem",
            )
        scopes = {r: _resource_scope(app, r) for r in st.resources}
        if st.not_resource or "all" in scopes.values():
            add(
                "RP-P002",
                HIGH,
                where,
                f"{name} is granted {', '.join(st.actions)} on every resource"
                + (" but a few (NotResource)" if st.not_resource else ""),
                "scope resources to a table, bucket, topic, secret or function",
            )
        for r, scope in scopes.items():
            if scope == "other-app":
                add(
                    "RP-P002",
                    HIGH,
                    where,
                    f"{name} is granted access outside app {app}: {r}",
                    "functions should only reach their own app's resources",
                )
            elif scope == "kind":
                add(
                    "RP-P002",
                    MEDIUM,
                    where,
                    f"{name} is granted {', '.join(st.actions)} on {short_resource(app, r)}",
                    "name the tables, buckets or topics it uses",
                )
        if not st.not_action:
            risky = [
                a
                for a in ESCALATION_ACTIONS
                if any(action_matcher(p)(a.lower()) for p in st.actions)
            ]
            if risky:
                add(
                    "RP-P003",
                    HIGH,
                    where,
                    f"{name} may change policies, keys or secrets ({', '.join(risky[:4])}"
                    + ("..." if len(risky) > 4 else "")
                    + ")",
                    "a function must not be able to widen access: keep these with admins",
                )
            reads_secrets = any(action_matcher(p)("secrets:getsecretvalue") for p in st.actions)
            every_secret = [
                r
                for r in st.resources
                if r == "*"
                or r.endswith(":secret/*")
                or (":secret/" not in r and r.endswith("*") and ":secrets:" in r)
            ]
            if reads_secrets and every_secret:
                add(
                    "RP-P003",
                    HIGH,
                    where,
                    f"{name} may read every secret, including other functions'",
                    "grant secrets by name (secrets: [name] in the function)",
                )
        broad = (
            service_wide
            or st.not_action
            or "*" in st.actions
            or any(s in ("all", "kind") for s in scopes.values())
            or any(r.endswith("/*") and r.count("/") == 1 for r in st.resources)
        )
        if broad and not has_deny:
            add(
                "RP-P005",
                MEDIUM,
                where,
                f"{name} has a broad grant and its role has no Deny",
                "add a deny for what must never happen (e.g. kv:DeleteItem) or narrow the grant",
            )
        if accesses is not None and not st.not_action:
            if st.label == "secrets":
                for r in st.resources:
                    secret = short_resource(app, r)
                    used = any(
                        a.action == "secrets:GetSecretValue"
                        and (
                            a.resource is None or glob_matcher(expand_resource(app, a.resource))(r)
                        )
                        for a in accesses
                    )
                    if not used:
                        add(
                            "RP-P004",
                            LOW,
                            f"functions.{name}.secrets",
                            f"{name} lists {secret} but no handler code reads it",
                            "remove it from secrets: if it is not needed",
                        )
            elif not any(_overlaps(st, app, a) for a in accesses):
                add(
                    "RP-P004",
                    LOW,
                    where,
                    f"no handler code of {name} could use {', '.join(st.actions)} on "
                    f"{', '.join(short_resource(app, r) for r in st.resources)}",
                    "remove the statement, or check ramparts policy suggest against real traffic",
                )
    if accesses is not None:
        seen: set[tuple[str, str]] = set()
        for a in accesses:
            if a.resource is None or "*" in a.resource or (a.action, a.resource) in seen:
                continue
            seen.add((a.action, a.resource))
            target = expand_resource(app, a.resource)
            decision = policy.decide(a.action, target, {})
            conditional = any(
                s.conditions and s.action_applies(a.action.lower())
                for s in policy.statements
                if not s.deny
            )
            verb = "denies" if decision.outcome == "ExplicitlyDenied" else "does not allow"
            if not decision.allowed and not conditional:
                add(
                    "RP-P006",
                    MEDIUM,
                    f"{a.file}:{a.line}",
                    f"{name} calls {a.action} on {a.resource} but its role {verb} it",
                    "grant it in the role, or remove the call",
                )
    return findings


def lint_manifest(manifest: Manifest, app_dir: Path | None) -> list[Finding]:
    """Lint every function's role; with ``app_dir`` also read the handlers' code."""
    findings: list[Finding] = []
    for name, fn in manifest.functions.items():
        accesses = scan_handler(app_dir, fn.handler) if app_dir is not None else None
        findings.extend(lint_function(manifest.app, name, fn, accesses))
    findings.sort(key=lambda f: (_ORDER[f.severity], f.function, f.rule))
    return findings


def lint_app(app_dir: Path) -> list[Finding]:
    """Load ``app_dir/ramparts.yaml`` (``ManifestError`` if malformed) and lint it."""
    manifest = load_manifest(app_dir)
    return lint_manifest(manifest, app_dir)
