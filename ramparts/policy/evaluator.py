"""The evaluator: explicit deny > allow > implicit deny, as IAM decides identity policies.

For a request (action, resource, context) every statement of every document
is considered.  A statement *applies* when its Action (or NotAction), its
Resource (or NotResource) and all of its conditions match.  Any applicable
Deny gives ``ExplicitlyDenied``; otherwise any applicable Allow gives
``Allowed``; otherwise the answer is ``ImplicitlyDenied``.  Statement order
never matters.  A function without a role has no statements, so it can do
nothing.

Decisions are cached per evaluator (one per role version): the key is the
action, the resource and the values of the few context keys the role
actually reads.  A role that reads the clock (``aws:CurrentTime``...) is not
cached, since every request has a new time.  The broker drops its evaluators
when the registry changes (a deploy, an alias move, a rollback), so a cache
never outlives the role it was built for.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ramparts.policy.document import (
    VERSION,
    PolicyDocument,
    Statement,
    expand_resource,
    parse_policy,
    resource_arn,
    short_statement_json,
)

__all__ = [
    "ALLOWED",
    "EXPLICIT_DENY",
    "IMPLICIT_DENY",
    "Decision",
    "Evaluator",
    "Explanation",
    "RolePolicy",
    "expand_resource",
    "normalize_context",
    "resource_arn",
    "role_documents",
]

ALLOWED = "Allowed"
EXPLICIT_DENY = "ExplicitlyDenied"
IMPLICIT_DENY = "ImplicitlyDenied"

# Keys whose value changes on every request: a role reading them is not cached.
VOLATILE_KEYS = frozenset(
    {
        "aws:currenttime",
        "aws:epochtime",
        "ramparts:currenttime",
        "ramparts:epochtime",
        "ramparts:requestid",
    }
)
CACHE_SIZE = 65536


@dataclass(frozen=True)
class Decision:
    outcome: str
    statement: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED


@dataclass(frozen=True)
class Explanation:
    """Why a decision came out as it did: every statement that applied, by effect."""

    decision: Decision
    denies: tuple[Statement, ...]
    allows: tuple[Statement, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision.outcome,
            "matched_statement": self.decision.statement,
            "denied_by": [s.label for s in self.denies],
            "allowed_by": [s.label for s in self.allows],
            "statements": [
                {"label": s.label, "effect": s.effect, "statement": s.source}
                for s in (*self.denies, *self.allows)
            ],
        }


def _hashable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def normalize_context(context: Mapping[str, Any] | None) -> dict[str, Any]:
    """Context keys are case-insensitive: the evaluator reads lower-cased keys."""
    if not context:
        return {}
    return {str(k).lower(): v for k, v in context.items()}


class Evaluator:
    """Decides requests against a set of policy documents, with a decision cache."""

    def __init__(self, documents: Iterable[PolicyDocument], *, cache: bool = True) -> None:
        self.documents = tuple(documents)
        statements = [s for d in self.documents for s in d.statements]
        # denies first: the first applicable deny ends the evaluation
        self._denies = tuple(s for s in statements if s.deny)
        self._allows = tuple(s for s in statements if not s.deny)
        keys: set[str] = set()
        for s in statements:
            keys |= s.context_keys()
        self.context_keys = tuple(sorted(keys))
        self._cacheable = cache and not (keys & VOLATILE_KEYS)
        self._cache: dict[Any, Decision] = {}

    @property
    def statements(self) -> tuple[Statement, ...]:
        return (*self._denies, *self._allows)

    def decide(
        self, action: str, resource: str, context: Mapping[str, Any] | None = None
    ) -> Decision:
        """``context`` must have lower-cased keys (see ``normalize_context``)."""
        if self._cacheable:
            if self.context_keys:
                ctx = context or {}
                key: Any = (
                    action,
                    resource,
                    tuple(_hashable(ctx.get(k)) for k in self.context_keys),
                )
            else:
                key = (action, resource)
            hit = self._cache.get(key)
            if hit is not None:
                return hit
            decision = self._decide(action, resource, context or {})
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[key] = decision
            return decision
        return self._decide(action, resource, context or {})

    def _decide(self, action: str, resource: str, context: Mapping[str, Any]) -> Decision:
        lowered = action.lower()
        for s in self._denies:
            if s.applies(lowered, resource, context):
                return Decision(EXPLICIT_DENY, s.label)
        for s in self._allows:
            if s.applies(lowered, resource, context):
                return Decision(ALLOWED, s.label)
        return Decision(IMPLICIT_DENY)

    def explain(
        self, action: str, resource: str, context: Mapping[str, Any] | None = None
    ) -> Explanation:
        """Every applicable statement, not just the first: for ``policy simulate``."""
        ctx = context or {}
        lowered = action.lower()
        denies = tuple(s for s in self._denies if s.applies(lowered, resource, ctx))
        allows = tuple(s for s in self._allows if s.applies(lowered, resource, ctx))
        if denies:
            decision = Decision(EXPLICIT_DENY, denies[0].label)
        elif allows:
            decision = Decision(ALLOWED, allows[0].label)
        else:
            decision = Decision(IMPLICIT_DENY)
        return Explanation(decision, denies, allows)

    def cache_clear(self) -> None:
        self._cache.clear()


class RoleSource(Protocol):
    """What a role's policy is built from: a function's ``role`` and ``secrets``.

    A protocol rather than ``ramparts.manifest.FunctionConfig`` itself, because
    the manifest compiles roles with this module: policy stays below the
    manifest and never imports it back.
    """

    role: Any
    secrets: Any


def role_documents(app: str, config: RoleSource) -> list[dict[str, Any]]:
    """The IAM JSON documents a function's role stands for (short form mapped on)."""
    return [doc for _, doc in labelled_role_documents(app, config)]


