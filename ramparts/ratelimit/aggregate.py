"""Audit records of flood-prone refusals, aggregated so that a flood cannot flood the audit log.

Used for rate-limit refusals (``refused``) and, through ``denied``, for every
other refusal an unauthenticated client can repeat at will: WAF content blocks
and sub-threshold ``waf.detect`` findings, undeclared and non-standard methods,
address blocks, failed credentials, token-endpoint refusals and the node's
size and nesting refusals (413, 400 ``too_deeply_nested``).  Their groups are
(kind, principal, resource, rule, source address).

Every refusal is a security event, but one durable (fsync'd, hash-chained)
record per refused request would let an attacker turn 10,000 refused
requests a second into 10,000 audit writes a second.  So refusals are
grouped by (principal, route, limit): the first refusal of a group is
recorded at once (``count`` 1); later ones are counted, and at most one
record per group and second carries the ``count`` of refusals since the
previous one.  A group that stays quiet for a second is closed; pending
counts are written at shutdown (``close``).  The counts of a group's records
add up to the refusals it saw.

Records carry ``aggregated: true`` and ``count`` in their detail: the
metrics and detections count such a record as ``count`` refusals
(``ramparts.observe.counting``).  Memory is bounded (``max_groups``): past it,
refusals of new principals on a route are folded into one group per route
whose principal is ``overflow`` (their addresses are then not recorded).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger("ramparts.ratelimit")

KIND = "gateway.rate_limit"  # ramparts.observe.metrics counts these as rate-limit blocks
OVERFLOW = "overflow"
MAX_GROUPS = 10_000
WHOLE = 10  # refusals of a group written one record each before counting starts
MAX_REQUEST_IDS = 16  # request ids a summary record lists (the first of its window's refusals)


@dataclass
class _Group:
    kind: str
    decision: str
    principal: str
    action: str
    resource: str
    detail: dict[str, Any]
    last_emit: float
    pending: int = 0
    first_request: str | None = None
    first_at: float = 0.0
    last_at: float = 0.0
    request_ids: list[str] = field(default_factory=list)
    whole: int = 1  # events written in full (the first is)


class DenialAggregator:
    """Turns refusals into at most one audit record per group and ``interval``."""

    def __init__(
        self,
        emit: Callable[..., None],
        *,
        interval: float = 1.0,
        max_groups: int = MAX_GROUPS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._emit = emit
        self._interval = interval
        self._max = max_groups
        self._clock = clock
        self._groups: dict[tuple[str, ...], _Group] = {}
        self._task: asyncio.Task[None] | None = None

    def refused(
        self,
        *,
        principal: str,
        method: str,
        route_key: str,
        limit: str,
        request_id: str,
        **detail: Any,
    ) -> None:
        """One refused request: recorded now if its group is new, else counted."""
        self.denied(
            KIND,
            principal=principal,
            action=f"http:{method}",
            resource=f"route:{route_key}",
            rule_key=limit,
            request_id=request_id,
            limit=limit,
            **detail,
        )

    def denied(
        self,
        kind: str,
        *,
        principal: str,
        action: str,
        resource: str,
        rule_key: str,
        request_id: str | None,
        decision: str = "deny",
        who: str | None = None,
        whole: int = 1,
        **detail: Any,
    ) -> None:
        """One audited event of ``kind``: written in full if among its group's first, else counted.

        The first ``whole`` events of a group are written in full, one record
        each (so occasional refusals stay one record per request, findable by
        request id); after that the group is counted until it goes quiet.

        ``rule_key`` is what was refused (a limit, a reason, the WAF rules that
        matched); the source address is part of the group too, so detections
        that count by address (``failed-auth-burst``) see each address's count.
        ``who`` groups by someone other than ``principal`` (failed credentials
        group by address: guessing a new key per request must not make a new
        group per request); a record then names the latest event's principal.
        """
        key = (kind, who or principal, resource, rule_key, str(detail.get("source_ip", "")))
        group = self._groups.get(key)
        now = self._clock()
        if group is None and len(self._groups) >= self._max:
            principal = OVERFLOW
            key = (kind, OVERFLOW, resource, rule_key, "")
            group = self._groups.get(key)
            detail = {k: v for k, v in detail.items() if k != "source_ip"}
        if group is None:
            group = _Group(kind, decision, principal, action, resource, detail, now)
            self._groups[key] = group
            self._write(group, 1, request_id, time.time(), time.time())
            return
        if group.whole < whole:  # still among the group's first: one record each
            group.whole += 1
            group.principal, group.detail = principal, detail
            group.last_emit = now
            self._write(group, 1, request_id, time.time(), time.time())
            return
        if group.pending == 0:
            group.first_request, group.first_at = request_id, time.time()
            group.request_ids = []
        if request_id is not None and len(group.request_ids) < MAX_REQUEST_IDS:
            group.request_ids.append(request_id)  # so a refused request can still be looked up
        group.pending += 1
        group.last_at = time.time()
        group.detail = detail  # the latest event's details: the sample the record carries
        group.principal = principal

    def flush(self, *, everything: bool = False) -> int:
        """Write the groups due a record (all pending ones with ``everything``); drop idle ones."""
        now = self._clock()
        written = 0
        for key, group in list(self._groups.items()):
            due = everything or now - group.last_emit >= self._interval
            if not due:
                continue
            if group.pending:
                self._write(group, group.pending, group.first_request, group.first_at,
                            group.last_at)
                group.pending, group.last_emit = 0, now
                written += 1
            else:
                del self._groups[key]  # quiet for a whole interval: the next refusal is new
        return written

    def _write(
        self, group: _Group, count: int, request_id: str | None, first: float, last: float
    ) -> None:
        listed = {"request_ids": list(group.request_ids)} if count > 1 else {}
        try:
            self._emit(
                group.kind,
                decision=group.decision,
                principal=group.principal,
                action=group.action,
                resource=group.resource,
                request_id=request_id,
                count=count,
                aggregated=True,
                first_at=first,
                last_at=last,
                **listed,
                **group.detail,
            )
        except Exception:  # the audit log reports its own failures; never fail the request
            log.exception("could not audit a %s refusal", group.kind)

    @property
    def groups(self) -> int:
        return len(self._groups)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval / 4)
            self.flush()

    async def close(self) -> None:
        """Stop the ticker and write every pending count (before the audit log closes)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self.flush(everything=True)
        self._groups.clear()


