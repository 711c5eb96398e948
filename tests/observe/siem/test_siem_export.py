"""SIEM export against a real node and real local collectors.

One node exports to every kind of destination at once: live UDP, TCP and TLS
syslog receivers, an OCSF file, an Elasticsearch-bulk-shaped HTTP collector,
a TLS receiver whose certificate the node must refuse, and two collectors
(TCP syslog, Splunk-HEC-shaped HTTP) that are down until the outage test
brings them up.  Audited actions are denied control-API requests: each one
is a ``control.auth`` record whose resource is the path, so a test knows
which records it caused.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import RunningNode, free_port
from tests.observe.siem.receivers import (
    HttpCollector,
    StreamReceiver,
    UdpReceiver,
    make_tls,
    parse_cef,
    parse_syslog,
    wait_for,
)

TOKEN = "hec-" + uuid.uuid4().hex  # noqa: S105 - a test collector's token


class Rig:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.ca, server_tls = make_tls(base)
        self.udp = UdpReceiver()
        self.tcp = StreamReceiver(free_port()).start()
        self.tls = StreamReceiver(free_port(), server_tls).start()
        self.untrusted = StreamReceiver(free_port(), server_tls).start()
        self.bulk = HttpCollector(free_port()).start()
        self.tcp_down = StreamReceiver(free_port())
        self.hec_down = HttpCollector(free_port())
        self.file = base / "events.jsonl"
        self.urls = {
            "udp": f"syslog+udp://127.0.0.1:{self.udp.port}",
            "tcp": f"syslog+tcp://127.0.0.1:{self.tcp.port}",
            "tls": f"syslog+tls://127.0.0.1:{self.tls.port}?ca={self.ca}",
            "untrusted": f"syslog+tls://127.0.0.1:{self.untrusted.port}",
            "file": f"ocsf+file://{self.file}",
            "bulk": f"ocsf+http://127.0.0.1:{self.bulk.port}/ramparts-audit/_bulk?format=bulk",
            "tcp_down": f"syslog+tcp://127.0.0.1:{self.tcp_down.port}",
            "hec_down": f"ocsf+http://127.0.0.1:{self.hec_down.port}/services/collector/event"
            "?format=hec",
        }

    def close(self) -> None:
        self.udp.close()
        for r in (self.tcp, self.tls, self.untrusted, self.tcp_down):
            r.stop()
        self.bulk.stop()
        self.hec_down.stop()


class SiemNode(RunningNode):
    def __init__(self, data_dir: Path, rig: Rig, extra: list[str], env: dict[str, str]) -> None:
        super().__init__(data_dir, {"RAMPARTS_SIEM_RETRY_MAX_DELAY": "1", **env})
        self.rig = rig
        self.extra = extra

    def command(self) -> list[str]:
        cmd = super().command()
        for url in self.rig.urls.values():
            cmd += ["--siem", url]
        return cmd + self.extra


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    r = Rig(tmp_path_factory.mktemp("siem"))
    yield r
    r.close()


@pytest.fixture(scope="module")
def node(rig: Rig) -> Iterator[SiemNode]:
    running = SiemNode(
        rig.base / "data", rig, ["--siem-token-secret", "siemtest/collector-token"], {}
    )
    running.start()
    try:
        done = running.cli(
            "secrets", "set", "collector-token", "--app", "siemtest", "--stdin", stdin=TOKEN
        )
        assert done.returncode == 0, done.stderr
        yield running
    finally:
        running.close()


def denied(node: RunningNode, marker: str) -> httpx.Response:
    """One audited denial whose record's resource is ``/v1/siem-probe/<marker>``."""
    return node.control.get(
        f"/v1/siem-probe/{marker}", headers={"authorization": "Bearer not-the-admin-token"}
    )


