"""The posture audit's control catalogue: what ``ramparts audit`` checks, and why.

Each control is one ``RP-A0NN`` rule: a title, a severity, the platform
control of DESIGN.md it belongs to, its OWASP Serverless Top 10 mapping
(SAS-1 .. SAS-10, the numbering of the OWASP Serverless Top 10 project) and a
remediation.  The catalogue is shipped as Python data so that the rule ids,
the checks that raise them and the score's weights are one reviewed table;
``ramparts/explain/catalog/audit.yaml`` carries the longer explanations.

Rule ids are a contract (SARIF results, ``--fail-under`` gates, ``ramparts
explain``): add new ones, never renumber.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal

__all__ = [
    "CONTROLS",
    "OWASP_SERVERLESS",
    "OWASP_URL",
    "Control",
    "Level",
    "control",
]

OWASP_URL = "https://owasp.org/www-project-serverless-top-10/"

# The OWASP Serverless Top 10 (SAS = Serverless Application Security risk).
OWASP_SERVERLESS: dict[str, str] = {
    "SAS-1": "Function event-data injection",
    "SAS-2": "Broken authentication",
    "SAS-3": "Insecure serverless deployment configuration",
    "SAS-4": "Over-privileged function permissions and roles",
    "SAS-5": "Inadequate function monitoring and logging",
    "SAS-6": "Insecure third-party dependencies",
    "SAS-7": "Insecure application secrets storage",
    "SAS-8": "Denial of service and financial resource exhaustion",
    "SAS-9": "Serverless business logic manipulation",
    "SAS-10": "Improper exception handling and verbose error messages",
}


class Level(StrEnum):
    """A control's severity; its ``weight`` is what a failing control costs the score."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"

    @property
    def weight(self) -> int:
        return _WEIGHTS[self]

    @property
    def rank(self) -> int:
        return list(Level).index(self)


_WEIGHTS = {Level.LOW: 1, Level.MEDIUM: 3, Level.HIGH: 6, Level.CRITICAL: 10}


@dataclass(frozen=True)
class Control:
    """One auditable control.  ``scope``: ``app`` findings name an app, ``node`` ones do not."""

    id: str
    title: str
    severity: Level
    platform_control: str  # a row of DESIGN.md's control table
    owasp: tuple[str, ...]
    scope: Literal["app", "node"]
    checks: str  # what the audit looks at
    remediation: str


_AUTHN = "authentication"
_AUTHZ = "authorization, least privilege"
_CRYPTO = "encryption"
_SCAN = "code and dependency scanning"
_MONITOR = "monitoring and logging"
_DOS = "DoS protection"
_SECRETS = "secrets management"
_RUNTIME = "runtime protection"
_EVENTS = "secure event sources"
_ASSESS = "audits and penetration tests"
_IMMUTABLE = "immutable infrastructure"
_RESPONSE = "incident response"

