"""Collectors that refuse records, against a real node and real local collectors.

Two destinations: an HTTP collector that answers 413 to every POST (each
record is refused even alone, and so is each report of a refusal), and an
Elasticsearch-bulk-shaped collector that refuses some items (400
``mapper_parsing_exception``), asks to retry others (429) and takes the rest.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ramparts.observe.siem.exporter import LOSS_REPORT_INTERVAL
from tests.conftest import RunningNode, free_port
from tests.observe.siem.receivers import HttpCollector, wait_for


class Rig:
    def __init__(self) -> None:
        self.refusing = HttpCollector(free_port())
        self.refusing.too_large = b""  # every body: 413
        self.refusing.start()
        self.bulk = HttpCollector(free_port())  # down until its test starts it
        self.urls = {
            "refusing": f"ocsf+http://127.0.0.1:{self.refusing.port}/ingest",
            "bulk": f"ocsf+http://127.0.0.1:{self.bulk.port}/ramparts-audit/_bulk?format=bulk",
        }

    def close(self) -> None:
        self.refusing.stop()
        self.bulk.stop()


class RefusalNode(RunningNode):
    def __init__(self, data_dir: Path, rig: Rig) -> None:
        super().__init__(data_dir, {"RAMPARTS_SIEM_RETRY_MAX_DELAY": "1"})
        self.rig = rig

    def command(self) -> list[str]:
        cmd = super().command()
        for url in self.rig.urls.values():
            cmd += ["--siem", url]
        return cmd

    def destination(self, key: str) -> dict[str, Any]:
        r = self.control.get("/v1/siem")
        assert r.status_code == 200, r.text
        return next(d for d in r.json()["destinations"] if d["url"] == self.rig.urls[key])

    def reports(self, kind: str, key: str) -> list[dict[str, Any]]:
        resource = f"siem:{self.rig.urls[key]}"
        return [e for e in self.audit() if e["kind"] == kind and e["resource"] == resource]

    def full_log(self) -> str:
        return (self.data_dir.parent / f"node-{self.admin_port}.log").read_text(errors="replace")


@pytest.fixture(scope="module")
def rig() -> Iterator[Rig]:
    r = Rig()
    yield r
    r.close()


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory, rig: Rig) -> Iterator[RefusalNode]:
    running = RefusalNode(tmp_path_factory.mktemp("siem-refusals") / "data", rig)
    running.start()
    yield running
    running.close()


def denied(node: RunningNode, marker: str) -> None:
    r = node.control.get(f"/v1/siem-probe/{marker}", headers={"authorization": "Bearer wrong"})
    assert r.status_code == 401


def test_a_collector_refusing_everything_gets_no_feedback_loop_of_reports(
    node: RefusalNode, rig: Rig
) -> None:
    n = 30
    for i in range(n):
        denied(node, f"refused-{i}")
    wait_for(lambda: rig.refusing.refused >= n, what="the collector to refuse the records")
    wait_for(lambda: node.destination("refusing")["spooled"] == 0, what="the spool to drain")
    # Longer than the report interval: any report the exporter still owed is out by now,
    # and a report that caused another would have done so.
    time.sleep(LOSS_REPORT_INTERVAL + 3)
    reports = node.reports("siem.rejected", "refusing")
    assert 1 <= len(reports) <= 4, len(reports)  # aggregated, not one per refused record
    assert sum(r["detail"]["rejected"] for r in reports) >= n
    state = node.destination("refusing")
    assert state["spooled"] == 0
    # every refusal was of our records or of these few reports, nothing else was made up
    assert n <= state["rejected"] <= n + len(reports) + 10
    time.sleep(LOSS_REPORT_INTERVAL + 3)  # nothing new arrives: nothing more is reported
    assert len(node.reports("siem.rejected", "refusing")) == len(reports)
    assert node.destination("refusing")["rejected"] == state["rejected"]
    lines = [x for x in node.full_log().splitlines() if "refused" in x and "SIEM" in x]
    assert len(lines) <= len(reports) + 3  # summaries, not a line per record


def test_bulk_items_refused_for_good_are_dropped_alone_and_the_rest_delivered_once(
    node: RefusalNode, rig: Rig
) -> None:
    tag = uuid.uuid4().hex[:8]
    good = [f"good-{tag}-{i}" for i in range(5)]
    bad, busy = f"bad-{tag}", f"busy-{tag}"
    rig.bulk.item_status = {bad: [400], busy: [429, 201]}
    for marker in [good[0], bad, good[1], busy, *good[2:]]:
        denied(node, marker)
    # the collector is down: all of them wait in the spool, to go out as one batch
    wait_for(lambda: node.destination("bulk")["spooled"] >= 7, what="the records to spool")
    rig.bulk.start()

    def posted(marker: str) -> int:
        path = f"/v1/siem-probe/{marker}"
        return sum(1 for _, d in rig.bulk.bulk_docs() if d["resources"][0]["name"] == path)

    wait_for(lambda: node.destination("bulk")["spooled"] == 0, what="the bulk spool to drain")
    state = node.destination("bulk")
    assert state["rejected"] == 1 and state["state"] == "ok"
    assert [posted(m) for m in good] == [1] * 5  # taken once, never sent again
    assert posted(bad) == 1  # refused for good: not sent again
    assert posted(busy) == 2  # 429: sent again, then taken
    wait_for(lambda: node.destination("bulk")["sent"] == rig.bulk.items_taken, what="sent counts")
    report = wait_for(lambda: node.reports("siem.rejected", "bulk"), what="the rejection report")
    assert report[0]["detail"]["record_kind"] == "control.auth"
    assert "400" in report[0]["detail"]["reason"]
    assert "mapper_parsing_exception" in report[0]["detail"]["reason"]
