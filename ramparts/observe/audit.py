"""The audit-event emitter: every security decision, allow or deny, is recorded.

Events land in the store's append-only ``audit_events`` table (readable with
``GET /v1/audit``).  A later issue chains and signs them and exports them to
a SIEM; callers already pass everything that needs.

Cost on the request path: ``emit`` only appends a small dict to a buffer.
Redaction of the details and the insert happen off the event loop, in
batches: allowed decisions (one per authenticated request) are written on the
buffer's next tick, a few hundred milliseconds later at most; a denial wakes
the writer at once, so refusals reach the store without waiting for the tick
(and, like every buffered row, are kept and retried if a write fails, and
flushed on shutdown).  Readers that must see their own writes call ``flush``.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Sequence
from typing import Any, Protocol

from ramparts.observe.buffer import BufferedWriter
from ramparts.observe.redact import redactor
from ramparts.store import Store

log = logging.getLogger("ramparts.observe")


class AuditSink(Protocol):
    """Something that consumes audit records once they are stored (SIEM export, detections,
    metrics).  ``deliver`` runs on the audit writer's thread, after the store accepted the
    batch: it must be quick (queue and return) and never raise into the writer."""

    def deliver(self, records: Sequence[dict[str, Any]]) -> None: ...



class AuditLog:
    def __init__(self, store: Store, node_id: str) -> None:
        self._node = node_id
        self._store = store
        self._buffer = BufferedWriter(self._write, max_batch=2000)
        self._sinks: list[AuditSink] = []

    def add_sink(self, sink: AuditSink) -> None:
        """Hand every stored record, redacted, to ``sink`` (see ``AuditSink``)."""
        self._sinks.append(sink)

    def start(self) -> None:
        self._buffer.start()

    def emit(
        self,
        kind: str,
        *,
        decision: str,
        principal: str,
        action: str,
        resource: str,
        request_id: str | None = None,
        **detail: Any,
    ) -> None:
        self._buffer.add(
            {
                "id": uuid.uuid4().hex,  # stable across retries and replays: receivers dedup on it
                "ts": time.time(),
                "node": self._node,
                "kind": kind,
                "decision": decision,
                "principal": principal,
                "action": action,
                "resource": resource,
                "request_id": request_id,
                "detail": detail,  # redacted by the writer, before it is stored
            },
            urgent=decision != "allow",
        )

    def _write(self, rows: list[dict[str, Any]]) -> None:
        # Secret values and secret shapes never enter the audit trail.  Batches repeat the
        # same few strings (function names, methods, addresses), so each is redacted once.
        seen: dict[str, str] = {}

        def redact(value: Any) -> Any:
            if isinstance(value, str):
                out = seen.get(value)
                if out is None:
                    out = seen[value] = redactor.redact(value)
                return out
            if isinstance(value, dict):
                return {k: redact(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [redact(v) for v in value]
            return value

        records = [{**r, "detail": redact(r["detail"])} for r in rows]
        self._store.add_audit_events(records)
        for sink in self._sinks:
            try:
                sink.deliver(records)
            except Exception:  # a consumer's fault never loses or blocks the audit trail
                log.exception("audit sink %s failed", type(sink).__name__)

    async def flush(self) -> None:
        await self._buffer.flush()

    async def close(self) -> None:
        await self._buffer.close()
