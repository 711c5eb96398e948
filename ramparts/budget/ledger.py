"""Invocation budgets: usage per function and app in fixed UTC windows.

Every invocation is admitted by ``admit`` before it runs (an in-memory
check, no database round trip) and settled by ``finish`` after (its compute
time).  A background loop flushes the node's batched deltas into the state
store every ``interval`` seconds and reads back the totals every node wrote,
so nodes sharing a store count together.  Between two flushes a node does
not see the others' calls: across N nodes a budget can be overshot by what
the other N-1 nodes admit within one interval (one node alone: never).

At 80% of a budget a ``budget.warning`` audit event is raised, once per
scope, budget field and window across all nodes (a mark in the store); at
100% calls are refused (``Refusal``) until the window resets or an admin
raises the budget, and the refusals are audited as ``budget.exhausted``,
aggregated per function, limit and flush with a count.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ramparts.budget.windows import FIELDS, Windows
from ramparts.store.base import BudgetStore

if TYPE_CHECKING:
    from ramparts.manifest import Budget
    from ramparts.observe.audit import AuditLog

log = logging.getLogger("ramparts.budget")

WARN_AT = 0.8
_PRUNE_EVERY = 600.0
_KEEP = 2 * 86400.0  # usage rows of ended windows are kept this long (``budget show`` is live)

Key = tuple[str, str]  # (scope, window)


@dataclass(frozen=True)
class Refusal:
    """Why a call was refused: the exhausted budget and when its window resets."""

    scope: str  # "function:NAME" or "app:NAME"
    limit: str  # a FIELDS name
    value: int
    used: float
    retry_after: int  # whole seconds until the window resets (at least 1)

    @property
    def message(self) -> str:
        kind, _, name = self.scope.partition(":")
        return (
            f"the {kind} {name!r} has used its budget ({self.limit.replace('_', ' ')}: "
            f"{self.value}); it resets in {self.retry_after}s"
        )


@dataclass(frozen=True)
class Ticket:
    """An admitted call: the windows it was counted in (``finish`` settles there)."""

    windows: Windows
    scopes: tuple[str, str]


@dataclass(frozen=True)
class Caller:
    """Who a refused call came from, as its audit record names it (None: not known)."""

    trigger: str
    route: str | None = None  # "GET /orders/{id}" for HTTP
    principal: str | None = None  # the authenticated principal, if any
    source_ip: str | None = None


_MAX_GROUPS = 1000  # distinct audit groups per flush; a wider flood is folded into "*"


def _count(counter: collections.Counter[tuple[Any, ...]], key: tuple[Any, ...], c: Caller) -> None:
    full = (*key, c.trigger, c.route, c.principal, c.source_ip)
    if full not in counter and len(counter) >= _MAX_GROUPS:
        full = (*key, c.trigger, c.route, "*", "*")  # one record for the rest of the flood
    counter[full] += 1


def function_scope(name: str) -> str:
    return f"function:{name}"


def app_scope(name: str) -> str:
    return f"app:{name}"


class Ledger:
    """Budget usage of this node's calls plus every node's flushed totals."""

    def __init__(
        self,
        store: BudgetStore,
        audit: AuditLog,
        *,
        node_id: str,
        interval: float = 1.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._audit = audit
        self._node_id = node_id
        self._interval = interval
        self._clock = clock
        self._totals: dict[Key, list[int]] = {}  # every node's flushed usage (last read)
        self._writing: dict[Key, list[int]] = {}  # being written now
        self._flushing: dict[Key, list[int]] = {}  # written, not yet read back
        self._pending: dict[Key, list[int]] = {}  # this node's, not yet written
        self._overrides: dict[str, dict[str, int]] = {}
        self._limits: dict[str, dict[str, int]] = {}  # scope -> effective budget last used
        # refusals since the last flush, per what the audit record says about them
        self._refused: collections.Counter[tuple[Any, ...]] = collections.Counter()
        self._throttled: collections.Counter[tuple[Any, ...]] = collections.Counter()
        self._marked: set[tuple[str, str, str]] = set()
        self._ends: dict[str, float] = {}  # window -> its end
        self._task: asyncio.Task[None] | None = None
        self._pruned = 0.0

    # -- the hot path (memory only) --------------------------------------------------------
    def limits(self, scope: str, manifest: Budget | None) -> dict[str, int]:
        """The effective budget of ``scope``: the manifest's, with an admin override on top."""
        out: dict[str, int] = {}
        if manifest is not None:
            for name in FIELDS:
                value = getattr(manifest, name)
                if value is not None:
                    out[name] = int(value)
        override = self._overrides.get(scope)
        if override:
            out.update(override)
        return out

    def admit(
        self, function: str, app: str, fn_budget: Budget | None, app_budget: Budget | None
    ) -> Refusal | Ticket:
        """Count one call of ``function``, or refuse it if a budget of it or its app is used up."""
        windows = Windows.at(self._clock())
        scopes = (function_scope(function), app_scope(app))
        for scope, manifest in zip(scopes, (fn_budget, app_budget), strict=True):
            limits = self.limits(scope, manifest)
            if limits:
                self._limits[scope] = limits
                refusal = self._check(scope, limits, windows)
                if refusal is not None:
                    return refusal
            else:
                self._limits.pop(scope, None)
        for scope in scopes:
            self._add(scope, windows, 1, 0)
        return Ticket(windows, scopes)

    def finish(self, ticket: Ticket, *, ran: bool, duration_ms: float) -> None:
        """Settle an admitted call: its compute time, or un-count it if it never ran."""
        for scope in ticket.scopes:
            if ran:
                self._add(scope, ticket.windows, 0, max(0, round(duration_ms)))
            else:
                self._add(scope, ticket.windows, -1, 0)

    def hold(
        self, function: str, app: str, fn_budget: Budget | None, app_budget: Budget | None
    ) -> float:
        """Seconds until ``function`` may run again (0: it may now); nothing is counted."""
        windows = Windows.at(self._clock())
        for scope, manifest in zip(
            (function_scope(function), app_scope(app)), (fn_budget, app_budget), strict=True
        ):
            limits = self.limits(scope, manifest)
            if limits and (refusal := self._check(scope, limits, windows)) is not None:
                return float(refusal.retry_after)
        return 0.0

    def _used(self, key: Key) -> tuple[int, int]:
        inv = ms = 0
        for source in (self._totals, self._flushing, self._writing, self._pending):
            row = source.get(key)
            if row is not None:
                inv += row[0]
                ms += row[1]
        return inv, ms

    def _check(self, scope: str, limits: Mapping[str, int], windows: Windows) -> Refusal | None:
        for name, value in limits.items():
            metric, period = FIELDS[name]
            window, ends = windows.of(period)
            inv, ms = self._used((scope, window))
            used = inv if metric == "invocations" else ms / 1000.0
            if used >= value:
                retry = max(1, int(ends - self._clock() + 0.999))
                return Refusal(scope, name, value, used, retry)
        return None

    def _add(self, scope: str, windows: Windows, inv: int, ms: int) -> None:
        for window, ends in ((windows.hour, windows.hour_ends), (windows.day, windows.day_ends)):
            row = self._pending.get((scope, window))
            if row is None:
                self._pending[(scope, window)] = [inv, ms]
                self._ends[window] = ends
            else:
                row[0] += inv
                row[1] += ms

    def refused(self, function: str, refusal: Refusal, caller: Caller) -> None:
        """Note a call refused by ``refusal`` (audited in aggregate at the next flush)."""
        _count(self._refused, (function, refusal.scope, refusal.limit, refusal.value), caller)

    def throttled(self, function: str, scope: str, cap: int, caller: Caller) -> None:
        """Note a call refused at a concurrency cap (audited in aggregate at the next flush)."""
        _count(self._throttled, (function, scope, cap), caller)

    # -- admin -----------------------------------------------------------------------------
    def overrides(self) -> dict[str, dict[str, int]]:
        return {k: dict(v) for k, v in self._overrides.items()}

    async def set_override(self, scope: str, fields: dict[str, int] | None) -> dict[str, int]:
        """Merge ``fields`` into the scope's override (None: drop it); the new override."""
        current = (await asyncio.to_thread(self._store.budget_overrides)).get(scope, {})
        merged = None if fields is None else {**current, **fields}
        await asyncio.to_thread(self._store.budget_set_override, scope, merged)
        if merged:
            self._overrides[scope] = merged
        else:
            self._overrides.pop(scope, None)
        return merged or {}

    async def report(self, scope: str, manifest: Budget | None) -> dict[str, Any]:
        """The scope's budget, usage (every node's, read now) and window resets."""
        now = self._clock()
        windows = Windows.at(now)
        totals = await asyncio.to_thread(self._store.budget_usage, [windows.hour, windows.day])
        override = (await asyncio.to_thread(self._store.budget_overrides)).get(scope, {})
        self._overrides[scope] = override
        if not override:
            self._overrides.pop(scope, None)
        limits = self.limits(scope, manifest)
        rows = []
        for name, (metric, period) in FIELDS.items():
            window, ends = windows.of(period)
            inv, ms = totals.get((scope, window), (0, 0))
            for source in (self._flushing, self._writing, self._pending):
                row = source.get((scope, window))
                if row is not None:
                    inv, ms = inv + row[0], ms + row[1]
            used = inv if metric == "invocations" else round(ms / 1000.0, 3)
            seen_inv, seen_ms = self._used((scope, window))
            limit = limits.get(name)
            rows.append(
                {
                    "field": name,
                    "limit": limit,
                    "source": "override" if name in override else ("manifest" if limit else None),
                    "used": used,
                    # what this node enforces now: other nodes' calls since its last flush
                    # are not in it yet (at most one flush interval behind)
                    "used_here": seen_inv if metric == "invocations" else round(
                        seen_ms / 1000.0, 3
                    ),
                    "percent": round(100.0 * used / limit, 1) if limit else None,
                    "resets_in": max(1, int(ends - now + 0.999)),
                    "window": window,
                }
            )
        return {"scope": scope, "override": override, "budgets": rows}

    # -- background ------------------------------------------------------------------------
    async def start(self) -> None:
        """Read every node's usage and the overrides, then flush in the background.

        Before the node serves: a node that started with empty totals would admit
        a whole budget again after every restart.
        """
        await self.flush()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="budget-ledger")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        try:
            await self.flush()  # what this node counted is not lost at a clean stop
        except Exception as exc:  # the store is going away too: best effort
            log.warning("flushing budget usage at stop failed: %s", exc)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("flushing budget usage failed; retrying")

    async def flush(self) -> None:
        """Write this node's deltas, read every node's totals, raise warnings, audit refusals."""
        now = self._clock()
        windows = Windows.at(now)
        if self._pending:
            self._writing, self._pending = self._pending, {}
            rows = [
                {"scope": s, "window": w, "invocations": v[0], "compute_ms": v[1],
                 "ends_at": self._ends.get(w, now)}
                for (s, w), v in self._writing.items()
            ]
            try:
                await asyncio.to_thread(self._store.budget_add, rows)
            except BaseException:
                # Not written: counted again with the next flush's deltas.
                self._pending = self._merge(self._writing, self._pending)
                self._writing = {}
                raise
            self._flushing = self._merge(self._flushing, self._writing)
            self._writing = {}
        totals = await asyncio.to_thread(self._store.budget_usage, [windows.hour, windows.day])
        overrides = await asyncio.to_thread(self._store.budget_overrides)
        # One step, no await between: what was written is now in the totals read back.
        self._totals = {k: [v[0], v[1]] for k, v in totals.items()}
        self._flushing = {}
        self._overrides = overrides
        self._audit_refusals()
        await self._warn(windows)
        if now - self._pruned > _PRUNE_EVERY:
            self._pruned = now
            await asyncio.to_thread(self._store.budget_prune, now - _KEEP)
            self._marked = {m for m in self._marked if m[1] in (windows.hour, windows.day)}

    @staticmethod
    def _merge(a: dict[Key, list[int]], b: dict[Key, list[int]]) -> dict[Key, list[int]]:
        out = {k: list(v) for k, v in a.items()}
        for k, v in b.items():
            row = out.setdefault(k, [0, 0])
            row[0] += v[0]
            row[1] += v[1]
        return out

    def _audit_refusals(self) -> None:
        throttled, self._throttled = self._throttled, collections.Counter()
        for (function, scope, cap, trigger, route, principal, ip), count in throttled.items():
            self._audit.emit(
                "concurrency.throttled",
                decision="deny",
                principal=principal or f"node:{self._node_id}",
                action="functions:Invoke",
                resource=f"function:{function}",
                scope=scope,  # the function's own cap, or its app's
                limit="concurrency",
                concurrency=cap,
                trigger=trigger,
                route=route,
                source_ip=ip,
                count=count,  # refusals since the last flush (about one second)
                aggregated=True,  # ramparts.observe.counting: metrics and detections weigh it
            )
        refused, self._refused = self._refused, collections.Counter()
        for (function, scope, limit, value, trigger, route, principal, ip), count in (
            refused.items()
        ):
            self._audit.emit(
                "budget.exhausted",
                decision="deny",
                principal=principal or f"node:{self._node_id}",
                action="functions:Invoke",
                resource=f"function:{function}",
                scope=scope,
                limit=limit,
                budget=value,
                trigger=trigger,
                route=route,
                source_ip=ip,
                count=count,  # refusals since the last flush (about one second)
                aggregated=True,  # ramparts.observe.counting: metrics and detections weigh it
            )

    async def _warn(self, windows: Windows) -> None:
        for scope, limits in list(self._limits.items()):
            for name, value in limits.items():
                metric, period = FIELDS[name]
                window, ends = windows.of(period)
                mark = (scope, window, f"warning:{name}")
                if mark in self._marked:
                    continue
                inv, ms = self._used((scope, window))
                used = inv if metric == "invocations" else ms / 1000.0
                if used < WARN_AT * value:
                    continue
                self._marked.add(mark)
                if await asyncio.to_thread(self._store.budget_mark, scope, window, mark[2], ends):
                    self._audit.emit(
                        "budget.warning",
                        decision="allow",
                        principal=f"node:{self._node_id}",
                        action="budget:Warn",
                        resource=scope,
                        limit=name,
                        budget=value,
                        used=used,
                        percent=round(100.0 * used / value, 1),
                        window=window,
                    )
