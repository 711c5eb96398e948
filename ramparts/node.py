"""A Ramparts node: one asyncio loop running the gateway, the control API, the
dispatcher, the scheduler, the outbox relay and the worker supervisor.

Nodes are stateless: everything durable lives in the state store and the
bus, chosen by URL.  A node notices registry changes made by any node by
polling the store's generation counter and rebuilds its routes and
subscriptions from the live aliases.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ramparts
from ramparts import integrity, yamlsafe
from ramparts.aws.credentials import CredentialAuthority, open_authority
from ramparts.aws.runtime import AwsRuntime
from ramparts.broker import Broker
from ramparts.budget import AppSlots, Caller, Ledger, Refusal
from ramparts.bus import open_bus
from ramparts.bus.base import Bus
from ramparts.config import Settings, ensure_admin_token, ensure_node_identity
from ramparts.containment.actions import Containment
from ramparts.containment.runner import IncidentDesk
from ramparts.crypto.seams import SealedBus, SealedStore
from ramparts.crypto.signing import VersionSigner, open_signer
from ramparts.crypto.vault import open_vault
from ramparts.errors import (
    InvocationError,
    ManifestError,
    NotFound,
    RampartsError,
    SandboxError,
    StorageError,
    UnshippedEntries,
)
from ramparts.events.dispatcher import Dispatcher, OutboxRelay
from ramparts.events.scheduler import Scheduler
from ramparts.events.subscriptions import Subscriptions
from ramparts.gateway.blocklist import BlockList
from ramparts.gateway.routing import Route, Router
from ramparts.identity.service import IdentityService
from ramparts.manifest import AuthConfig, FunctionConfig
from ramparts.observe.anomaly import AnomalyBaseline
from ramparts.observe.audit import AuditLog
from ramparts.observe.invocations import InvocationLog, trace_id_of
from ramparts.observe.metrics import NodeMetrics
from ramparts.observe.redact import install_log_redaction, redact_result
from ramparts.observe.siem import SiemExporter, parse_targets
from ramparts.observe.siem.targets import parse_token_secret
from ramparts.observe.tracing import Tracing
from ramparts.policy.aws import configure as configure_aws_policy_region
from ramparts.policy.context import request_context
from ramparts.ratelimit.limiter import RateLimitUnavailable, parse_limits
from ramparts.ratelimit.service import RateLimitService
from ramparts.registry import advisory_check
from ramparts.registry.service import DeployReport, LiveFunction, Registry
from ramparts.respond.drills.schedule import DrillSchedule, parse_scenarios
from ramparts.respond.errors import FunctionQuarantined
from ramparts.respond.notifier import Notifier, open_notifier
from ramparts.respond.quarantine import Quarantines
from ramparts.respond.records import ResponseRecords
from ramparts.respond.rules import Rule
from ramparts.respond.ruleset import load_rules
from ramparts.respond.service import DetectionService
from ramparts.runtime.supervisor import Supervisor
from ramparts.runtime.types import FunctionSpec, InvocationResult
from ramparts.sandbox import layers
from ramparts.sandbox.host import UID_BASE, SandboxHost
from ramparts.sandbox.installer import SandboxedPip
from ramparts.scan.errors import ScanError, ScanFailed, ScannerFailed
from ramparts.scan.gate import GateOptions, GateResult
from ramparts.secrets import SecretSource
from ramparts.secrets import legacy as legacy_secrets
from ramparts.store import Store, open_store

log = logging.getLogger("ramparts.node")

def forbidden_addresses(settings: Settings) -> list[tuple[str, int]]:
    """The node's own listeners and backends: never reachable from a handler."""
    import socket
    from urllib.parse import urlsplit

    defaults = {"postgresql": 5432, "postgres": 5432, "redis": 6379, "rediss": 6379, "nats": 4222}
    targets = [(settings.admin_host, settings.admin_port)]
    if settings.metrics_port:
        targets.append(("127.0.0.1", settings.metrics_port))
    for url in (settings.state_url, settings.bus_url, settings.rate_limit_storage):
        parts = urlsplit(url)
        scheme = parts.scheme.split("+")[0]
        if scheme in defaults:
            try:
                targets.append((parts.hostname or "localhost", parts.port or defaults[scheme]))
            except ValueError:
                continue
    out: list[tuple[str, int]] = []
    local = _local_addresses()
    for host, port in targets:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError:
            continue
        addrs = {str(info[4][0]) for info in infos}
        if host in ("0.0.0.0", "::", "") or addrs & local:  # noqa: S104 - a wildcard bind
            # A listener on this machine may answer on any of its addresses.
            addrs |= local | {"127.0.0.1", "::1"}
        for addr in sorted(addrs):
            if (addr, port) not in out:
                out.append((addr, port))
    return out


def _local_addresses() -> set[str]:
    """Every address this machine answers on (from /proc: no extra dependency)."""
    import ipaddress

    found = {"127.0.0.1", "::1"}
    try:
        with open("/proc/net/fib_trie") as f:
            lines = f.read().splitlines()
        for prev, line in zip(lines, lines[1:], strict=False):
            if "/32 host LOCAL" in line:
                found.add(prev.strip().split()[-1])
    except OSError:
        pass
    try:
        with open("/proc/net/if_inet6") as f:
            for line in f:
                raw = line.split()[0]
                found.add(str(ipaddress.ip_address(int(raw, 16))))
    except (OSError, ValueError, IndexError):
        pass
    return found


def _reach(host: str) -> str:
    """Where the node's own gateway answers from this machine."""
    return "127.0.0.1" if host in ("0.0.0.0", "", "localhost") else host  # noqa: S104


_PREWARM_MAX = 64  # zygotes started ahead of traffic per refresh; the rest start on first use


