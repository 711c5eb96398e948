"""Incidents and the playbooks that act on them.

An alert that a playbook matches, or any high or critical alert, opens an
incident, or joins the incident still open for the same rule and function.
A new incident runs every matching playbook's steps in order, and so does an
alert that joins it, for its own targets (a second attacker is contained like
the first; a step identical to one already done or waiting is not repeated).
Each step is performed by ``Actions`` (which audits the action itself),
recorded on the incident with its outcome, and audited as ``incident.step``.
A failed step is recorded and later steps still run unless the playbook says
``stop_on_failure``; a step with ``requires_approval`` waits (``pending``)
until ``approve`` runs it, and the playbook's later steps wait behind it
(``waiting``) so they keep their order.  A resolved incident runs nothing
more.  An incident is bounded (MAX_BLOCK_STEPS, MAX_STEPS, counted alerts): past
its limits steps are not taken and it escalates once.  State goes open ->
contained -> resolved; the timeline collects the
alert, its evidence records, the steps, state changes and notes.  Everything
runs on the node's loop, never on the request path.
"""

from __future__ import annotations

import asyncio
import json
import logging
import smtplib
import time
import uuid
from email.message import EmailMessage
from typing import Any

from ramparts.containment.actions import Containment
from ramparts.containment.bundle import build_bundle
from ramparts.errors import Conflict, InvalidRequest, NotFound, RampartsError
from ramparts.respond.playbooks import (
    EVIDENCE_TARGET,
    AlertContext,
    Playbook,
    context_of,
    file_name,
    parse_playbooks,
    plan,
    warnings,
)
from ramparts.respond.records import ResponseRecords

log = logging.getLogger("ramparts.respond")

STATES = ("open", "contained", "resolved")
MAX_TIMELINE = 500
# One incident stays readable and its containment bounded whatever an attacker with many
# addresses does (an IPv6 /64 behind a trusted proxy has no end of them):
MAX_ALERT_IDS = 100  # alert ids kept on the incident; alert_count counts every one
MAX_JOIN_ENTRIES = 20  # joined alerts with a timeline entry each; later ones are counted
MAX_BLOCK_STEPS = 25  # block_ip steps one incident takes
MAX_STEPS = 100  # steps of every kind one incident takes
MAX_NOTE = 2000
AUTO_SEVERITIES = ("high", "critical")
RELATED_BEFORE = 3600.0  # how far before the incident opened related audit records go
MAX_RELATED = 300  # related records shown (the latest)
MAX_RELATED_SCAN = 20_000  # audit records read to find them


def _entry(kind: str, text: str, **detail: Any) -> dict[str, Any]:
    return {"ts": time.time(), "kind": kind, "text": text, **detail}


