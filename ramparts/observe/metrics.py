"""Prometheus metrics of one node: what ran, what failed, what was refused.

Each node owns its ``CollectorRegistry`` (never the process-wide default, so
several nodes in one process keep separate counts).  The counters are fed off
the request path: invocation counters by an ``InvocationLog`` sink and the
security counters by an ``AuditLog`` sink, both on their writers' threads once
a batch is stored; dead letters and backend errors by one ``inc`` where they
happen.  Queue depths are read from the bus only when someone scrapes.

Labels are bounded: a function name (of a deployed function), a trigger kind,
an invocation status, a fixed surface name.  Request ids, paths, addresses,
principals and anything a handler or a caller chose never become a label.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

from ramparts.observe.counting import represented

log = logging.getLogger("ramparts.observe")

CONTENT_TYPE = CONTENT_TYPE_LATEST

# Audit kinds whose denials are failed authentications, by the surface they came through.
AUTH_FAILURE_KINDS = {
    "gateway.auth": "gateway",
    "control.auth": "control",
    "oauth.token": "oauth",
    "aws.credentials": "aws",
    "aws.auth": "sigv4",  # a SigV4-signed request to the AWS-compatible endpoint
}
# ``aws.auth`` denials that refused the request before its credentials were looked at.
NOT_AUTH_FAILURES = {"aws.auth": frozenset({"unknown_service", "body_too_large"})}
# The gateway audits a check's refusal as ``gateway.<check>``: the DoS/WAF checks' names.
WAF_KINDS = ("gateway.waf", "waf.")
RATE_LIMIT_KINDS = ("gateway.rate_limit", "gateway.ratelimit", "ratelimit.", "rate_limit.")
# The invocation budget ledger's aggregated refusals (ramparts.budget).
BUDGET_KIND = "budget.exhausted"
# What runtime protection and the egress proxy report from inside a sandbox.
SANDBOX_VIOLATION_KINDS = frozenset({"runtime.violation", "egress.deny"})
# Invocation statuses (``InvocationStatus``) and trigger kinds are fixed by our code; a
# value outside these sets is counted as "other" so no label can grow without bound.
_STATUSES = frozenset({"ok", "error", "timeout", "throttled", "crashed"})
_TRIGGERS = frozenset(
    {"http", "invoke", "topic", "object", "table", "schedule", "webhook", "event", "rotation"}
)
_DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
                     300.0, 900.0)

QueueDepths = Callable[[], Awaitable[dict[str, int]]]


class NodeMetrics:
    """The node's metrics and the sinks that feed them."""

    def __init__(self) -> None:
        # No ``*_created`` series: they double the output and no dashboard of ours reads them.
        disable_created_metrics()
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.invocations = Counter(
            "ramparts_invocations", "Invocations that finished, by function, trigger and outcome",
            ["function", "trigger", "outcome"], registry=r,
        )
        self.errors = Counter(
            "ramparts_invocation_errors",
            "Invocations that did not succeed (error, timeout, throttled, crashed)",
            ["function", "trigger", "outcome"], registry=r,
        )
        self.duration = Histogram(
            "ramparts_invocation_duration_seconds", "Invocation duration as the host measured it",
            ["function", "trigger"], buckets=_DURATION_BUCKETS, registry=r,
        )
        self.cold_starts = Counter(
            "ramparts_cold_starts", "Invocations that had to start a new worker",
            ["function"], registry=r,
        )
        self.throttles = Counter(
            "ramparts_throttles", "Invocations refused at the function's concurrency limit",
            ["function"], registry=r,
        )
        self.auth_failures = Counter(
            "ramparts_auth_failures", "Refused authentications, by the surface they came through",
            ["surface"], registry=r,
        )
        self.policy_denials = Counter(
            "ramparts_policy_denials", "Resource accesses a function's role refused",
            ["function"], registry=r,
        )
        self.waf_blocks = Counter(
            "ramparts_waf_blocks", "Requests the WAF refused", registry=r,
        )
        self.rate_limit_blocks = Counter(
            "ramparts_rate_limit_blocks", "Requests refused by a rate limit", registry=r,
        )
        self.budget_blocks = Counter(
            "ramparts_budget_blocks",
            "Invocations refused because a function's or app's invocation budget was used up",
            ["function"], registry=r,
        )
        self.sandbox_violations = Counter(
            "ramparts_sandbox_violations",
            "Runtime-protection detections and refused egress from sandboxed workers",
            ["function", "kind"], registry=r,
        )
        self.dead_letters = Counter(
            "ramparts_dead_letters", "Events given up on after their retries",
            ["function"], registry=r,
        )
        self.backend_errors = Counter(
            "ramparts_backend_errors", "Failures of the state store or the bus, by where seen",
            ["component"], registry=r,
        )
        self._depths: _QueueDepthCollector | None = None

    # -- feeds ---------------------------------------------------------------------------------
    def invocation_sink(self, rows: Sequence[dict[str, Any]]) -> None:
        """``InvocationLog`` sink: count stored invocation records."""
        for row in rows:
            function = str(row.get("function") or "")
            trigger = _bounded(row.get("trigger"), _TRIGGERS)
            outcome = _bounded(row.get("status"), _STATUSES)
            self.invocations.labels(function, trigger, outcome).inc()
            if outcome != "ok":
                self.errors.labels(function, trigger, outcome).inc()
            if outcome == "throttled":
                self.throttles.labels(function).inc()
            else:  # a throttled call never ran: its zero duration would skew the histogram
                duration = row.get("duration_ms")
                if isinstance(duration, int | float):
                    self.duration.labels(function, trigger).observe(max(duration, 0.0) / 1000.0)
            if row.get("cold"):
                self.cold_starts.labels(function).inc()

    def deliver(self, records: Sequence[dict[str, Any]]) -> None:
        """``AuditLog`` sink: count security decisions (see the module docstring)."""
        for rec in records:
            decision = rec.get("decision")
            if decision == "allow":
                continue
            kind = str(rec.get("kind") or "")
            detail = rec.get("detail") if isinstance(rec.get("detail"), dict) else {}
            if (
                decision == "deny"
                and kind in AUTH_FAILURE_KINDS
                and detail.get("reason") not in NOT_AUTH_FAILURES.get(kind, ())
            ):
                # a flood's refusals are aggregated (ramparts.ratelimit.aggregate)
                self.auth_failures.labels(AUTH_FAILURE_KINDS[kind]).inc(represented(rec))
            elif decision == "deny" and kind == "resource.access":
                self.policy_denials.labels(_principal_function(str(rec.get("principal")))).inc()
            elif decision == "deny" and kind.startswith(WAF_KINDS):
                self.waf_blocks.inc(represented(rec))
            elif decision == "deny" and kind.startswith(RATE_LIMIT_KINDS):
                # Aggregated under a flood: one record stands for ``count`` refusals.
                self.rate_limit_blocks.inc(represented(rec))
            elif decision == "deny" and kind == BUDGET_KIND:
                # one record per function and second stands for ``count`` refusals
                self.budget_blocks.labels(_resource_function(str(rec.get("resource")))).inc(
                    represented(rec)
                )
            elif kind in SANDBOX_VIOLATION_KINDS:
                self.sandbox_violations.labels(str(detail.get("function") or ""), kind).inc()

    def dead_letter(self, function: str) -> None:
        self.dead_letters.labels(function).inc()

    def backend_error(self, component: str) -> None:
        self.backend_errors.labels(component).inc()

    def watch_queues(self, loop: asyncio.AbstractEventLoop, depths: QueueDepths) -> None:
        """Report ``ramparts_queue_depth`` per function, read from the bus at scrape time.

        ``depths`` runs on ``loop``; scrapes run on another thread (``render``), which
        waits for it a bounded time and then reports the family empty rather than hang.
        """
        self._depths = _QueueDepthCollector(loop, depths, self)
        self.registry.register(self._depths)

    # -- exposition ----------------------------------------------------------------------------
    def render(self) -> bytes:
        """The Prometheus text format of every metric.  Blocking: call it off the loop."""
        return generate_latest(self.registry)


