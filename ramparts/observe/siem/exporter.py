"""The audit sink that feeds every ``--siem`` destination.

Threads, and why:

- ``deliver`` runs on the audit writer thread after each stored batch; it
  only puts the batch on an in-memory queue and returns.
- one spooler thread moves queued batches into every destination's on-disk
  ``Spool`` (fast, local: a collector's state never slows it);
- one sender thread per destination takes up to ``batch_size`` spooled
  records, sends them, and deletes them only once accepted.  On failure it
  logs (at the first failure, then once a minute), counts, and waits with
  exponential backoff and jitter up to ``retry_max_delay`` before retrying.

Losses are never silent: records dropped because a spool was full are
counted in ``status()`` and reported as ``siem.dropped`` audit records.
A record an HTTP collector refuses for good (413 even when sent alone, the
batch being halved until it is; a bulk item's 4xx) is dropped so it cannot
hold back the rest, counted as ``rejected`` and reported as ``siem.rejected``.

Both reports are about the exporter itself, and they go into the same
spools: a collector refusing everything would otherwise refuse each report
too, which would be reported again, without end.  So reports are aggregated
(counts) and rate-limited, at most one record of each kind per destination
every ``LOSS_REPORT_INTERVAL``, with one summary log line (never a line per
record); and a refused or dropped ``siem.*`` record is counted but never reported.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from ramparts.files import PRIVATE_DIR
from ramparts.observe.siem.errors import DeliveryFailed, ItemsRefused, Refused
from ramparts.observe.siem.spool import Spool
from ramparts.observe.siem.targets import Target
from ramparts.observe.siem.transports import open_transport
from ramparts.observe.siem.transports.base import TokenSource, Transport

log = logging.getLogger("ramparts.siem")

LOSS_REPORT_INTERVAL = 10.0
FAILURE_LOG_INTERVAL = 60.0
FIRST_RETRY = 0.5
DRAIN_TIMEOUT = 10.0  # at shutdown: how long the senders may keep trying to empty their spools

Notify = Callable[..., None]  # (kind, *, decision, action, resource, **detail) -> audit record


class Destination:
    """One ``--siem`` URL: its spool, its transport, its sender thread and its counters."""

    def __init__(
        self,
        target: Target,
        spool: Spool,
        transport: Transport,
        *,
        batch_size: int,
        retry_max_delay: float,
        notify: Notify | None = None,
    ) -> None:
        self.target = target
        self.notify = notify
        self.size = batch_size  # shrinks while a refused batch is narrowed down
        self.rejected = 0
        # refusals not yet reported (the sender adds, whoever reports takes; under _report_lock)
        self._report_lock = threading.Lock()
        self.unreported_rejects = 0
        self.unreported_reported = 0  # of those, the ones about records that are not siem.*
        self.first_reject: dict[str, Any] | None = None
        self.last_reject_reason = ""
        self.last_reject_report = -LOSS_REPORT_INTERVAL
        self.spool = spool
        self.transport = transport
        self.batch_size = batch_size
        self.retry_max_delay = retry_max_delay
        self.wake = threading.Event()
        self.stopping = threading.Event()
        self.sent = 0
        self.dropped = 0
        self.unreported_loss = 0
        self.last_loss_report = -LOSS_REPORT_INTERVAL
        self.failures = 0
        self.consecutive_failures = 0
        self.last_error = ""
        self.last_error_at: float | None = None
        self.last_sent_at: float | None = None
        self._last_failure_log = 0.0
        self.thread = threading.Thread(
            target=self._run, name=f"siem-{target.scheme}", daemon=True
        )

    def status(self) -> dict[str, Any]:
        spooled, spool_bytes = self.spool.size()
        if self.consecutive_failures:
            state = "failing"
        elif spooled:
            state = "sending"
        else:
            state = "ok"
        return {
            "url": self.target.url,
            "format": self.target.format,
            "state": state,
            "spooled": spooled,
            "spool_bytes": spool_bytes,
            "spool_limit": self.spool.limit,
            "sent": self.sent,
            "dropped": self.dropped,
            "rejected": self.rejected,
            "failures": self.failures,
            "consecutive_failures": self.consecutive_failures,
            "last_error": self.last_error or None,
            "last_error_at": self.last_error_at,
            "last_sent_at": self.last_sent_at,
        }

    def _send_once(self) -> bool | None:
        """One batch: True sent, False failed, None nothing to send."""
        rows = self.spool.peek(self.size)
        if not rows:
            return None
        records = [orjson.loads(body) for _, body in rows]
        try:
            self.transport.send(records)
        except Refused as exc:
            if len(rows) > 1:  # narrow it down: halves until the refused record is alone
                self.size = max(1, len(rows) // 2)
                self._failed(exc)
                return False
            self.spool.ack(rows[0][0])
            self._reject(records[0], exc.message)
            return True
        except ItemsRefused as exc:
            return self._partly_sent(rows, records, exc)
        except Exception as exc:
            self._failed(exc)
            return False
        self.spool.ack(rows[-1][0])
        self.size = min(self.batch_size, self.size * 2)
        self._sent(len(rows))
        return True

    def _sent(self, n: int) -> None:
        self.sent += n
        self.last_sent_at = time.time()
        if self.consecutive_failures:
            log.warning(
                "SIEM destination %s recovered after %d failed attempts; sending its backlog",
                self.target.where,
                self.consecutive_failures,
            )
        self.consecutive_failures = 0

    def _partly_sent(
        self, rows: list[tuple[int, bytes]], records: list[dict[str, Any]], exc: ItemsRefused
    ) -> bool:
        """The collector took some records, refused some for good, and asks to retry the rest:
        only the last stay spooled."""
        done = [seq for n, (seq, _) in enumerate(rows) if n not in exc.retry]
        self.spool.remove(done)
        for n, reason in sorted(exc.rejected.items()):
            self._reject(records[n], reason)
        accepted = len(rows) - len(exc.rejected) - len(exc.retry)
        if accepted:
            self._sent(accepted)
        if exc.retry:
            self._failed(exc)
            return False
        return True

    def _reject(self, record: dict[str, Any], reason: str) -> None:
        """The collector refuses this record for good (already off the spool): count it, and
        leave the report to ``report_rejects`` (aggregated, rate-limited)."""
        self.rejected += 1
        self.last_error, self.last_error_at = reason, time.time()
        with self._report_lock:
            self.unreported_rejects += 1
            self.last_reject_reason = reason
            if not str(record.get("kind") or "").startswith("siem."):  # no report of a report
                self.unreported_reported += 1
                if self.first_reject is None:
                    self.first_reject = {"id": record.get("id"), "kind": record.get("kind")}
        self.report_rejects()

    def report_rejects(self, *, force: bool = False) -> None:
        """At most once per ``LOSS_REPORT_INTERVAL``: one log line and (unless every refused
        record was itself a ``siem.*`` report) one ``siem.rejected`` audit record."""
        now = time.monotonic()
        with self._report_lock:
            if not self.unreported_rejects:
                return
            if not force and now - self.last_reject_report < LOSS_REPORT_INTERVAL:
                return
            count, audited, first = (
                self.unreported_rejects, self.unreported_reported, self.first_reject
            )
            reason = self.last_reject_reason
            self.unreported_rejects = self.unreported_reported = 0
            self.first_reject = None
            self.last_reject_report = now
        log.error(
            "SIEM destination %s refused %d records for good (%s): dropped them",
            self.target.where,
            count,
            reason,
        )
        if audited and first is not None and self.notify is not None:
            self.notify(
                "siem.rejected",
                decision="detect",
                action="siem:Reject",
                resource=f"siem:{self.target.url}",
                rejected=audited,
                rejected_total=self.rejected,
                record_id=first["id"],  # the first of this report's records
                record_kind=first["kind"],
                reason=reason,
                severity="high",
            )

    def _failed(self, exc: Exception) -> None:
        reason = exc.message if isinstance(exc, DeliveryFailed) else (
            f"{self.target.where}: unexpected {type(exc).__name__}"
        )
        self.failures += 1
        self.consecutive_failures += 1
        self.last_error, self.last_error_at = reason, time.time()
        now = time.monotonic()
        if self.consecutive_failures == 1 or now - self._last_failure_log >= FAILURE_LOG_INTERVAL:
            self._last_failure_log = now
            log.warning(
                "SIEM destination failing: %s (%d records spooled, retrying)",
                reason,
                self.spool.count,
            )

    def _backoff(self) -> float:
        delay = min(self.retry_max_delay, FIRST_RETRY * 2 ** min(self.consecutive_failures - 1, 16))
        return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not a secret

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                outcome = self._send_once()
            except Exception as exc:  # the spool itself failed: keep trying, never die
                self._failed(exc)
                outcome = False
            if outcome is None:
                self.wake.wait(1.0)
                self.wake.clear()
            elif outcome is False:
                self.stopping.wait(self._backoff())
        deadline = time.monotonic() + DRAIN_TIMEOUT
        try:
            while time.monotonic() < deadline and self._send_once():
                pass  # the last records of this run, while the destination takes them
        except Exception as exc:
            self._failed(exc)
        finally:
            self.report_rejects(force=True)
            self.transport.close()
            self.spool.close()


class SiemExporter:
    """An ``AuditSink`` exporting every stored audit record to each destination."""

    def __init__(
        self,
        targets: Sequence[Target],
        *,
        spool_dir: Path,
        spool_limit: int,
        version: str,
        token: TokenSource | None = None,
        notify: Notify | None = None,
        retry_max_delay: float = 30.0,
        batch_size: int = 200,
    ) -> None:
        spool_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
        self._notify = notify
        self._inbox: queue.SimpleQueue[list[dict[str, Any]] | None] = queue.SimpleQueue()
        self.destinations = [
            Destination(
                t,
                Spool(spool_dir / f"{t.key}.db", spool_limit),
                open_transport(t, version=version, token=token),
                batch_size=batch_size,
                retry_max_delay=retry_max_delay,
                notify=notify,
            )
            for t in targets
        ]
        self._spooler = threading.Thread(target=self._spool_loop, name="siem-spool", daemon=True)

    def start(self) -> None:
        self._spooler.start()
        for d in self.destinations:
            d.thread.start()
            if d.spool.count:
                log.warning(
                    "SIEM destination %s has %d records spooled from before; sending them",
                    d.target.where,
                    d.spool.count,
                )

    def deliver(self, records: Sequence[dict[str, Any]]) -> None:
        """The AuditSink hook: queue and return (runs on the audit writer thread)."""
        if records:
            self._inbox.put(list(records))

    def status(self) -> list[dict[str, Any]]:
        return [d.status() for d in self.destinations]

    def _spool_loop(self) -> None:
        while True:
            try:
                batch = self._inbox.get(timeout=LOSS_REPORT_INTERVAL / 2)
            except queue.Empty:
                self._report_losses()
                continue
            if batch is None:
                self._report_losses(force=True)
                return
            while True:  # take whatever else is waiting: one spool transaction for all of it
                try:
                    more = self._inbox.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self._inbox.put(None)
                    break
                batch.extend(more)
            try:
                self._spool_batch(batch)
            except Exception:  # never let the spooler die: the queue would only grow
                log.exception("SIEM spooler failed on a batch of %d records", len(batch))
            self._report_losses()

    def _spool_batch(self, batch: list[dict[str, Any]]) -> None:
        bodies = [orjson.dumps(r, default=str) for r in batch]
        for d in self.destinations:
            try:
                lost, reports = d.spool.put(bodies)
            except Exception as exc:  # a broken spool loses this batch for d: say so
                log.error("SIEM spool of %s failed: %s", d.target.where, exc)
                lost, reports = len(bodies), 0
            if lost:
                d.dropped += lost
                d.unreported_loss += lost - reports  # a lost report is counted, not reported
            d.wake.set()

    def _report_losses(self, *, force: bool = False) -> None:
        now = time.monotonic()
        for d in self.destinations:
            d.report_rejects()
            if not d.unreported_loss:
                continue
            if not force and now - d.last_loss_report < LOSS_REPORT_INTERVAL:
                continue
            lost, d.unreported_loss, d.last_loss_report = d.unreported_loss, 0, now
            log.error(
                "SIEM spool of %s is full (%d bytes): dropped the %d oldest records",
                d.target.where,
                d.spool.limit,
                lost,
            )
            if self._notify is not None:
                self._notify(
                    "siem.dropped",
                    decision="detect",
                    action="siem:Drop",
                    resource=f"siem:{d.target.url}",
                    dropped=lost,
                    dropped_total=d.dropped,
                    spool_limit=d.spool.limit,
                    severity="high",
                )

    def close(self) -> None:
        """Spool what was queued, give each destination a short last chance, stop."""
        if self._spooler.is_alive():
            self._inbox.put(None)
            self._spooler.join()
        for d in self.destinations:
            d.stopping.set()
            d.wake.set()
        for d in self.destinations:
            if d.thread.is_alive():
                d.thread.join(DRAIN_TIMEOUT + 15)
