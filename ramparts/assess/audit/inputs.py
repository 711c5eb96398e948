"""What the posture checks read: a snapshot of the live node, taken once per audit.

The control API builds it inside the node (``ramparts.control.posture``), so
the checks see key records, secret metadata and the audit trail without any of
it leaving the node; they never see a secret's value (only dates), nor a key's
hash.  The checks are plain functions of this snapshot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ramparts.errors import InvalidRequest
from ramparts.registry.service import LiveFunction

__all__ = ["AuditOptions", "NodeFacts", "PostureInputs"]

DAY = 86400.0
# Audit-trail kinds the checks read; everything else is skipped while paging.
EVENT_KINDS = frozenset(
    {
        "resource.access",
        "aws.auth",
        "audit.verify",
        "scan.risk_accepted",
        "scan.gate",
        "advisory.detected",
        "advisory.check",
        "advisory.check_unavailable",
        "posture.audit",
    }
)


def _days(raw: Any, name: str, lo: float, hi: float) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = float("nan")
    if not lo <= value <= hi:  # NaN fails too
        raise InvalidRequest(
            f"{name}: a number of days from {lo:g} to {hi:g}", code="invalid_argument"
        )
    return value


@dataclass(frozen=True)
class AuditOptions:
    """The audit's knobs; every threshold is in days."""

    app: str | None = None
    secret_max_age: float = 90.0
    key_max_idle: float = 90.0
    verify_max_age: float = 7.0
    audit_max_age: float = 30.0  # RP-A026: days since the last posture audit
    expiry_warning: float = 14.0
    window: float = 30.0  # observed access considered by RP-A005
    expect_public: tuple[str, ...] = ()  # "METHOD /path" or "/path"

    @classmethod
    def parse(cls, query: dict[str, Any], expect_public: list[str]) -> AuditOptions:
        """From the endpoint's query; a bad value is ``InvalidRequest`` naming the field."""
        out: dict[str, Any] = {}
        for name, hi in (
            ("secret_max_age", 3650.0),
            ("key_max_idle", 3650.0),
            ("verify_max_age", 3650.0),
            ("audit_max_age", 3650.0),
            ("expiry_warning", 366.0),
            ("window", 90.0),
        ):
            if query.get(name) is not None:
                out[name] = _days(query[name], name, 0.0, hi)
        routes = []
        for raw in expect_public:
            text = " ".join(raw.split())
            method, _, path = text.rpartition(" ")
            if not path.startswith("/") or len(text) > 300 or (method and not method.isalpha()):
                raise InvalidRequest(
                    f"expect_public: {raw[:80]!r} is not 'METHOD /path' or '/path'",
                    code="invalid_argument",
                )
            routes.append(f"{method.upper()} {path}" if method else path)
        return cls(app=query.get("app"), expect_public=tuple(routes), **out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "secret_max_age_days": self.secret_max_age,
            "key_max_idle_days": self.key_max_idle,
            "verify_max_age_days": self.verify_max_age,
            "audit_max_age_days": self.audit_max_age,
            "expiry_warning_days": self.expiry_warning,
            "window_days": self.window,
            "expect_public": list(self.expect_public),
        }


@dataclass(frozen=True)
class NodeFacts:
    """The node's own settings that a check judges."""

    node_id: str
    gateway_host: str
    tls: bool
    sandbox: dict[str, Any]  # ``SandboxReport.as_dict()``
    started_at: float = 0.0
    advisories_off: bool = False  # --advisories off: no source for the gate or the re-check
    advisory_check_interval: float = 86400.0  # 0: the node never re-checks by itself
    forwarded_allow_ips: str = ""  # --forwarded-allow-ips, comma-separated ("": none)


@dataclass
class PostureInputs:
    now: float
    options: AuditOptions
    node: NodeFacts
    functions: list[LiveFunction]  # live functions, of ``options.app`` when set
    api_keys: list[dict[str, Any]]  # ``ApiKeyRecord.public()`` rows (no hashes)
    secrets: list[dict[str, Any]]  # secret metadata rows (no values)
    events: list[dict[str, Any]] = field(default_factory=list)  # audit rows of EVENT_KINDS
    trail_since: float | None = None  # time of the oldest audit record kept (None: none)
    # RP-A024: versions an alias points to whose integrity check failed
    # (``{"app", "function", "version", "aliases", "code", "message"}``)
    integrity: list[dict[str, Any]] = field(default_factory=list)
    # RP-A025: loaded detection rules (``{"id", "severity", "title"}``) and stored playbooks
    # (``{"name", "rules", "severity"}``: what their ``match`` says about rule and severity)
    detection_rules: list[dict[str, Any]] = field(default_factory=list)
    playbooks: list[dict[str, Any]] = field(default_factory=list)

    def apps(self) -> list[str]:
        return sorted({fn.app for fn in self.functions})
