"""The core's first evaluator (before issue 4), kept verbatim as the benchmark baseline.

Only ``bench/policy_bench.py`` imports it; the platform uses ``ramparts.policy.evaluator``.
It understands short-form allow/deny statements with wildcards, nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from ramparts.manifest import FunctionConfig

ALLOWED = "Allowed"
EXPLICIT_DENY = "ExplicitlyDenied"
IMPLICIT_DENY = "ImplicitlyDenied"

_SHORT = {
    "kv": ("kv", "table"),
    "objects": ("objects", "bucket"),
    "topic": ("topics", "topic"),
    "secret": ("secrets", "secret"),
    "function": ("functions", "function"),
}


def resource_arn(app: str, service: str, path: str) -> str:
    """``resource_arn("shop", "kv", "orders/o-1")`` -> ``arn:ramparts:kv:shop:table/orders/o-1``."""
    svc, kind = _SHORT[service]
    return f"arn:ramparts:{svc}:{app}:{kind}/{path}"


def expand_resource(app: str, resource: str) -> str:
    if resource == "*" or resource.startswith("arn:"):
        return resource
    prefix, sep, rest = resource.partition(":")
    if sep and prefix in _SHORT:
        return resource_arn(app, prefix, rest)
    return resource


@lru_cache(maxsize=4096)
def _pattern(glob: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


@dataclass(frozen=True)
class Decision:
    outcome: str
    statement: str | None = None

    @property
    def allowed(self) -> bool:
        return self.outcome == ALLOWED


@dataclass(frozen=True)
class _Stmt:
    sid: str
    deny: bool
    actions: tuple[str, ...]
    resources: tuple[str, ...]


class RolePolicy:
    """The effective policy of one function version."""

    def __init__(self, app: str, config: FunctionConfig) -> None:
        stmts: list[_Stmt] = []
        if config.role is not None:
            for i, st in enumerate(config.role.statements):
                stmts.append(
                    _Stmt(
                        st.sid or f"statement[{i}]",
                        st.effect == "deny",
                        tuple(st.actions),
                        tuple(expand_resource(app, r) for r in st.resources),
                    )
                )
        if config.secrets:
            stmts.append(
                _Stmt(
                    "secrets",
                    False,
                    ("secrets:GetSecretValue",),
                    tuple(resource_arn(app, "secret", s) for s in config.secrets),
                )
            )
        self._statements = tuple(stmts)

    def decide(self, action: str, resource: str) -> Decision:
        allow: str | None = None
        for st in self._statements:
            if not any(_pattern(a, True).fullmatch(action) for a in st.actions):
                continue
            if not any(_pattern(r, False).fullmatch(resource) for r in st.resources):
                continue
            if st.deny:
                return Decision(EXPLICIT_DENY, st.sid)
            allow = allow or st.sid
        return Decision(ALLOWED, allow) if allow else Decision(IMPLICIT_DENY)
