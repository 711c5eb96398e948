"""The detection pipeline between the logs and the engine: it queues, evaluates on its own
thread, stores alerts, and sheds load past its bound instead of slowing the log writers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from ramparts.observe.audit import AuditLog
from ramparts.respond.ruleset import load_rules
from ramparts.respond.service import DetectionService
from ramparts.store.sql import SQLStore
from tests.respond.streams import T0, bad_key


def test_past_its_bound_the_queue_drops_and_counts(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        service = DetectionService(
            load_rules(), store=store, audit=None, node="n1", max_pending=30
        )  # not started: nothing drains the queue
        service.deliver([bad_key("203.0.113.9", T0 + i) for i in range(20)])
        service.deliver([bad_key("203.0.113.9", T0 + 20 + i) for i in range(20)])
        service.invocations([])
        assert service.stats()["pending"] == 20
        assert service.stats()["dropped"] == 20
    finally:
        store.close()


def test_an_alert_is_stored_and_recorded_in_the_audit_log(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")

    async def scenario() -> list[dict[str, Any]]:
        audit = AuditLog(store, "n1")
        audit.start()
        service = DetectionService(load_rules(), store=store, audit=audit, node="n1")
        audit.add_sink(service)
        service.start()
        for i in range(20):
            r = bad_key("203.0.113.9", time.time())
            audit.emit(r["kind"], decision=r["decision"], principal=r["principal"],
                       action=r["action"], resource=r["resource"], **r["detail"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            await audit.flush()
            events = store.list_audit_events(0, 1000)
            if any(e["kind"] == "alert" for e in events):
                break
            await asyncio.sleep(0.05)
        await asyncio.to_thread(service.close)
        await audit.close()
        return store.list_audit_events(0, 1000)

    try:
        events = asyncio.run(scenario())
        (alert,) = store.list_alerts(0.0, None, 10)
        assert alert["rule"] == "failed-auth-burst" and alert["count"] == 20
        (record,) = [e for e in events if e["kind"] == "alert"]
        assert record["detail"]["alert_id"] == alert["id"]
        assert record["action"] == "detect:failed-auth-burst"
    finally:
        store.close()
