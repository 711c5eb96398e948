"""The audit-event emitter: every security decision, allow or deny, is recorded.

Events land in the store's append-only ``audit_events`` table (readable with
``GET /v1/audit``).  A later issue chains and signs them and exports them to
a SIEM; callers already pass everything that needs.
"""

from __future__ import annotations

import time
from typing import Any

from ramparts.observe.buffer import BufferedWriter
from ramparts.observe.redact import redactor
from ramparts.store import Store


class AuditLog:
    def __init__(self, store: Store, node_id: str) -> None:
        self._node = node_id
        self._buffer = BufferedWriter(store.add_audit_events)

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
                "ts": time.time(),
                "node": self._node,
                "kind": kind,
                "decision": decision,
                "principal": principal,
                "action": action,
                "resource": resource,
                "request_id": request_id,
                # secret values and secret shapes never enter the audit trail
                "detail": redactor.redact_obj(detail),
            }
        )

    async def flush(self) -> None:
        await self._buffer.flush()

    async def close(self) -> None:
        await self._buffer.close()
