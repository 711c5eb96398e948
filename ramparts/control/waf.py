"""Control-API routes for the WAF's run-time block list (``ramparts waf block|unblock|blocks``).

- ``POST /v1/waf/blocks`` ``{"cidr", "for_seconds"?, "reason"?, "force"?, "actor"?}``
  blocks a network on every node (within a second); the same network again
  replaces its entry (new expiry and reason).  ``400 invalid_cidr``,
  ``invalid_duration``, ``invalid_reason``; ``400 force_required`` for a /0,
  a network covering loopback, or one holding the admin's own address, unless
  ``force`` is true; ``409 too_many_blocks`` past ``MAX_BLOCKS``.
- ``GET /v1/waf/blocks`` lists the entries in force.
- ``DELETE /v1/waf/blocks?cidr=...`` removes one (``404 block_not_found``).

Admin token only, like every control route; every change is audited
(``waf.block`` / ``waf.unblock``, principal ``admin``), and so is a block
refused for want of ``force``.
"""

from __future__ import annotations

import math
import time
import unicodedata
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from ramparts.config import trusted_proxies
from ramparts.control.http import JSONResponse, _json, _node
from ramparts.errors import Conflict, InvalidRequest, NotFound
from ramparts.gateway.blocklist import MAX_BLOCKS
from ramparts.gateway.netset import InvalidNetwork, parse_network
from ramparts.gateway.waf_net import loopback_or_self
from ramparts.store.base import BlockRecord

MAX_FOR_SECONDS = 366 * 86400.0
MAX_REASON = 500


def public(record: BlockRecord) -> dict[str, Any]:
    return {
        "cidr": record.network,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "reason": record.reason,
        "actor": record.actor,
        "source_ip": record.source_ip,
        "node": record.node,
    }


def _cidr(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidRequest("cidr: an IP address or CIDR block is required", code="invalid_cidr")
    try:
        return str(parse_network(value))
    except InvalidNetwork as exc:
        raise InvalidRequest(f"cidr: {exc}", code="invalid_cidr") from None


def _for_seconds(value: Any) -> float | None:
    if value is None:
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or not 1 <= value <= MAX_FOR_SECONDS
    ):
        raise InvalidRequest(
            f"for_seconds: a number of seconds from 1 to {int(MAX_FOR_SECONDS)}",
            code="invalid_duration",
        )
    return float(value)


def _text(value: Any, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidRequest(f"{name}: at most {limit} characters", code=f"invalid_{name}")
    # Cc (C0, DEL, C1 such as U+0085), Cf (bidi overrides such as U+202E), and line or
    # paragraph separators (U+2028/9): any of them can forge lines or reorder a table.
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise InvalidRequest(f"{name}: no control characters", code=f"invalid_{name}")
    return value.strip()


def _admin_ip(request: Request) -> str:
    return request.client.host if request.client else ""


async def block(request: Request) -> JSONResponse:
    node = _node(request)
    data = await _json(request)
    network = _cidr(data.get("cidr"))
    duration = _for_seconds(data.get("for_seconds"))
    reason = _text(data.get("reason"), "reason", MAX_REASON)
    actor = _text(data.get("actor"), "actor", 200) or "admin"
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise InvalidRequest("force: true or false", code="invalid_argument")
    admin_ip = _admin_ip(request)
    proxies = trusted_proxies(node.settings.forwarded_allow_ips)
    risk = loopback_or_self(parse_network(network), admin_ip, proxies)
    if risk is not None and not force:
        node.audit.emit(
            "waf.block",
            decision="deny",
            principal="admin",
            action="waf:Block",
            resource=f"network:{network}",
            reason="force_required",
            risk=risk,
            source_ip=admin_ip,
        )
        raise InvalidRequest(f"{risk}; repeat with --force to block it", code="force_required")
    blocks = node.blocklist
    if await blocks.count() >= MAX_BLOCKS and all(r.network != network for r in blocks.active()):
        raise Conflict(
            f"the block list holds {MAX_BLOCKS} entries already; unblock some first",
            code="too_many_blocks",
        )
    now = time.time()
    record = BlockRecord(
        network=network,
        created_at=now,
        expires_at=now + duration if duration is not None else None,
        reason=reason,
        actor=actor,
        source_ip=admin_ip,
        node=node.settings.node_id,
    )
    replaced = await blocks.add(record)
    node.audit.emit(
        "waf.block",
        decision="allow",
        principal="admin",
        action="waf:Block",
        resource=f"network:{network}",
        expires_at=record.expires_at,
        block_reason=reason,
        claimed_actor=actor,
        replaced=replaced,
        forced=bool(force and risk),
        source_ip=admin_ip,
    )
    return JSONResponse({**public(record), "replaced": replaced})


async def list_blocks(request: Request) -> JSONResponse:
    node = _node(request)
    await node.blocklist.reload()  # what the store holds now, not the last poll
    rows = node.blocklist.active()
    return JSONResponse({"blocks": [public(r) for r in rows], "count": len(rows)})


async def unblock(request: Request) -> JSONResponse:
    node = _node(request)
    network = _cidr(request.query_params.get("cidr"))
    removed = await node.blocklist.remove(network)
    if removed is None:
        raise NotFound(f"{network} is not blocked", code="block_not_found")
    node.audit.emit(
        "waf.unblock",
        decision="allow",
        principal="admin",
        action="waf:Unblock",
        resource=f"network:{network}",
        block_reason=removed.reason,
        source_ip=_admin_ip(request),
    )
    return JSONResponse({**public(removed), "removed": True})


def waf_routes() -> list[Route]:
    return [
        Route("/v1/waf/blocks", list_blocks, methods=["GET"]),
        Route("/v1/waf/blocks", block, methods=["POST"]),
        Route("/v1/waf/blocks", unblock, methods=["DELETE"]),
    ]
