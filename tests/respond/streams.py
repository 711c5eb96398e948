"""Recorded event streams: records in the exact shape the node stores and hands to sinks.

Each builder returns an attack stream and a benign stream of the same size;
the shapes follow the emitters (``gateway.auth`` from ``ramparts/gateway/app.py``,
``resource.access`` from ``ramparts/broker.py``, sandbox events from
``ramparts/node.py``, invocation rows from ``ramparts/observe/invocations.py``).
"""

from __future__ import annotations

import uuid
from typing import Any

T0 = 1_800_000_000.0


def audit(kind: str, decision: str, principal: str, action: str, resource: str, ts: float,
          **detail: Any) -> dict[str, Any]:
    return {
        "id": uuid.uuid4().hex,
        "ts": ts,
        "node": "n1",
        "kind": kind,
        "decision": decision,
        "principal": principal,
        "action": action,
        "resource": resource,
        "request_id": str(uuid.uuid4()),
        "detail": detail,
    }


def bad_key(ip: str, ts: float) -> dict[str, Any]:
    return audit("gateway.auth", "deny", "api_key:rk_1a2b3c", "http:GET", "route:GET /orders",
                 ts, reason="api_key_unknown", function="orders", source_ip=ip)


def good_key(ip: str, ts: float) -> dict[str, Any]:
    return audit("gateway.auth", "allow", "api_key:rk_9f8e7d", "http:GET", "route:GET /orders",
                 ts, method="api_key", function="orders", source_ip=ip)


def access(fn: str, version: str, action: str, resource: str, allowed: bool,
           ts: float) -> dict[str, Any]:
    return audit("resource.access", "allow" if allowed else "deny",
                 f"function:{fn}@{version[:12]}", action, resource, ts,
                 reason="allowed" if allowed else "implicit_deny", statement=None)


def invocation(fn: str, status: str, ts: float) -> dict[str, Any]:
    return {
        "request_id": str(uuid.uuid4()), "function": fn, "version": "a" * 64,
        "trigger": "http", "status": status, "started_at": ts, "duration_ms": 3.0,
        "cold": 0, "error_type": None if status == "ok" else "ValueError",
        "error_message": None, "logs": "",
    }


def deploy(functions: dict[str, str], ts: float) -> dict[str, Any]:
    return audit("registry.deploy", "allow", "admin", "registry:Deploy", "app:shop", ts,
                 functions=functions, public_routes=[])


def egress(fn: str, destination: str, allowed: bool, ts: float) -> dict[str, Any]:
    kind = "egress.allow" if allowed else "egress.deny"
    return audit(kind, "allow" if allowed else "deny", f"function:shop/{fn}", f"runtime:{kind}",
                 destination, ts, function=fn, version="a" * 64,
                 severity="info" if allowed else "high", reason="allowlisted")


def waf_block(
    ip: str, ts: float, count: int = 1, reason: str = "waf_blocked", kind: str = "gateway.waf"
) -> dict[str, Any]:
    """A WAF refusal as the gateway audits it through its flood aggregator: every record carries
    ``aggregated`` and ``count`` (1 for a group's first refusals, then the refusals of a second)."""
    decision = "allow" if kind == "waf.detect" else "deny"
    return audit(
        kind,
        decision,
        f"ip:{ip}",
        "http:GET",
        "route:GET /search",
        ts,
        count=count,
        aggregated=True,
        first_at=ts,
        last_at=ts,
        reason=reason,
        function="search",
        source_ip=ip,
        mode="block",
        rules=["sqli-tautology"],
        categories=["sqli"],
        score=5,
        threshold=5,
        locations=["query.q"],
        matches=[{"rule": "sqli-tautology", "location": "query.q", "excerpt": "' or 1=1--"}],
    )
