"""Drills the node runs by itself: ``--drill-every 24h`` (``RAMPARTS_DRILL_EVERY``).

Off by default.  When set, the node runs the chosen scenarios (``--drill-scenarios``,
``RAMPARTS_DRILL_SCENARIOS``: ``all`` or a comma-separated list) the way ``ramparts
drill all`` does: on ONE throw-away node of their own, never the node itself, in a
worker thread off the event loop.  Each result is appended to the drill history under
the node's data dir (``ramparts drill report`` shows it) and audited as ``drill.run``
(decision ``deny`` when it failed), so a failed drill raises the shipped
``drill-failed`` alert and reaches the alert webhook like any other detection.

One loop runs the drills one after another and waits ``every`` seconds from the end
of a run to the start of the next, so runs never overlap however long one takes.
``close`` stops the loop, interrupts a run in progress (its throw-away node is
stopped; an interrupted run is not recorded) and waits for it.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from ramparts.aio import wait_event
from ramparts.errors import ConfigError
from ramparts.respond.drills import history
from ramparts.respond.drills.base import DrillResult, Scenario
from ramparts.respond.drills.catalog import SCENARIOS
from ramparts.respond.drills.errors import DrillError
from ramparts.respond.drills.runner import Cancel, run_drills

log = logging.getLogger("ramparts.respond")


def parse_scenarios(text: str) -> list[Scenario]:
    """``all`` or comma-separated scenario names; an unknown, repeated or empty one is a
    ``ConfigError`` naming the option.  Checked at every start, scheduled or not, so a typo
    does not wait for the schedule to be turned on."""
    opt = "--drill-scenarios (RAMPARTS_DRILL_SCENARIOS)"
    names = [n.strip() for n in text.split(",")]
    if not any(names):
        raise ConfigError(f"{opt} is empty: give 'all' or a comma-separated list")
    if "" in names:
        raise ConfigError(f"{opt}: {text.strip()!r} has an empty item (a stray comma)")
    if names == ["all"]:
        return list(SCENARIOS.values())
    chosen: list[Scenario] = []
    for name in names:
        if name == "all":
            raise ConfigError(f"{opt}: 'all' cannot be combined with scenario names")
        if name not in SCENARIOS:
            raise ConfigError(
                f"{opt}: unknown drill scenario {name!r}; 'all' or one of: {', '.join(SCENARIOS)}"
            )
        if SCENARIOS[name] in chosen:
            raise ConfigError(f"{opt}: scenario {name!r} is listed twice")
        chosen.append(SCENARIOS[name])
    return chosen


class DrillSchedule:
    """Runs ``scenarios`` every ``every`` seconds until ``close``."""

    def __init__(
        self,
        every: float,
        scenarios: list[Scenario],
        *,
        data_dir: Path,
        audit: Any,
        node_id: str,
    ) -> None:
        self.every = every  # checked with the settings (0: off, else 5s to 366d)
        self.scenarios = scenarios
        self._data_dir = data_dir
        self._audit = audit
        self._principal = f"node:{node_id}"
        self._stop = asyncio.Event()
        self._cancel: Cancel | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def close(self) -> None:
        self._stop.set()
        if self._cancel is not None:
            self._cancel.set()
        if self._task is not None:
            # Not cancelled: the run lives in a worker thread that a cancel would orphan
            # (and its throw-away node with it); interrupted, it ends within seconds.
            await asyncio.gather(self._task, return_exceptions=True)

    async def _loop(self) -> None:
        while not await wait_event(self._stop, self.every):
            try:
                await self.run_once()
            except Exception:  # a broken run must not end the schedule
                log.exception("the scheduled drill run failed")

    async def run_once(self) -> list[DrillResult]:
        """One scheduled run: every scenario, recorded and audited (nothing if cancelled)."""
        cancel = self._cancel = Cancel()
        try:
            results = await asyncio.to_thread(
                run_drills, self.scenarios, cancel=cancel, scheduled=True
            )
        finally:
            self._cancel = None
        if cancel.is_set():
            log.warning("the scheduled drill run was interrupted by the node stopping")
            return []
        for r in results:
            if r.status == "not_available":
                continue
            try:
                await asyncio.to_thread(history.append, self._data_dir, r)
            except DrillError as exc:
                log.error("%s", exc.message)
            self._audit.emit(
                "drill.run",
                decision="allow" if r.passed else "deny",
                principal=self._principal,
                action="drill:Run",
                resource=f"drill:{r.scenario}",
                status=r.status,
                reason=r.reason[:500],
                ttd_seconds=r.ttd_seconds,
                ttc_seconds=r.ttc_seconds,
                scheduled=True,
            )
        return results