def labelled_role_documents(app: str, config: RoleSource) -> list[tuple[str, dict[str, Any]]]:
    """(label, IAM JSON) pairs: the short-form statements, the role's ``policies``, then the
    grant implied by ``secrets: [...]``.  Labels name statements in audit events."""
    role = config.role
    if isinstance(role, str):
        raise ValueError(f"role {role!r} was not resolved")  # fail closed: the broker denies
    docs: list[tuple[str, dict[str, Any]]] = []
    if role is not None:
        name = role.name or "role"
        statements = [
            short_statement_json(
                effect=st.effect,
                actions=list(st.actions),
                resources=list(st.resources),
                not_actions=list(st.not_actions),
                not_resources=list(st.not_resources),
                conditions=dict(st.conditions) if st.conditions else None,
                sid=st.sid,
            )
            for st in role.statements
        ]
        if statements:
            docs.append((name, {"Version": VERSION, "Statement": statements}))
        for i, doc in enumerate(role.policies):
            docs.append((f"{name}.policies[{i}]", doc))
    if config.secrets:
        docs.append(
            (
                "secrets",
                {
                    "Version": VERSION,
                    "Statement": [
                        {
                            "Sid": "secrets",
                            "Effect": "Allow",
                            "Action": "secrets:GetSecretValue",
                            "Resource": [resource_arn(app, "secret", s) for s in config.secrets],
                        }
                    ],
                },
            )
        )
    return docs


class RolePolicy(Evaluator):
    """The effective policy of one function version (its role and its ``secrets:``)."""

    def __init__(self, app: str, config: RoleSource, *, cache: bool = True) -> None:
        self.app = app
        labelled = labelled_role_documents(app, config)
        self.json_documents = [doc for _, doc in labelled]
        documents = [parse_policy(doc, app=app, label=label) for label, doc in labelled]
        super().__init__(documents, cache=cache)
        self.digest = hashlib.sha256(
            json.dumps(self.json_documents, sort_keys=True).encode()
        ).hexdigest()