class _RequestIds:
    """Random (version 4) UUID text for request ids, from the OS's CSPRNG in 4 KiB reads.

    Same format and randomness as ``str(uuid.uuid4())`` without a syscall and a
    ``UUID`` object per request (each id is used once per request, on the hot path).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pool = b""
        self._at = 0

    def next(self) -> str:
        with self._lock:
            if self._at + 16 > len(self._pool):
                self._pool, self._at = os.urandom(4096), 0
            raw = self._pool[self._at : self._at + 16]
            self._at += 16
        h = raw.hex()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def reset(self) -> None:
        self._lock = threading.Lock()
        self._pool, self._at = b"", 0


_request_ids = _RequestIds()
os.register_at_fork(after_in_child=_request_ids.reset)  # a forked child never reuses our pool


def _caller(trigger: str, event: Any) -> Caller:
    """Who a refused call came from, for its (aggregated) audit record."""
    if trigger != "http" or not isinstance(event, dict):
        return Caller(trigger)
    ctx = request_context(trigger, event)
    route = event.get("routeKey")
    if not isinstance(route, str):  # a REST (v1) event
        route = f"{event.get('httpMethod', '?')} {event.get('resource', '?')}"
    return Caller(trigger, route[:256], ctx.get("ramparts:principal"), ctx.get("aws:sourceip"))


class Node:
    def __init__(self, settings: Settings, *, secrets: SecretSource | None = None) -> None:
        self.settings = settings
        self._secret_source = secrets  # None: the encrypted secret store, built at start
        self.secrets: SecretSource
        self.store: Store
        self.bus: Bus
        self.supervisor: Supervisor
        self.registry: Registry
        self.router = Router([])
        self.subscriptions = Subscriptions([])
        self._live: dict[str, LiveFunction] = {}
        self._generation = -1
        self._tasks: list[asyncio.Task[None]] = []
        self._lowered_inflight: dict[str, int] = {}  # calls running under a lowered cap
        self.admin_token = ""
        self.started_at = time.time()
        self.siem: SiemExporter | None = None
        self.drills: DrillSchedule | None = None  # --drill-every

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        # Before anything is opened: an invalid rule file or webhook option refuses the start.
        detection_setup = await asyncio.to_thread(self._load_detections)
        # ... and so does a bad --drill-scenarios, even with the schedule off (a typo must not
        # wait for the schedule to be turned on to show).
        drill_scenarios = parse_scenarios(s.drill_scenarios)
        # Fail closed before anything is opened: no sandbox, no node (unless told so).
        self.sandbox_report = await asyncio.to_thread(layers.probe, node_id=s.node_id, uid=UID_BASE)
        self.sandbox_report.degraded_allowed = s.allow_degraded_sandbox
        missing = self.sandbox_report.missing()
        if missing and not s.allow_degraded_sandbox:
            raise SandboxError(
                "refusing to start: required sandbox layers are unavailable: "
                + "; ".join(f"{x.name} ({x.detail or 'not available'})" for x in missing)
                + ". Fix the kernel settings, or start with --allow-degraded-sandbox "
                "(handlers then run with weaker isolation)"
            )
        s.prepare_data_dir()
        self.integrity_report = await asyncio.to_thread(self._check_integrity)
        self.admin_token = ensure_admin_token(s.data_dir)
        raw_store = await asyncio.to_thread(open_store, s.state_url)
        try:
            self.vault = await asyncio.to_thread(open_vault, raw_store, s.data_dir)
            # After the vault: the key is sealed under the master key's KEKs.
            self.signer: VersionSigner = await asyncio.to_thread(
                open_signer,
                raw_store.engine,  # type: ignore[attr-defined]
                self.vault.sealer,
                has_signed=raw_store.has_signed_versions,
            )
            # Wrapped by the master key itself: KEK rotation and retirement leave it alone.
            self.aws_credentials: CredentialAuthority = await asyncio.to_thread(
                open_authority, raw_store.engine, self.vault.master  # type: ignore[attr-defined]
            )
        except Exception:
            raw_store.close()
            raise
        install_log_redaction()
        # The two encryption seams: user data is sealed before it reaches a backend.
        self.store = SealedStore(raw_store, self.vault.sealer)
        self.secrets = self._secret_source or self.vault.secrets
        consumer = ensure_node_identity(s.data_dir)
        self.bus = SealedBus(open_bus(s.bus_url, consumer=consumer), self.vault.sealer)
        await self.bus.open()
        self.audit = AuditLog(
            self.store,
            s.node_id,
            data_dir=s.data_dir,
            partition=consumer,  # this data dir's stable name: its own hash chain
            signer=self.signer,
            # The embedded store is this data dir's own: every chain in it is this data dir's.
            own_store=s.state_url.startswith("sqlite"),
            checkpoint_interval=s.audit_checkpoint_interval,
            retain=s.retain_audit,
        )
        # Before anything is signed: a forged chain must not get the node's signature.
        await self._check_audit_head()
        self.siem = self._siem_exporter()
        self.identity = IdentityService(self.store, self.secrets, self.vault.sealer)
        await self.identity.start()
        # The gateway's rate limits (ramparts.gateway.ratelimit): counters and refusal records.
        self.rate_limits = RateLimitService(s.rate_limit_storage, self.audit.emit)
        self.invocations = InvocationLog(self.store)
        self._start_observability()
        # The WAF's run-time block list: loaded before the gateway serves, then followed.
        self.blocklist = BlockList(
            self.store,  # type: ignore[arg-type] - the SQL store's BlockListStore, passed through
            node_id=s.node_id,
            audit=self.audit,
            on_error=self.metrics.backend_error,
        )
        await self.blocklist.start()
        # Quarantined functions (ramparts.respond): shared through the store, followed.
        engine = raw_store.engine  # type: ignore[attr-defined]
        self.response_records = await asyncio.to_thread(ResponseRecords, engine)
        self.quarantines = Quarantines(self.response_records)
        await self.quarantines.start()
        self.containment = Containment(self)  # the response actions, audited once
        self.relay = OutboxRelay(self.store, self.bus, on_error=self.metrics.backend_error)
        self.baseline = AnomalyBaseline(self._anomaly_event)
        self.broker = Broker(
            store=self.store,
            bus=self.bus,
            audit=self.audit,
            subscriptions=lambda: self.subscriptions,
            config_for=self._config_for,
            secrets=self.secrets,
            invoker=self._invoke_from_function,
            relay=self.relay.kick,
            baseline=self.baseline,
            tracing=self.tracing,
        )
        self.sandbox = self._sandbox_host()
        self.aws_runtime = AwsRuntime(s, self.aws_credentials, self.sandbox)
        configure_aws_policy_region(s.region)  # AWS ARNs in roles must name this region or *
        self.supervisor = Supervisor(
            s.runtime_dir,
            self.broker,
            sandbox=self.sandbox,
            verify=self._verify_version,
            region=s.region,
            secret_environment=self._secret_environment,
            aws_environment=self.aws_runtime.environment,
            queue_wait=s.throttle_wait,  # excess synchronous calls: a fast 429 (docs/budgets.md)
        )
        # Invocation budgets and the per-app concurrency cap (ramparts.budget).
        self.budget = Ledger(
            raw_store,  # type: ignore[arg-type]  # the SQL store has the BudgetStore capability
            self.audit,
            node_id=s.node_id,
            interval=s.budget_flush_interval,
            clock=(lambda: time.time() + s.budget_clock_offset)
            if s.budget_clock_offset
            else time.time,
        )
        self.app_slots = AppSlots()
        pip = (
            SandboxedPip(self.sandbox, runtime_dir=s.runtime_dir, index_url=s.package_index)
            if self.sandbox is not None
            else None
        )
        self.registry = Registry(s, self.store, self.supervisor, signer=self.signer, pip=pip)
        from ramparts.gateway.waf.cache import validate_app as validate_waf

        self.registry.app_checks.append(validate_waf)  # the app's WAF rule files and names
        self.dispatcher = Dispatcher(
            bus=self.bus,
            store=self.store,
            subscriptions=lambda: self.subscriptions,
            invoke=self._invoke_live,
            publish=self.broker.publish,
            concurrency=lambda fn: self._live[fn].config.concurrency if fn in self._live else 1,
            hold=self.budget_hold,  # an exhausted budget keeps the events in the bus
            # Short, and renewed by a heartbeat while the handler runs.
            lease_for=lambda fn: s.bus_lease,
            max_delay=s.retry_max_delay,
            tracing=self.tracing,
            on_dead_letter=self.metrics.dead_letter,
            on_backend_error=self.metrics.backend_error,
        )
        self.scheduler = Scheduler(
            store=self.store,
            bus=self.bus,
            subscriptions=lambda: self.subscriptions,
            interval=s.scheduler_interval,
            clock_offset=s.scheduler_clock_offset,
            paused=self.quarantines.holds,
        )
        self.audit.start()
        await self.rate_limits.start()
        if self.siem is not None:
            self.siem.start()
        self.invocations.start()
        await self.budget.start()
        self._start_detections(*detection_setup)
        if self.signer.created:
            await self._sign_existing_versions()
        # Before the registry's zygotes: they fork from the template this starts.
        self._tasks.append(asyncio.get_running_loop().create_task(self.supervisor.warm()))
        await self._migrate_secrets()
        if self._secret_source is None:
            # Mask stored values from the first request on, not from their first read.
            await asyncio.to_thread(self.vault.secrets.remember_values)
        await self.refresh(force=True)
        self.relay.start()
        self.vault.rewrapper.start()
        self.scheduler.start()
        self._tasks.append(asyncio.get_running_loop().create_task(self._watch_registry()))
        if s.gc_interval > 0:
            self._tasks.append(asyncio.get_running_loop().create_task(self._collect_loop()))
        if s.advisory_check_interval > 0:
            self._tasks.append(
                asyncio.get_running_loop().create_task(
                    advisory_check.watch(
                        self.registry, self.audit, s.advisory_check_interval,
                        f"node:{s.node_id}",
                    )
                )
            )
        if s.retain_invocations > 0:  # 0 keeps invocation records forever
            self._tasks.append(
                asyncio.get_running_loop().create_task(
                    self.invocations.retain(s.retain_invocations, self._pruned_invocations)
                )
            )
        self.audit.emit(
            "node.start",
            decision="allow",
            principal=f"node:{s.node_id}",
            action="node:Start",
            resource=f"node:{s.node_id}",
            version=ramparts.__version__,
        )
        self._audit_sandbox()
        self._audit_accepted_loss()
        if s.drill_every:
            self.drills = DrillSchedule(
                s.drill_every,
                drill_scenarios,
                data_dir=s.data_dir,
                audit=self.audit,
                node_id=s.node_id,
            )
            self.drills.start()

    def _siem_exporter(self) -> SiemExporter | None:
        """The ``--siem`` exporter, registered as an audit sink (None without ``--siem``)."""
        s = self.settings
        if not s.siem:
            return None
        token = None
        if s.siem_token_secret:  # its form was checked with the settings
            token = self._siem_token_reader(*parse_token_secret(s.siem_token_secret))
        exporter = SiemExporter(
            parse_targets(s.siem),
            spool_dir=s.data_dir / "siem",
            spool_limit=s.siem_spool_bytes,
            version=ramparts.__version__,
            token=token,
            notify=self._siem_notify(),
            retry_max_delay=s.siem_retry_max_delay,
        )
        self.audit.add_sink(exporter)
        return exporter

    def _siem_notify(self) -> Callable[..., None]:
        """Audit, from an exporter thread, through the loop that owns the audit buffer."""
        loop = asyncio.get_running_loop()
        principal = f"node:{self.settings.node_id}"

        def notify(kind: str, **fields: Any) -> None:
            try:
                loop.call_soon_threadsafe(
                    lambda: self.audit.emit(kind, principal=principal, **fields)
                )
            except RuntimeError:  # the loop is gone (the node stopped): the log line stays
                log.warning("not audited after the node stopped: %s %s", kind, fields)

        return notify

    def _siem_token_reader(self, app: str, name: str) -> Callable[[], str | None]:
        """Reads the collector token from the secret store when a sender needs it (on its
        thread); each read is audited, the value never is."""
        notify = self._siem_notify()

        def read() -> str | None:
            found = self.secrets.get(name, app=app)
            notify(
                "secrets.read",
                decision="allow" if found is not None else "deny",
                action="secrets:GetSecretValue",
                resource=f"secret:{app}/{name}",
                purpose="siem-token",
            )
            return None if found is None else found.reveal()

        return read
    def _start_observability(self) -> None:
        """Metrics (always: fed by the audit and invocation sinks) and traces (if asked)."""
        self.metrics = NodeMetrics()
        self.audit.add_sink(self.metrics)
        self.invocations.add_sink(self.metrics.invocation_sink)
        self.metrics.watch_queues(asyncio.get_running_loop(), self._queue_depths)
        self.tracing = Tracing(
            self.settings.otlp_endpoint, node_id=self.settings.node_id, version=ramparts.__version__
        )

    async def _queue_depths(self) -> dict[str, int]:
        """Events waiting per function with a queue consumer (``ramparts_queue_depth``)."""
        functions = self.subscriptions.async_functions() | self.subscriptions.all_functions()
        depths = await asyncio.gather(
            *(self.bus.depth("fn." + fn) for fn in sorted(functions)), return_exceptions=True
        )
        out: dict[str, int] = {}
        for fn, depth in zip(sorted(functions), depths, strict=True):
            if isinstance(depth, BaseException):
                self.metrics.backend_error("queue_depth")
            else:
                out[fn] = depth
        return out

    def _check_integrity(self) -> integrity.Report:
        """Check the embedded backends' files before anything opens (and so changes) them."""
        s = self.settings
        report = integrity.check_data_dir(s)
        integrity.mark_started(s.data_dir)  # from now on a crash means an unclean stop
        if report.ok:
            return report
        if not s.accept_data_loss:
            raise report.error()
        for problem in report.problems:
            log.error("DATA LOSS ACCEPTED (--accept-data-loss): %s", problem.describe())
        integrity.accept(report)
        return report

    async def _check_audit_head(self) -> None:
        """The signed head file against the stored chain (``AuditLog.check_head``): a
        disagreement no crash explains refuses the start like a failed integrity check, or,
        with ``--accept-data-loss``, is logged and audited as critical."""
        s = self.settings
        found = await asyncio.to_thread(self.audit.check_head)
        if found is None:
            return
        code, detail = found
        assert self.audit.head_path is not None
        problem = integrity.Problem(
            file=self.audit.head_path,
            check="audit-head",
            detail=f"{code}: {detail}",
            lost=(
                "the audit chain's signed history: records after the head file's checkpoint "
                "may have been rewritten or removed"
            ),
            advice=(
                f"keep a copy of {self.audit.head_path.name} and the audit_events table as they "
                "are (they are the evidence); restore both from a backup, or start with "
                "--accept-data-loss to continue the chain as stored (the mismatch is then "
                "recorded in the audit log)"
            ),
        )
        if not s.accept_data_loss:
            await self.bus.close()
            self.store.close()
            raise integrity.Report(clean_stop=True, problems=[problem]).error()
        log.error("DATA LOSS ACCEPTED (--accept-data-loss): %s", problem.describe())
        self.audit.accept_unvouched()
        self.integrity_report.problems.append(problem)

    def _audit_accepted_loss(self) -> None:
        s = self.settings
        for problem in self.integrity_report.problems:
            self.audit.emit(
                "storage.data_loss_accepted",
                decision="allow",
                principal=f"node:{s.node_id}",
                action="node:AcceptDataLoss",
                resource=f"file:{problem.file.name}",
                severity="critical",
                **problem.to_dict(),
            )

    async def _sign_existing_versions(self) -> None:
        """The one-time migration of a store from before signing (see ``migrate_unsigned``)."""
        principal = f"node:{self.settings.node_id}"
        self.audit.emit(
            "crypto.signing_key_created",
            decision="allow",
            principal=principal,
            action="crypto:CreateSigningKey",
            resource=f"signing-key:{self.signer.key_id}",
        )
        for rec, outcome in await asyncio.to_thread(self.registry.migrate_unsigned):
            signed = outcome == "signed"
            if not signed:
                log.warning(
                    "version %s of %s stays unsigned (%s): it will not start until its app "
                    "is deployed again",
                    rec.version[:12],
                    rec.function,
                    outcome,
                )
            self.audit.emit(
                "registry.version_migrated",
                decision="allow" if signed else "deny",
                principal=principal,
                action="registry:SignVersion",
                resource=f"function:{rec.function}",
                function=rec.function,
                version=rec.version[:12],
                reason=outcome,
                severity="info" if signed else "high",
            )

    async def _verify_version(self, spec: FunctionSpec) -> None:
        """The supervisor's start gate: no zygote for a version that does not verify."""
        try:
            rec = await asyncio.to_thread(self.registry.verify, spec)
        except Exception as exc:
            reason = exc.code if isinstance(exc, RampartsError) else "verify_failed"
            self._audit_verify(spec, "deny", reason=reason, severity="critical")
            raise
        signer = (rec.signature or "").split(":")[1] if rec.signature else None
        self._audit_verify(spec, "allow", signer=signer)

    async def _secret_environment(self, spec: FunctionSpec) -> dict[str, str]:
        """A starting zygote's ``{secret: NAME}`` values, checked with its signed role.

        Called after ``_verify_version``, so the record read here is the verified one.
        """
        rec = await asyncio.to_thread(self.registry.record_for, spec)
        if rec is None:
            raise NotFound(f"version {spec.version[:12]} of {spec.function} not found")
        config = FunctionConfig.model_validate(rec.config)
        return await self.broker.secret_environment(spec, config)

    def _audit_verify(self, spec: FunctionSpec, decision: str, **detail: Any) -> None:
        self.audit.emit(
            "registry.verify",
            decision=decision,
            principal=f"node:{self.settings.node_id}",
            action="registry:VerifyVersion",
            resource=f"function:{spec.function}",
            function=spec.function,
            version=spec.version[:12],
            **detail,
        )

    async def _migrate_secrets(self) -> None:
        """Give the secrets of the old global store to the apps that use them (once).

        Runs before anything can read a secret; a failure stops the start (the
        old tables stay as they were).
        """
        engine = getattr(self.store, "engine", None)
        if self._secret_source is not None or engine is None:
            return
        if not await asyncio.to_thread(legacy_secrets.pending, engine):
            return
        refs = await asyncio.to_thread(self._secret_references)
        report = await asyncio.to_thread(
            legacy_secrets.migrate, engine, self.vault.sealer, refs
        )
        if report is None:
            return
        log.warning(
            "secrets are per app now: %d moved to their apps, %d shared, %d unassigned (%s)",
            len(report["owners"]) - len(report["unassigned"]),
            len(report["shared"]),
            len(report["unassigned"]),
            ", ".join(report["unassigned"]) or "none",
        )
        self.audit.emit(
            "secrets.migrate",
            decision="allow",
            principal=f"node:{self.settings.node_id}",
            action="secrets:Migrate",
            resource="secret:*",
            **report,
        )

    def _secret_references(self) -> list[tuple[str, set[str]]]:
        """Each app with the secret names its live versions use, earliest-deployed app first."""
        first: dict[str, float] = {}
        for f in self.store.list_functions():
            first[f["app"]] = min(first.get(f["app"], f["created_at"]), f["created_at"])
        refs: dict[str, set[str]] = {app: set() for app in first}
        auth_read: set[str] = set()
        for fn in self.registry.live_functions():
            names = refs.setdefault(fn.app, set())
            names |= legacy_secrets.references_of(fn.config)
            if fn.app not in auth_read:
                auth_read.add(fn.app)
                raw = yamlsafe.load(
                    (Path(fn.spec.code_dir) / "ramparts.yaml").read_text(encoding="utf-8")
                )
                auth = (raw or {}).get("auth")
                if auth:
                    names |= legacy_secrets.references_of(AuthConfig.model_validate(auth))
        order = sorted(refs, key=lambda app: (first.get(app, float("inf")), app))
        return [(app, refs[app]) for app in order]

    def _sandbox_host(self) -> SandboxHost | None:
        report = self.sandbox_report
        names = {x.name for x in report.layers if x.available}
        if not {"user_namespace", "pid_namespace", "mount_namespace",
                "network_namespace"} <= names:
            log.error("SANDBOX DISABLED: namespaces are unavailable; handlers run unconfined")
            return None
        return SandboxHost(
            report,
            node_id=self.settings.node_id,
            hide=[self.settings.data_dir],
            forbidden=forbidden_addresses(self.settings),
            on_event=self._sandbox_event,
            node_endpoint=(_reach(self.settings.host), self.settings.port),
        )

    def _audit_sandbox(self) -> None:
        s, report = self.settings, self.sandbox_report
        missing = report.missing()
        self.audit.emit(
            "sandbox.layers",
            decision="deny" if missing else "allow",
            principal=f"node:{s.node_id}",
            action="node:Sandbox",
            resource=f"node:{s.node_id}",
            severity="critical" if missing else "info",
            layers={x.name: x.available for x in report.layers},
            missing=[x.name for x in missing],
        )
        if missing:
            log.warning(
                "DEGRADED SANDBOX (--allow-degraded-sandbox): missing %s",
                ", ".join(x.name for x in missing),
            )

    def _sandbox_event(
        self, kind: str, spec: FunctionSpec, request_id: str | None, detail: dict[str, Any]
    ) -> None:
        if kind in ("egress.allow", "egress.deny"):
            self.baseline.observe(spec, "egress", str(detail.get("destination", "")), request_id)
        blocked = kind == "egress.deny" or bool(detail.get("blocked"))
        decision = "allow" if kind == "egress.allow" else ("deny" if blocked else "detect")
        target = str(detail.get("destination") or detail.get("target") or "")
        self.audit.emit(
            kind,
            decision=decision,
            principal=f"function:{spec.app}/{spec.function}",
            action=f"runtime:{detail.get('rule') or kind}",
            resource=target,
            request_id=request_id,
            function=spec.function,
            version=spec.version,
            severity="info" if decision == "allow" else "high",
            **{k: v for k, v in detail.items() if k not in ("destination", "target")},
        )

    def _anomaly_event(
        self, kind: str, spec: FunctionSpec, request_id: str | None, detail: dict[str, Any]
    ) -> None:
        self.audit.emit(
            kind,
            decision="detect",
            principal=f"function:{spec.app}/{spec.function}",
            action=f"anomaly:{detail['behavior']}",
            resource=str(detail["value"]),
            request_id=request_id,
            function=spec.function,
            version=spec.version,
            severity="low",
        )

    async def close(self) -> None:
        if self.drills is not None:  # first: a run in progress is interrupted, not orphaned
            await self.drills.close()
        for t in self._tasks:
            t.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.scheduler.close()
        await self.dispatcher.close()
        await self.relay.close()
        await self.vault.rewrapper.close()
        await self.supervisor.close()
        await self.budget.close()
        await self.invocations.close()
        await self.identity.close()
        if getattr(self, "blocklist", None) is not None:
            await self.blocklist.close()
        if getattr(self, "quarantines", None) is not None:
            await self.quarantines.close()
        if getattr(self, "rate_limits", None) is not None:
            await self.rate_limits.close()  # its last refusal counts, before the audit closes
        if getattr(self, "detections", None) is not None:
            await asyncio.to_thread(self.detections.close)
        if getattr(self, "incidents", None) is not None:
            await self.incidents.close()
        await self.audit.close()
        if self.siem is not None:  # after the audit log's last batch reached it
            await asyncio.to_thread(self.siem.close)
        await asyncio.to_thread(self.tracing.close)  # what is buffered goes out (bounded)
        await self.bus.close()
        self.store.close()
        # Last: only a stop that closed every file cleanly may skip the next start's checks.
        try:
            integrity.mark_stopped(self.settings.data_dir)
        except StorageError as exc:  # the next start then checks everything: safe
            log.warning("could not record the clean stop: %s", exc.message)

    async def _watch_registry(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.refresh()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("refreshing the registry failed")

    def _pruned_invocations(self, count: int) -> None:
        """Retention deleted ``count`` invocation records: evidence that they are gone."""
        log.info("pruned %d invocation records older than the retention", count)
        self.audit.emit(
            "invocations.prune",
            decision="allow",
            principal=f"node:{self.settings.node_id}",
            action="node:PruneInvocations",
            resource="invocations",
            retention=self.settings.retain_invocations,
            deleted=count,
        )

    async def _collect_loop(self) -> None:
        """Automatic garbage collection of unaliased versions, every ``gc_interval``."""
        while True:
            await asyncio.sleep(self.settings.gc_interval)
            try:
                await self.collect_garbage(principal=f"node:{self.settings.node_id}")
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("collecting old versions failed")

    async def collect_garbage(
        self, retention: float | None = None, *, principal: str = "admin"
    ) -> dict[str, Any]:
        """Delete versions unaliased for longer than ``retention`` (default: the node's).

        A manual run is always audited; an automatic one when it removed something.
        """
        keep = self.settings.version_retention if retention is None else retention
        # Their zygotes stop before the sweep, so their installs go in this same run.
        report, _ = await self.registry.collect_garbage(keep, retire=self.supervisor.retire)
        if principal == "admin" or report.versions or report.artifacts:
            self.audit.emit(
                "registry.gc",
                decision="allow",
                principal=principal,
                action="registry:CollectGarbage",
                resource="registry:versions",
                retention=keep,
                removed={f"{v.function}:{v.version[:12]}": v.seq for v in report.versions},
                artifacts=len(report.artifacts),
                local_dirs=report.local_dirs,
            )
        if report.versions:
            await self.refresh(force=True)
        return report.to_dict()

    async def refresh(self, force: bool = False) -> None:
        """Rebuild routes and subscriptions when the registry changed."""
        generation = await asyncio.to_thread(self.store.generation)
        if generation == self._generation and not force:
            return
        live = await asyncio.to_thread(self.registry.live_functions)
        old_versions = {fn.spec.key: fn.spec for fn in self._live.values()}
        self._live = {fn.name: fn for fn in live}
        self.router = Router(live)
        self.subscriptions = Subscriptions(live, region=self.settings.region)
        self._generation = generation
        self.broker.invalidate()  # roles may have changed: drop compiled policies and caches
        self.dispatcher.sync()
        current = {fn.spec.key for fn in live}
        for key, spec in old_versions.items():
            if key not in current:
                # In-flight calls finish on the version they started on; retire waits for them.
                asyncio.get_running_loop().create_task(self.supervisor.retire(spec))
                self.baseline.forget(key)
        fresh = [fn.spec for fn in live if fn.spec.key not in old_versions]
        if fresh:
            self._tasks = [t for t in self._tasks if not t.done()]
            self._tasks.append(asyncio.get_running_loop().create_task(self._prewarm(fresh)))

    async def _prewarm(self, specs: list[FunctionSpec]) -> None:
        """Start the zygotes of versions that became live here (at boot, or deployed by
        another node), one at a time in the background, so their first request only
        forks a worker instead of starting an interpreter.  A version deployed through
        this node was already prepared by the deploy; then this returns at once."""
        for spec in specs[:_PREWARM_MAX]:
            try:
                await self.supervisor.prepare(spec)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the first request reports it properly
                log.warning("prewarming %s failed: %s", spec.function, exc)

    # -- invocation ---------------------------------------------------------------------------
    @staticmethod
    def new_request_id() -> str:
        return _request_ids.next()

    def _config_for(self, spec: FunctionSpec) -> FunctionConfig:
        rec = self.store.get_version(spec.function, spec.version)
        if rec is None:
            raise NotFound(f"version {spec.version[:12]} of {spec.function} not found")
        return self.registry.spec_for(rec)[0]

    async def invoke_spec(
        self,
        spec: FunctionSpec,
        event: Any,
        trigger: str,
        request_id: str | None = None,
        *,
        note: Callable[[InvocationResult], str | None] | None = None,
    ) -> InvocationResult:
        """Run one invocation and record it.

        ``note`` sees the (redacted) result before the record is written; a text
        it returns is appended to the record's logs (the gateway notes there what
        it had to change in the response).
        """
        rid = request_id or self.new_request_id()
        if self.quarantines.holds(spec.function):
            self._refuse_quarantined(spec, trigger, event, rid)
            return InvocationResult(
                request_id=rid,
                status="throttled",
                error_type="FunctionQuarantined",
                error_message=f"{spec.function} is quarantined",
            )
        lowered = self.quarantines.lowered(spec.function)
        if lowered is None:
            return await self._invoke_admitted(spec, event, trigger, rid, note)
        fn = spec.function
        held = False
        if lowered.concurrency is not None:
            # Checked and taken with no await between: two calls cannot both take the last slot.
            if self._lowered_inflight.get(fn, 0) >= lowered.concurrency:
                return self._refuse_lowered(spec, trigger, event, rid, "concurrency")
            self._lowered_inflight[fn] = self._lowered_inflight.get(fn, 0) + 1
            held = True
        try:
            if lowered.rate is not None and not await self._lowered_rate_admits(fn, lowered.rate):
                return self._refuse_lowered(spec, trigger, event, rid, "rate")
            return await self._invoke_admitted(spec, event, trigger, rid, note)
        finally:
            if held:
                left = self._lowered_inflight[fn] - 1
                if left:
                    self._lowered_inflight[fn] = left
                else:
                    del self._lowered_inflight[fn]

    async def _lowered_rate_admits(self, function: str, rate: str) -> bool:
        """Whether a lowered rate admits one more call now (counted; fails closed)."""
        try:
            outcome = await self.rate_limits.limiter.hit(
                parse_limits([rate]), ("lowered", function), stats=False
            )
        except RateLimitUnavailable:
            return False  # the storage cannot count it: refused, like a limited route
        return outcome.allowed

    def _refuse_lowered(
        self, spec: FunctionSpec, trigger: str, event: Any, request_id: str, limit: str
    ) -> InvocationResult:
        """Audit (aggregated) a call refused by a lowered limit; the throttled result."""
        caller = _caller(trigger, event)
        detail: dict[str, Any] = {"function": spec.function, "trigger": trigger, "limit": limit}
        if caller.source_ip:
            detail["source_ip"] = caller.source_ip
        self.rate_limits.refusals.denied(
            "function.lowered_limit",
            principal=caller.principal or f"{trigger}:anonymous",
            action="functions:Invoke",
            resource=f"function:{spec.function}",
            rule_key=limit,
            request_id=request_id,
            **detail,
        )
        return InvocationResult(
            request_id=request_id,
            status="throttled",
            error_type="Throttled",
            error_message=f"{spec.function} is over its lowered {limit} limit",
        )

    async def _invoke_admitted(
        self,
        spec: FunctionSpec,
        event: Any,
        trigger: str,
        rid: str,
        note: Callable[[InvocationResult], str | None] | None,
    ) -> InvocationResult:
        live = self._live.get(spec.function)
        limits = live.app_limits if live is not None and live.app == spec.app else None
        ticket = self.budget.admit(
            spec.function,
            spec.app,
            live.config.budget if live is not None and live.app == spec.app else None,
            limits.budget if limits is not None else None,
        )
        if isinstance(ticket, Refusal):
            # Never recorded as an invocation (it did not run): a flood of refusals is
            # audited in aggregate by the ledger instead.
            self.budget.refused(spec.function, ticket, _caller(trigger, event))
            return InvocationResult(
                request_id=rid,
                status="throttled",
                error_type="BudgetExhausted",
                error_message=ticket.message,
                retry_after=ticket.retry_after,
            )
        cap = limits.concurrency if limits is not None else None
        if not await self.app_slots.acquire(spec.app, cap, self.settings.throttle_wait):
            self.budget.finish(ticket, ran=False, duration_ms=0.0)
            result = InvocationResult(
                request_id=rid,
                status="throttled",
                error_type="Throttled",
                error_message=f"the app {spec.app!r} is at its concurrency limit ({cap})",
            )
            self.budget.throttled(
                spec.function, f"app:{spec.app}", cap or 0, _caller(trigger, event)
            )
            self.invocations.record(spec, trigger, result, principal=None, trace_id=None)
            return result
        try:
            result = await self._run_spec(spec, event, trigger, rid, note)
        finally:
            self.app_slots.release(spec.app)
        ran = result.status != "throttled"
        self.budget.finish(ticket, ran=ran, duration_ms=result.duration_ms)
        if not ran:
            self.budget.throttled(
                spec.function, f"function:{spec.function}", spec.concurrency,
                _caller(trigger, event),
            )
        return result

    def _refuse_quarantined(
        self, spec: FunctionSpec, trigger: str, event: Any, request_id: str
    ) -> None:
        """Audit a call refused by a quarantine, aggregated like other flood-prone refusals."""
        caller = _caller(trigger, event)
        detail: dict[str, Any] = {
            "function": spec.function,
            "trigger": trigger,
            "reason": "function_quarantined",
        }
        if caller.route:
            detail["route"] = caller.route
        if caller.source_ip:
            detail["source_ip"] = caller.source_ip
        self.rate_limits.refusals.denied(
            "function.quarantined",
            principal=caller.principal or f"{trigger}:anonymous",
            action="functions:Invoke",
            resource=f"function:{spec.function}",
            rule_key="quarantined",
            request_id=request_id,
            **detail,
        )

    def budget_hold(self, function: str) -> float:
        """Seconds the events of ``function`` must stay in the bus (0: deliver them now).

        A quarantined function's events wait too, however long it stays quarantined.
        """
        if self.quarantines.holds(function):
            return 1.0
        live = self._live.get(function)
        if live is None:
            return 0.0
        limits = live.app_limits
        return self.budget.hold(
            function, live.app, live.config.budget, limits.budget if limits else None
        )

    async def _run_spec(
        self,
        spec: FunctionSpec,
        event: Any,
        trigger: str,
        rid: str,
        note: Callable[[InvocationResult], str | None] | None,
    ) -> InvocationResult:
        self.baseline.invocation(spec)
        if self.tracing.enabled:
            with self.tracing.invocation(rid, spec.function, spec.version, trigger) as span:
                with self.broker.invocation(rid, trigger, event):
                    result = await self.supervisor.invoke(spec, event, request_id=rid)
                self.tracing.invocation_outcome(span, result.status, result.cold)
                result.trace_id = self.tracing.trace_id(span)  # what the invocation's logs carry
        else:
            with self.broker.invocation(rid, trigger, event):  # caller keys for policy conditions
                result = await self.supervisor.invoke(spec, event, request_id=rid)
        redact_result(result)
        if note is not None and (text := note(result)):
            sep = "" if not result.logs or result.logs.endswith("\n") else "\n"
            result.logs = f"{result.logs or ''}{sep}{text}"
        self.invocations.record(
            spec,
            trigger,
            result,
            principal=request_context(trigger, event).get("ramparts:principal"),
            trace_id=result.trace_id or trace_id_of(event),  # the span's, else the caller's
        )
        return result

    async def invoke(
        self, function: str, event: Any, *, qualifier: str | None = None, trigger: str = "invoke"
    ) -> tuple[FunctionSpec, InvocationResult]:
        rec = await asyncio.to_thread(self.registry.resolve_version, function, qualifier)
        _, spec = await asyncio.to_thread(self.registry.spec_for, rec)
        if self.quarantines.holds(function):
            self._refuse_quarantined(spec, trigger, event, self.new_request_id())
            raise FunctionQuarantined(f"{function} is quarantined: release it to invoke it")
        return spec, await self.invoke_spec(spec, event, trigger)

    async def _invoke_live(
        self, function: str, event: Any, trigger: str, message_id: str
    ) -> InvocationResult | None:
        fn = self._live.get(function)
        if fn is None:
            return None
        return await self.invoke_spec(fn.spec, event, trigger)

    async def _invoke_from_function(self, function: str, payload: Any, app: str) -> Any:
        fn = self._live.get(function)
        if fn is None or fn.app != app:
            raise NotFound(f"function {function!r} not found", code="function_not_found")
        result = await self.invoke_spec(fn.spec, payload, "invoke")
        if not result.ok:
            err = InvocationError(
                f"{function} failed: {result.error_type or result.status}", code="invocation_failed"
            )
            # what Lambda's Invoke answers with (X-Amz-Function-Error, throttling); redacted
            err.result_status = result.status  # type: ignore[attr-defined]
            err.error_type = result.error_type  # type: ignore[attr-defined]
            err.error_message = result.error_message  # type: ignore[attr-defined]
            err.retry_after = result.retry_after  # type: ignore[attr-defined]
            raise err
        return result.result

    async def enqueue_webhook(self, route: Route, event: dict[str, Any]) -> str:
        sub = next(
            s
            for s in self.subscriptions.webhooks
            if s.function == route.function.name and s.index == route.index
        )
        ids = await self.bus.enqueue_many([self.subscriptions.webhook_message(sub, event)])
        return ids[0]

    # -- registry helpers -----------------------------------------------------------------------
    async def deploy(
        self, archive: bytes, *, scan: GateOptions | None = None, actor: str | None = None
    ) -> DeployReport:
        """Scan, prepare and commit an app, and audit the gate's verdict either way.

        ``scan`` carries the deployer's accepted risks and baseline; ``actor``
        is who the deploying client says it is (recorded, not trusted: the
        principal is the admin token).
        """
        actor = _printable(actor)
        try:
            report = await self.registry.deploy(archive, scan=scan)
        except ScanFailed as exc:
            self.audit.emit(
                "scan.gate",
                decision="deny",
                principal="admin",
                action="scan:Gate",
                resource=f"app:{exc.app or '?'}",
                fail_on=exc.fail_on,
                blocking=[
                    {k: f[k] for k in ("id", "rule_id", "severity", "path", "line")}
                    for f in exc.findings
                ],
                excluded=exc.excluded,
                claimed_actor=actor,
            )
            raise
        except UnshippedEntries as exc:  # refused before the manifest was read: app unknown
            self._audit_gate_error(exc, actor, unshipped=exc.entries)
            raise
        except ScannerFailed as exc:  # a scanner broke: the gate failed closed
            self._audit_gate_error(exc, actor, message=exc.message)
            raise
        except (ScanError, ManifestError) as exc:  # bad manifest or baseline: nothing scanned
            self._audit_gate_error(exc, actor, message=str(exc)[:2000])
            raise
        if report.gate is not None:
            self._audit_gate(report.app, report.gate, actor)
        self.audit.emit(
            "registry.deploy",
            decision="allow",
            principal="admin",
            action="registry:Deploy",
            resource=f"app:{report.app}",
            functions={f["name"]: f["version"][:12] for f in report.functions},
            public_routes=report.warnings,
        )
        await self.refresh(force=True)
        return report

    def _audit_gate_error(self, exc: RampartsError, actor: str | None, **detail: Any) -> None:
        """A deploy the gate refused without a verdict on findings: still a ``scan.gate`` deny."""
        self.audit.emit(
            "scan.gate",
            decision="deny",
            principal="admin",
            action="scan:Gate",
            resource="app:?",
            reason=exc.code,
            claimed_actor=actor,
            **detail,
        )

    def _audit_gate(self, app: str, gate: GateResult, actor: str | None) -> None:
        for f in gate.accepted:
            accepted = f.accepted or {}
            self.audit.emit(
                "scan.risk_accepted",
                decision="allow",
                principal="admin",
                action="scan:AcceptRisk",
                resource=f"app:{app}",
                id=f.id,
                rule=f.rule_id,
                severity=str(f.severity),
                path=f.path,
                line=f.line,
                reason=accepted.get("reason"),
                source=accepted.get("source"),
                expires=accepted.get("expires"),
                claimed_actor=_printable(accepted.get("actor") or actor),
            )
        self.audit.emit(
            "scan.gate",
            decision="allow",
            principal="admin",
            action="scan:Gate",
            resource=f"app:{app}",
            fail_on=str(gate.fail_on),
            counts=gate.counts(),
            accepted=[f.id for f in gate.accepted],
            excluded=gate.summary()["excluded"],
            claimed_actor=actor,
        )

    def live_functions(self) -> list[LiveFunction]:
        """Every function with a live version on this node's view of the registry."""
        return list(self._live.values())

    def live(self, function: str) -> LiveFunction | None:
        return self._live.get(function)

    def resolve_app(self, app: str | None) -> str:
        apps = self.store.list_apps()
        if app:
            if app not in apps:
                raise NotFound(f"app {app!r} not found", code="app_not_found")
            return app
        if len(apps) == 1:
            return apps[0]
        from ramparts.errors import InvalidRequest

        raise (
            InvalidRequest("several apps are deployed: name one with app=", code="app_required")
            if apps
            else NotFound("no app is deployed", code="app_not_found")
        )

    # -- detections and alerts (ramparts.respond) ----------------------------------------------
    def _load_detections(self) -> tuple[list[Rule], Notifier | None]:
        """The rules and the alert notifier, validated; a bad one is a ``ConfigError``."""
        s = self.settings
        rules = load_rules(s.detections)
        return rules, open_notifier(s.alert_webhook, s.alert_webhook_secret_file)

    def _start_detections(self, rules: list[Rule], notifier: Notifier | None) -> None:
        """Evaluate every stored audit and invocation record against the rules, off the loop."""
        self.detections = DetectionService(
            rules, store=self.store, audit=self.audit, node=self.settings.node_id,
            notifier=notifier,
        )
        self.audit.add_sink(self.detections)
        self.invocations.add_sink(self.detections.invocations)
        # Alerts open incidents and run the playbooks that match them (ramparts.containment).
        self.incidents = IncidentDesk(
            records=self.response_records,
            actions=self.containment,
            store=self.store,
            audit=self.audit,
            signer=self.signer,
            notifier=notifier,
            smtp_url=self.settings.smtp_url,
            smtp_from=self.settings.smtp_from,
            node_id=self.settings.node_id,
        )
        self.detections.on_alert = self.incidents.alert
        self.detections.start()


def _printable(claimed: str | None) -> str | None:
    """A client's self-declared name with control characters escaped (``\\x1b``, ``\\n``).

    It is recorded, not trusted: a raw escape sequence or newline in it could
    forge lines or colours in a terminal or a log viewer reading the audit log.
    """
    if claimed is None:
        return None
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in claimed)
