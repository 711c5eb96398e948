"""Control-API routes for audit evidence: verify the chains, export a range, prune now.

Admin token only, like every control route.  Each verify run is itself an
audit record (kind ``audit.verify``, decision ``deny`` when the chain failed:
detection rules alert on it); an export and a manual prune are admin actions,
audited too.
"""

from __future__ import annotations

import asyncio
import logging
import math
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from ramparts.control.http import JSONResponse
from ramparts.errors import InvalidRequest
from ramparts.observe.evidence import build_export, verify_store

if TYPE_CHECKING:
    from ramparts.node import Node

__all__ = ["audit_routes"]

log = logging.getLogger("ramparts.observe")


def _node(request: Request) -> Node:
    return request.app.state.node  # type: ignore[no-any-return]


def _seconds(request: Request, name: str, default: float | None = None) -> float:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise InvalidRequest(f"{name} is required (unix seconds)", code="invalid_argument")
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise InvalidRequest(f"{name} must be unix seconds (a number)", code="invalid_argument")
    return value


async def verify(request: Request) -> JSONResponse:
    """Walk every partition's chain; 200 with ``ok`` true or false (the verdict is data)."""
    node = _node(request)
    audit = node.audit
    # The head signed before this run: a tail cut off since then shows as "truncated" even
    # though the checkpoint below continues the chain after the gap.
    # No head file although the chain already has signed records: it was deleted (the
    # checkpoint below would write a new one and hide that).  Read together, under the
    # audit writer's lock, so a checkpoint in flight is not mistaken for a deletion.
    own_head, has_signed = await audit.signed_head_state()
    heads: dict[str, dict[str, Any] | None] = {audit.partition: own_head}
    head_missing = own_head is None and has_signed
    try:
        await audit.flush(checkpoint=True)  # everything stored and this node's head signed
    except Exception:  # a tampered table can refuse the append: verify what is there
        log.exception("could not store the audit records before verifying")
    if heads[audit.partition] is None and not head_missing:
        heads[audit.partition] = audit.read_head()
    result = await asyncio.to_thread(verify_store, node.store, node.signer.verify, heads=heads,
                                   retired=audit.retired)
    result["key_id"] = node.signer.key_id
    problem = result["problem"] or {}
    audit.emit(
        "audit.verify",
        decision="allow" if result["ok"] else "deny",
        principal="admin",
        action="audit:Verify",
        resource="audit:*",
        partitions=len(result["partitions"]),
        records=sum(p["records"] for p in result["partitions"]),
        problem=problem.get("code"),
        bad_partition=problem.get("partition"),
        bad_seq=problem.get("seq"),
        severity="info" if result["ok"] else "critical",
    )
    return JSONResponse(result)


async def export(request: Request) -> JSONResponse:
    node = _node(request)
    t_from = _seconds(request, "from", 0.0)
    t_to = _seconds(request, "to", 1e12)
    await node.audit.flush(checkpoint=True)
    doc = await asyncio.to_thread(build_export, node.store, node.signer, t_from, t_to)
    node.audit.emit(
        "audit.export",
        decision="allow",
        principal="admin",
        action="audit:Export",
        resource="audit:*",
        range=[t_from, t_to],
        records=sum(len(p["records"]) for p in doc["partitions"]),
    )
    return JSONResponse(doc)


async def prune(request: Request) -> JSONResponse:
    """Prune this node's partition now (``older_than`` seconds; default the node's retention).

    ``older_than`` may not be below the node's retention: otherwise an admin could delete
    the whole history, then, a moment later, the anchor and ``audit.prune`` record of that
    first prune, and the chain would still verify.  With the floor, a prune's own records
    live at least one retention period.  A node that keeps records forever refuses every
    manual prune.
    """
    node = _node(request)
    retain = node.settings.retain_audit
    keep = _seconds(request, "older_than", retain)
    if not retain or retain <= 0 or keep < retain:
        node.audit.emit(
            "audit.prune",
            decision="deny",
            principal="admin",
            action="audit:Prune",
            resource=f"audit:{node.audit.partition}",
            older_than=keep,
            retain_audit=retain,
            reason="below_retention",
        )
        if not retain or retain <= 0:
            raise InvalidRequest(
                "this node keeps audit records forever (--retain-audit 0): a manual prune "
                "is refused; start it with a retention to prune", code="below_retention")
        raise InvalidRequest(
            f"--older-than (older_than) {keep:g}s is below this node's audit retention, "
            f"{retain:g}s (--retain-audit): a prune may delete only records the retention "
            "would, so that its own record is kept at least that long",
            code="below_retention",
        )
    result = await node.audit.prune(keep)
    node.audit.emit(
        "audit.prune",
        decision="allow",
        principal="admin",
        action="audit:Prune",
        resource=f"audit:{node.audit.partition}",
        older_than=keep,
        deleted=result["deleted"],
    )
    return JSONResponse(result)


def audit_routes() -> list[Route]:
    return [
        Route("/v1/audit/verify", verify, methods=["POST"]),
        Route("/v1/audit/export", export),
        Route("/v1/audit/prune", prune, methods=["POST"]),
    ]