CONTROLS: tuple[Control, ...] = (
    Control(
        "RP-A001",
        "Public route without rate limit",
        Level.HIGH,
        _DOS,
        ("SAS-8", "SAS-2"),
        "app",
        "http routes with auth: none and no rate: limit",
        "add rate: (for example 60/minute) to the route; public limits count per source address",
    ),
    Control(
        "RP-A002",
        "Public route not declared expected",
        Level.MEDIUM,
        _AUTHZ,
        ("SAS-2",),
        "app",
        "http routes with auth: none that the audit was not told to expect (--expect-public)",
        "require auth (api_key, jwt or oauth2) on the route, or list it with --expect-public",
    ),
    Control(
        "RP-A003",
        "Private route without rate limit",
        Level.LOW,
        _DOS,
        ("SAS-8",),
        "app",
        "authenticated http routes with no rate: limit",
        "add rate: to the route (counted per key or client), or give keys their own --rate",
    ),
    Control(
        "RP-A004",
        "Wildcard or escalating grant in a role",
        Level.HIGH,
        _AUTHZ,
        ("SAS-4",),
        "app",
        "role statements allowing every action, every resource, a whole kind or another app, "
        "or actions that widen access (the policy linter's RP-P001, RP-P002, RP-P003)",
        "name the actions and resources the function uses (ramparts policy suggest FN)",
    ),
    Control(
        "RP-A005",
        "Grant never used",
        Level.LOW,
        _AUTHZ,
        ("SAS-4",),
        "app",
        "allow statements that neither observed access (the audit trail, --window) nor the "
        "handler's code uses (the policy advisor)",
        "remove the statement; ramparts policy suggest FN proposes the smallest role",
    ),
    Control(
        "RP-A006",
        "Secret not rotated",
        Level.MEDIUM,
        _SECRETS,
        ("SAS-7",),
        "app",
        "secrets whose current version is older than --secret-max-age days (default 90)",
        "ramparts secrets rotate NAME --app APP (a rotation hook function can generate it)",
    ),
    Control(
        "RP-A007",
        "Runtime protection off",
        Level.HIGH,
        _RUNTIME,
        ("SAS-3", "SAS-1"),
        "app",
        "live functions with runtime_protection: off",
        "set runtime_protection: block (the default)",
    ),
    Control(
        "RP-A008",
        "Runtime protection only detects",
        Level.MEDIUM,
        _RUNTIME,
        ("SAS-3", "SAS-1"),
        "app",
        "live functions with runtime_protection: detect",
        "set runtime_protection: block once the detections show no false positives",
    ),
    Control(
        "RP-A009",
        "Egress wildcard",
        Level.MEDIUM,
        _RUNTIME,
        ("SAS-3", "SAS-1"),
        "app",
        "egress entries that admit every subdomain (*.example.com) or a network of more than "
        "256 addresses",
        "list each host and port the function calls",
    ),
    Control(
        "RP-A010",
        "Plain HTTP on a non-loopback gateway",
        Level.CRITICAL,
        _CRYPTO,
        ("SAS-3",),
        "node",
        "a gateway bound to a non-loopback address without TLS (--insecure-http)",
        "start the node with --tls-cert and --tls-key (--tls self-signed only for development)",
    ),
    Control(
        "RP-A011",
        "API key without expiry",
        Level.MEDIUM,
        _AUTHN,
        ("SAS-2",),
        "node",
        "active API keys created without --expires",
        "create keys with --expires (for example 90d) and revoke the old one",
    ),
    Control(
        "RP-A012",
        "Stale API key",
        Level.MEDIUM,
        _AUTHN,
        ("SAS-2",),
        "node",
        "active API keys not used for --key-max-idle days (default 90), or never used since "
        "created that long ago",
        "ramparts keys revoke ID",
    ),
    Control(
        "RP-A013",
        "Audit chain not verified recently",
        Level.MEDIUM,
        _MONITOR,
        ("SAS-5",),
        "node",
        "no audit-log verification (ramparts audit-log verify) within --verify-max-age days "
        "(default 7)",
        "run ramparts audit-log verify on a schedule",
    ),
    Control(
        "RP-A014",
        "Audit chain verification failed",
        Level.CRITICAL,
        _MONITOR,
        ("SAS-5",),
        "node",
        "the latest audit-log verification found the chain broken",
        "treat as an incident: export the evidence, find the gap (ramparts audit-log verify)",
    ),
    Control(
        "RP-A015",
        "Degraded sandbox layer",
        Level.HIGH,
        _RUNTIME,
        ("SAS-3",),
        "node",
        "required sandbox layers the kernel refused at start (the node runs with "
        "--allow-degraded-sandbox)",
        "run the node where user namespaces, seccomp and Landlock are allowed",
    ),
    Control(
        "RP-A016",
        "Accepted scan risk expired or expiring",
        Level.MEDIUM,
        _SCAN,
        ("SAS-6", "SAS-1"),
        "app",
        "baseline acceptances of the live deploy that expired, or expire within "
        "--expiry-warning days (default 14)",
        "fix the finding, or review the acceptance and renew its expiry in the baseline",
    ),
    Control(
        "RP-A017",
        "Known advisory affects a live version",
        Level.HIGH,
        _SCAN,
        ("SAS-6",),
        "app",
        "advisories the re-check (ramparts advisories check) found in a live version's SBOM",
        "upgrade the package to the fixed version and deploy",
    ),
    Control(
        "RP-A018",
        "Advisory re-check missing or failing",
        Level.MEDIUM,
        _SCAN,
        ("SAS-6",),
        "node",
        "an advisory source and the periodic re-check are configured, the latest re-check "
        "found a source, and one succeeded within 2 days of uptime",
        "configure an advisory source (--advisories) and keep the daily re-check on",
    ),
    Control(
        "RP-A019",
        "WAF off",
        Level.HIGH,
        _DOS,
        ("SAS-1",),
        "app",
        "apps or routes whose WAF mode is off",
        "set waf: {mode: block} (the default); turn single rules off with waf.exclusions",
    ),
    Control(
        "RP-A020",
        "WAF only detects",
        Level.MEDIUM,
        _DOS,
        ("SAS-1",),
        "app",
        "apps or routes whose WAF mode is detect",
        "set waf: {mode: block} once the detections show no false positives",
    ),
    Control(
        "RP-A021",
        "No invocation budget",
        Level.MEDIUM,
        _DOS,
        ("SAS-8",),
        "app",
        "apps with no app_limits.budget whose functions have no budget: either",
        "set app_limits: {budget: {invocations_per_hour: N}} (denial of wallet)",
    ),
    Control(
        "RP-A022",
        "Broad or public trusted proxy network",
        Level.HIGH,
        _AUTHN,
        ("SAS-1",),
        "node",
        "--forwarded-allow-ips networks wider than /24 (IPv4) or /64 (IPv6), or holding "
        "public addresses",
        "name only the proxies' own addresses in --forwarded-allow-ips",
    ),
    Control(
        "RP-A023",
        "Trigger input without a schema",
        Level.MEDIUM,
        _EVENTS,
        ("SAS-1", "SAS-9"),
        "app",
        "topic triggers with no schema:, and http routes taking a body (POST, PUT, PATCH) with "
        "no schema:",
        "add schema: (a JSON Schema file in the app) to the trigger; the platform refuses "
        "input that does not match before the handler runs",
    ),
    Control(
        "RP-A024",
        "Deployed version fails its integrity check",
        Level.CRITICAL,
        _IMMUTABLE,
        ("SAS-3", "SAS-6"),
        "app",
        "every version an alias points to: its record's signature, the spec built from it, its "
        "code on disk against the signed digest, and its SBOM against the signed SBOM digest",
        "treat as an incident (the stored version or its code was altered): export the "
        "evidence, then deploy the app again from source you trust",
    ),
    Control(
        "RP-A025",
        "High or critical detection without a playbook",
        Level.MEDIUM,
        _RESPONSE,
        ("SAS-5",),
        "node",
        "loaded detection rules of severity high or critical that no stored playbook matches "
        "(by rule id or minimum severity)",
        "apply a playbook that matches the rule (ramparts playbook apply FILE) and rehearse it "
        "(ramparts drill)",
    ),
    Control(
        "RP-A026",
        "Posture audit not run recently",
        Level.LOW,
        _ASSESS,
        ("SAS-3", "SAS-5"),
        "node",
        "no earlier ramparts audit run (posture.audit record) within --audit-max-age days "
        "(default 30; a trail younger than that is not yet due)",
        "run ramparts audit on a schedule (for example with --fail-under in CI or cron)",
    ),
    Control(
        "RP-A027",
        "Event trigger without a dead-letter topic",
        Level.LOW,
        _EVENTS,
        ("SAS-10", "SAS-5"),
        "app",
        "topic, schedule, object, table and webhook triggers with no dead_letter:",
        "add dead_letter: TOPIC to the trigger so that events whose handler keeps failing are "
        "kept for inspection instead of dropped after their retries",
    ),
)

_BY_ID = {c.id: c for c in CONTROLS}


def control(rule_id: str) -> Control:
    """The control ``rule_id`` (``KeyError`` for an id the catalogue does not hold)."""
    return _BY_ID[rule_id]
