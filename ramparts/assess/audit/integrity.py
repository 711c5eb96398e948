"""Immutable-infrastructure check: does every deployed version still verify?

RP-A024 reads what the snapshot found (``ramparts.control.posture``): for each
version an alias points to (``live`` and any other), the registry's own checks
before a zygote starts (``ramparts.registry.signing``: the record's Ed25519
signature, the spec built from it, the code on disk against the signed digest)
and the SBOM against its signed digest.  A failure means the stored version or
its code was altered after deploy; the node already refuses to start it, and
the audit says so before a cold start does.
"""

from __future__ import annotations

from ramparts.assess.audit.inputs import PostureInputs
from ramparts.assess.findings import Finding


def check_integrity(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    for bad in inputs.integrity:
        aliases = ", ".join(bad["aliases"])
        found.append(
            Finding(
                "RP-A024",
                f"function:{bad['function']} version:{bad['version'][:12]}",
                f"{bad['code']}: {bad['message']} (alias {aliases})",
                bad["app"],
                bad["function"],
            )
        )
    return found
