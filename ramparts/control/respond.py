"""Control-API routes of incident response: quarantines, playbooks and incidents.

- ``GET /v1/quarantines`` lists quarantined functions.
- ``POST /v1/quarantines`` ``{"function", "reason"?}`` quarantines one
  (``404 function_not_found``, ``409 already_quarantined``, ``400 invalid_reason``).
- ``DELETE /v1/quarantines/{fn}`` releases it (``404 not_quarantined``).

- ``GET /v1/limits``; ``POST /v1/limits`` ``{"function", "rate"?, "concurrency"?}`` lowers
  a function's limits at run time (``ramparts throttle``); ``DELETE /v1/limits/{fn}``.
- ``GET /v1/playbooks``; ``POST /v1/playbooks`` ``{"source": YAML, "file": name}``
  validates and stores every playbook of a file (``400 invalid_playbook`` with
  ``file`` and ``field``; nothing stored); ``DELETE /v1/playbooks/{name}``.
- ``POST /v1/playbooks/{name}/dry-run`` ``{"alert": ID}`` or ``{"alert": {rule,
  severity, evidence...}}`` (a synthetic alert; ``400 invalid_severity`` unless its severity
  is low, medium, high or critical): the steps it would take, each step that would fail
  now with ``would_fail`` and ``would_fail_code`` (read only); changes nothing.
- ``POST /v1/playbooks/dry-run`` ``{"source", "file", "name"?, "alert"}``: the same for the
  playbooks of a file that is not applied (parsed and planned, never stored; a bad file
  gets ``400 invalid_playbook`` as ``POST /v1/playbooks`` does).
- ``GET /v1/incidents?state=S&limit=N``; ``GET /v1/incidents/{id}``;
  ``POST /v1/incidents/{id}`` ``{"state"?, "owner"?, "note"?}``;
  ``POST /v1/incidents/{id}/steps/{n}/approve``; ``GET /v1/incidents/{id}/export``.

Admin token only, like every control route; every change is audited.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from ramparts.containment.bundle import FORMAT as BUNDLE_FORMAT
from ramparts.containment.runner import STATES, public
from ramparts.control.http import JSONResponse, _json, _node
from ramparts.errors import InvalidRequest, NotFound
from ramparts.respond.rules import SEVERITIES

ADMIN = "admin"


async def list_quarantines(request: Request) -> JSONResponse:
    node = _node(request)
    await node.quarantines.reload()
    return JSONResponse({"quarantines": node.quarantines.public()})


async def add_quarantine(request: Request) -> JSONResponse:
    node = _node(request)
    data = await _json(request)
    out = await node.containment.quarantine(
        data.get("function"), data.get("reason"), principal=ADMIN
    )
    return JSONResponse(out)


async def release_quarantine(request: Request) -> JSONResponse:
    node = _node(request)
    out = await node.containment.release(request.path_params["fn"], principal=ADMIN)
    return JSONResponse(out)


MAX_PLAYBOOK_BYTES = 256 * 1024
EXPORT_FORMAT = "ramparts-incident-export/1"


def _text(value: Any, name: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise InvalidRequest(f"{name}: text of 1 to {limit} characters", code=f"invalid_{name}")
    if any(ord(c) < 32 and c not in "\n\t" or ord(c) == 127 for c in value):
        raise InvalidRequest(f"{name}: no control characters", code=f"invalid_{name}")
    return value.strip()


async def list_playbooks(request: Request) -> JSONResponse:
    node = _node(request)
    books = await asyncio.to_thread(node.incidents.playbooks)
    return JSONResponse(
        {
            "playbooks": [
                {
                    "name": p.name,
                    "file": p.file,
                    "description": p.description,
                    "match": {
                        "rules": list(p.match.rules),
                        "severity": p.match.severity,
                        "function": p.match.function,
                        "app": p.match.app,
                    },
                    "stop_on_failure": p.stop_on_failure,
                    "actions": [
                        {
                            "action": a.kind,
                            "params": a.params,
                            "requires_approval": a.requires_approval,
                        }
                        for a in p.actions
                    ],
                }
                for p in books
            ]
        }
    )


async def apply_playbooks(request: Request) -> JSONResponse:
    node = _node(request)
    data = await _json(request, MAX_PLAYBOOK_BYTES * 2)
    source = data.get("source")
    if not isinstance(source, str) or len(source.encode()) > MAX_PLAYBOOK_BYTES:
        raise InvalidRequest(
            "source: the playbook file's text (at most 256 KiB)", code="invalid_playbook"
        )
    file = data.get("file") or "playbook.yaml"
    if not isinstance(file, str) or len(file) > 300:
        raise InvalidRequest("file: the playbook file's name", code="invalid_argument")
    return JSONResponse({"applied": await node.incidents.apply(source, file)})


async def delete_playbook(request: Request) -> JSONResponse:
    name = request.path_params["name"]
    await _node(request).incidents.delete_playbook(name)
    return JSONResponse({"name": name, "deleted": True})


async def _alert(node: Any, data: dict[str, Any]) -> dict[str, Any]:
    """The alert a dry run plans against: a stored alert's id, or a synthetic alert."""
    alert = data.get("alert")
    if isinstance(alert, str):
        rows = await asyncio.to_thread(node.store.list_alerts, 0.0, None, 1000)
        found = next((r for r in rows if r["id"] == alert or r["id"].startswith(alert)), None)
        if found is None or len(alert) < 6:
            raise NotFound(f"no alert {alert!r}", code="alert_not_found")
        return {**found, "group": found.get("group_key")}
    if isinstance(alert, dict):
        if not isinstance(alert.get("rule"), str) or not isinstance(alert.get("severity"), str):
            raise InvalidRequest(
                "alert: a synthetic alert needs rule and severity", code="invalid_alert"
            )
        if alert["severity"] not in SEVERITIES:  # exactly as a playbook's match.severity
            raise InvalidRequest(
                f"alert.severity: one of {', '.join(SEVERITIES)} (lower case), "
                f"not {alert['severity'][:40]!r}",
                code="invalid_severity",
            )
        evidence = alert.get("evidence", [])
        if not isinstance(evidence, list) or not all(isinstance(e, str) for e in evidence):
            raise InvalidRequest("alert.evidence: a list of audit record ids", code="invalid_alert")
        return {"id": "synthetic", "group": "", **alert, "evidence": evidence}
    raise InvalidRequest("alert: an alert id or a synthetic alert", code="invalid_alert")


