"""Control-API route for the posture audit: ``GET /v1/audit/posture``.

The snapshot the checks read (live functions, key records, secret dates, the
audit trail, the node's TLS and sandbox state) is taken here, inside the node,
and only the report leaves it: findings name resources and evidence, never a
secret value or a key hash.  Admin token only, like every control route; each
run is itself an audit record (``posture.audit``) with its score.

Query: ``app``, ``secret_max_age``, ``key_max_idle``, ``verify_max_age``,
``audit_max_age``, ``expiry_warning``, ``window`` (days), ``expect_public`` (repeated, ``METHOD
/path`` or ``/path``).  An unknown or malformed parameter is 400
``invalid_argument``; an unknown app 404 ``app_not_found``.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from ramparts.assess.audit import AuditOptions, NodeFacts, PostureInputs, run_audit
from ramparts.assess.audit.inputs import DAY, EVENT_KINDS
from ramparts.control.http import JSONResponse, _node
from ramparts.errors import InvalidRequest, RampartsError
from ramparts.manifest import NAME_RE

if TYPE_CHECKING:
    from ramparts.node import Node

__all__ = ["posture_routes"]

_PARAMS = {
    "app",
    "secret_max_age",
    "key_max_idle",
    "verify_max_age",
    "audit_max_age",
    "expiry_warning",
    "window",
    "expect_public",
}
_PAGE = 1000
_MAX_EXPECTED = 200
_PER_CALL = frozenset({"resource.access", "aws.auth"})


def _options(request: Request) -> AuditOptions:
    params = request.query_params
    unknown = sorted(set(params.keys()) - _PARAMS)
    if unknown:
        raise InvalidRequest(
            f"unknown parameter {unknown[0][:40]!r}; known: {', '.join(sorted(_PARAMS))}",
            code="invalid_argument",
        )
    single = {k: params[k] for k in _PARAMS - {"expect_public"} if k in params}
    for name in single:
        if len(params.getlist(name)) > 1:
            raise InvalidRequest(f"{name} is given more than once", code="invalid_argument")
    app = single.get("app")
    if app is not None and not NAME_RE.match(app):
        raise InvalidRequest("app: an app name", code="invalid_argument")
    expected = params.getlist("expect_public")
    if len(expected) > _MAX_EXPECTED:
        raise InvalidRequest(
            f"expect_public: at most {_MAX_EXPECTED} routes", code="invalid_argument"
        )
    return AuditOptions.parse(single, expected)


def _events(node: Node, since: float) -> tuple[list[dict[str, Any]], float | None]:
    """The audit rows the checks read, oldest first (one pass over the trail), and the
    time of the oldest record.

    Per-call access records (``resource.access``, ``aws.auth``) are the bulk of
    a trail; only those within the unused-grant window are kept.  The rarer
    kinds (verifications, deploy gates, advisory checks) are kept whatever
    their age: the latest one matters even when it is old.
    """
    out: list[dict[str, Any]] = []
    first: float | None = None
    after = 0
    while True:
        rows = node.store.list_audit_events(after, _PAGE)
        if rows and first is None:
            first = float(rows[0].get("ts") or 0)
        out.extend(
            r
            for r in rows
            if r.get("kind") in EVENT_KINDS
            and (r["kind"] not in _PER_CALL or (r.get("ts") or 0) >= since)
        )
        if len(rows) < _PAGE:
            return out, first
        after = rows[-1]["seq"]


def _integrity(node: Node, app: str | None) -> list[dict[str, Any]]:
    """Every version an alias points to that fails the registry's checks (RP-A024)."""
    registry = node.registry
    out: list[dict[str, Any]] = []
    for fn in node.store.list_functions():
        if app is not None and fn["app"] != app:
            continue
        targets: dict[str, list[str]] = {}
        for alias, version in sorted(fn["aliases"].items()):
            targets.setdefault(version, []).append(alias)
        for version, aliases in targets.items():
            rec = node.store.get_version(fn["name"], version)
            if rec is None:
                problem = ("version_unknown", "the alias points to a version the store lacks")
            else:
                try:
                    _cfg, spec = registry.spec_for(rec)
                    registry.verify(spec)
                    if rec.sbom is not None:  # versions from before SBOMs have none to check
                        registry.sbom(rec)
                    continue
                except RampartsError as exc:
                    problem = (exc.code, str(exc))
            out.append(
                {
                    "app": fn["app"],
                    "function": fn["name"],
                    "version": version,
                    "aliases": aliases,
                    "code": problem[0],
                    "message": problem[1],
                }
            )
    return out


def _response(node: Node) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The loaded detection rules and what each stored playbook matches (RP-A025)."""
    detections = getattr(node, "detections", None)
    incidents = getattr(node, "incidents", None)
    rules = [
        {"id": r.id, "severity": r.severity, "title": r.title}
        for r in (detections.rules if detections is not None else [])
    ]
    books = [
        {"name": p.name, "rules": list(p.match.rules), "severity": p.match.severity}
        for p in (incidents.playbooks() if incidents is not None else [])
    ]
    return rules, books


def _snapshot(node: Node, options: AuditOptions) -> PostureInputs:
    if options.app is not None:
        node.resolve_app(options.app)  # NotFound app_not_found
    functions = [fn for fn in node.live_functions() if options.app is None or fn.app == options.app]
    s = node.settings
    now = time.time()
    events, trail_since = _events(node, now - options.window * DAY)
    rules, playbooks = _response(node)
    return PostureInputs(
        now=now,
        options=options,
        node=NodeFacts(
            node_id=s.node_id,
            gateway_host=s.host,
            tls=bool(s.tls_cert and s.tls_key),
            sandbox=node.sandbox_report.as_dict(),
            started_at=node.started_at,
            advisories_off=s.advisories.strip().lower() == "off",
            advisory_check_interval=s.advisory_check_interval,
            forwarded_allow_ips=s.forwarded_allow_ips,
        ),
        functions=sorted(functions, key=lambda fn: (fn.app, fn.name)),
        api_keys=[r.public() for r in node.identity.records.list_api_keys()],
        secrets=node.vault.secrets.list(options.app),
        events=events,
        trail_since=trail_since,
        integrity=_integrity(node, options.app),
        detection_rules=rules,
        playbooks=playbooks,
    )


async def posture(request: Request) -> JSONResponse:
    node = _node(request)
    options = _options(request)
    await node.audit.flush()
    inputs = await asyncio.to_thread(_snapshot, node, options)
    report = (await asyncio.to_thread(run_audit, inputs)).to_dict()
    node.audit.emit(
        "posture.audit",
        decision="allow",
        principal="admin",
        action="assess:Audit",
        resource=f"app:{options.app}" if options.app else "node",
        score=report["score"],
        counts=report["counts"],
        failed=[c["id"] for c in report["controls"] if not c["passed"]],
    )
    return JSONResponse(report)


def posture_routes() -> list[Route]:
    return [Route("/v1/audit/posture", posture)]
