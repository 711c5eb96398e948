"""Anomaly baseline: what a function version normally does, and what is new.

For each version the node learns the actions it calls, the resources it
touches and the egress destinations it asks for, during a learning window
(``anomaly_window:``; by default the first 24 hours *and* the first 1,000
invocations, whichever ends later).  After the window, each action, resource
or destination not seen before raises one low-severity ``anomaly.new_behavior``
security event (then it is part of the baseline).  The monitoring issue's
detection rules consume those events.

The baseline lives in the node's memory: a restarted node, or another node
of a cluster, learns its own.  Each version keeps at most ``MAX_ENTRIES``
entries per kind; past that, new entries are reported but not remembered.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_ENTRIES = 10_000
KINDS = ("action", "resource", "egress")

# (kind, spec, request id, detail) -> None: the node turns it into an audit event
Emit = Callable[[str, Any, "str | None", dict[str, Any]], None]


@dataclass
class _Profile:
    started: float
    window_seconds: float
    window_invocations: int
    invocations: int = 0
    seen: dict[str, set[str]] = field(default_factory=lambda: {k: set() for k in KINDS})

    def learning(self, now: float) -> bool:
        return (
            now - self.started < self.window_seconds or self.invocations < self.window_invocations
        )


class AnomalyBaseline:
    """Per-version profiles; thread-safe (the broker may call from worker threads)."""

    def __init__(self, emit: Emit, *, clock: Callable[[], float] = time.time) -> None:
        self._emit = emit
        self._clock = clock
        self._profiles: dict[str, _Profile] = {}
        self._lock = threading.Lock()

    def _profile(self, spec: Any) -> _Profile:
        p = self._profiles.get(spec.key)
        if p is None:
            seconds, invocations = getattr(spec, "anomaly_window", (86400.0, 1000))
            p = self._profiles[spec.key] = _Profile(self._clock(), float(seconds), int(invocations))
        return p

    def invocation(self, spec: Any) -> None:
        """Count one invocation of the version (the window needs both time and calls)."""
        with self._lock:
            self._profile(spec).invocations += 1

    def observe(self, spec: Any, kind: str, value: str, request_id: str | None = None) -> bool:
        """Record one use; True (and an event) when it is new after the window."""
        if kind not in KINDS or not value:
            return False
        with self._lock:
            p = self._profile(spec)
            seen = p.seen[kind]
            if value in seen:
                return False
            learning = p.learning(self._clock())
            if len(seen) < MAX_ENTRIES:
                seen.add(value)
            if learning:
                return False
        self._emit(
            "anomaly.new_behavior",
            spec,
            request_id,
            {"behavior": kind, "value": value, "severity": "low"},
        )
        return True

    def forget(self, key: str) -> None:
        """Drop a retired version's profile."""
        with self._lock:
            self._profiles.pop(key, None)

    def profile(self, key: str) -> dict[str, Any] | None:
        """What was learned for a version (for status and tests)."""
        with self._lock:
            p = self._profiles.get(key)
            if p is None:
                return None
            return {
                "learning": p.learning(self._clock()),
                "invocations": p.invocations,
                "seen": {k: sorted(v) for k, v in p.seen.items()},
            }