async def dry_run(request: Request) -> JSONResponse:
    node = _node(request)
    alert = await _alert(node, await _json(request))
    return JSONResponse(await node.incidents.dry_run(request.path_params["name"], alert))


async def dry_run_source(request: Request) -> JSONResponse:
    """A dry run of a playbook file that is not applied: parsed and planned, never stored."""
    node = _node(request)
    data = await _json(request, MAX_PLAYBOOK_BYTES * 2)
    source = data.get("source")
    if not isinstance(source, str) or len(source.encode()) > MAX_PLAYBOOK_BYTES:
        raise InvalidRequest(
            "source: the playbook file's text (at most 256 KiB)", code="invalid_playbook"
        )
    file = data.get("file") or "playbook.yaml"
    if not isinstance(file, str) or len(file) > 300:
        raise InvalidRequest("file: the playbook file's name", code="invalid_argument")
    name = data.get("name")
    if name is not None and not isinstance(name, str):
        raise InvalidRequest("name: a playbook's name", code="invalid_argument")
    alert = await _alert(node, data)
    return JSONResponse(await node.incidents.dry_run_source(source, file, alert, name))


async def list_incidents(request: Request) -> JSONResponse:
    node = _node(request)
    state = request.query_params.get("state")
    if state is not None and state not in STATES:
        raise InvalidRequest(f"state: one of {', '.join(STATES)}", code="invalid_state")
    raw = request.query_params.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise InvalidRequest("limit must be 1 to 1000", code="invalid_limit")
    rows = await asyncio.to_thread(node.response_records.incident_list, state, int(raw))
    return JSONResponse({"incidents": [public(r) for r in rows]})


async def _incident_id(request: Request) -> str:
    """A full incident id, or a unique prefix of at least 6 characters (what tables show)."""
    node = _node(request)
    wanted = request.path_params["id"]
    if len(wanted) == 32:
        return wanted
    rows = await asyncio.to_thread(node.response_records.incident_list, None, 1000)
    found = [r["id"] for r in rows if len(wanted) >= 6 and r["id"].startswith(wanted)]
    if len(found) != 1:
        raise NotFound(f"no incident {wanted!r}", code="incident_not_found")
    return found[0]


