"""Run one drill: throw-away node, playbook, app, attack, checks, node stopped.

Waits are on conditions: an expected alert is missing only once the node's
detection pipeline has evaluated every record it stored (``evaluated >=
stored``, nothing pending) and the store has stayed quiet for ``QUIET``
seconds (flood refusals are aggregated and their counts written up to a
second or two later), so a removed rule fails the drill once the evidence is
in, and a slow machine only makes it slower.
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ramparts.respond.drills.base import Check, DrillResult, Scenario, write_app
from ramparts.respond.drills.errors import DrillError
from ramparts.respond.drills.node import ThrowawayNode
from ramparts.respond.drills.watchdog import PREFIX, reap_stale

T = TypeVar("T")
WAIT = 120.0  # generous: the machine may be busy
QUIET = 3.0  # seconds without new audit records before "all evidence is in"
NO_PLAYBOOK_GRACE = 10.0  # how long an incident may take to open when no playbook matches


class Cancel:
    """Stops a drill run from another thread (the node that scheduled it is stopping): no
    further scenario starts, and the running one's throw-away node is interrupted so its
    waits end at once instead of running out their time.  A cancelled run's results are
    incomplete: whoever cancelled it does not record them."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._node: ThrowawayNode | None = None

    def set(self) -> None:
        with self._lock:
            self._event.set()
            node = self._node
        if node is not None:
            node.interrupt()

    def is_set(self) -> bool:
        return self._event.is_set()

    def attach(self, node: ThrowawayNode | None) -> None:
        with self._lock:
            self._node = node
        if node is not None and self._event.is_set():
            node.interrupt()


def run_drill(
    scenario: Scenario,
    *,
    detections: Path | None = None,
    playbook: tuple[str, str] | None = None,
    install_playbook: bool = True,
) -> DrillResult:
    """Run ``scenario`` on a fresh node; ``detections`` replaces the shipped rule set,
    ``playbook`` ((file name, YAML text)) the scenario's default playbook, and
    ``install_playbook=False`` runs it with no playbook at all."""
    return run_drills(
        [scenario], detections=detections, playbook=playbook, install_playbook=install_playbook
    )[0]


def run_drills(
    scenarios: list[Scenario],
    *,
    detections: Path | None = None,
    playbook: tuple[str, str] | None = None,
    install_playbook: bool = True,
    cancel: Cancel | None = None,
    scheduled: bool = False,
) -> list[DrillResult]:
    """Run ``scenarios`` one after another on ONE fresh node (``ramparts drill all``).

    Each scenario deploys its own app and installs its own playbook (distinct names,
    distinct attacker addresses and functions), so they do not see each other's
    alerts; audit-tampering breaks the node's chain and therefore runs last.
    ``cancel`` (set from another thread) stops the run early: see ``Cancel``.
    ``scheduled`` marks the results as the node's own scheduled run (for the history).
    """
    cancel = cancel or Cancel()
    book = "none" if not install_playbook else "shipped" if playbook is None else "custom"
    results = {
        s.name: DrillResult(
            scenario=s.name,
            started_at=time.time(),
            scheduled=scheduled,
            detections="shipped" if detections is None else "custom",
            playbook=book,
        )
        for s in scenarios
    }
    runnable = sorted(
        (s for s in scenarios if not s.unavailable), key=lambda s: s.name == "audit-tampering"
    )
    for s in scenarios:
        if s.unavailable:
            results[s.name].status = "not_available"
            results[s.name].reason = f"not available: {s.unavailable}"
    if runnable and not cancel.is_set():
        reap_stale()  # work dirs (and nodes) of drills whose process was killed
        with tempfile.TemporaryDirectory(prefix=PREFIX) as tmp:
            work = Path(tmp)
            chunks: list[list[str]] = []
            for s in runnable:
                extra = s.up_args(work)
                if extra and extra not in chunks:
                    chunks.append(extra)
            args = [a for chunk in chunks for a in chunk]
            if detections is not None:
                args += ["--detections", str(detections)]
            node = ThrowawayNode(work, args)
            cancel.attach(node)
            try:
                try:
                    node.start()
                except DrillError as exc:
                    for s in runnable:
                        results[s.name].checks.append(Check("drill", False, exc.message))
                else:
                    for s in runnable:
                        if cancel.is_set():
                            results[s.name].checks.append(Check("drill", False, "cancelled"))
                            continue
                        _run_one(s, node, work, results[s.name], playbook, install_playbook)
            finally:
                # also when the start gave up (a node still starting after START_TIMEOUT
                # is running): stop its whole process group before the dir goes
                cancel.attach(None)
                node.stop()
    for s in runnable:
        result = results[s.name]
        failed = [c for c in result.checks if not c.passed]
        result.status = "failed" if failed or not result.checks else "passed"
        result.reason = failed[0].reason if failed else ""
    return [results[s.name] for s in scenarios]


