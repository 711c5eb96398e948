"""OCSF-shaped JSON events for audit records (schema 1.1 names and ids).

The class follows the record's kind:

==========================================  ====================================
kind                                        OCSF class
==========================================  ====================================
``control.auth``, ``gateway.auth``,         Authentication (3002)
``oauth.token``, ``*.auth``
``alert``, ``alert.*``, ``anomaly.*``       Detection Finding (2004)
``egress.*``                                Network Activity (4001)
everything else (policy decisions,          API Activity (6003)
resource calls, admin actions)
==========================================  ====================================

Every event carries ``metadata.uid`` = the record id (receivers dedup on
it), ``time`` in epoch milliseconds, ``severity_id``, ``status_id``,
``actor``, ``resources`` and the Ramparts fields under ``unmapped``.

``dumps`` writes an event as ASCII-only JSON: every non-ASCII character (C1
controls, U+2028/U+2029 included) is a ``\\uXXXX`` escape, so no line
separator reaches a JSON-lines reader or a JavaScript viewer raw.  The
principal, action, resource and message are cut to ``VALUE_MAX`` characters,
as in CEF.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

from ramparts.observe.siem.severity import OCSF, severity_of
from ramparts.observe.siem.syslog import bound

SCHEMA_VERSION = "1.1.0"
_MAPPED = {"id", "ts", "node", "kind", "decision", "principal", "action", "resource",
           "request_id", "detail"}

_CLASSES = {
    3002: ("Authentication", 3, "Identity & Access Management"),
    2004: ("Detection Finding", 2, "Findings"),
    4001: ("Network Activity", 4, "Network Activity"),
    6003: ("API Activity", 6, "Application Activity"),
}
_SEVERITY_NAMES = {1: "Informational", 2: "Low", 3: "Medium", 4: "High", 5: "Critical"}
# disposition_id: 1 Allowed, 2 Blocked, 15 Detected
_DISPOSITION = {"allow": (1, "Allowed"), "deny": (2, "Blocked"), "detect": (15, "Detected")}
_VERBS = (
    (("put", "create", "publish", "issue", "deploy", "add", "start"), 1, "Create"),
    (("get", "list", "query", "read", "describe"), 2, "Read"),
    (("update", "set", "rotate", "alias", "rollback", "share", "move", "sign"), 3, "Update"),
    (("delete", "revoke", "remove", "retire", "purge", "collect"), 4, "Delete"),
)


def class_of(kind: str) -> int:
    if kind in ("control.auth", "gateway.auth", "oauth.token") or kind.endswith(".auth"):
        return 3002
    if kind == "alert" or kind.startswith(("alert.", "anomaly.")):
        return 2004
    if kind.startswith("egress."):
        return 4001
    return 6003


def _activity(class_uid: int, action: str, decision: str) -> tuple[int, str]:
    if class_uid == 3002:
        return 1, "Logon"
    if class_uid == 2004:
        return 1, "Create"
    if class_uid == 4001:
        return (1, "Open") if decision == "allow" else (5, "Refuse")
    verb = action.rpartition(":")[2].lower()
    for prefixes, activity_id, name in _VERBS:
        if verb.startswith(prefixes):
            return activity_id, name
    return 99, "Other"


def _resource_type(resource: str) -> str:
    """``kv`` of ``kv:orders/o-1``; ``resource`` when there is no such prefix (a path)."""
    prefix, sep, _ = resource.partition(":")
    return prefix if sep and prefix.replace("-", "").replace("_", "").isalnum() else "resource"


def ocsf_event(record: dict[str, Any], version: str) -> dict[str, Any]:
    """One audit record as an OCSF event (a JSON-ready dict)."""
    kind = str(record.get("kind") or "event")
    decision = str(record.get("decision") or "")
    action = bound(str(record.get("action") or ""))
    principal = bound(str(record.get("principal") or ""))
    resource = bound(str(record.get("resource") or ""))
    detail = record.get("detail") if isinstance(record.get("detail"), dict) else {}
    class_uid = class_of(kind)
    class_name, category_uid, category_name = _CLASSES[class_uid]
    activity_id, activity_name = _activity(class_uid, action, decision)
    severity_id = OCSF[severity_of(record)]
    success = decision == "allow"
    disposition_id, disposition = _DISPOSITION.get(decision, (99, "Other"))
    event: dict[str, Any] = {
        "class_uid": class_uid,
        "class_name": class_name,
        "category_uid": category_uid,
        "category_name": category_name,
        "activity_id": activity_id,
        "activity_name": activity_name,
        "type_uid": class_uid * 100 + activity_id,
        "time": int(float(record.get("ts") or 0) * 1000),
        "severity_id": severity_id,
        "severity": _SEVERITY_NAMES[severity_id],
        "status_id": 1 if success else 2,
        "status": "Success" if success else "Failure",
        "disposition_id": disposition_id,
        "disposition": disposition,
        "message": bound(f"{kind} {decision}: {principal} {action} {resource}".strip()),
        "metadata": {
            "uid": str(record.get("id") or ""),
            "version": SCHEMA_VERSION,
            "log_name": "audit",
            "product": {"name": "Ramparts", "vendor_name": "Ramparts", "version": version},
        },
        "actor": {"user": {"name": principal}},
        "resources": [{"name": resource, "type": _resource_type(resource)}],
        "unmapped": {
            "kind": kind,
            "decision": decision,
            "action": action,
            "node": record.get("node"),
            "detail": detail,
        },
    }
    for key, value in record.items():  # fields added later (chain seq, hashes) travel too
        if key not in _MAPPED:
            event["unmapped"][key] = value
    if record.get("request_id"):
        event["metadata"]["correlation_uid"] = str(record["request_id"])
    source = detail.get("source_ip") or detail.get("ip")
    if isinstance(source, str) and source:
        event["src_endpoint"] = {"ip": source}
    if class_uid == 3002:
        event["user"] = {"name": principal}
    elif class_uid == 2004:
        event["finding_info"] = {
            "uid": str(record.get("id") or ""),
            "title": str(detail.get("title") or detail.get("rule") or kind),
            "types": [kind],
        }
    elif class_uid == 6003:
        event["api"] = {"operation": action}
        if record.get("request_id"):
            event["api"]["request"] = {"uid": str(record["request_id"])}
    else:
        event["dst_endpoint"] = {"hostname": resource}
    return event


def dumps(value: Any) -> bytes:
    """``value`` as compact JSON in ASCII only (orjson writes UTF-8, with U+2028 raw)."""
    data = orjson.dumps(value, default=str)
    if data.isascii():
        return data
    return json.dumps(orjson.loads(data), ensure_ascii=True, separators=(",", ":")).encode()
