"""The detection pipeline a node runs: log sinks in, alerts out.

The audit and invocation logs hand each stored batch to ``deliver`` /
``invocations`` on their writer threads; those only queue the batch and
return.  One evaluating thread runs the engine, stores new and merged alerts,
records each new alert as an audit event (kind ``alert``, so SIEM export picks
it up) and hands it to the notifier.  Nothing here runs on the request path.

The queue is bounded (``MAX_PENDING`` records): past it, batches are dropped
and counted in ``stats()`` and the node's log, rather than slowing the logs'
writers.  A node's state is its own and in memory: a restarted node, or
another node of a cluster, counts its own windows.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

from ramparts.respond.alerts import AlertDesk, public
from ramparts.respond.detections import DetectionEngine
from ramparts.respond.notifier import Notifier
from ramparts.respond.rules import Rule

log = logging.getLogger("ramparts.respond")

MAX_PENDING = 200_000


class DetectionService:
    def __init__(
        self,
        rules: list[Rule],
        *,
        store: Any,
        audit: Any,
        node: str,
        notifier: Notifier | None = None,
        max_pending: int = MAX_PENDING,
    ) -> None:
        self.rules = rules
        self._engine = DetectionEngine(rules)
        self._desk = AlertDesk(node)
        self._store = store
        self._audit = audit
        self._node = node
        self.notifier = notifier
        self._max_pending = max_pending
        self._queue: queue.SimpleQueue[tuple[str, list[dict[str, Any]]] | None] = (
            queue.SimpleQueue()
        )
        self._lock = threading.Lock()
        self._pending = 0
        self._closed = False
        self.dropped = 0
        self.alerts = 0
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        # Called on the node's loop with each new alert (incidents and playbooks hook here).
        self.on_alert: Callable[[dict[str, Any]], None] | None = None

    # -- sinks (writer threads) -----------------------------------------------------------------
    def deliver(self, records: Sequence[dict[str, Any]]) -> None:
        """The audit log's sink."""
        self._enqueue("audit", records)

    def invocations(self, rows: Sequence[dict[str, Any]]) -> None:
        """The invocation log's sink."""
        self._enqueue("invocation", rows)

    def _enqueue(self, source: str, records: Sequence[dict[str, Any]]) -> None:
        if not records:
            return
        with self._lock:
            if self._closed:
                return
            if self._pending + len(records) > self._max_pending:
                self.dropped += len(records)
                log.warning(
                    "detections: queue full, %d %s records not evaluated", len(records), source
                )
                return
            self._pending += len(records)
        self._queue.put((source, list(records)))

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        """Start evaluating; call on the node's loop (alert audit records are emitted on it)."""
        self._loop = asyncio.get_running_loop()
        if self.notifier is not None:
            self.notifier.start()
        self._thread = threading.Thread(target=self._run, name="ramparts-detections", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Evaluate what is queued, then stop (blocking: call it from a worker thread)."""
        with self._lock:
            self._closed = True
        self._queue.put(None)
        if self._thread is not None:
            self._thread.join(timeout=30)
        if self.notifier is not None:
            self.notifier.close()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            pending = self._pending
        return {
            "rules": len(self.rules),
            "evaluated": self._engine.evaluated,
            "pending": pending,
            "dropped": self.dropped,
            "alerts": self.alerts,
        }

    # -- the evaluating thread ------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            source, records = item
            try:
                self._evaluate(source, records)
            except Exception:  # one bad batch never stops detection
                log.exception("detections: evaluating a batch of %s records failed", source)
            finally:
                with self._lock:
                    self._pending -= len(records)

    def _evaluate(self, source: str, records: list[dict[str, Any]]) -> None:
        matches = self._engine.process(source, records)
        if not matches:
            return
        new, changed = self._desk.take(matches)
        try:
            self._store.add_alerts(new)
            self._store.update_alerts(changed)
        except Exception:
            # Still announced below: a store outage must not silence an alert.
            log.exception("detections: storing %d alerts failed", len(new) + len(changed))
        for row in new:
            self.alerts += 1
            alert = public(row)
            self._announce(alert)
            if self.notifier is not None:
                self.notifier.send("alert", alert, delivery_id=alert["id"])

    def _announce(self, alert: dict[str, Any]) -> None:
        """The alert as an audit record (emitted on the node's loop: the audit buffer's thread)."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            loop.call_soon_threadsafe(self._emit, alert)
        except RuntimeError:  # the loop closed meanwhile: the stored alert remains
            pass

    def _emit(self, alert: dict[str, Any]) -> None:
        self._audit.emit(
            "alert",
            decision="detect",
            principal=f"node:{self._node}",
            action=f"detect:{alert['rule']}",
            resource=alert["group"],
            alert_id=alert["id"],
            rule=alert["rule"],
            title=alert["title"],
            severity=alert["severity"],
            category=alert["category"],
            count=alert["count"],
            evidence=alert["evidence"][:20],
        )
        if self.on_alert is not None:
            try:
                self.on_alert(alert)
            except Exception:  # the alert stands; its response is logged as failed
                log.exception("detections: the alert hook failed for %s", alert["id"])
