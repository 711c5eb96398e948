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

A version is its code *and* its configuration: its record holds its function
section and the app's ``auth:`` section, its artifact is stored under the
digest of the whole unpacked tree (``ramparts.yaml`` included, so two apps or
two deploys with identical code but different manifests never share one), and
the record is signed with the store's Ed25519 key.  ``verify`` checks all of it
before a zygote starts (``ramparts.registry.signing``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import yaml

from ramparts import yamlsafe
from ramparts.config import Settings
from ramparts.crypto.signing import VersionSigner
from ramparts.errors import (
    Conflict,
    DeployError,
    ManifestError,
    NotFound,
    RampartsError,
    VersionIntegrityError,
)
from ramparts.manifest import (
    MANIFEST_NAME,
    AppLimits,
    AuthConfig,
    FunctionConfig,
    Manifest,
    WafConfig,
    load_manifest,
    parse_handler,
    route_shape,
)
from ramparts.registry import signing
from ramparts.registry.artifacts import artifact_digest, materialize, tree_digest, unpack_archive
from ramparts.registry.deps import PipRunner, Plan, install_requirements, plan_install
from ramparts.registry.gc import GcReport, collect_versions, sweep
from ramparts.registry.sbom import build_sbom, sbom_digest, verify_sbom
from ramparts.runtime.supervisor import Supervisor
from ramparts.runtime.types import FunctionSpec
from ramparts.scan.advisories import AdvisorySource, open_source
from ramparts.scan.errors import ScanFailed
from ramparts.scan.findings import Severity
from ramparts.scan.gate import GateOptions, GateResult, blocking_details, run_gate
from ramparts.scan.reqfile import InstallPolicy
from ramparts.scan.sdk import old_sdk_pins
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
    auth: AuthConfig | None = None  # the app's auth section, as this version was deployed
    # the app's ``waf:`` and ``app_limits:`` as this version was deployed (defaults if unset)
    waf: WafConfig = field(default_factory=WafConfig)
    app_limits: AppLimits | None = None


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


def app_sections(stored: dict[str, Any] | None) -> tuple[WafConfig, AppLimits | None]:
    """A version's stored app-wide sections, parsed (defaults where it has none)."""
    stored = stored or {}
    waf = WafConfig.model_validate(stored["waf"]) if "waf" in stored else WafConfig()
    limits = AppLimits.model_validate(stored["app_limits"]) if "app_limits" in stored else None
    return waf, limits


def auth_section(auth: AuthConfig | None) -> dict[str, Any] | None:
    """The app's ``auth:`` as a version stores it (and its id covers it)."""
    return auth.model_dump(mode="json", by_alias=True) if auth else None


def version_id(app: str, manifest: Manifest, name: str, code: str, reqs: str | None) -> str:
    return _version_id(
        app,
        auth_section(manifest.auth),
        manifest.functions[name].model_dump(mode="json", by_alias=True),
        code,
        reqs,
        manifest.app_config(),
    )


def _version_id(
    app: str,
    auth: dict[str, Any] | None,
    config: dict[str, Any],
    code: str,
    reqs: str | None,
    app_config: dict[str, Any] | None = None,
) -> str:
    doc = {"app": app, "auth": auth, "code": code, "config": config, "requirements": reqs}
    if app_config is not None:  # absent rather than null: earlier versions keep their ids
        doc["app_config"] = app_config
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
        signer: VersionSigner,
        pip: PipRunner | None = None,
    ) -> None:
        self._settings = settings
        self._store = store
        self._supervisor = supervisor
        self._signer = signer
        self._pip = pip  # the sandboxed installer
        self.install_policy = InstallPolicy(
            package_index=getattr(pip, "index_url", None) or settings.package_index,
            allow_source_builds=settings.allow_source_builds,
        )
        # By (function, version, signature): a version re-signed (a migration, a
        # redeploy of an unsigned one) gets a fresh spec, never a stale one.
        self._specs: dict[tuple[str, str, str | None], tuple[FunctionConfig, FunctionSpec]] = {}
        # Checks of an unpacked app by layers above the registry (the gateway's WAF rule
        # files): each raises ManifestError, and the deploy is refused before any install.
        self.app_checks: list[Callable[[Path, Manifest], None]] = []
        # Signed records of a deploy in progress: their zygotes start (and are
        # verified) before the records are committed.
        self._pending: dict[tuple[str, str], VersionRecord] = {}
        self._deploy_lock = asyncio.Lock()

    @property
    def store(self) -> Store:
        return self._store

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

    def advisory_source(self) -> AdvisorySource | None:
        """The node's advisory source (``--advisories``/``RAMPARTS_ADVISORIES``, see
        ``open_source``); ``ScanError`` when a configured path has gone."""
        s = self._settings
        return open_source(None, s.data_dir, setting=s.advisories or None, api=s.osv_api)

    def _gate(self, app_dir: Path, requested: GateOptions) -> GateResult:
        options = GateOptions(
            fail_on=min(requested.fail_on, Severity.HIGH),
            baseline=requested.baseline,
            use_app_baseline=requested.use_app_baseline,
            accept=list(requested.accept),
            advisories=self.advisory_source(),
            install_policy=self.install_policy,
            cache_dir=self._settings.data_dir / "scan-cache",  # the node's own 0700 state
        )
        return run_gate(app_dir, options)

    async def _deploy(self, archive: bytes, tmp: Path, scan: GateOptions) -> DeployReport:
        await asyncio.to_thread(partial(unpack_archive, shipped_only=True), archive, tmp)
        manifest = await asyncio.to_thread(load_manifest, tmp, display_name="ramparts.yaml")
        await asyncio.to_thread(self._check_conflicts, manifest)
        _check_allow_exec(tmp, manifest)
        for check in self.app_checks:
            await asyncio.to_thread(check, tmp, manifest)
        gate = await asyncio.to_thread(self._gate, tmp, scan)
        if not gate.passed:
            raise ScanFailed(
                blocking_details(gate), str(gate.fail_on), app=manifest.app, notes=gate.notes,
                excluded=gate.summary()["excluded"],
            )
        code = await asyncio.to_thread(tree_digest, tmp)
        artifact = await asyncio.to_thread(artifact_digest, tmp)
        auth = auth_section(manifest.auth)
        report = DeployReport(manifest.app, gate=gate)
        records: list[VersionRecord] = []
        sboms: dict[tuple[str, str], bytes] = {}
        prepared: list[FunctionSpec] = []
        # Every requirements file is checked before anything is installed.
        plans: dict[str, tuple[Path, Plan] | None] = {}
        for name, cfg in manifest.functions.items():
            req_path = _requirements_for(tmp, cfg.handler)
            plans[name] = None if req_path is None else (
                req_path,
                await asyncio.to_thread(self._plan, req_path, tmp),
            )
        try:
            for name, cfg in manifest.functions.items():
                planned = plans[name]
                req = planned[1].digest if planned else None
                vid = version_id(manifest.app, manifest, name, code, req)
                existing = await asyncio.to_thread(self._store.get_version, name, vid)
                if existing is not None and existing.signature is not None:
                    # The same version again: run it exactly as it was signed.
                    rec = existing
                    _, spec = await asyncio.to_thread(self.spec_for, rec)
                    # Its tree may have been altered or deleted since: unpack it again.
                    source = archive if rec.artifact == artifact else None
                    await asyncio.to_thread(self._restore_code, rec, source)
                else:
                    deps_dir = None
                    if planned is not None:
                        deps_dir = await asyncio.to_thread(self._install, *planned)
                    unsigned = VersionRecord(
                        name,
                        vid,
                        0,
                        manifest.app,
                        artifact,
                        req,
                        cfg.model_dump(mode="json", by_alias=True),
                        0.0,
                        auth,
                        app_config=manifest.app_config(),
                    )
                    # The SBOM of what was really installed; its digest is signed with the rest.
                    document = await asyncio.to_thread(build_sbom, unsigned, deps_dir)
                    sboms[(name, vid)] = document
                    rec = signing.sign(
                        self._signer, replace(unsigned, sbom=sbom_digest(document))
                    )
                    code_dir = await asyncio.to_thread(
                        materialize, archive, self._settings.artifacts_dir / artifact, artifact
                    )
                    spec = self._make_spec(manifest.app, name, vid, cfg, code_dir, deps_dir)
                self._pending[(name, vid)] = rec
                try:
                    await self._supervisor.prepare(spec)
                except DeployError as exc:
                    raise DeployError(
                        f"function {name}: {exc.message}", code="handler_import_failed"
                    ) from None
                prepared.append(spec)
                records.append(rec)
                if planned is not None:  # an AWS SDK pinned too old for AWS_ENDPOINT_URL
                    rel = planned[0].relative_to(tmp).as_posix()
                    report.warnings.extend(
                        f"{name}: {w}"
                        for w in old_sdk_pins(planned[0].read_text(errors="replace"), rel)
                    )
                for trig in cfg.triggers:
                    if trig.http and trig.http.auth == "none":
                        report.warnings.append(
                            f"{name}: route {trig.http.method} {trig.http.path} is public "
                            "(auth: none)"
                        )
        except BaseException:
            self._pending.clear()
            raise
        previous = {r.function: self._store.get_alias(r.function, LIVE) for r in records}
        existed = {
            r.function: self._store.get_version(r.function, r.version) is not None for r in records
        }
        try:
            await asyncio.to_thread(self._store.put_artifact, artifact, archive)
            stored = await asyncio.to_thread(
                self._store.commit_deploy, manifest.app, records, sboms
            )
        finally:
            self._pending.clear()
        for rec, spec in zip(stored, prepared, strict=True):
            self._specs[(rec.function, rec.version, rec.signature)] = (
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
    async def collect_garbage(
        self,
        retention: float,
        retire: Callable[[FunctionSpec], Awaitable[None]] | None = None,
    ) -> tuple[GcReport, list[FunctionSpec]]:
        """Drop versions unaliased for ``retention`` seconds; their now-unused specs.

        The deleted versions' specs are forgotten and their zygotes stopped
        (``retire``) before the data dir is swept, so one run removes their
        installs too, while an install a remaining spec uses always stays.
        """
        async with self._deploy_lock:  # no half-made deploy of ours is swept
            report, collected = await asyncio.to_thread(
                collect_versions, self._store, retention
            )
            gone = {(rec.function, rec.version) for rec in report.versions}
            dropped = [self._specs.pop(k)[1] for k in [k for k in self._specs if k[:2] in gone]]
            if retire is not None:
                for spec in dropped:
                    await retire(spec)
            in_use = {
                spec.deps_dir.name for _, spec in self._specs.values() if spec.deps_dir is not None
            }
            report.local_dirs += await asyncio.to_thread(
                sweep, self._settings, collected, in_use_deps=in_use
            )
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
            environment=cfg.plain_environment(),
            secret_environment=cfg.secret_environment(),
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
        found = match_version(versions, qualifier)
        if found is None:
            raise NotFound(
                f"function {function!r} has no alias or version {qualifier!r}",
                code="version_not_found",
            )
        return found

    def sbom(self, rec: VersionRecord) -> dict[str, Any]:
        """The version's SBOM, once its record's signature and the SBOM's digest verify.

        ``VersionIntegrityError``: ``version_signature_invalid``, ``sbom_tampered`` or
        ``sbom_not_found`` (a version deployed before SBOMs were recorded).
        """
        signing.check_record(self._signer, rec)
        document = self._store.get_sbom(rec.function, rec.version)  # type: ignore[attr-defined]
        return verify_sbom(rec, document)

    def spec_for(self, rec: VersionRecord) -> tuple[FunctionConfig, FunctionSpec]:
        """Config and runnable spec for a version, materialising its code if needed."""
        key = (rec.function, rec.version, rec.signature)
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
            auth = AuthConfig.model_validate(rec.auth) if rec.auth is not None else None
            waf, limits = app_sections(rec.app_config)
            out.append(
                LiveFunction(fn["name"], fn["app"], rec.version, cfg, spec, auth, waf, limits)
            )
        return out

    # -- integrity -------------------------------------------------------------------------
    def record_for(self, spec: FunctionSpec) -> VersionRecord | None:
        """The record of a version: the one being deployed, else the stored one."""
        rec = self._pending.get((spec.function, spec.version))
        return rec if rec is not None else self._store.get_version(spec.function, spec.version)

    def verify(self, spec: FunctionSpec) -> VersionRecord:
        """Check a version before its zygote starts; ``VersionIntegrityError`` if it fails.

        The record (the one being deployed, else the stored one) must carry a
        valid signature, ``spec`` must be what that record describes, and the
        unpacked code must still have the signed digest.
        """
        rec = self.record_for(spec)
        if rec is None:
            raise VersionIntegrityError(
                f"version {spec.version[:12]} of {spec.function} is not in the registry",
                code="version_unknown",
            )
        signing.check_record(self._signer, rec)
        code_dir = self._settings.artifacts_dir / rec.artifact
        deps_ok = (spec.deps_dir is None) == (rec.requirements is None) and (
            spec.deps_dir is None or Path(spec.deps_dir).name == rec.requirements
        )
        try:
            cfg = FunctionConfig.model_validate(rec.config)
            expected = self._make_spec(
                rec.app, rec.function, rec.version, cfg, code_dir, spec.deps_dir
            )
        except (ValueError, RampartsError):
            expected = None
        if expected != spec or not deps_ok:
            raise VersionIntegrityError(
                f"version {spec.version[:12]} of {spec.function}: what would run is not what "
                "was signed",
                code="version_spec_mismatch",
            )
        # A tampered tree stays refused until the app is deployed again (``_restore_code``):
        # an alteration is an incident for an admin to look at, not something to paper over.
        signing.check_code(rec, code_dir)
        return rec

    def _restore_code(self, rec: VersionRecord, archive: bytes | None = None) -> Path:
        """Make the tree at ``artifacts/<digest>`` hash to ``rec.artifact`` again.

        A tree that does not (edited, planted, deleted) is set aside and
        unpacked anew from ``archive`` or the stored archive, which must itself
        verify; otherwise ``VersionIntegrityError`` and the tree stays as found.
        """
        data = archive if archive is not None else self._store.get_artifact(rec.artifact)
        return materialize(data, self._settings.artifacts_dir / rec.artifact, rec.artifact)

    def migrate_unsigned(self) -> list[tuple[VersionRecord, str]]:
        """Sign the versions a store from before signing holds, where that can be proven.

        Run once, on the start that created the signing key.  A version is signed
        only when its stored archive still hashes to its artifact digest and its
        id still recomputes from that code, its config and the ``auth:`` in the
        archive's manifest (which is then known to be its own).  Such a version is
        re-keyed under the digest of its whole tree and signed; any other stays
        unsigned and is refused at start until its app is deployed again.
        Returns each unsigned version with ``"signed"`` or the reason it was not.
        """
        out: list[tuple[VersionRecord, str]] = []
        for fn in self._store.list_functions():
            for rec in self._store.list_versions(fn["name"]):
                if rec.signature is not None:
                    continue
                try:
                    outcome = self._migrate(rec)
                except (RampartsError, OSError, ValueError, yaml.YAMLError, RecursionError) as exc:
                    outcome = getattr(exc, "code", None) or type(exc).__name__
                out.append((rec, outcome))
        return out

    def _migrate(self, rec: VersionRecord) -> str:
        data = self._store.get_artifact(rec.artifact)
        tmp = Path(tempfile.mkdtemp(prefix="migrate-", dir=self._settings.data_dir))
        try:
            unpack_archive(data, tmp)
            if tree_digest(tmp) != rec.artifact:
                return "artifact_digest_mismatch"
            manifest = tmp / MANIFEST_NAME
            raw = yamlsafe.load(manifest.read_text(encoding="utf-8")) if manifest.is_file() else {}
            found = (raw or {}).get("auth") if isinstance(raw, dict) else None
            auth = auth_section(AuthConfig.model_validate(found)) if found is not None else None
            recomputed = _version_id(rec.app, auth, rec.config, rec.artifact, rec.requirements)
            if recomputed != rec.version:
                return "version_id_mismatch"  # e.g. same code redeployed with another auth
            artifact = artifact_digest(tmp)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self._store.put_artifact(artifact, data)
        signature = self._signer.sign(signing.payload(replace(rec, artifact=artifact, auth=auth)))
        done = self._store.sign_version(
            rec.function, rec.version, artifact=artifact, auth=auth, signature=signature
        )
        return "signed" if done else "already_signed"


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


def match_version(versions: list[VersionRecord], qualifier: str) -> VersionRecord | None:
    """The version a number (its sequence) or a unique id prefix of 4+ characters names.

    A number is tried as a sequence first and then as an id prefix: ids are hex, so a
    prefix can be all digits (``764362646882``), and reading it only as a sequence
    number made such a version unreachable by the prefix ``ramparts versions`` prints.
    """
    if qualifier.isdigit():
        by_seq = [v for v in versions if v.seq == int(qualifier)]
        if len(by_seq) == 1:
            return by_seq[0]
    if len(qualifier) < 4:
        return None
    match = [v for v in versions if v.version.startswith(qualifier.lower())]
    return match[0] if len(match) == 1 else None
