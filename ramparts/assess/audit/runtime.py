"""Runtime checks: protection mode, egress wildcards and the sandbox's layers.

RP-A007/RP-A008 read each live function's ``runtime_protection``; RP-A009
reads its ``egress`` list through the sandbox's own parser, so a rule is
judged as the egress proxy applies it; RP-A015 reads the sandbox probe the
node ran at start (the layers ``ramparts status`` shows).  Not checked:
whether an exact egress host is itself trustworthy, and optional layers
(cgroups, per-function uids), which are reported by ``status`` only.
"""

from __future__ import annotations

from ramparts.assess.audit.inputs import PostureInputs
from ramparts.assess.findings import Finding
from ramparts.sandbox.egress import parse_rules

# An IP rule wider than this many addresses is a wildcard in all but name.
_MAX_ADDRESSES = 256


def check_protection(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    for fn in inputs.functions:
        mode = fn.config.runtime_protection
        if mode in ("off", "detect"):
            found.append(
                Finding(
                    "RP-A007" if mode == "off" else "RP-A008",
                    f"function:{fn.name}",
                    f"runtime_protection: {mode} on live version {fn.version[:12]}",
                    fn.app,
                    fn.name,
                )
            )
    return found


def check_egress(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    for fn in inputs.functions:
        for rule in parse_rules(fn.config.egress):
            if rule.wildcard:
                why = f"admits every subdomain of {rule.host}"
            elif rule.network is not None and rule.network.num_addresses > _MAX_ADDRESSES:
                why = f"admits {rule.network.num_addresses} addresses"
            else:
                continue
            found.append(
                Finding(
                    "RP-A009",
                    f"function:{fn.name} egress {rule}",
                    f"egress rule {rule} {why}",
                    fn.app,
                    fn.name,
                )
            )
    return found


def check_sandbox(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    for layer in inputs.node.sandbox.get("layers", []):
        if layer.get("required") and not layer.get("available"):
            detail = str(layer.get("detail") or "refused by the kernel")[:300]
            found.append(
                Finding(
                    "RP-A015",
                    f"sandbox:{layer['name']}",
                    f"required layer unavailable on node {inputs.node.node_id}: {detail}",
                )
            )
    return found
