"""The SIEM spool against a real node: bounded while a collector is down, and
kept across a kill -9 so the records still reach the collector afterwards."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from ramparts.observe.siem.spool import Spool
from tests.conftest import RunningNode, free_port
from tests.observe.siem.receivers import StreamReceiver, parse_cef, parse_syslog, wait_for

LIMIT = 8192


class SpoolNode(RunningNode):
    def __init__(self, data_dir: Path, url: str) -> None:
        super().__init__(data_dir, {"RAMPARTS_SIEM_RETRY_MAX_DELAY": "1"})
        self.url = url

    def command(self) -> list[str]:
        return [*super().command(), "--siem", self.url, "--siem-spool-bytes", str(LIMIT)]

    def destination(self) -> dict[str, Any]:
        r = self.control.get("/v1/siem")
        assert r.status_code == 200, r.text
        (only,) = r.json()["destinations"]
        return only  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def receiver() -> Iterator[StreamReceiver]:
    r = StreamReceiver(free_port())  # down until a test starts it
    yield r
    r.stop()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, receiver: StreamReceiver) -> Iterator[SpoolNode]:
    base = tmp_path_factory.mktemp("siem-spool")
    running = SpoolNode(base / "data", f"syslog+tcp://127.0.0.1:{receiver.port}")
    running.start()
    yield running
    running.close()


def _deny(node: RunningNode, path: str) -> int:
    return node.control.get(path, headers={"authorization": "Bearer wrong"}).status_code


def _resources(receiver: StreamReceiver) -> list[str]:
    return [parse_cef(parse_syslog(m)["msg"])["ext"].get("cs2", "") for m in receiver.messages]


def test_a_full_spool_drops_the_oldest_records_and_audits_the_loss(node: SpoolNode) -> None:
    marker = uuid.uuid4().hex[:8]
    paths = [f"/v1/siem-spool/{marker}/{i}" for i in range(80)]  # far more than 8 KiB of records
    assert [_deny(node, p) for p in paths] == [401] * len(paths)
    state = wait_for(
        lambda: (d := node.destination())["dropped"] and d, what="the spool to overflow"
    )
    assert state["spool_bytes"] <= LIMIT and state["spool_limit"] == LIMIT
    assert state["state"] == "failing" and state["sent"] == 0
    loss = wait_for(
        lambda: [e for e in node.audit() if e["kind"] == "siem.dropped"], what="the loss audit"
    )
    assert loss[0]["decision"] == "detect" and loss[0]["detail"]["dropped"] >= 1
    assert loss[0]["detail"]["severity"] == "high"
    assert "dropped the" in node.log_text()


def test_spooled_records_survive_a_kill_and_reach_the_collector(
    node: SpoolNode, receiver: StreamReceiver
) -> None:
    last = f"/v1/siem-spool/{uuid.uuid4().hex[:8]}/last"
    assert _deny(node, last) == 401
    (spool,) = (node.data_dir / "siem").glob("*.db")

    def on_disk() -> bool:
        with sqlite3.connect(f"file:{spool}?mode=ro", uri=True) as db:
            return any(last.encode() in body for (body,) in db.execute("SELECT body FROM spool"))

    wait_for(on_disk, what="the record to be in the spool file")
    # spooled and still undelivered: the node dies without a chance to send anything
    node.kill9()
    receiver.start()
    node.start()
    got = wait_for(lambda: last in _resources(receiver) and _resources(receiver),
                   what="the record spooled before the kill")
    # the oldest records were dropped for space: the first ones never arrive
    first = [r for r in got if r.endswith("/0") and r.startswith("/v1/siem-spool/")]
    assert first == []
    wait_for(lambda: node.destination()["state"] == "ok", what="the destination to recover")


def test_a_full_spool_tells_which_dropped_records_were_its_own_reports(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "s.db", 4096)
    try:
        def body(kind: str, n: int) -> bytes:
            return orjson.dumps({"id": f"{kind}-{n}", "kind": kind, "detail": {"pad": "x" * 600}})

        reports = [body("siem.dropped", n) for n in range(3)]
        others = [body("control.auth", n) for n in range(3)]
        assert spool.put([*reports, *others]) == (0, 0)
        # each new row pushes out one old one: first the three reports, then the others
        assert spool.put([body("gateway.auth", n) for n in range(4)]) == (4, 3)
        assert spool.put([b"not json"]) == (0, 0)  # a row that is not a record
        lost, reports = spool.put([body("kv.put", n) for n in range(6)])
        assert lost >= 6 and reports == 0  # it went too, not counted as a report
        assert spool.bytes <= 4096
    finally:
        spool.close()