class _QueueDepthCollector(Collector):
    def __init__(
        self, loop: asyncio.AbstractEventLoop, depths: QueueDepths, metrics: NodeMetrics
    ) -> None:
        self._loop = loop
        self._depths = depths
        self._metrics = metrics

    def describe(self) -> Iterable[Metric]:
        return [self._family()]

    def _family(self) -> GaugeMetricFamily:
        return GaugeMetricFamily(
            "ramparts_queue_depth",
            "Events queued for a function and not yet acknowledged (read at scrape time)",
            labels=["function"],
        )

    def collect(self) -> Iterable[Metric]:
        family = self._family()
        try:
            future = asyncio.run_coroutine_threadsafe(self._depths(), self._loop)
        except RuntimeError:  # the loop is closed: the node is stopping
            return [family]
        try:
            depths = future.result(timeout=5.0)
        except FutureTimeout:
            future.cancel()
            self._metrics.backend_error("queue_depth")
            return [family]
        except Exception:
            log.warning("reading queue depths for /metrics failed", exc_info=True)
            self._metrics.backend_error("queue_depth")
            return [family]
        for function, depth in sorted(depths.items()):
            family.add_metric([function], float(depth))
        return [family]


def _bounded(value: Any, allowed: frozenset[str]) -> str:
    text = str(value or "")
    return text if text in allowed else "other"


def _principal_function(principal: str) -> str:
    """``function:NAME@VERSION`` (the broker's principal) -> NAME; anything else -> ""."""
    if not principal.startswith("function:"):
        return ""
    return principal[len("function:") :].split("@", 1)[0]


def _resource_function(resource: str) -> str:
    """``function:NAME`` (a budget refusal's resource) -> NAME; anything else -> ""."""
    return resource[len("function:") :] if resource.startswith("function:") else ""