def _syslog(messages: list[bytes], resource: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    out = []
    for raw in list(messages):
        msg = parse_syslog(raw)
        cef = parse_cef(msg["msg"])
        if cef["ext"].get("cs2") == resource:
            out.append((msg, cef))
    return out


def _destination(node: RunningNode, key: str) -> dict[str, Any]:
    r = node.control.get("/v1/siem")
    assert r.status_code == 200, r.text
    return next(d for d in r.json()["destinations"] if d["url"] == node.rig.urls[key])


@pytest.mark.parametrize("key", ["udp", "tcp", "tls"])
def test_syslog_records_are_rfc5424_with_a_cef_message_and_the_record_id(
    node: SiemNode, rig: Rig, key: str
) -> None:
    marker = f"{key}-{uuid.uuid4().hex[:8]}"
    assert denied(node, marker).status_code == 401
    resource = f"/v1/siem-probe/{marker}"
    receiver = {"udp": rig.udp, "tcp": rig.tcp, "tls": rig.tls}[key]
    found = wait_for(lambda: _syslog(receiver.messages, resource), what=f"{key} syslog record")
    msg, cef = found[0]
    assert msg["facility"] == 13 and msg["app"] == "ramparts" and msg["msgid"] == "control.auth"
    assert msg["severity"] == 4  # a denial without a stated severity: medium -> warning
    assert (cef["vendor"], cef["product"], cef["signature"]) == (
        "Ramparts", "Ramparts", "control.auth"
    )
    assert cef["severity"] == 5
    ext = cef["ext"]
    assert ext["act"] == "deny" and ext["outcome"] == "failure"
    assert ext["cs1"] == "control:GET" and ext["suser"].startswith("ip:")
    detail = json.loads(ext["cs4"])  # '=' inside the JSON arrived escaped and came back
    assert detail["reason"] == "bad_admin_token"
    assert re.fullmatch(r"[0-9a-f]{32}", ext["externalId"])  # the record's id, for dedup
    assert int(ext["rt"]) > 1_600_000_000_000


def test_ocsf_file_and_bulk_collector_get_ocsf_events_with_ids(node: SiemNode, rig: Rig) -> None:
    marker = f"ocsf-{uuid.uuid4().hex[:8]}"
    assert denied(node, marker).status_code == 401
    resource = f"/v1/siem-probe/{marker}"

    def in_file() -> list[dict[str, Any]]:
        if not rig.file.exists():
            return []
        events = [json.loads(x) for x in rig.file.read_text().splitlines()]
        return [e for e in events if e["resources"][0]["name"] == resource]

    event = wait_for(in_file, what="an OCSF file event")[0]
    assert event["class_uid"] == 3002 and event["category_uid"] == 3  # Authentication
    assert event["type_uid"] == 300201 and event["status_id"] == 2
    assert event["severity_id"] == 3 and event["disposition_id"] == 2
    assert len(event["metadata"]["uid"]) == 32
    assert event["metadata"]["product"]["name"] == "Ramparts"
    assert isinstance(event["time"], int) and event["time"] > 1_600_000_000_000
    assert event["actor"]["user"]["name"].startswith("ip:")
    assert oct(rig.file.stat().st_mode & 0o777) == "0o600"

    docs = wait_for(
        lambda: [(a, d) for a, d in rig.bulk.bulk_docs() if d["resources"][0]["name"] == resource],
        what="an Elasticsearch bulk document",
    )
    action, doc = docs[0]
    assert action == {"create": {"_id": event["metadata"]["uid"]}}
    assert doc["metadata"]["uid"] == event["metadata"]["uid"]
    request = rig.bulk.requests[-1]
    assert request["headers"]["content-type"] == "application/x-ndjson"
    assert request["headers"]["authorization"] == f"ApiKey {TOKEN}"


def test_siem_status_needs_the_admin_token(node: SiemNode) -> None:
    refused = node.control.get("/v1/siem", headers={"authorization": "Bearer wrong"})
    assert refused.status_code == 401 and refused.json()["code"] == "unauthorized"
    body = node.control.get("/v1/siem").json()
    assert body["enabled"] is True
    assert [d["url"] for d in body["destinations"]] == list(node.rig.urls.values())


def test_a_record_too_large_for_the_collector_is_dropped_alone_and_audited(
    node: SiemNode, rig: Rig
) -> None:
    big = f"too-large-{uuid.uuid4().hex[:8]}"
    rig.bulk.too_large = big.encode()  # this record will never fit this collector
    try:
        after = [f"after-{uuid.uuid4().hex[:8]}-{i}" for i in range(5)]
        for marker in [big, *after]:
            assert denied(node, marker).status_code == 401
        wanted = {f"/v1/siem-probe/{m}" for m in after}
        wait_for(
            lambda: wanted <= {d["resources"][0]["name"] for _, d in rig.bulk.bulk_docs()},
            what="the records behind the refused one",
        )
        rejected = wait_for(
            lambda: [e for e in node.audit() if e["kind"] == "siem.rejected"],
            what="the siem.rejected audit record",
        )
        assert rejected[0]["detail"]["record_kind"] == "control.auth"
        assert "413" in rejected[0]["detail"]["reason"]
        assert _destination(node, "bulk")["rejected"] == 1
        assert all(big not in d["resources"][0]["name"] for _, d in rig.bulk.bulk_docs())
    finally:
        rig.bulk.too_large = None


def test_a_collector_with_an_untrusted_certificate_gets_nothing(node: SiemNode, rig: Rig) -> None:
    assert denied(node, "untrusted").status_code == 401
    state = wait_for(
        lambda: (d := _destination(node, "untrusted"))["consecutive_failures"] and d,
        what="the untrusted destination to fail",
    )
    assert state["state"] == "failing" and state["sent"] == 0
    assert "certificate not trusted" in state["last_error"]
    assert rig.untrusted.messages == []


def test_outage_loses_nothing_and_requests_are_answered(node: SiemNode, rig: Rig) -> None:
    n = 25
    marker = f"outage-{uuid.uuid4().hex[:8]}"
    answers = [denied(node, f"{marker}-{i}").status_code for i in range(n)]
    assert answers == [401] * n  # every request answered normally while the SIEMs are down
    for key in ("tcp_down", "hec_down"):
        state = wait_for(
            lambda k=key: (d := _destination(node, k))["consecutive_failures"]
            and d["spooled"] >= n and d,
            what=f"{key} to spool the outage",
        )
        assert state["state"] == "failing" and state["last_error"]
    assert "SIEM destination failing" in node.log_text()

    rig.tcp_down.start()
    rig.hec_down.start()
    wanted = {f"/v1/siem-probe/{marker}-{i}" for i in range(n)}

    def syslog_ids() -> dict[str, str]:
        got = {}
        for raw in list(rig.tcp_down.messages):
            cef = parse_cef(parse_syslog(raw)["msg"])
            if cef["ext"]["cs2"] in wanted:
                got[cef["ext"]["cs2"]] = cef["ext"]["externalId"]
        return got if set(got) == wanted else {}

    def hec_ids() -> dict[str, str]:
        got = {
            e["event"]["resources"][0]["name"]: e["event"]["metadata"]["uid"]
            for e in rig.hec_down.hec_events()
            if e["event"]["resources"][0]["name"] in wanted
        }
        return got if set(got) == wanted else {}

    over_tcp = wait_for(syslog_ids, what="all outage records over TCP")
    over_hec = wait_for(hec_ids, what="all outage records over HEC")
    assert over_tcp == over_hec  # one id per record, whichever way it travelled
    assert len(set(over_tcp.values())) == n
    hec = rig.hec_down.hec_events()[0]
    assert hec["sourcetype"] == "ocsf" and hec["event"]["metadata"]["uid"]
    assert isinstance(hec["time"], float | int)
    for request in rig.hec_down.requests:
        assert request["headers"]["authorization"] == f"Splunk {TOKEN}"
    wait_for(lambda: _destination(node, "hec_down")["state"] == "ok", what="hec to recover")


@pytest.mark.parametrize("key", ["tcp", "tls"])
def test_a_restarted_syslog_collector_gets_the_next_record(
    node: SiemNode, rig: Rig, key: str
) -> None:
    receiver = rig.tcp if key == "tcp" else rig.tls
    first = f"/v1/siem-probe/before-{uuid.uuid4().hex[:8]}"
    assert denied(node, first.rsplit("/", 1)[1]).status_code == 401
    wait_for(lambda: _syslog(receiver.messages, first), what="a record on the kept connection")
    receiver.stop()  # the collector exits, closing the connection the node keeps
    receiver.start()
    after = f"/v1/siem-probe/after-{uuid.uuid4().hex[:8]}"
    assert denied(node, after.rsplit("/", 1)[1]).status_code == 401
    wait_for(lambda: _syslog(receiver.messages, after), what="the record after the restart")


def test_a_rotated_token_is_read_again_after_a_401(node: SiemNode, rig: Rig) -> None:
    new = "hec-" + uuid.uuid4().hex
    done = node.cli("secrets", "set", "collector-token", "--app", "siemtest", "--stdin", stdin=new)
    assert done.returncode == 0, done.stderr
    rig.hec_down.expect_auth = f"Splunk {new}"  # the collector now takes only the new token
    if rig.hec_down.server is None:  # (up already when the outage test ran first)
        rig.hec_down.start()
    marker = f"rotated-{uuid.uuid4().hex[:8]}"
    assert denied(node, marker).status_code == 401
    resource = f"/v1/siem-probe/{marker}"
    wait_for(
        lambda: [e for e in rig.hec_down.hec_events()
                 if e["event"]["resources"][0]["name"] == resource],
        what="the record sent with the rotated token",
    )
    assert rig.hec_down.refused >= 1  # the old token was tried, refused, then read anew
    assert new not in node.log_text()


def test_the_token_never_reaches_logs_audit_or_spool(node: SiemNode, rig: Rig) -> None:
    wait_for(lambda: rig.bulk.requests, what="a bulk request")
    assert TOKEN not in node.log_text()
    path = node.data_dir.parent / f"node-{node.admin_port}.log"
    assert TOKEN not in path.read_text(errors="replace")
    assert TOKEN not in json.dumps(node.audit())
    assert TOKEN not in node.control.get("/v1/siem").text
    for spool in (node.data_dir / "siem").iterdir():
        assert TOKEN.encode() not in spool.read_bytes()
    reads = [e for e in node.audit() if e["kind"] == "secrets.read"]
    assert reads and reads[0]["resource"] == "secret:siemtest/collector-token"


def test_a_long_refused_path_is_bounded_in_the_record_and_the_export(
    node: SiemNode, rig: Rig
) -> None:
    marker = f"long-{uuid.uuid4().hex[:8]}-" + "a" * 5000
    assert denied(node, marker).status_code == 401
    prefix = f"/v1/siem-probe/{marker[:14]}"

    def in_file() -> list[dict[str, Any]]:
        events = [json.loads(x) for x in rig.file.read_text().splitlines()]
        return [e for e in events if e["resources"][0]["name"].startswith(prefix)]

    event = wait_for(in_file, what="the long path's OCSF event")[0]
    assert len(event["resources"][0]["name"]) == 256  # as the AWS endpoint bounds its paths
    (record,) = [e for e in node.audit() if e["resource"].startswith(prefix)]
    assert len(record["resource"]) == 256