class IncidentDesk:
    def __init__(
        self,
        *,
        records: ResponseRecords,
        actions: Containment,
        store: Any,
        audit: Any,
        signer: Any,
        notifier: Any = None,
        smtp_url: str = "",
        smtp_from: str = "ramparts@localhost",
        node_id: str = "",
    ) -> None:
        self._records = records
        self._actions = actions
        self._store = store
        self._audit = audit
        self._signer = signer
        self._notifier = notifier
        self._smtp_url = smtp_url
        self._smtp_from = smtp_from
        self._node_id = node_id
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- playbooks ---------------------------------------------------------------------------
    def playbooks(self) -> list[Playbook]:
        """Every stored playbook (each was validated when applied)."""
        out: list[Playbook] = []
        for name, source, file, _ in self._records.playbook_list():
            try:
                out.extend(p for p in parse_playbooks(source, file=file) if p.name == name)
            except RampartsError:  # stored valid; a newer release may refuse it: say so
                log.error("stored playbook %s no longer validates; it does not run", name)
        return out

    async def apply(self, source: str, file: str) -> list[dict[str, Any]]:
        """Validate and store every playbook of a file (all or none)."""
        books = parse_playbooks(source, file=file)  # PlaybookError: 400, nothing stored
        out = []
        for pb in books:
            replaced = await asyncio.to_thread(self._records.playbook_put, pb.name, source, file)
            self._audit.emit(
                "playbook.apply",
                decision="allow",
                principal="admin",
                action="respond:ApplyPlaybook",
                resource=f"playbook:{pb.name}",
                file=pb.file,
                actions=[a.kind for a in pb.actions],
                replaced=replaced,
            )
            out.append(
                {
                    "name": pb.name,
                    "replaced": replaced,
                    "actions": len(pb.actions),
                    "warnings": warnings([pb]) + await self._named_target_warnings(pb),
                }
            )
        return out

    async def delete_playbook(self, name: str) -> None:
        if not await asyncio.to_thread(self._records.playbook_delete, name):
            raise NotFound(f"no playbook {name!r}", code="playbook_not_found")
        self._audit.emit(
            "playbook.delete",
            decision="allow",
            principal="admin",
            action="respond:DeletePlaybook",
            resource=f"playbook:{name}",
        )

    async def context(self, alert: dict[str, Any]) -> AlertContext:
        ids = [e for e in alert.get("evidence", []) if not str(e).startswith("invocation:")]
        found = await asyncio.to_thread(self._store.audit_records_by_id, ids[:100])
        return context_of(list(found.values()))

    async def dry_run(self, name: str, alert: dict[str, Any]) -> dict[str, Any]:
        """What ``name`` would do for ``alert``; reads only, changes nothing."""
        books = {p.name: p for p in await asyncio.to_thread(self.playbooks)}
        pb = books.get(name)
        if pb is None:
            raise NotFound(f"no playbook {name!r}", code="playbook_not_found")
        return await self._dry(pb, alert, await self.context(alert))

    async def dry_run_source(
        self, source: str, file: str, alert: dict[str, Any], name: str | None = None
    ) -> dict[str, Any]:
        """What the playbooks of a file not yet applied would do for ``alert``: parsed and
        planned, never stored, so nothing runs and nothing changes (``PlaybookError`` as
        ``apply`` gives it; ``name`` picks one playbook of the file)."""
        books = parse_playbooks(source, file=file)
        if name is not None:
            books = [p for p in books if p.name == name]
            if not books:
                raise NotFound(
                    f"{file_name(file)} has no playbook {name!r}", code="playbook_not_found"
                )
        ctx = await self.context(alert)
        return {
            "file": file_name(file),
            "stored": False,
            "alert": {k: alert.get(k) for k in ("id", "rule", "severity", "group")},
            "context": ctx.to_dict(),
            "playbooks": [await self._dry(pb, alert, ctx) for pb in books],
            "warnings": warnings(books),
            "changed": False,
        }

    async def _dry(self, pb: Playbook, alert: dict[str, Any], ctx: AlertContext) -> dict[str, Any]:
        steps = [await self._checked(s) for s in plan(pb, alert, ctx)]
        return {
            "playbook": pb.name,
            "alert": {k: alert.get(k) for k in ("id", "rule", "severity", "group")},
            "context": ctx.to_dict(),
            "matches": pb.matches(alert, ctx),
            "steps": steps,
            "steps_failing": sum(1 for s in steps if "would_fail" in s),
            "changed": False,
        }

    async def problem(self, kind: str, params: dict[str, Any]) -> RampartsError | None:
        """What running the action ``kind`` with ``params`` would fail with on this node
        now, or None; reads only (``Containment.check``, and ``notify``'s configuration)."""
        return (await self._probe(kind, params))[0]

    async def _probe(
        self, kind: str, params: dict[str, Any]
    ) -> tuple[RampartsError | None, dict[str, Any] | None]:
        """``problem``, and what the action would reach beyond its parameters (the owner
        of a secret a ``rotate_secret`` would reach through a share)."""
        try:
            if kind == "notify":
                self._notify_problem(params)
                return None, None
            return None, await self._actions.check(kind, params)
        except RampartsError as exc:
            return exc, None

    async def _checked(self, step: dict[str, Any]) -> dict[str, Any]:
        """A planned step with ``would_fail`` (the action's own error text) and
        ``would_fail_code`` when running it now would fail: no target in the alert
        (``missing_target``), a target the node does not have, a guard's refusal (a
        refused ``block_ip`` also keeps ``refused``).  A step that would pass but reach
        beyond its parameters has ``would_reach`` (a ``rotate_secret`` of a secret shared
        with the app: the owner whose secret would change, and its ``note``)."""
        if step.get("error"):
            return {**step, "would_fail": step["error"], "would_fail_code": "missing_target"}
        exc, reach = await self._probe(step["action"], step["params"])
        if exc is None:
            return {**step, "would_reach": reach} if reach else step
        out = {**step, "would_fail": exc.message, "would_fail_code": exc.code}
        if exc.code == "force_required":
            out["refused"] = exc.message
        return out

    async def _named_target_warnings(self, pb: Playbook) -> list[str]:
        """``apply``'s warnings about steps that would fail on this node now although they
        need nothing from an alert (a function, key, client or secret named in the playbook
        that does not exist; a rollback with no earlier version).  Warnings, not refusals:
        the target may exist by the time an alert comes."""
        out = []
        for j, a in enumerate(pb.actions):
            target = EVIDENCE_TARGET.get(a.kind) or ("address" if a.kind == "block_ip" else None)
            if target is not None and target not in a.params:
                continue  # aimed by the alert: only a dry run against one can tell
            params = {k: v for k, v in a.params.items() if k != "target_from_evidence"}
            exc = await self.problem(a.kind, params)
            if exc is not None:
                out.append(
                    f"{pb.name}: actions[{j}].{a.kind} would fail on this node now: "
                    f"{exc.message} ({exc.code})"
                )
        return out

    # -- alerts in -------------------------------------------------------------------------------
    def alert(self, alert: dict[str, Any]) -> None:
        """The detection pipeline's hook (on the loop): handle ``alert`` in the background."""
        task = asyncio.get_running_loop().create_task(self._on_alert(alert))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _on_alert(self, alert: dict[str, Any]) -> None:
        try:
            async with self._lock:  # one alert at a time: a join never races an open
                await self.handle(alert)
        except Exception:
            log.exception("handling alert %s failed", alert.get("id"))

    async def handle(self, alert: dict[str, Any]) -> dict[str, Any] | None:
        ctx = await self.context(alert)
        books = [p for p in await asyncio.to_thread(self.playbooks) if p.matches(alert, ctx)]
        if not books and alert.get("severity") not in AUTO_SEVERITIES:
            return None
        join_key = f"{alert.get('rule')}|{ctx.function or ''}"
        doc = await asyncio.to_thread(self._records.incident_open_for, join_key)
        if doc is not None:
            self._join(doc, alert, ctx, books)
            await self._save(doc)
        else:
            doc = await self._open(alert, ctx, join_key, books)
        for pb in books:
            steps = [s for s in plan(pb, alert, ctx) if not _repeats(doc, s)]
            steps = await self._within_limits(doc, steps)
            if not steps:
                continue
            for s in steps:
                s.update(alert=alert["id"], stop_on_failure=pb.stop_on_failure)
            doc["steps"].extend(steps)
            await self._save(doc)  # numbers the steps (index) and marks them planned
            await self._run(doc, steps, pb.stop_on_failure, pb.name)
        return doc

    def _join(
        self, doc: dict[str, Any], alert: dict[str, Any], ctx: AlertContext, books: list[Playbook]
    ) -> None:
        """Record ``alert`` on the open incident ``doc``: its id (the first MAX_ALERT_IDS),
        the count, and a timeline entry (the first MAX_JOIN_ENTRIES; later joins update one
        "more alerts joined" entry, so many addresses cannot push the start off the timeline).
        """
        doc["alert_count"] = doc.get("alert_count", len(doc["alerts"])) + 1
        if len(doc["alerts"]) < MAX_ALERT_IDS:
            doc["alerts"].append(alert["id"])
        for name in (p.name for p in books if p.name not in doc["playbooks"]):
            doc["playbooks"].append(name)
        joined = doc.get("joined", 0) + 1
        doc["joined"] = joined
        if joined <= MAX_JOIN_ENTRIES:
            self._add(
                doc,
                _entry(
                    "alert",
                    f"alert {alert['rule']} joined",
                    alert=alert["id"],
                    count=alert.get("count"),
                    context=ctx.to_dict(),
                ),
            )
            return
        more = joined - MAX_JOIN_ENTRIES
        entry = next((t for t in doc["timeline"] if t.get("kind") == "alerts_joined"), None)
        if entry is None:
            entry = _entry("alerts_joined", "")
            self._add(doc, entry)
        entry.update(
            ts=time.time(),
            text=f"{more} more alert{'s' if more > 1 else ''} {alert['rule']} joined",
            joined=more,
            last_alert=alert["id"],
            last_context=ctx.to_dict(),
        )

    async def _within_limits(
        self, doc: dict[str, Any], steps: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        """``steps`` up to the incident's limits (MAX_BLOCK_STEPS block_ip steps, MAX_STEPS
        in all); the first step over them escalates the incident instead of running."""
        taken = len(doc["steps"])
        blocks = sum(1 for s in doc["steps"] if s["action"] == "block_ip")
        kept, dropped = [], []
        for step in steps:
            is_block = step["action"] == "block_ip"
            if taken >= MAX_STEPS or (is_block and blocks >= MAX_BLOCK_STEPS):
                dropped.append(step)
                continue
            kept.append(step)
            taken += 1
            blocks += is_block
        if dropped:
            doc["steps_not_taken"] = doc.get("steps_not_taken", 0) + len(dropped)
            await self._escalate(doc, dropped)
        return kept

    async def _escalate(self, doc: dict[str, Any], dropped: list[dict[str, Any]]) -> None:
        """Once per incident: severity critical, a timeline entry, an audit event and a
        notification (the webhook, when configured), so a person takes over containment
        the playbook no longer scales to (e.g. a block of the attacker's network)."""
        if doc.get("escalated"):
            await self._save(doc)  # the steps_not_taken count
            return
        doc["escalated"] = time.time()
        doc["severity"] = "critical"
        why = (
            f"limit reached ({MAX_BLOCK_STEPS} block_ip steps, {MAX_STEPS} steps per "
            f"incident): {dropped[0]['action']} and later steps are not taken; "
            "contain by hand (e.g. block the attacker's network)"
        )
        self._add(doc, _entry("escalated", why, severity="critical"))
        await self._save(doc)
        self._audit.emit(
            "incident.escalate",
            decision="allow",
            principal=f"node:{self._node_id}",
            action="respond:EscalateIncident",
            resource=f"incident:{doc['id']}",
            reason="step_limit",
            rule=doc.get("rule"),
            steps=len(doc["steps"]),
        )
        if self._notifier is not None:
            self._notifier.send("incident", public(doc), delivery_id=f"{doc['id']}:escalated")

    async def _open(
        self, alert: dict[str, Any], ctx: AlertContext, join_key: str, books: list[Playbook]
    ) -> dict[str, Any]:
        now = time.time()
        evidence_ids = [e for e in alert.get("evidence", []) if not e.startswith("invocation:")]
        found = await asyncio.to_thread(self._store.audit_records_by_id, evidence_ids[:50])
        doc: dict[str, Any] = {
            "id": uuid.uuid4().hex,
            "opened_at": now,
            "updated_at": now,
            "state": "open",
            "owner": None,
            "severity": alert.get("severity"),
            "title": alert.get("title"),
            "rule": alert.get("rule"),
            "join_key": join_key,
            "context": ctx.to_dict(),
            "alerts": [alert["id"]],
            "alert_count": 1,
            "playbooks": [p.name for p in books],
            "notes": [],
            "steps": [],
            "timeline": [],
            "evidence": None,
        }
        for rec in sorted(found.values(), key=lambda r: r.get("ts", 0)):
            doc["timeline"].append(
                {
                    "ts": rec.get("ts"),
                    "kind": "audit",
                    "text": f"{rec.get('kind')} {rec.get('decision')} {rec.get('resource')}",
                    "audit_id": rec.get("id"),
                    "principal": rec.get("principal"),
                }
            )
        self._add(
            doc,
            _entry(
                "alert",
                f"alert {alert.get('rule')}: {alert.get('title')}",
                alert=alert["id"],
                count=alert.get("count"),
            ),
        )
        self._add(doc, _entry("state", "incident opened", state="open"))
        await self._save(doc)
        self._audit.emit(
            "incident.open",
            decision="allow",
            principal=f"node:{self._node_id}",
            action="respond:OpenIncident",
            resource=f"incident:{doc['id']}",
            rule=alert.get("rule"),
            severity=alert.get("severity"),
            alert_id=alert["id"],
            playbooks=doc["playbooks"],
        )
        return doc

    # -- steps -------------------------------------------------------------------------------------
    async def _run(
        self, doc: dict[str, Any], steps: list[dict[str, Any]], stop: bool, book: str
    ) -> None:
        for i, step in enumerate(steps):
            if step.get("requires_approval"):
                step["status"] = "pending"
                self._add(
                    doc, _entry("step", f"{step['action']} waits for approval", step=step["index"])
                )
                for rest in steps[i + 1 :]:  # in order: nothing runs ahead of the approval
                    rest["status"] = "waiting"
                await self._save(doc)
                return
            ok = await self._perform(doc, step, principal=f"playbook:{book}")
            await self._save(doc)
            if not ok and stop:
                for rest in steps[i + 1 :]:
                    rest["status"] = "skipped"
                    self._add(
                        doc,
                        _entry(
                            "step",
                            f"{rest['action']} skipped (stop_on_failure)",
                            step=rest["index"],
                        ),
                    )
                await self._save(doc)
                return

    async def _save(self, doc: dict[str, Any]) -> None:
        for i, s in enumerate(doc["steps"]):
            s["index"] = i + 1
            s.setdefault("status", "planned")
        doc["updated_at"] = time.time()
        await asyncio.to_thread(self._records.incident_put, doc)

    def _add(self, doc: dict[str, Any], entry: dict[str, Any]) -> None:
        doc["timeline"].append(entry)
        del doc["timeline"][:-MAX_TIMELINE]

    async def _perform(self, doc: dict[str, Any], step: dict[str, Any], *, principal: str) -> bool:
        try:
            if step.get("error"):
                raise InvalidRequest(step["error"], code="missing_target")
            result = await self._action(doc, step, principal)
        except Exception as exc:
            message = exc.message if isinstance(exc, RampartsError) else "the action failed"
            code = exc.code if isinstance(exc, RampartsError) else "action_failed"
            if not isinstance(exc, RampartsError):
                log.exception("incident %s: %s failed", doc["id"], step["action"])
            step.update(status="failed", error=message, code=code, at=time.time())
            self._add(
                doc, _entry("step", f"{step['action']} failed: {message}", step=step["index"])
            )
            self._audit_step(doc, step, principal, "deny")
            return False
        step.update(status="done", result=result, at=time.time())
        done = f"{step['action']} done"
        if isinstance(result, dict) and result.get("note"):  # it reached beyond its params
            done = f"{done}: {result['note']}"
        self._add(doc, _entry("step", done, step=step["index"], result=result))
        self._audit_step(doc, step, principal, "allow")
        return True

    def _audit_step(
        self, doc: dict[str, Any], step: dict[str, Any], principal: str, decision: str
    ) -> None:
        self._audit.emit(
            "incident.step",
            decision=decision,
            principal=principal,
            action=f"respond:{step['action']}",
            resource=f"incident:{doc['id']}",
            step=step["index"],
            status=step["status"],
            error=step.get("error"),
        )

    async def _action(self, doc: dict[str, Any], step: dict[str, Any], principal: str) -> Any:
        a, p, inc = self._actions, step["params"], doc["id"]
        kind = step["action"]
        if kind == "quarantine":
            reason = p.get("reason") or f"incident {inc[:12]}: {doc.get('title')}"[:500]
            return await a.quarantine(p["function"], reason, principal=principal, incident=inc)
        if kind == "revoke_key":
            return await a.revoke_key(p["key"], principal=principal)
        if kind == "revoke_client":
            return await a.revoke_client(p["client"], principal=principal)
        if kind == "block_ip":
            return await a.block_ip(
                p["address"],
                for_seconds=p.get("for"),
                principal=principal,
                reason=p.get("reason") or f"incident {inc[:12]}",
                force=p.get("force", False),
            )
        if kind == "rotate_secret":
            return await a.rotate_secret(p["app"], p["secret"], principal=principal)
        if kind == "rollback":
            return await a.rollback(p["function"], p.get("alias"), principal=principal)
        if kind == "lower_rate":
            return await a.lower(p["function"], rate=p["rate"], principal=principal, incident=inc)
        if kind == "lower_concurrency":
            return await a.lower(
                p["function"], concurrency=p["concurrency"], principal=principal, incident=inc
            )
        if kind == "snapshot_evidence":
            bundle = await self.snapshot(doc, float(p.get("window", 3600.0)))
            doc["evidence"] = bundle
            return {
                "audit_records": sum(
                    len(x["records"]) for x in bundle["contents"]["audit"]["partitions"]
                ),
                "key_id": bundle["key_id"],
            }
        if kind == "notify":
            return await self._notify(doc, p)
        raise InvalidRequest(f"unknown action {kind}", code="unknown_action")

    async def snapshot(self, doc: dict[str, Any], window: float) -> dict[str, Any]:
        await self._audit.flush()  # what happened up to now is in the range
        # the alert's function and every function a step acts on
        named = [doc["context"].get("function")]
        named += [s["params"].get("function") for s in doc["steps"]]
        functions = {f for f in named if isinstance(f, str) and f}
        t_to = time.time()
        return await asyncio.to_thread(
            build_bundle,
            self._store,
            self._signer,
            t_from=doc["opened_at"] - window,
            t_to=t_to,
            functions=functions,
            # a copy, as it stands now: the incident goes on changing after it is signed
            incident=json.loads(json.dumps({k: v for k, v in doc.items() if k != "evidence"})),
        )

    def _notify_problem(self, p: dict[str, Any]) -> None:
        """What ``_notify`` with ``p`` fails with, from the node's configuration alone (it
        still sends the webhook before it finds email unconfigured: this only predicts)."""
        if p.get("email") and not self._smtp_url:
            raise InvalidRequest(
                "email needs RAMPARTS_SMTP_URL on the node", code="smtp_not_configured"
            )
        if not p.get("email") and not (p.get("webhook", True) and self._notifier is not None):
            raise InvalidRequest(
                "nothing to notify: no webhook configured and no email", code="nothing_to_notify"
            )

    async def _notify(self, doc: dict[str, Any], p: dict[str, Any]) -> dict[str, Any]:
        summary = public(doc)
        sent: dict[str, Any] = {}
        if p.get("webhook", True) and self._notifier is not None:
            self._notifier.send("incident", summary, delivery_id=f"{doc['id']}:{time.time()}")
            sent["webhook"] = True
        if p.get("email"):
            if not self._smtp_url:
                raise InvalidRequest(
                    "email needs RAMPARTS_SMTP_URL on the node", code="smtp_not_configured"
                )
            await asyncio.to_thread(self._send_mail, p["email"], p.get("subject"), summary)
            sent["email"] = list(p["email"])
        if not sent:
            raise InvalidRequest(
                "nothing to notify: no webhook configured and no email", code="nothing_to_notify"
            )
        return sent

    def _send_mail(self, to: list[str], subject: str | None, summary: dict[str, Any]) -> None:
        from urllib.parse import urlsplit

        url = urlsplit(self._smtp_url)
        msg = EmailMessage()
        msg["From"] = self._smtp_from
        msg["To"] = ", ".join(to)
        msg["Subject"] = subject or (
            f"[ramparts] {summary['severity']} incident {summary['id'][:12]}: {summary['title']}"
        )
        lines = [f"{k}: {summary[k]}" for k in ("id", "state", "severity", "rule", "title")]
        lines += ["", "steps:"] + [
            f"  {s['index']}. {s['action']} {s['status']}" for s in summary["steps"]
        ]
        msg.set_content("\n".join(lines) + "\n")
        try:
            with smtplib.SMTP(url.hostname or "localhost", url.port or 25, timeout=15) as smtp:
                if url.scheme == "smtp+starttls":
                    smtp.starttls()
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise InvalidRequest(
                f"sending email failed: {type(exc).__name__}", code="smtp_failed"
            ) from None

    # -- timeline ---------------------------------------------------------------------------
    def related(
        self, doc: dict[str, Any], *, before: float = RELATED_BEFORE
    ) -> list[dict[str, Any]]:
        """Audit records about the incident's function, key or address since shortly before
        it opened, as timeline entries (read in a worker thread; bounded)."""
        ctx = doc.get("context") or {}
        fn, key, ip = ctx.get("function"), ctx.get("key"), ctx.get("source_ip")
        if not (fn or key or ip):
            return []
        resources = {f"function:{fn}"} if fn else set()
        if ip:
            resources.add(f"network:{ip}/32" if ":" not in ip else f"network:{ip}/128")
        found: list[dict[str, Any]] = []
        scanned = 0
        spans = self._store.audit_span(doc["opened_at"] - before, time.time())
        for part, (first, last) in sorted(spans.items()):
            after = first - 1
            while scanned < MAX_RELATED_SCAN and after < last:
                page = self._store.audit_chain_page(part, after, 1000, through=last)
                if not page:
                    break
                scanned += len(page)
                after = page[-1]["seq"]
                for rec in page:
                    if rec.get("kind") in ("alert", "incident.step", "incident.open"):
                        continue  # already on the timeline, told as steps
                    detail = rec.get("detail") or "{}"
                    detail = json.loads(detail) if isinstance(detail, str) else detail
                    if (
                        rec.get("resource") in resources
                        or (fn and detail.get("function") == fn)
                        or (key and rec.get("principal") == f"key:{key}")
                        or (ip and detail.get("source_ip") == ip)
                    ):
                        found.append(
                            {
                                "ts": rec.get("ts"),
                                "kind": "audit",
                                "text": f"{rec.get('kind')} {rec.get('decision')} "
                                f"{rec.get('resource')}",
                                "audit_id": rec.get("id"),
                                "principal": rec.get("principal"),
                            }
                        )
        return found[-MAX_RELATED:]

    async def full(self, incident_id: str) -> dict[str, Any]:
        """The incident with its timeline merged with the related audit records, in time order."""
        doc = await self.get(incident_id)
        await self._audit.flush()
        extra = await asyncio.to_thread(self.related, doc)
        seen = {t.get("audit_id") for t in doc["timeline"] if t.get("audit_id")}
        merged = doc["timeline"] + [t for t in extra if t["audit_id"] not in seen]
        doc["timeline"] = sorted(merged, key=lambda t: t.get("ts") or 0.0)
        return doc

    # -- operator actions -----------------------------------------------------------------------
    async def get(self, incident_id: str) -> dict[str, Any]:
        doc = await asyncio.to_thread(self._records.incident_get, incident_id)
        if doc is None:
            raise NotFound(f"no incident {incident_id!r}", code="incident_not_found")
        return doc

    async def update(
        self,
        incident_id: str,
        *,
        state: str | None = None,
        owner: str | None = None,
        note: str | None = None,
    ) -> dict[str, Any]:
        async with self._lock:
            doc = await self.get(incident_id)
            if owner is not None:
                doc["owner"] = owner
                self._add(doc, _entry("owner", f"acknowledged by {owner}", owner=owner))
            if note is not None:
                doc["notes"].append({"ts": time.time(), "text": note})
                self._add(doc, _entry("note", note))
            if state is not None:
                if state not in STATES:
                    raise InvalidRequest(f"state: one of {', '.join(STATES)}", code="invalid_state")
                if doc["state"] == "resolved" and state != "resolved":
                    raise Conflict("a resolved incident stays resolved", code="incident_resolved")
                doc["state"] = state
                self._add(doc, _entry("state", f"incident {state}", state=state))
            await self._save(doc)
        self._audit.emit(
            "incident.update",
            decision="allow",
            principal="admin",
            action="respond:UpdateIncident",
            resource=f"incident:{incident_id}",
            state=state,
            owner=owner,
            note=bool(note),
        )
        return doc

    async def approve(self, incident_id: str, index: int) -> dict[str, Any]:
        async with self._lock:
            doc = await self.get(incident_id)
            if not 1 <= index <= len(doc["steps"]):
                raise NotFound(
                    f"incident {incident_id[:12]} has no step {index}", code="step_not_found"
                )
            step = doc["steps"][index - 1]
            if doc["state"] == "resolved":
                raise Conflict(
                    f"incident {incident_id[:12]} is resolved: its steps no longer run",
                    code="incident_resolved",
                )
            if step.get("status") != "pending":
                raise Conflict(
                    f"step {index} is {step.get('status')}, not pending approval",
                    code="step_not_pending",
                )
            self._add(
                doc, _entry("approval", f"step {index} ({step['action']}) approved", step=index)
            )
            self._audit.emit(
                "incident.approve",
                decision="allow",
                principal="admin",
                action="respond:ApproveStep",
                resource=f"incident:{incident_id}",
                step=index,
            )
            ok = await self._perform(doc, step, principal="admin")
            await self._save(doc)
            # the same playbook run's steps that waited behind this one, in order
            later = [
                s
                for s in doc["steps"][index:]
                if s.get("status") == "waiting"
                and s.get("playbook") == step.get("playbook")
                and s.get("alert") == step.get("alert")
            ]
            stop = bool(step.get("stop_on_failure"))
            if later and not ok and stop:
                for rest in later:
                    rest["status"] = "skipped"
                    self._add(
                        doc,
                        _entry(
                            "step",
                            f"{rest['action']} skipped (stop_on_failure)",
                            step=rest["index"],
                        ),
                    )
                await self._save(doc)
            elif later:
                await self._run(doc, later, stop, str(step.get("playbook")))
        return doc

    async def close(self) -> None:
        for t in list(self._tasks):
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _repeats(doc: dict[str, Any], step: dict[str, Any]) -> bool:
    """True when the incident already did, or waits to do, this very step (same target)."""
    return any(
        s["action"] == step["action"]
        and s.get("params") == step["params"]
        and (
            s.get("status") in ("done", "pending", "waiting", "planned")
            # a step that had no target failed once; saying so again for each alert adds nothing
            or (step.get("error") and s.get("code") == "missing_target")
        )
        for s in doc["steps"]
    )


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """An incident without its (large) evidence bundle: what lists and notifications show."""
    out = {k: v for k, v in doc.items() if k != "evidence"}
    out["has_evidence"] = doc.get("evidence") is not None
    return out