def _run_one(
    s: Scenario,
    node: ThrowawayNode,
    work: Path,
    result: DrillResult,
    playbook: tuple[str, str] | None,
    install_playbook: bool,
) -> None:
    """One scenario on the started node; whatever breaks is a failed check, never raised."""
    result.started_at = time.time()
    try:
        _run(s, node, work, result, playbook, install_playbook)
    except DrillError as exc:
        result.checks.append(Check("drill", False, exc.message))
    except Exception as exc:  # noqa: BLE001 - reported as a failed drill
        # a broken drill fails (never passes); the reader gets a reason, not a traceback
        tail = node.log_tail(2)
        result.checks.append(
            Check(
                "drill",
                False,
                f"the drill broke: {type(exc).__name__}: {exc}"[:300]
                + (f" (node log: {tail})" if tail else ""),
            )
        )


def _run(
    scenario: Scenario,
    node: ThrowawayNode,
    work: Path,
    result: DrillResult,
    playbook: tuple[str, str] | None,
    install_playbook: bool,
) -> None:
    if install_playbook:
        file, source = playbook or (scenario.playbook_file, scenario.playbook())
        r = node.post("/v1/playbooks", json={"source": source, "file": file})
        if r.status_code != 200:
            body = (
                r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            )
            raise DrillError(f"the playbook was refused: {body.get('message') or r.status_code}")
    spec = scenario.app()
    if spec is not None:
        r = node.deploy(write_app(work / f"app-{scenario.name}", *spec))
        if r.status_code != 200:
            raise DrillError(f"the drill's app was refused: {r.text[:300]}")
    before = _audit_ids(node)  # flushed: everything the setup (deploy, playbook) recorded
    attack_start = time.time()
    scenario.attack(node, work)

    alerts, stale = _wait_alerts(node, scenario.rules, before)
    for rule in scenario.rules:
        found = alerts.get(rule)
        if found is None:
            reason = _stale_alert(stale[rule]) if rule in stale else _missing_alert(node, rule)
            result.checks.append(Check(f"detected:{rule}", False, reason))
            continue
        raised = _raised_at(node, found)
        if raised <= attack_start:
            alerts.pop(rule)
            result.checks.append(
                Check(
                    f"detected:{rule}",
                    False,
                    f"alert {found['id'][:12]} from rule {rule} was raised before the attack "
                    f"started ({attack_start - raised:.3f}s earlier): it did not detect the attack",
                )
            )
            continue
        result.checks.append(
            Check(f"detected:{rule}", True, f"alert {found['id'][:12]} (count {found['count']})")
        )
    if not alerts:
        result.checks.append(
            Check("contained", False, "nothing to contain: no alert was raised")
        )
        return
    raised = min(_raised_at(node, a) for a in alerts.values())
    result.ttd_seconds = round(raised - attack_start, 3)

    incident = _wait_incident(node, set(alerts))
    if incident is None:
        result.checks.append(
            Check(
                "incident",
                False,
                "no incident was opened for the alert: no playbook on the node matches "
                f"rule {', '.join(sorted(alerts))} and its severity does not open one by itself",
            )
        )
        result.checks.append(Check("playbook", False, _no_playbook(node, set(alerts))))
        return
    result.incident = incident["id"]
    result.checks.append(Check("incident", True, f"incident {incident['id'][:12]} opened"))

    steps = incident.get("steps") or []
    done = [s for s in steps if s.get("action") == scenario.containment]
    if not steps:
        result.checks.append(Check("playbook", False, _no_playbook(node, set(alerts))))
    elif not done or done[0].get("status") != "done":
        states = ", ".join(f"{s['action']}={s['status']}" for s in steps)
        result.checks.append(
            Check(
                "playbook",
                False,
                f"the playbook did not complete {scenario.containment} (steps: {states}"
                + (f"; {done[0].get('code')}: {done[0].get('error')}" if done else "")
                + ")",
            )
        )
    else:
        result.ttc_seconds = round(max(float(done[0]["at"]) - attack_start, 0.0), 3)
        result.checks.append(
            Check(
                "playbook",
                True,
                f"{scenario.containment} done by {', '.join(incident['playbooks'])}",
            )
        )
    result.checks.append(check_timeline(incident))
    result.checks.append(scenario.verify_contained(node, incident))