async def show_incident(request: Request) -> JSONResponse:
    node = _node(request)
    return JSONResponse(public(await node.incidents.full(await _incident_id(request))))


async def update_incident(request: Request) -> JSONResponse:
    node = _node(request)
    data = await _json(request)
    state, owner, note = data.get("state"), data.get("owner"), data.get("note")
    if state is None and owner is None and note is None:
        raise InvalidRequest("give state, owner or note", code="invalid_argument")
    doc = await node.incidents.update(
        await _incident_id(request),
        state=state if state is None else _text(state, "state", 16),
        owner=owner if owner is None else _text(owner, "owner", 200),
        note=note if note is None else _text(note, "note", 2000),
    )
    return JSONResponse(public(doc))


async def approve_step(request: Request) -> JSONResponse:
    node = _node(request)
    raw = request.path_params["n"]
    if not raw.isdigit():
        raise InvalidRequest("step: a step number", code="invalid_argument")
    doc = await node.incidents.approve(await _incident_id(request), int(raw))
    return JSONResponse(public(doc))


async def export_incident(request: Request) -> JSONResponse:
    """The incident, a fresh signed bundle covering it, its snapshot, and how to verify."""
    node = _node(request)
    doc = await node.incidents.full(await _incident_id(request))
    bundle = await node.incidents.snapshot(doc, 3600.0)
    return JSONResponse(
        {
            "format": EXPORT_FORMAT,
            "exported_at": time.time(),
            "incident": public(doc),
            "bundle": bundle,
            "snapshot": doc.get("evidence"),
            "verification": {
                "command": f"ramparts incident verify FILE --public-key {bundle['key_id']}",
                "key_id": bundle["key_id"],
                "explains": (
                    f"bundle is a {BUNDLE_FORMAT} document: its contents (the incident with its "
                    "timeline and steps, the audit range with its own signed proof, invocation "
                    "records, versions and SBOMs) are signed with the node's Ed25519 key "
                    f"{bundle['key_id']}; pin that key id (or its PEM) from a source you trust "
                    "rather than trusting the one the file carries"
                ),
            },
        }
    )


async def list_limits(request: Request) -> JSONResponse:
    node = _node(request)
    await node.quarantines.reload()
    return JSONResponse({"limits": node.quarantines.lowered_all()})


async def lower_limits(request: Request) -> JSONResponse:
    node = _node(request)
    data = await _json(request)
    out = await node.containment.lower(
        data.get("function"),
        rate=data.get("rate"),
        concurrency=data.get("concurrency"),
        principal=ADMIN,
    )
    return JSONResponse(out)


async def restore_limits(request: Request) -> JSONResponse:
    node = _node(request)
    return JSONResponse(await node.containment.restore(request.path_params["fn"], principal=ADMIN))


def respond_routes() -> list[Route]:
    return [
        Route("/v1/limits", list_limits, methods=["GET"]),
        Route("/v1/limits", lower_limits, methods=["POST"]),
        Route("/v1/limits/{fn}", restore_limits, methods=["DELETE"]),
        Route("/v1/playbooks", list_playbooks, methods=["GET"]),
        Route("/v1/playbooks", apply_playbooks, methods=["POST"]),
        Route("/v1/playbooks/{name}", delete_playbook, methods=["DELETE"]),
        Route("/v1/playbooks/dry-run", dry_run_source, methods=["POST"]),
        Route("/v1/playbooks/{name}/dry-run", dry_run, methods=["POST"]),
        Route("/v1/incidents", list_incidents, methods=["GET"]),
        Route("/v1/incidents/{id}", show_incident, methods=["GET"]),
        Route("/v1/incidents/{id}", update_incident, methods=["POST"]),
        Route("/v1/incidents/{id}/steps/{n}/approve", approve_step, methods=["POST"]),
        Route("/v1/incidents/{id}/export", export_incident, methods=["GET"]),
        Route("/v1/quarantines", list_quarantines, methods=["GET"]),
        Route("/v1/quarantines", add_quarantine, methods=["POST"]),
        Route("/v1/quarantines/{fn}", release_quarantine, methods=["DELETE"]),
    ]
