"""The detection engine: rules evaluated over records in the order they were stored.

Pure and single-threaded: ``process`` takes a batch of records from one source
and returns the matches it completed.  Time is the records' own (``ts`` for
audit records, ``started_at`` for invocations), so a recorded stream replays
exactly as it happened live.  The threaded pipeline around it is in
``ramparts.respond.service``.

State is bounded: each rule keeps at most ``max_groups`` groups (least recently
active evicted first), a threshold group at most ``threshold`` records (it fires
when their weights -- 1, or an aggregated record's ``count`` -- reach it), and a
first_seen group at most ``MAX_VALUES`` values (past that, new values are still
reported, but not remembered) and a first_seen rule at most ``MAX_VALUES_PER_RULE``
values over all its groups (past that, its least recently active groups go).
An evicted group starts over: an attacker that
spreads over more groups than the cap can delay a threshold rule, and a
first_seen rule reports the evicted group's values again after its learning
period.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ramparts.observe.counting import represented
from ramparts.respond.rules import MAX_VALUES, MAX_VALUES_PER_RULE, Rule

ALERT_KIND = "alert"  # audit records of alerts: never evaluated again (no feedback loops)


@dataclass
class Match:
    """A rule fired for one group: ``count`` records, identified by ``evidence``."""

    rule: Rule
    group: str
    ts: float
    count: int
    evidence: list[str]


@dataclass
class _Threshold:
    hits: deque[tuple[float, str, int]]  # (ts, evidence id, events the record stands for)
    total: int = 0  # the sum of the weights in ``hits``
    hot_until: float = 0.0


@dataclass
class _Sequence:
    step: int
    started: float
    count: int = 0
    total: int = 0
    evidence: list[str] = field(default_factory=list)


@dataclass
class _Seen:
    first: float
    values: set[str] = field(default_factory=set)


MAX_EVIDENCE = 100


def record_time(source: str, record: dict[str, Any]) -> float:
    value = record.get("ts" if source == "audit" else "started_at")
    return float(value) if isinstance(value, int | float) else 0.0


def evidence_id(source: str, record: dict[str, Any]) -> str:
    """Audit records by their id; invocations by ``invocation:<request id>``."""
    if source == "audit":
        return str(record.get("id") or "")
    return f"invocation:{record.get('request_id') or ''}"


class DetectionEngine:
    """Evaluates every rule over each record; not thread-safe (one evaluating thread)."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = list(rules)
        self._state: dict[str, OrderedDict[str, Any]] = {r.id: OrderedDict() for r in self.rules}
        self._relevant: dict[tuple[str, Any], list[Rule]] = {}
        self._values: dict[str, int] = {r.id: 0 for r in self.rules}  # first_seen totals
        self.evaluated = 0

    def _rules_for(self, source: str, kind: Any) -> list[Rule]:
        """The rules one of whose steps can match a record of this source and kind (cached)."""
        key = (source, kind if isinstance(kind, str) else None)
        found = self._relevant.get(key)
        if found is None:
            if len(self._relevant) > 4096:  # kinds come from our emitters: few; stay bounded
                self._relevant.clear()
            found = self._relevant[key] = [
                r for r in self.rules
                if any(
                    s.matcher.source == source
                    and (s.matcher.kinds is None or key[1] in s.matcher.kinds)
                    for s in r.steps
                )
            ]
        return found

    def process(self, source: str, records: Iterable[dict[str, Any]]) -> list[Match]:
        out: list[Match] = []
        for record in records:
            kind = record.get("kind") if source == "audit" else None
            if kind == ALERT_KIND:
                continue
            self.evaluated += 1
            rules = self._rules_for(source, kind)
            if not rules:
                continue
            ts = record_time(source, record)
            ev = evidence_id(source, record)
            # An aggregated record (a rate-limit flood) counts as the refusals it stands for.
            weight = represented(record) if source == "audit" else 1
            for rule in rules:
                if rule.kind == "threshold":
                    self._threshold(rule, source, record, ts, ev, out, weight)
                elif rule.kind == "sequence":
                    self._sequence(rule, source, record, ts, ev, out, weight)
                else:
                    self._first_seen(rule, source, record, ts, ev, out)
        return out

    def groups(self, rule_id: str) -> int:
        """How many groups a rule holds now (for tests of the bound)."""
        return len(self._state[rule_id])

    def values(self, rule_id: str) -> int:
        """How many values a first_seen rule remembers over all its groups (ditto)."""
        return self._values[rule_id]

    # -- state ----------------------------------------------------------------------------------
    def _slot(self, rule: Rule, group: str, make: Any) -> Any:
        table = self._state[rule.id]
        slot = table.get(group)
        if slot is None:
            slot = table[group] = make()
            while len(table) > rule.max_groups:
                self._forget(rule, table.popitem(last=False)[1])
        else:
            table.move_to_end(group)
        return slot

    def _forget(self, rule: Rule, slot: Any) -> None:
        if isinstance(slot, _Seen):
            self._values[rule.id] -= len(slot.values)

    # -- kinds ----------------------------------------------------------------------------------
    def _threshold(
        self, rule: Rule, source: str, record: dict[str, Any], ts: float, ev: str,
        out: list[Match], weight: int = 1,
    ) -> None:
        step = rule.steps[0]
        if step.matcher.source != source or not step.matcher.matches(record):
            return
        for group in step.group_keys(record):
            slot: _Threshold = self._slot(rule, group, lambda: _Threshold(deque()))
            if ts < slot.hot_until:
                # Fired already: each further record adds to the open alert's count.
                out.append(Match(rule, group, ts, weight, [ev]))
                continue
            slot.hits.append((ts, ev, weight))
            slot.total += weight
            while slot.hits and ts - slot.hits[0][0] > rule.window:
                slot.total -= slot.hits.popleft()[2]
            if slot.total >= step.threshold:
                out.append(Match(rule, group, ts, slot.total, [e for _, e, _ in slot.hits]))
                slot.hits.clear()
                slot.total = 0
                slot.hot_until = ts + rule.suppress

    def _sequence(
        self, rule: Rule, source: str, record: dict[str, Any], ts: float, ev: str,
        out: list[Match], weight: int = 1,
    ) -> None:
        table = self._state[rule.id]
        last = len(rule.steps) - 1
        advanced: set[str] = set()
        for i in range(last, 0, -1):  # later steps first: one record advances a group once
            step = rule.steps[i]
            if step.matcher.source != source or not step.matcher.matches(record):
                continue
            for group in step.group_keys(record, named=False):
                slot: _Sequence | None = table.get(group)
                if slot is None or slot.step != i or group in advanced:
                    continue
                if ts - slot.started > rule.window:
                    del table[group]
                    continue
                table.move_to_end(group)
                advanced.add(group)
                slot.count += weight
                slot.total += weight
                if len(slot.evidence) < MAX_EVIDENCE:
                    slot.evidence.append(ev)
                if slot.count < step.threshold:
                    continue
                if i == last:
                    out.append(Match(rule, group, ts, slot.total, list(slot.evidence)))
                    del table[group]
                else:
                    slot.step, slot.count = i + 1, 0
        first = rule.steps[0]
        if first.matcher.source != source or not first.matcher.matches(record):
            return
        for group in first.group_keys(record, named=False):
            if group in advanced:
                continue
            slot = self._slot(rule, group, lambda: _Sequence(step=0, started=ts))
            # (Re)start: a new first step restarts the window for its group.
            slot.step, slot.started, slot.count, slot.total, slot.evidence = 1, ts, 0, weight, [ev]

    def _first_seen(
        self, rule: Rule, source: str, record: dict[str, Any], ts: float, ev: str,
        out: list[Match],
    ) -> None:
        step = rule.steps[0]
        if rule.value is None or step.matcher.source != source or not step.matcher.matches(record):
            return
        values = rule.value.values(record)
        if not values:
            return
        for group in step.group_keys(record):
            slot: _Seen = self._slot(rule, group, lambda: _Seen(first=ts))
            learning = ts - slot.first < rule.learn
            for value in values:
                if value in slot.values:
                    continue
                if len(slot.values) < MAX_VALUES:
                    slot.values.add(value)
                    self._values[rule.id] += 1
                    table = self._state[rule.id]
                    while self._values[rule.id] > MAX_VALUES_PER_RULE and len(table) > 1:
                        oldest = next(iter(table))
                        self._forget(rule, table.pop(oldest))
                if not learning:
                    out.append(Match(rule, f"{group}, {rule.value.field}={value}", ts, 1, [ev]))