# -- waits -----------------------------------------------------------------------------------
def _evaluated(node: ThrowawayNode) -> int | None:
    """The stored audit record count once the pipeline has evaluated them all, else None."""
    # Listing flushes the audit buffer first.  Alert records are never evaluated (no
    # feedback loops), so they do not count: otherwise a raised alert that does not
    # qualify (F2) would keep the wait from ever settling.
    stored = sum(1 for e in _audit_events(node) if e.get("kind") != "alert")
    stats = node.get("/v1/alerts", limit=1)["detections"]
    return stored if stats["evaluated"] >= stored and stats["pending"] == 0 else None


def _audit_events(node: ThrowawayNode) -> list[dict[str, Any]]:
    """Every audit record stored so far (listing flushes the node's buffer first)."""
    events: list[dict[str, Any]] = []
    after = 0
    while True:
        page = node.get("/v1/audit", limit=1000, after=after)["events"]
        events.extend(page)
        if len(page) < 1000:
            return events
        after = page[-1]["seq"]


def _audit_ids(node: ThrowawayNode) -> set[str]:
    """Ids of every audit record stored so far."""
    return {str(e.get("id") or "") for e in _audit_events(node)}


def _wait_alerts(
    node: ThrowawayNode, rules: tuple[str, ...], before: set[str]
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """(alerts tied to the attack, alerts of the same rules that are not), by rule.

    An alert counts only if some of its evidence is not among ``before``, the audit
    records stored before the attack started: a rule firing on the drill's own deploy
    (or any other setup record) has not detected the attack, whatever its id says.
    """
    deadline = time.monotonic() + WAIT
    found: dict[str, dict[str, Any]] = {}
    stale: dict[str, dict[str, Any]] = {}
    quiet: tuple[int, float] | None = None  # (stored count, since when) while unchanged
    while True:
        count = _evaluated(node)
        if count is None or quiet is None or quiet[0] != count:
            quiet = None if count is None else (count, time.monotonic())
        settled = quiet is not None and time.monotonic() - quiet[1] >= QUIET
        for a in node.get("/v1/alerts", limit=1000)["alerts"]:
            if a["rule"] not in rules:
                continue
            if any(str(ev) not in before for ev in a.get("evidence") or []):
                found.setdefault(a["rule"], a)
            else:
                stale.setdefault(a["rule"], a)
        if set(found) >= set(rules) or settled or time.monotonic() > deadline:
            return found, {r: a for r, a in stale.items() if r not in found}
        time.sleep(0.3)


def _poll(probe: Callable[[], T | None], timeout: float) -> T | None:
    deadline = time.monotonic() + timeout
    while True:
        got = probe()
        if got is not None or time.monotonic() > deadline:
            return got
        time.sleep(0.3)


def _matching_playbooks(node: ThrowawayNode, rules: set[str]) -> list[str]:
    books = node.get("/v1/playbooks")["playbooks"]
    return [b["name"] for b in books if not b["match"]["rules"] or rules & set(b["match"]["rules"])]


def _wait_incident(node: ThrowawayNode, rules: set[str]) -> dict[str, Any] | None:
    """The incident of ``rules`` once its playbook steps have run.

    The node stores a new incident before it adds the matching playbooks' steps, so
    while a playbook matches, an incident with no steps yet is not settled (taking it
    failed the drill's playbook, timeline and containment checks on a busy machine).
    """
    playbook = bool(_matching_playbooks(node, rules))

    def probe(need_steps: bool) -> dict[str, Any] | None:
        for inc in node.get("/v1/incidents")["incidents"]:
            steps = inc["steps"]
            if need_steps and not steps:
                continue
            if inc["rule"] in rules and all(s["status"] != "planned" for s in steps):
                return node.get(f"/v1/incidents/{inc['id']}")
        return None

    found = _poll(lambda: probe(playbook), WAIT if playbook else NO_PLAYBOOK_GRACE)
    # a playbook that added no step (all repeats): report the incident as it is
    return found if found is not None or not playbook else probe(False)


# -- reports ---------------------------------------------------------------------------------
def _raised_at(node: ThrowawayNode, alert: dict[str, Any]) -> float:
    """When the node raised the alert: its own audit record (kind ``alert``), else its ts."""
    after = 0
    while True:
        page = node.get("/v1/audit", limit=1000, after=after)["events"]
        for e in page:
            if e["kind"] == "alert" and (e.get("detail") or {}).get("alert_id") == alert["id"]:
                return float(e["ts"])
        if len(page) < 1000:
            return float(alert["ts"])
        after = page[-1]["seq"]


def _missing_alert(node: ThrowawayNode, rule: str) -> str:
    stats = node.get("/v1/alerts", limit=1)["detections"]
    return (
        f"no alert from rule {rule}: the node evaluated all {stats['evaluated']} records it "
        f"stored and raised none ({stats['rules']} rules loaded; is {rule} in the rule set?)"
    )


def _stale_alert(alert: dict[str, Any]) -> str:
    return (
        f"alert {alert['id'][:12]} from rule {alert['rule']} fired only on records stored "
        "before the attack started (the drill's own setup, e.g. its deploy), none of the "
        "attack's: the rule did not detect the attack"
    )


def _no_playbook(node: ThrowawayNode, rules: set[str]) -> str:
    names = _matching_playbooks(node, rules)
    if not names:
        return f"no playbook on the node matches rule {', '.join(sorted(rules))}: nothing acted"
    return f"playbook {', '.join(names)} matched but ran no step"


def check_timeline(incident: dict[str, Any]) -> Check:
    """The alert comes first on the timeline, then each step that ran, in time order."""
    timeline = incident.get("timeline") or []
    alert_at = next((i for i, t in enumerate(timeline) if t.get("kind") == "alert"), None)
    if alert_at is None:
        return Check("timeline", False, "the incident's timeline has no alert entry")
    steps = [(i, t) for i, t in enumerate(timeline) if t.get("kind") == "step"]
    if not steps:
        return Check("timeline", False, "the incident's timeline has no step after the alert")
    alert_ts = float(timeline[alert_at].get("ts") or 0)
    for i, t in steps:
        if i < alert_at or float(t.get("ts") or 0) < alert_ts:
            return Check("timeline", False, f"step entry {t.get('text')!r} comes before the alert")
    ts = [float(t.get("ts") or 0) for _, t in steps]
    if ts != sorted(ts):
        return Check("timeline", False, "the step entries are not in time order")
    return Check("timeline", True, f"alert, then {len(steps)} step entries in order")
