"""The response tables (quarantines, lowered limits, playbooks, incidents) on SQLite and
PostgreSQL: every node of a cluster reads the same, and the generation counter moves with each
quarantine or limit change so nodes know when to reload."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.respond.records import LimitRecord, QuarantineRecord, ResponseRecords
from ramparts.store.sql import SQLStore
from tests.postgres import state_url


@pytest.fixture(params=["sqlite", "postgresql"])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ResponseRecords]:
    with state_url(request.param, tmp_path) as url:
        store = SQLStore(url)  # the engine the node hands the response tables
        try:
            ResponseRecords(store.engine)  # a second node creating the same tables finds them
            yield ResponseRecords(store.engine)
        finally:
            store.close()


def test_quarantines_move_the_generation(records: ResponseRecords) -> None:
    g0 = records.quarantine_generation()
    rec = QuarantineRecord("web", time.time(), "why", "admin", "")
    assert records.quarantine_put(rec) is True
    assert records.quarantine_put(rec) is False, "quarantining twice keeps the first"
    g1 = records.quarantine_generation()
    assert g1 == g0 + 1
    assert [r.function for r in records.quarantine_list()] == ["web"]
    assert records.quarantine_delete("nope") is None
    assert records.quarantine_generation() == g1, "deleting nothing changed nothing"
    removed = records.quarantine_delete("web")
    assert removed is not None and removed.reason == "why"
    assert records.quarantine_list() == []
    assert records.quarantine_generation() == g1 + 1


def test_lowered_limits_merge_and_restore(records: ResponseRecords) -> None:
    g0 = records.quarantine_generation()
    now = time.time()
    records.limit_put(LimitRecord("web", "10/minute", None, now, "admin", ""))
    merged = records.limit_put(LimitRecord("web", None, 2, now, "playbook:x", "i1"))
    assert (merged.rate, merged.concurrency, merged.actor) == ("10/minute", 2, "playbook:x")
    assert records.limit_list() == [merged]
    assert records.quarantine_generation() == g0 + 2
    assert records.limit_delete("web") == merged
    assert records.limit_delete("web") is None
    assert records.limit_list() == []


def test_playbooks_and_incidents(records: ResponseRecords) -> None:
    assert records.playbook_put("a", "playbooks: []", "a.yaml") is False
    assert records.playbook_put("a", "playbooks: [1]", "a.yaml") is True
    assert [(n, s) for n, s, _, _ in records.playbook_list()] == [("a", "playbooks: [1]")]
    assert records.playbook_delete("a") is True and records.playbook_delete("a") is False
    doc = {"id": "i" * 32, "opened_at": 1.0, "state": "open", "join_key": "r|web", "n": 1}
    records.incident_put(doc)
    assert records.incident_open_for("r|web") == doc
    records.incident_put({**doc, "state": "resolved", "n": 2})
    assert records.incident_open_for("r|web") is None
    assert records.incident_get("i" * 32)["n"] == 2  # type: ignore[index]
    assert [d["n"] for d in records.incident_list("resolved", 10)] == [2]
    assert records.incident_list("open", 10) == []
