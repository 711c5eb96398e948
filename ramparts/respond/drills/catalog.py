"""Every drill scenario by name, in the order ``ramparts drill list`` shows them."""

from __future__ import annotations

from ramparts.respond.drills.audit_tampering import AuditTampering
from ramparts.respond.drills.backdoored_dependency import BackdooredDependency
from ramparts.respond.drills.base import Scenario
from ramparts.respond.drills.credential_stuffing import CredentialStuffing
from ramparts.respond.drills.egress_unknown_host import EgressUnknownHost
from ramparts.respond.drills.errors import UnknownScenario
from ramparts.respond.drills.injection_burst import InjectionBurst
from ramparts.respond.drills.secret_exfiltration import SecretExfiltration

_ALL: tuple[Scenario, ...] = (
    CredentialStuffing(),
    InjectionBurst(),
    SecretExfiltration(),
    EgressUnknownHost(),
    BackdooredDependency(),
    AuditTampering(),
)
SCENARIOS: dict[str, Scenario] = {s.name: s for s in _ALL}


def scenario(name: str) -> Scenario:
    try:
        return SCENARIOS[name]
    except KeyError:
        raise UnknownScenario(
            f"unknown drill scenario {name!r}; one of: {', '.join(SCENARIOS)}"
        ) from None
