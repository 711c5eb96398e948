"""CEF, RFC 5424 and OCSF shapes of audit records, including hostile values: a
caller controls paths, principals and details, and must not forge fields or lines."""

from __future__ import annotations

import json
from typing import Any

from ramparts.observe.siem.cef import cef_line
from ramparts.observe.siem.ocsf import dumps, ocsf_event
from ramparts.observe.siem.syslog import VALUE_MAX, octet_frame, rfc5424
from tests.observe.siem.receivers import parse_cef, parse_syslog


def record(**over: Any) -> dict[str, Any]:
    base = {
        "id": "0123456789abcdef0123456789abcdef",
        "ts": 1_764_000_000.25,
        "node": "n1",
        "kind": "control.auth",
        "decision": "deny",
        "principal": "ip:127.0.0.1",
        "action": "control:GET",
        "resource": "/v1/functions",
        "request_id": "req-1",
        "detail": {"reason": "bad_admin_token"},
    }
    return {**base, **over}


def test_cef_escapes_what_a_caller_controls_so_no_field_is_forged() -> None:
    hostile = "/x act=allow suser=admin\nCEF:0|Evil|Evil|1|x|x|0|\\ | = \r"
    line = cef_line(
        record(resource=hostile, principal="ip:1|2", kind="a|b", detail={"k": "v=w"}), "1.0"
    )
    assert "\n" not in line and "\r" not in line
    cef = parse_cef(line)
    assert cef["signature"] == "a|b" and cef["severity"] == 5
    ext = cef["ext"]
    assert ext["act"] == "deny" and ext["suser"] == "ip:1|2"  # not the forged values
    assert ext["cs2"] == hostile
    assert json.loads(ext["cs4"]) == {"k": "v=w"}
    assert ext["externalId"] == "0123456789abcdef0123456789abcdef"
    assert ext["rt"] == "1764000000250"


def test_severity_follows_the_record_then_the_decision() -> None:
    assert parse_cef(cef_line(record(decision="allow", detail={}), "1"))["severity"] == 1
    critical = record(decision="allow", detail={"severity": "critical"})
    assert parse_cef(cef_line(critical, "1"))["severity"] == 10
    assert parse_syslog(rfc5424(critical, "m"))["severity"] == 2
    assert ocsf_event(critical, "1")["severity_id"] == 5


def test_rfc5424_header_and_octet_counting() -> None:
    rec = record(kind="kind with spaces and a very long name beyond thirty-two chars")
    message = rfc5424(rec, "CEF:0|line\nwith a newline")
    parsed = parse_syslog(message)
    assert parsed["facility"] == 13 and parsed["app"] == "ramparts"
    assert parsed["ts"] == "2025-11-24T16:00:00.250000Z"
    assert " " not in parsed["msgid"] and len(parsed["msgid"]) <= 32
    framed = octet_frame(message)
    length, _, rest = framed.partition(b" ")
    assert int(length) == len(rest) == len(message)  # a newline inside cannot split it


def test_ocsf_classes_per_kind() -> None:
    auth = ocsf_event(record(), "1.2")
    assert (auth["class_uid"], auth["type_uid"], auth["status_id"]) == (3002, 300201, 2)
    assert auth["metadata"]["uid"] == record()["id"]
    assert auth["metadata"]["correlation_uid"] == "req-1"
    assert auth["time"] == 1_764_000_000_250
    alert = ocsf_event(record(kind="alert", decision="detect",
                              detail={"severity": "high", "rule": "auth-burst"}), "1")
    assert alert["class_uid"] == 2004 and alert["finding_info"]["title"] == "auth-burst"
    assert alert["severity_id"] == 4 and alert["disposition_id"] == 15
    put = ocsf_event(record(kind="resource.access", decision="allow", action="kv:PutItem",
                            resource="kv:orders/o-1"), "1")
    assert (put["class_uid"], put["activity_id"], put["status_id"]) == (6003, 1, 1)
    assert put["resources"] == [{"name": "kv:orders/o-1", "type": "kv"}]
    egress = ocsf_event(record(kind="egress.deny", action="runtime:egress"), "1")
    assert egress["class_uid"] == 4001 and egress["activity_id"] == 5


def test_fields_a_record_gains_later_travel_in_ocsf_unmapped() -> None:
    event = ocsf_event(record(seq=42, hash="ab12"), "1")
    assert event["unmapped"]["seq"] == 42 and event["unmapped"]["hash"] == "ab12"
    assert "id" not in event["unmapped"]


CONTROLS = "\x0b\x0c\x1b[31m\x07\x00\x7f\x85\x9b\u2028\u2029"


def _raw_controls(text: str) -> list[str]:
    return [c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029"]


def test_control_characters_never_reach_cef_or_syslog_raw() -> None:
    hostile = f"/x{CONTROLS}y"
    rec = record(resource=hostile, principal=f"ip:{CONTROLS}", kind=f"k{CONTROLS}",
                 detail={"source_ip": f"1.2.3.4{CONTROLS}", "k": CONTROLS})
    line = cef_line(rec, f"1{CONTROLS}")
    assert _raw_controls(line) == []
    message = rfc5424(rec, line)
    assert _raw_controls(message.decode("utf-8")) == []
    assert parse_syslog(message)["msg"] == line
    ext = parse_cef(line)["ext"]
    assert ext["cs2"] == "/xu000bu000cu001b[31mu0007u0000u007fu0085u009bu2028u2029y"
    assert json.loads(ext["cs4"])["k"] == CONTROLS  # JSON's own escapes, whole again
    assert "\\u2028" in rfc5424(rec, "a\u2028b").decode()  # any MSG, not just ours


def test_ocsf_json_is_ascii_only() -> None:
    rec = record(resource=f"/x{CONTROLS}é", detail={"note": "a\u2028b\u2029c"})
    data = dumps(ocsf_event(rec, "1"))
    assert data.isascii()
    assert b"\\u2028" in data and b"\\u0085" in data
    event = json.loads(data)
    assert event["resources"][0]["name"] == f"/x{CONTROLS}é"
    assert event["unmapped"]["detail"]["note"] == "a\u2028b\u2029c"


def test_long_values_are_bounded_in_every_format() -> None:
    path = "/v1/" + "a" * 5000
    rec = record(resource=path, principal="ip:" + "b" * 5000)
    ext = parse_cef(cef_line(rec, "1"))["ext"]
    assert len(ext["cs2"]) == VALUE_MAX and ext["cs2"].endswith("...")
    assert len(ext["suser"]) == VALUE_MAX
    event = ocsf_event(rec, "1")
    assert len(event["resources"][0]["name"]) == VALUE_MAX
    assert len(event["actor"]["user"]["name"]) == VALUE_MAX
    assert len(event["message"]) == VALUE_MAX
    assert b"a" * (VALUE_MAX + 1) not in dumps(event)
