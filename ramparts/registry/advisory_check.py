"""Re-check every live version's SBOM against the node's advisory source.

A deploy is gated on the advisories known that day; an advisory published
later for a package a live version runs is only found by looking again.  The
node does so every ``advisory_check_interval`` (a day by default) and on
``ramparts advisories check``: it reads each live version's SBOM (verified
against its signed digest first), asks the advisory source about every
(package, version) in one batch, and records each (version, advisory) pair in
the store.  Only pairs the store had not seen come back as ``new``: the node
audits those as ``advisory.detected``, once across the cluster.

When no source answers (none configured, a path that has gone, the OSV API
unreachable) the result says so in ``unavailable``: the caller records
``advisory.check_unavailable`` and exits non-zero, never a silent pass.  A
version whose SBOM fails its check is listed in ``problems`` and not matched.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ramparts.errors import VersionIntegrityError
from ramparts.registry.sbom import packages_of
from ramparts.scan.advisories import AdvisoriesUnavailable, Pin
from ramparts.scan.errors import ScanError

if TYPE_CHECKING:
    from ramparts.observe.audit import AuditLog
    from ramparts.registry.service import Registry

log = logging.getLogger("ramparts.supply")
LIVE = "live"


@dataclass(frozen=True)
class Hit:
    """An advisory affecting a package a live version has installed."""

    function: str
    version: str
    package: str
    installed: str
    advisory: str
    aliases: list[str]
    severity: str
    fixed_in: str | None
    summary: str
    new: bool = False


@dataclass
class CheckResult:
    source: str = ""
    checked: list[dict[str, Any]] = field(default_factory=list)  # live versions matched
    hits: list[Hit] = field(default_factory=list)
    problems: list[dict[str, str]] = field(default_factory=list)  # versions not checked
    unavailable: str | None = None  # why no source answered

    @property
    def new(self) -> list[Hit]:
        return [h for h in self.hits if h.new]

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "checked": self.checked,
            "hits": [asdict(h) for h in self.hits],
            "new": len(self.new),
            "problems": self.problems,
            "unavailable": self.unavailable,
            "ok": self.unavailable is None and not self.problems,
        }


def check_live(registry: Registry) -> CheckResult:
    """Match every live version's SBOM against the node's advisory source."""
    store = registry.store
    result = CheckResult()
    pins_of: dict[tuple[str, str], list[Pin]] = {}
    for fn in store.list_functions():
        target = fn["aliases"].get(LIVE)
        rec = store.get_version(fn["name"], target) if target else None
        if rec is None:
            continue
        try:
            doc = registry.sbom(rec)
        except VersionIntegrityError as exc:
            result.problems.append(
                {"function": rec.function, "version": rec.version, "code": exc.code,
                 "message": exc.message}
            )
            continue
        pins_of[(rec.function, rec.version)] = packages_of(doc)
    try:
        source = registry.advisory_source()
    except ScanError as exc:
        result.unavailable = exc.message
        return result
    if source is None:
        result.unavailable = "no advisory source is configured (RAMPARTS_ADVISORIES=off)"
        return result
    result.source = source.description
    all_pins = sorted({p for pins in pins_of.values() for p in pins})
    try:
        found = source.match(all_pins)
    except AdvisoriesUnavailable as exc:
        result.unavailable = f"{source.description}: {exc.message}"
        return result
    hits: list[Hit] = []
    for (function, version), pins in sorted(pins_of.items()):
        result.checked.append({"function": function, "version": version, "packages": len(pins)})
        for name, installed in pins:
            for adv in found.get((name, installed), []):
                hits.append(
                    Hit(function, version, name, str(installed), adv.id, list(adv.aliases),
                        str(adv.severity), adv.fixed_for(installed), adv.summary)
                )
    now = time.time()
    fresh = store.advisory_hits_add(
        [{"function": h.function, "version": h.version, "advisory": h.advisory,
          "package": h.package, "at": now} for h in hits]
    )
    new_keys = {(r["function"], r["version"], r["advisory"], r["package"]) for r in fresh}
    result.hits = [
        Hit(**{**asdict(h), "new": (h.function, h.version, h.advisory, h.package) in new_keys})
        for h in hits
    ]
    return result


async def run_check(registry: Registry, audit: AuditLog, principal: str) -> CheckResult:
    """``check_live`` off the event loop, its outcome audited.

    One ``advisory.detected`` record (decision ``deny``: a live version runs a
    package with a known vulnerability) per new (version, advisory, package); one
    ``advisory.check_unavailable`` when no source answered; one
    ``advisory.sbom_invalid`` per version whose SBOM failed its check; and one
    ``advisory.check`` summary for every run.
    """
    result = await asyncio.to_thread(check_live, registry)

    def emit(kind: str, decision: str, resource: str, **detail: Any) -> None:
        audit.emit(kind, decision=decision, principal=principal,
                   action="supply:CheckAdvisories", resource=resource, **detail)

    for hit in result.new:
        emit("advisory.detected", "deny", f"function:{hit.function}:{hit.version[:12]}",
             advisory=hit.advisory, aliases=hit.aliases, package=hit.package,
             installed=hit.installed, severity=hit.severity, fixed_in=hit.fixed_in)
    for problem in result.problems:
        emit("advisory.sbom_invalid", "deny",
             f"function:{problem['function']}:{problem['version'][:12]}", code=problem["code"])
    if result.unavailable is not None:
        emit("advisory.check_unavailable", "deny", "advisories", reason=result.unavailable)
        log.warning("advisory re-check: no source answered: %s", result.unavailable)
    emit("advisory.check", "allow" if result.unavailable is None else "deny", "advisories",
         source=result.source, versions=len(result.checked), hits=len(result.hits),
         new=len(result.new))
    return result


async def watch(registry: Registry, audit: AuditLog, interval: float, principal: str) -> None:
    """Re-check live versions every ``interval`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        try:
            await run_check(registry, audit, principal)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - a failed run is logged; the next one tries again
            log.exception("advisory re-check failed")