class AggregatedAudit:
    """An audit log's ``emit`` whose records go through a ``DenialAggregator``.

    For the callers that refuse what a client can repeat at will (the WAF, the
    network guard, authentication, the token endpoint): they keep calling
    ``emit(kind, principal=..., ...)``, and a flood becomes one record per
    group and second, after its first ``WHOLE`` refusals (written one
    record each: a client's occasional mistakes stay findable by request id,
    a flood costs at most ``WHOLE`` records and then one a second).  The
    group's rule is the record's ``reason`` plus, for the WAF, the ids of the
    rules that matched (two different attacks from one address stay two
    groups, each with its first requests in full).
    """

    def __init__(self, aggregator: DenialAggregator, *, whole: int = WHOLE) -> None:
        self._aggregator = aggregator
        self._whole = whole

    def emit(
        self,
        kind: str,
        *,
        principal: str,
        action: str,
        resource: str,
        request_id: str | None = None,
        decision: str = "deny",
        **detail: Any,
    ) -> None:
        rules = detail.get("rules")
        rule_key = str(detail.get("reason", ""))
        if isinstance(rules, list):
            rule_key += ":" + ",".join(sorted(str(r) for r in rules))
        source = detail.get("source_ip")
        self._aggregator.denied(
            kind,
            principal=principal,
            action=action,
            resource=resource,
            rule_key=rule_key,
            request_id=request_id,
            decision=decision,
            who=f"ip:{source}" if source is not None else None,  # what a client cannot vary
            whole=self._whole,
            **detail,
        )
