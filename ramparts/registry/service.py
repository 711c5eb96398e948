"""The function registry: deploy, immutable versions, aliases, rollback.

A deploy is all-or-nothing: the archive is unpacked and validated, the
deploy-time scan (``ramparts.scan.gate``) judges it -- blocking findings that
no accepted risk covers refuse the deploy with ``ScanFailed`` before anything
is installed or written -- then every
function's dependencies are installed and its handler imported in a real
zygote before a single row is written; only then are the versions and the
``live`` aliases committed in one transaction.  A version's id is the sha256
of its code tree, its manifest section, the app's auth section and its
requirements, so identical code never makes a new version.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ramparts.config import Settings
from ramparts.errors import Conflict, DeployError, ManifestError, NotFound
from ramparts.manifest import FunctionConfig, Manifest, load_manifest, parse_handler, route_shape
from ramparts.registry.artifacts import materialize, tree_digest, unpack_archive
from ramparts.registry.deps import PipRunner, Plan, install_requirements, plan_install
from ramparts.registry.gc import GcReport, collect
from ramparts.runtime.supervisor import Supervisor
from ramparts.runtime.types import FunctionSpec
from ramparts.scan.advisories import open_source
from ramparts.scan.errors import ScanFailed
from ramparts.scan.findings import Severity
from ramparts.scan.gate import GateOptions, GateResult, blocking_details, run_gate
from ramparts.scan.reqfile import InstallPolicy
from ramparts.store import Store, VersionRecord

LIVE = "live"


@dataclass
class LiveFunction:
    """A function as routing and dispatch see it: its live version and config."""

    name: str
    app: str
    version: str
    config: FunctionConfig
    spec: FunctionSpec


@dataclass
class DeployReport:
    app: str
    functions: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    gate: GateResult | None = field(default=None, repr=False)  # the deploy-time scan

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "app": self.app,
            "functions": self.functions,
            "warnings": self.warnings,
        }
        if self.gate is not None:
            out["scan"] = self.gate.summary()
        return out


def version_id(app: str, manifest: Manifest, name: str, code: str, reqs: str | None) -> str:
    doc = {
        "app": app,
        "auth": manifest.auth.model_dump(mode="json", by_alias=True) if manifest.auth else None,
        "code": code,
        "config": manifest.functions[name].model_dump(mode="json", by_alias=True),
        "requirements": reqs,
    }
    return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()


def _requirements_for(app_dir: Path, handler: str) -> Path | None:
    file, _ = parse_handler(handler)
    near = (app_dir / file).parent / "requirements.txt"
    if near.is_file():
        return near
    top = app_dir / "requirements.txt"
    return top if top.is_file() else None


class Registry:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        supervisor: Supervisor,
        *,
        pip: PipRunner | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._supervisor = supervisor
        self._pip = pip  # the sandboxed installer
        self.install_policy = InstallPolicy(
            package_index=getattr(pip, "index_url", None) or settings.package_index,
            allow_source_builds=settings.allow_source_builds,
        )
        self._specs: dict[tuple[str, str], tuple[FunctionConfig, FunctionSpec]] = {}
        self._deploy_lock = asyncio.Lock()

    # -- deploy --------------------------------------------------------------------------
    async def deploy(self, archive: bytes, scan: GateOptions | None = None) -> DeployReport:
        """Unpack, scan, prepare and commit an app archive.

        ``scan`` carries what the caller may say about the gate (accepted
        risks, a baseline, a stricter ``fail_on``); the advisory source and
        the ``high`` floor are the node's, so no client can loosen the gate.
        """
        async with self._deploy_lock:
            tmp = Path(tempfile.mkdtemp(prefix="deploy-", dir=self._settings.data_dir))
            # Traversable by the sandboxed installer's own uid (it gets the requirements'
            # dir bound in); the data dir around it stays 0700.
            os.chmod(tmp, 0o755)  # noqa: S103
            try:
                return await self._deploy(archive, tmp, scan or GateOptions())
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

    def _gate(self, app_dir: Path, requested: GateOptions) -> GateResult:
        options = GateOptions(
            fail_on=min(requested.fail_on, Severity.HIGH),
            baseline=requested.baseline,
            use_app_baseline=requested.use_app_baseline,
            accept=list(requested.accept),
            advisories=open_source(None, self._settings.data_dir),
            install_policy=self.install_policy,
        )
        return run_gate(app_dir, options)

    async def _deploy(self, archive: bytes, tmp: Path, scan: GateOptions) -> DeployReport:
        await asyncio.to_thread(unpack_archive, archive, tmp)
        manifest = await asyncio.to_thread(load_manifest, tmp, display_name="ramparts.yaml")
        await asyncio.to_thread(self._check_conflicts, manifest)
        _check_allow_exec(tmp, manifest)
        gate = await asyncio.to_thread(self._gate, tmp, scan)
        if not gate.passed:
            raise ScanFailed(
                blocking_details(gate), str(gate.fail_on), app=manifest.app, notes=gate.notes
            )
        code = await asyncio.to_thread(tree_digest, tmp)
        report = DeployReport(manifest.app, gate=gate)
        records: list[VersionRecord] = []
        prepared: list[FunctionSpec] = []
        # Every requirements file is checked before anything is installed.
        plans: dict[str, tuple[Path, Plan] | None] = {}
        for name, cfg in manifest.functions.items():
            req_path = _requirements_for(tmp, cfg.handler)
            plans[name] = None if req_path is None else (
                req_path,
                await asyncio.to_thread(self._plan, req_path, tmp),
            )
        for name, cfg in manifest.functions.items():
            planned = plans[name]
            req = planned[1].digest if planned else None
            vid = version_id(manifest.app, manifest, name, code, req)
            deps_dir = None
            if planned is not None:
                deps_dir = await asyncio.to_thread(self._install, *planned)
            code_dir = await asyncio.to_thread(
                materialize, archive, self._settings.artifacts_dir / code
            )
            spec = self._make_spec(manifest.app, name, vid, cfg, code_dir, deps_dir)
            try:
                await self._supervisor.prepare(spec)
            except DeployError as exc:
                raise DeployError(
                    f"function {name}: {exc.message}", code="handler_import_failed"
                ) from None
            prepared.append(spec)
            records.append(
                VersionRecord(
                    name,
                    vid,
                    0,
                    manifest.app,
                    code,
                    req,
                    cfg.model_dump(mode="json", by_alias=True),
                    0.0,
                )
            )
            for trig in cfg.triggers:
                if trig.http and trig.http.auth == "none":
                    report.warnings.append(
                        f"{name}: route {trig.http.method} {trig.http.path} is public (auth: none)"
                    )
        previous = {r.function: self._store.get_alias(r.function, LIVE) for r in records}
        existed = {
            r.function: self._store.get_version(r.function, r.version) is not None for r in records
        }
        await asyncio.to_thread(self._store.put_artifact, code, archive)
        stored = await asyncio.to_thread(self._store.commit_deploy, manifest.app, records)
        for rec, spec in zip(stored, prepared, strict=True):
            self._specs[(rec.function, rec.version)] = (
                FunctionConfig.model_validate(rec.config),
                spec,
            )
            report.functions.append(
                {
                    "name": rec.function,
                    "version": rec.version,
                    "seq": rec.seq,
                    "created": not existed[rec.function],
                    "previous": previous.get(rec.function),
                    "changed": previous.get(rec.function) != rec.version,
                }
            )
        return report

    # -- garbage collection --------------------------------------------------------------
    async def collect_garbage(self, retention: float) -> tuple[GcReport, list[FunctionSpec]]:
        """Drop versions unaliased for ``retention`` seconds; their now-unused specs."""
        async with self._deploy_lock:  # no half-made deploy of ours is swept
            in_use = {
                spec.deps_dir.name for _, spec in self._specs.values() if spec.deps_dir is not None
            }
            report = await asyncio.to_thread(
                collect, self._store, self._settings, retention, in_use_deps=in_use
            )
            dropped = []
            for rec in report.versions:
                cached = self._specs.pop((rec.function, rec.version), None)
                if cached is not None:
                    dropped.append(cached[1])
            return report, dropped

    def _plan(self, req_path: Path, app_dir: Path) -> Plan:
        return plan_install(
            req_path,
            self.install_policy,
            sandboxed=self._pip is not None,
            display=req_path.relative_to(app_dir).as_posix(),
        )

    def _install(self, req_path: Path, plan: Plan) -> Path:
        return install_requirements(
            req_path, self._settings.deps_dir, plan.digest, pip=self._pip, options=plan.options
        )

    def _check_conflicts(self, manifest: Manifest) -> None:
        mine = {}
        for name, cfg in manifest.functions.items():
            for trig in cfg.triggers:
                if trig.kind in ("http", "webhook"):
                    method = trig.http.method if trig.http else "POST"
                    mine[(method, route_shape(trig.config.path))] = name
        for fn in self._store.list_functions():
            if fn["name"] in manifest.functions and fn["app"] != manifest.app:
                raise Conflict(f"function {fn['name']!r} already belongs to app {fn['app']!r}")
            if fn["app"] == manifest.app or LIVE not in fn["aliases"]:
                continue
            rec = self._store.get_version(fn["name"], fn["aliases"][LIVE])
            if rec is None:
                continue
            for trig in FunctionConfig.model_validate(rec.config).triggers:
                if trig.kind in ("http", "webhook"):
                    method = trig.http.method if trig.http else "POST"
                    key = (method, route_shape(trig.config.path))
                    if (
                        key in mine
                        or ("ANY", key[1]) in mine
                        or (method == "ANY" and any(k[1] == key[1] for k in mine))
                    ):
                        raise Conflict(
                            f"route {method} {trig.config.path} is already served by "
                            f"{fn['name']!r} of app {fn['app']!r}"
                        )

    def _make_spec(
        self,
        app: str,
        name: str,
        vid: str,
        cfg: FunctionConfig,
        code_dir: Path,
        deps_dir: Path | None,
    ) -> FunctionSpec:
        return FunctionSpec(
            app=app,
            function=name,
            version=vid,
            code_dir=code_dir,
            handler=cfg.handler,
            deps_dir=deps_dir,
            timeout=cfg.timeout,
            memory_mb=cfg.memory,
            concurrency=cfg.concurrency,
            environment=dict(cfg.environment),
            runtime_protection=cfg.runtime_protection,
            egress=tuple(cfg.egress),
            allow_exec=tuple(cfg.allow_exec),
            tmp_mb=cfg.tmp,
            limits={
                "processes": cfg.limits.processes,
                "open_files": cfg.limits.open_files,
                "file_size": cfg.limits.file_size * 1024 * 1024,
            },
            anomaly_window=(cfg.anomaly_window.duration, cfg.anomaly_window.invocations),
        )

    # -- resolution ----------------------------------------------------------------------
    def resolve_version(self, function: str, qualifier: str | None = None) -> VersionRecord:
        """A version by alias name, full id or unique id prefix (default: ``live``)."""
        qualifier = qualifier or LIVE
        target = self._store.get_alias(function, qualifier)
        if target is not None:
            rec = self._store.get_version(function, target)
            if rec is not None:
                return rec
        versions = self._store.list_versions(function)
        if not versions:
            raise NotFound(f"function {function!r} not found", code="function_not_found")
        if qualifier.isdigit():
            match = [v for v in versions if v.seq == int(qualifier)]
        else:
            match = [v for v in versions if v.version.startswith(qualifier.lower())]
        if len(match) != 1 or len(qualifier) < 4 and not qualifier.isdigit():
            raise NotFound(
                f"function {function!r} has no alias or version {qualifier!r}",
                code="version_not_found",
            )
        return match[0]

    def spec_for(self, rec: VersionRecord) -> tuple[FunctionConfig, FunctionSpec]:
        """Config and runnable spec for a version, materialising its code if needed."""
        key = (rec.function, rec.version)
        cached = self._specs.get(key)
        if cached is not None:
            return cached
        cfg = FunctionConfig.model_validate(rec.config)
        code_dir = self._settings.artifacts_dir / rec.artifact
        if not code_dir.is_dir():
            materialize(self._store.get_artifact(rec.artifact), code_dir)
        deps_dir = None
        if rec.requirements:
            req_path = _requirements_for(code_dir, cfg.handler)
            if req_path is None:
                raise DeployError(f"version {rec.version[:12]} lost its requirements file")
            deps_dir = self._install(req_path, self._plan(req_path, code_dir))
        spec = self._make_spec(rec.app, rec.function, rec.version, cfg, code_dir, deps_dir)
        self._specs[key] = (cfg, spec)
        return cfg, spec

    def live_functions(self) -> list[LiveFunction]:
        out = []
        for fn in self._store.list_functions():
            target = fn["aliases"].get(LIVE)
            if target is None:
                continue
            rec = self._store.get_version(fn["name"], target)
            if rec is None:
                continue
            cfg, spec = self.spec_for(rec)
            out.append(LiveFunction(fn["name"], fn["app"], rec.version, cfg, spec))
        return out


def _check_allow_exec(app_dir: Path, manifest: Manifest) -> None:
    """Every ``allow_exec`` entry names an executable regular file of the app."""
    for name, cfg in manifest.functions.items():
        for rel in cfg.allow_exec:
            path = app_dir / rel
            if path.is_symlink() or not path.is_file() or not os.access(path, os.X_OK):
                raise ManifestError(
                    "ramparts.yaml",
                    [
                        (
                            f"functions.{name}.allow_exec",
                            f"{rel!r} is not an executable file in the app (a regular file "
                            "with its executable bit set; directories are not allowed)",
                        )
                    ],
                )
