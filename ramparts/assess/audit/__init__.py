"""The posture audit's checks, one module per family, run over one snapshot of the node.

``run_audit`` runs every check of the catalogue and returns the report.  A
check that raises is not skipped: the audit fails as a whole, because a
report missing a family would score the node as if that family passed.
"""

from __future__ import annotations

from collections.abc import Callable

from ramparts.assess.audit.credentials import check_api_keys, check_secrets
from ramparts.assess.audit.dos import check_budgets, check_waf
from ramparts.assess.audit.events import check_dead_letters, check_schemas
from ramparts.assess.audit.evidence import check_audit_chain
from ramparts.assess.audit.inputs import AuditOptions, NodeFacts, PostureInputs
from ramparts.assess.audit.integrity import check_integrity
from ramparts.assess.audit.practice import check_audit_runs, check_playbook_coverage
from ramparts.assess.audit.roles import check_unused, check_wildcards
from ramparts.assess.audit.routes import check_routes
from ramparts.assess.audit.runtime import check_egress, check_protection, check_sandbox
from ramparts.assess.audit.supply import (
    check_acceptances,
    check_advisories,
    check_advisory_recheck,
)
from ramparts.assess.audit.transport import check_tls, check_trusted_proxies
from ramparts.assess.findings import Finding, PostureReport

__all__ = ["CHECKS", "AuditOptions", "NodeFacts", "PostureInputs", "run_audit"]

Check = Callable[[PostureInputs], list[Finding]]

CHECKS: tuple[Check, ...] = (
    check_routes,
    check_wildcards,
    check_unused,
    check_secrets,
    check_protection,
    check_egress,
    check_tls,
    check_trusted_proxies,
    check_api_keys,
    check_audit_chain,
    check_sandbox,
    check_acceptances,
    check_advisories,
    check_advisory_recheck,
    check_waf,
    check_budgets,
    check_schemas,
    check_integrity,
    check_playbook_coverage,
    check_audit_runs,
    check_dead_letters,
)


def run_audit(inputs: PostureInputs) -> PostureReport:
    findings: list[Finding] = []
    for check in CHECKS:
        findings.extend(check(inputs))
    routes = [(fn.app, t.http) for fn in inputs.functions for t in fn.config.triggers if t.http]
    notes = [
        f"{len(inputs.functions)} live function(s) in {len(inputs.apps())} app(s), "
        f"{len(routes)} http route(s), {len(inputs.api_keys)} API key(s), "
        f"{len(inputs.secrets)} secret(s) looked at",
    ]
    flagged = {(f.app, f.resource) for f in findings if f.rule == "RP-A002"}
    for app, route in routes:
        where = f"{route.method} {route.path}"
        if route.auth == "none" and (app, where) not in flagged:
            notes.append(f"public route {where} of app {app} is expected (--expect-public)")
    return PostureReport(
        node=inputs.node.node_id,
        generated_at=inputs.now,
        app=inputs.options.app,
        findings=findings,
        notes=notes,
        options=inputs.options.to_dict(),
    )
