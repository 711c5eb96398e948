"""Role checks: wildcard or escalating grants, and grants nothing uses.

RP-A004 reuses the policy linter (``ramparts policy lint``) on the live
version's role, without reading code: its RP-P001 (every action), RP-P002
(every resource, a whole kind, another app's resources) and RP-P003
(privilege escalation) findings.  RP-A005 reuses the policy advisor
(``ramparts policy suggest``): an allow statement that neither the audit trail
within the window nor a static read of the handler uses.  Not checked: code
paths that did not run in the window and that the static read cannot follow
(a grant they need is reported as unused: review before removing).
"""

from __future__ import annotations

from ramparts.assess.audit.inputs import DAY, PostureInputs
from ramparts.assess.findings import Finding
from ramparts.policy.advisor import observed_uses, suggest
from ramparts.policy.lint import lint_function
from ramparts.policy.static import scan_handler

_WILDCARD_RULES = ("RP-P001", "RP-P002", "RP-P003")


def check_wildcards(inputs: PostureInputs) -> list[Finding]:
    """One finding per statement, its linter messages joined as the evidence."""
    found: list[Finding] = []
    for fn in inputs.functions:
        by_statement: dict[str, list[str]] = {}
        for lint in lint_function(fn.app, fn.name, fn.config, None):
            if lint.rule in _WILDCARD_RULES:
                label = lint.where.partition("(")[2].rstrip(")") or lint.where
                by_statement.setdefault(label, []).append(f"{lint.rule}: {lint.message}")
        for label, messages in by_statement.items():
            found.append(
                Finding(
                    "RP-A004", f"function:{fn.name} {label}", "; ".join(messages), fn.app, fn.name
                )
            )
    return found


def check_unused(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    since = inputs.now - inputs.options.window * DAY
    for fn in inputs.functions:
        uses = observed_uses(inputs.events, fn.app, fn.name, since)
        static = scan_handler(fn.spec.code_dir, fn.config.handler)
        advice = suggest(fn.app, fn.name, fn.config, uses, static)
        for entry in advice["diff"]:
            if entry["op"] != "remove":
                continue
            st = entry["statement"]
            actions = ", ".join(st.get("actions") or st.get("not_actions") or [])
            resources = ", ".join(st.get("resources") or st.get("not_resources") or [])
            found.append(
                Finding(
                    "RP-A005",
                    f"function:{fn.name} role: {actions} on {resources}",
                    f"no access observed in {inputs.options.window:g} days and no handler code "
                    "uses it",
                    fn.app,
                    fn.name,
                )
            )
    return found
