"""Node and client settings: data dir, backend URLs, listeners, limits.

Every command resolves the data dir the same way (``--data-dir``, else
``RAMPARTS_DATA_DIR``, else ``./.ramparts``) so that ``ramparts up`` and the
client commands run from the same directory find each other.  Backends are
named by URL; the defaults are the embedded ones under the data dir.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ramparts.errors import ConfigError, StorageError
from ramparts.files import PRIVATE_DIR, describe_os_error, write_private

_log = logging.getLogger("ramparts.config")

DEFAULT_GATEWAY_PORT = 8080
DEFAULT_ADMIN_PORT = 8081
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_ADMIN_PORT}"
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name, not a secret
_MAX_CLOCK_OFFSET = 24 * 3600.0  # RAMPARTS_SCHEDULER_CLOCK_OFFSET's bound either way


# ASCII digits only: str.isdigit and \d also accept other scripts' digits (e.g. '٣').
_DURATION_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([smhdw]?)\s*\Z")
_DURATION_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 7 * 86400.0}


def parse_duration(text: str, *, name: str = "duration") -> float:
    """Seconds in ``text``: ``90``, ``90s``, ``15m``, ``12h``, ``7d``, ``2w``.

    Retention and interval options take this one shape; anything else is a
    ``ConfigError`` that names the option, never a guess.
    """
    match = _DURATION_RE.match(str(text))
    if not match:
        raise ConfigError(
            f"{name}: {text!r} is not a duration (a number with s, m, h, d or w, e.g. 7d)"
        )
    return float(match.group(1)) * _DURATION_UNITS[match.group(2)]


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("RAMPARTS_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (Path.cwd() / ".ramparts").resolve()


def _env_duration(name: str, default: float) -> float:
    """A duration from the environment (``365d``, ``90``), named in the error if bad."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return parse_duration(raw, name=name)


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from exc


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def _env_path(name: str) -> Path | None:
    raw = os.environ.get(name)
    return Path(raw).expanduser() if raw else None


def mask_url(url: str) -> str:
    """Return ``url`` with any password replaced, for logs and error messages."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid url>"
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[-1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


# The broadest set of proxies ``--forwarded-allow-ips`` accepts, per address
# family: a /8 of IPv4 (16,777,216 addresses) and a /32 of IPv6.  Proxies sit in
# one data centre or one private network; a wider set is a way of trusting
# every client.  The bound is on the union of the list, so ``0.0.0.0/1,
# 128.0.0.0/1`` is refused like ``0.0.0.0/0``; IPv4-mapped IPv6 ranges
# (``::ffff:0:0/96``) count as the IPv4 addresses they map.
FORWARDED_MAX_IPV4_ADDRESSES = 2**24
FORWARDED_MAX_IPV6_ADDRESSES = 2**96
_IPV4_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")


def _forwarded_networks(entries: list[str]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for entry in entries:
        try:
            net = ipaddress.ip_network(entry, strict=False)
        except ValueError:
            raise ConfigError(
                f"--forwarded-allow-ips: {entry!r} is not an IP address or network"
            ) from None
        if isinstance(net, ipaddress.IPv6Network) and net.overlaps(_IPV4_MAPPED):
            if net.prefixlen < 96:  # holds every IPv4-mapped address: all of IPv4
                networks.append(ipaddress.IPv4Network("0.0.0.0/0"))
            else:
                first = net.network_address.ipv4_mapped
                net = ipaddress.IPv4Network(f"{first}/{net.prefixlen - 96}")
        networks.append(net)
    return networks


def trusted_proxies(value: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The networks of a checked ``--forwarded-allow-ips`` value (IPv4-mapped ranges as IPv4).

    The block-list guard uses them: blocking a trusted proxy blocks every client
    whose requests it carries, so, like loopback, that needs ``force``.
    """
    return _forwarded_networks([e.strip() for e in value.split(",") if e.strip()])


def check_forwarded_allow_ips(value: str) -> str:
    """``--forwarded-allow-ips``: proxies by address or network, checked, comma-separated.

    ``*`` is refused: it would let every client choose the address that rate
    limits, block lists and the audit log see.  So is any list whose networks
    together cover more than a /8 of IPv4 or a /32 of IPv6 (``0.0.0.0/0``,
    ``::/0``, two /1 halves): that is ``*`` spelled differently.  An entry that
    is not an address or network is an error rather than silently trusted or
    ignored (a typo would make every client share the proxy's address).
    """
    entries = [e.strip() for e in value.split(",") if e.strip()]
    if "*" in entries:
        raise ConfigError(
            "--forwarded-allow-ips: '*' would trust X-Forwarded-For from every client; "
            "name the proxies' addresses or networks"
        )
    networks = _forwarded_networks(entries)
    for version, limit, bound in (
        (4, FORWARDED_MAX_IPV4_ADDRESSES, "/8"),
        (6, FORWARDED_MAX_IPV6_ADDRESSES, "/32"),
    ):
        of_version = [n for n in networks if n.version == version]
        total = sum(n.num_addresses for n in ipaddress.collapse_addresses(of_version))
        if total > limit:
            raise ConfigError(
                "--forwarded-allow-ips: the trusted proxy networks cover more than an "
                f"IPv{version} {bound} ({total} addresses); that would let most clients "
                "choose their own address. Name the proxies' addresses or their own network"
            )
    return ",".join(entries)


@dataclass
class Settings:
    """Everything a node needs to start; built from flags and environment."""

    data_dir: Path
    state_url: str = ""
    bus_url: str = ""
    host: str = "127.0.0.1"
    port: int = DEFAULT_GATEWAY_PORT
    admin_host: str = "127.0.0.1"
    admin_port: int = DEFAULT_ADMIN_PORT
    max_body_bytes: int = 6 * 1024 * 1024
    # JSON values (objects, arrays, scalars) one gateway request body may hold: parsing
    # costs per value, so 6 MB of ``[[],[],...]`` would be 2 M lists (ramparts.gateway.json_body).
    max_json_values: int = 100_000
    retry_max_delay: float = 300.0
    # How long a queued event stays leased without a heartbeat: what a crashed node's
    # in-flight events wait on a bus that cannot hand them back at restart (NATS).
    bus_lease: float = 10.0
    scheduler_interval: float = 1.0
    node_id: str = field(default_factory=lambda: secrets.token_hex(4))
    tls_cert: Path | None = None  # gateway HTTPS: certificate chain (PEM)
    tls_key: Path | None = None  # gateway HTTPS: private key (PEM)
    insecure_http: bool = False  # plain HTTP on a non-loopback address, explicitly allowed
    allow_degraded_sandbox: bool = False  # start even when a required sandbox layer is missing
    package_index: str | None = None  # deploy-time installs' only egress (default: pip's own)
    allow_source_builds: bool = False  # deploy-time installs may build sdists/source trees
    forwarded_allow_ips: str = ""  # proxies whose X-Forwarded-For the gateway trusts (none)
    # Connection guards of both listeners (see ramparts/http_guard.py).
    max_header_bytes: int = 16 * 1024  # request line plus header fields, like common proxies
    max_header_count: int = 100
    header_timeout: float = 10.0  # from a request's first byte to the end of its headers
    idle_timeout: float = 30.0  # a connection with no request in flight, new or kept alive
    body_timeout: float = 60.0  # from a request's headers to the end of its body
    max_connections_per_client: int = 64  # per client address, on each listener
    max_connections: int = 10_000  # gateway; lowered to fit the open-file limit
    version_retention: float = 7 * 24 * 3600.0  # unaliased versions are kept this long
    gc_interval: float = 3600.0  # how often the node collects them (0: never)
    accept_data_loss: bool = False  # start even when an integrity check of the data dir failed
    region: str = "us-east-1"  # what workers see as AWS_REGION / AWS_DEFAULT_REGION
    # Test-only: seconds added to the scheduler's clock, so a test can bring the next
    # whole minute close instead of waiting for it.  Never set it in production: a
    # shifted clock fires schedules at the wrong real time.
    scheduler_clock_offset: float = 0.0
    # Invocation records older than this are pruned (0: kept forever); see docs/logging.md.
    retain_invocations: float = 7 * 24 * 3600.0
    # SIEM export (ramparts/observe/siem, docs/siem.md): destination URLs, the secret
    # (APP/NAME) holding an HTTP collector's token, each destination's spool bound, and
    # the longest wait between retries of a failing destination.
    siem: list[str] = field(default_factory=list)
    siem_token_secret: str = ""
    siem_spool_bytes: int = 64 * 1024 * 1024
    siem_retry_max_delay: float = 30.0
    # Detections and alerts (ramparts.respond): the rule directory (None: the shipped set),
    # the alert webhook (https, or http to loopback) and its HMAC signing secret's file.
    detections: Path | None = None
    alert_webhook: str = ""
    alert_webhook_secret_file: Path | None = None
    # Playbook email (ramparts.containment): smtp://host:port (or smtp+starttls://), and sender.
    smtp_url: str = ""
    smtp_from: str = "ramparts@localhost"
    # Observability (docs/observability.md): a token-free /metrics listener on 127.0.0.1
    # only (None: none; /metrics on the admin listener always needs the admin token), and
    # the OTLP/HTTP collector traces go to (None: tracing off, no spans made).
    metrics_port: int | None = None
    otlp_endpoint: str | None = None
    # Audit log (ramparts.observe.audit): how long records are kept (0: forever) and how
    # often the node signs a checkpoint of its chain.
    retain_audit: float = 365 * 24 * 3600.0
    audit_checkpoint_interval: float = 60.0
    # Rate limits (ramparts.ratelimit, docs/rate-limits.md): where the counters live,
    # memory:// (this node alone) or redis://... (shared by every node).
    rate_limit_storage: str = "memory://"
    # Concurrency caps and budgets (ramparts.budget, docs/budgets.md): how long a
    # synchronous call may wait for a free worker (or app slot) before it is throttled
    # with 429 function_throttled, and how often budget usage is flushed to and read
    # back from the state store (the bound on the overshoot across nodes).
    throttle_wait: float = 0.1
    budget_flush_interval: float = 1.0
    # Test-only, like scheduler_clock_offset: seconds added to the budget ledger's clock,
    # so a test can step into the next hour's window instead of waiting for it.  Never
    # set it in production: budgets would reset at the wrong real time.
    budget_clock_offset: float = 0.0
    # Supply chain (docs/scanning.md): the node's advisory source for the deploy gate and
    # the re-check of live versions' SBOMs (a directory or zip of OSV records, "osv" for
    # the API at ``osv_api``, "off"; "" = the synced export, else the API), and how often
    # live versions are re-checked (0: never; ``ramparts advisories check`` still runs).
    advisories: str = ""
    osv_api: str = "https://api.osv.dev"
    advisory_check_interval: float = 86400.0
    # Drills the node runs by itself (docs/incident-response.md, Scheduling): every
    # ``drill_every`` seconds (0: never, the default) the scenarios ``drill_scenarios``
    # ("all" or a comma-separated list) on a throw-away node, recorded in the history.
    drill_every: float = 0.0
    drill_scenarios: str = "all"

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        if not self.state_url:
            self.state_url = f"sqlite:///{self.data_dir / 'state.db'}"
        if not self.bus_url:
            self.bus_url = f"embedded://{self.data_dir / 'bus.db'}"
        if self.version_retention < 0:
            raise ConfigError("RAMPARTS_VERSION_RETENTION must be 0 or more seconds")
        if self.gc_interval < 0:
            raise ConfigError("RAMPARTS_GC_INTERVAL must be 0 or more seconds")
        self._check_advisories()
        if self.drill_every != 0 and not 5 <= self.drill_every <= 366 * 86400:
            raise ConfigError(
                "--drill-every (RAMPARTS_DRILL_EVERY) must be 0 (off) or a duration from 5s "
                f"to 366d, such as 24h; got {self.drill_every:g}s"
            )
        if self.max_body_bytes <= 0:
            raise ConfigError("max_body_bytes must be positive")
        if self.max_json_values < 1_000:
            raise ConfigError(
                f"RAMPARTS_MAX_JSON_VALUES must be at least 1000, got {self.max_json_values}"
            )
        self.forwarded_allow_ips = check_forwarded_allow_ips(self.forwarded_allow_ips)
        self._check_smtp()
        for name in (
            "max_header_bytes",
            "max_header_count",
            "max_connections_per_client",
            "max_connections",
        ):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("header_timeout", "idle_timeout", "body_timeout"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"{name} must be a positive number of seconds")
        if not 1.0 <= self.bus_lease <= 3600.0:
            raise ConfigError(
                f"bus lease (RAMPARTS_BUS_LEASE) must be 1 to 3600 seconds, got {self.bus_lease}"
            )
        if not -_MAX_CLOCK_OFFSET <= self.scheduler_clock_offset <= _MAX_CLOCK_OFFSET:
            raise ConfigError(
                "RAMPARTS_SCHEDULER_CLOCK_OFFSET (test-only) must be a number of seconds"
                f" within one day either way, got {self.scheduler_clock_offset}"
            )
        if not 0.0 <= self.throttle_wait <= 30.0:
            raise ConfigError(
                f"RAMPARTS_THROTTLE_WAIT must be 0 to 30 seconds, got {self.throttle_wait}"
            )
        if not 0.1 <= self.budget_flush_interval <= 60.0:
            raise ConfigError(
                "RAMPARTS_BUDGET_FLUSH_INTERVAL must be 0.1 to 60 seconds, got "
                f"{self.budget_flush_interval}"
            )
        if not -_MAX_CLOCK_OFFSET <= self.budget_clock_offset <= _MAX_CLOCK_OFFSET:
            raise ConfigError(
                "RAMPARTS_BUDGET_CLOCK_OFFSET (test-only) must be a number of seconds"
                f" within one day either way, got {self.budget_clock_offset}"
            )
        if self.retain_audit < 0:
            raise ConfigError("--retain-audit (RAMPARTS_RETAIN_AUDIT) must be 0 or more")
        if not 1.0 <= self.audit_checkpoint_interval <= 86400.0:
            raise ConfigError(
                "--audit-checkpoint-interval (RAMPARTS_AUDIT_CHECKPOINT_INTERVAL) must be "
                f"1s to 1d, got {self.audit_checkpoint_interval}"
            )
        from ramparts.runtime.environment import REGION_RE

        if not REGION_RE.match(self.region):
            raise ConfigError(
                f"--region {self.region!r} is not a region name such as us-east-1 or eu-west-3"
            )
        if not self.retain_invocations >= 0:
            raise ConfigError("--retain-invocations must be 0 (keep) or a positive duration")
        for name in ("port", "admin_port"):
            value = getattr(self, name)
            if not 0 <= value <= 65535:
                raise ConfigError(f"{name} must be between 0 and 65535, got {value}")
        self._check_siem()
        from ramparts.ratelimit.limiter import check_storage_url

        check_storage_url(self.rate_limit_storage)
        if self.metrics_port is not None and not 1 <= self.metrics_port <= 65535:
            raise ConfigError(
                f"--metrics-port (RAMPARTS_METRICS_PORT) must be between 1 and 65535, "
                f"got {self.metrics_port}"
            )
        if self.otlp_endpoint:
            from ramparts.observe.tracing import check_otlp_endpoint

            check_otlp_endpoint(self.otlp_endpoint)
        else:
            self.otlp_endpoint = None

    def _check_smtp(self) -> None:
        """``RAMPARTS_SMTP_URL``: smtp://host[:port] or smtp+starttls://host[:port], or unset."""
        if not self.smtp_url:
            return
        parts = urlsplit(self.smtp_url)
        try:
            port = parts.port
        except ValueError:
            port = -1
        if (
            parts.scheme not in ("smtp", "smtp+starttls")
            or not parts.hostname
            or port == -1
            or parts.username
            or parts.path not in ("", "/")
        ):
            raise ConfigError(
                f"RAMPARTS_SMTP_URL {mask_url(self.smtp_url)!r} must be smtp://host[:port] "
                "or smtp+starttls://host[:port] (no credentials)"
            )
        if "@" not in self.smtp_from or any(c in self.smtp_from for c in "\r\n<>,;"):
            raise ConfigError(f"RAMPARTS_SMTP_FROM {self.smtp_from!r} is not an email address")

    def _check_advisories(self) -> None:
        """A missing advisory path or a bad API URL stops the start, naming the option."""
        if not 0 <= self.advisory_check_interval <= 366 * 86400:
            raise ConfigError(
                "--advisory-check-interval (RAMPARTS_ADVISORY_CHECK_INTERVAL) must be 0 "
                f"(never) up to a year, got {self.advisory_check_interval}"
            )
        parts = urlsplit(self.osv_api)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"RAMPARTS_OSV_API {mask_url(self.osv_api)!r} must be an http(s) URL")
        value = self.advisories.strip()
        if value and value.lower() not in ("osv", "off"):
            path = Path(value).expanduser()
            if not path.exists():
                raise ConfigError(
                    f"--advisories (RAMPARTS_ADVISORIES) {value}: no such file or directory"
                )
            self.advisories = str(path.resolve())

    def _check_siem(self) -> None:
        """Bad ``--siem`` settings stop the start with a message naming the option."""
        from ramparts.observe.siem.targets import parse_targets, parse_token_secret

        targets = parse_targets(list(self.siem))
        if self.siem_token_secret:
            from ramparts.errors import InvalidRequest
            from ramparts.secrets.store import check_app, check_name

            app, name = parse_token_secret(self.siem_token_secret)
            try:
                check_app(app)
                check_name(name)
            except InvalidRequest as exc:
                raise ConfigError(
                    f"--siem-token-secret {self.siem_token_secret!r}: {exc.message}"
                ) from None
            if not any(t.is_http for t in targets):
                raise ConfigError(
                    "--siem-token-secret is for ocsf+https:// (or ocsf+http://) --siem "
                    "destinations, and none is given"
                )
        if self.siem_spool_bytes < 4096:
            raise ConfigError(
                f"--siem-spool-bytes must be at least 4096, got {self.siem_spool_bytes}"
            )
        if not 0.1 <= self.siem_retry_max_delay <= 3600:
            raise ConfigError(
                "RAMPARTS_SIEM_RETRY_MAX_DELAY must be 0.1 to 3600 seconds, got "
                f"{self.siem_retry_max_delay}"
            )

    @classmethod
    def from_env(
        cls, data_dir: str | os.PathLike[str] | None = None, **overrides: object
    ) -> Settings:
        values: dict[str, object] = {
            "data_dir": resolve_data_dir(data_dir),
            "state_url": os.environ.get("RAMPARTS_STATE_URL", ""),
            "bus_url": os.environ.get("RAMPARTS_BUS_URL", ""),
            "max_body_bytes": _env_int("RAMPARTS_MAX_BODY_BYTES", 6 * 1024 * 1024),
            "max_json_values": _env_int("RAMPARTS_MAX_JSON_VALUES", 100_000),
            "retry_max_delay": _env_float("RAMPARTS_RETRY_MAX_DELAY", 300.0),
            "max_header_bytes": _env_int("RAMPARTS_MAX_HEADER_BYTES", 16 * 1024),
            "max_header_count": _env_int("RAMPARTS_MAX_HEADER_COUNT", 100),
            "header_timeout": _env_float("RAMPARTS_HEADER_TIMEOUT", 10.0),
            "idle_timeout": _env_float("RAMPARTS_IDLE_TIMEOUT", 30.0),
            "body_timeout": _env_float("RAMPARTS_BODY_TIMEOUT", 60.0),
            "max_connections_per_client": _env_int("RAMPARTS_MAX_CONNECTIONS_PER_CLIENT", 64),
            "max_connections": _env_int("RAMPARTS_MAX_CONNECTIONS", 10_000),
            "version_retention": _env_float("RAMPARTS_VERSION_RETENTION", 7 * 24 * 3600.0),
            "gc_interval": _env_float("RAMPARTS_GC_INTERVAL", 3600.0),
            "advisories": os.environ.get("RAMPARTS_ADVISORIES", ""),
            "osv_api": os.environ.get("RAMPARTS_OSV_API") or "https://api.osv.dev",
            "advisory_check_interval": _env_duration("RAMPARTS_ADVISORY_CHECK_INTERVAL", 86400.0),
            "drill_every": _env_duration("RAMPARTS_DRILL_EVERY", 0.0),
            "drill_scenarios": os.environ.get("RAMPARTS_DRILL_SCENARIOS", "") or "all",
            "bus_lease": _env_float("RAMPARTS_BUS_LEASE", 10.0),
            "region": os.environ.get("RAMPARTS_REGION", "us-east-1"),
            "scheduler_clock_offset": _env_float("RAMPARTS_SCHEDULER_CLOCK_OFFSET", 0.0),
            "throttle_wait": _env_float("RAMPARTS_THROTTLE_WAIT", 0.1),
            "budget_flush_interval": _env_float("RAMPARTS_BUDGET_FLUSH_INTERVAL", 1.0),
            "budget_clock_offset": _env_float("RAMPARTS_BUDGET_CLOCK_OFFSET", 0.0),
            "retain_invocations": parse_duration(
                os.environ.get("RAMPARTS_RETAIN_INVOCATIONS") or "7d",
                name="RAMPARTS_RETAIN_INVOCATIONS",
            ),
            "siem": [
                u.strip() for u in os.environ.get("RAMPARTS_SIEM", "").split(",") if u.strip()
            ],
            "siem_token_secret": os.environ.get("RAMPARTS_SIEM_TOKEN_SECRET", ""),
            "siem_spool_bytes": _env_int("RAMPARTS_SIEM_SPOOL_BYTES", 64 * 1024 * 1024),
            "siem_retry_max_delay": _env_float("RAMPARTS_SIEM_RETRY_MAX_DELAY", 30.0),
            "detections": _env_path("RAMPARTS_DETECTIONS"),
            "alert_webhook": os.environ.get("RAMPARTS_ALERT_WEBHOOK", ""),
            "alert_webhook_secret_file": _env_path("RAMPARTS_ALERT_WEBHOOK_SECRET_FILE"),
            "smtp_url": os.environ.get("RAMPARTS_SMTP_URL", ""),
            "smtp_from": os.environ.get("RAMPARTS_SMTP_FROM", "ramparts@localhost"),
            "metrics_port": _env_int("RAMPARTS_METRICS_PORT", 0) or None,
            "otlp_endpoint": os.environ.get("RAMPARTS_OTLP_ENDPOINT") or None,
            "retain_audit": _env_duration("RAMPARTS_RETAIN_AUDIT", 365 * 24 * 3600.0),
            "audit_checkpoint_interval": _env_duration("RAMPARTS_AUDIT_CHECKPOINT_INTERVAL", 60.0),
            "rate_limit_storage": os.environ.get("RAMPARTS_RATE_LIMIT_STORAGE") or "memory://",
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    # -- data dir layout -------------------------------------------------------------
    @property
    def artifacts_dir(self) -> Path:
        return self.data_dir / "artifacts"

    @property
    def deps_dir(self) -> Path:
        return self.data_dir / "deps"

    @property
    def runtime_dir(self) -> Path:
        return self.data_dir / "runtime"

    def prepare_data_dir(self) -> None:
        """Create the data dir and its subdirectories, owner-only; name the cause if not."""
        for sub in (self.data_dir, self.artifacts_dir, self.deps_dir, self.runtime_dir):
            _private_dir(sub)


def _private_dir(path: Path) -> None:
    try:
        path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    except FileExistsError as exc:  # mkdir says this only when a non-directory is in the way
        raise StorageError(
            f"cannot use {path} as a data directory: a file is in the way (not a directory)"
        ) from exc
    except NotADirectoryError as exc:
        raise StorageError(
            f"cannot create the data directory {path}: a parent of it is a file, not a directory"
        ) from exc
    except OSError as exc:
        raise StorageError(
            f"cannot create the data directory {path}: {describe_os_error(exc)}"
        ) from exc
    try:
        os.chmod(path, PRIVATE_DIR)
    except OSError as exc:
        raise StorageError(f"cannot make {path} private: {describe_os_error(exc)}") from exc


_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{32,128}$")


def ensure_admin_token(data_dir: Path) -> str:
    """Create the admin token on first start (mode 0600); refuse a readable one.

    The token is written atomically, so a crash or a full disk never leaves a
    partial one.  An *empty* token file (left by a write that an older
    version interrupted) is replaced by a fresh token: no client can hold an
    empty token, so nothing that worked stops working.  Anything else that is
    not a valid token is refused, since someone put it there.
    """
    path = data_dir / ADMIN_TOKEN_FILE
    try:
        info = path.stat()
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {describe_os_error(exc)}") from exc
    if info is not None:
        mode = stat.S_IMODE(info.st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"{path} is readable by other users (mode {mode:o}); run chmod 600 on it"
            )
        try:
            token = path.read_text().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = describe_os_error(exc) if isinstance(exc, OSError) else "not text"
            raise StorageError(f"cannot read {path}: {reason}") from exc
        if token:
            if not _TOKEN_RE.match(token):
                raise ConfigError(
                    f"{path} does not hold a valid admin token; delete it to have a new "
                    "one made at the next start (clients then need the new token)"
                )
            return token
        _log.warning("%s was empty (an interrupted write?): writing a new admin token", path)
    token = "rat_" + secrets.token_urlsafe(32)
    write_private(path, (token + "\n").encode(), exclusive=info is None)
    return token


NODE_IDENTITY_FILE = "node-identity"
_IDENTITY_RE = re.compile(r"^node-[0-9a-f]{16}$")


def ensure_node_identity(data_dir: Path) -> str:
    """This node's lasting name on a shared bus, created on first start (mode 0600).

    Unlike ``Settings.node_id`` (new every start) it survives restarts, so a
    node that crashed finds the leases it held under it and takes them back.
    """
    path = data_dir / NODE_IDENTITY_FILE
    try:
        identity = path.read_text().strip()
    except FileNotFoundError:
        identity = f"node-{secrets.token_hex(8)}"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(identity + "\n")
        return identity
    if not _IDENTITY_RE.match(identity):
        raise ConfigError(f"{path} does not hold a valid node identity; delete it to make one")
    return identity


def read_admin_token(data_dir: Path) -> str | None:
    """The client side: the token the local node wrote, or RAMPARTS_ADMIN_TOKEN."""
    env = os.environ.get("RAMPARTS_ADMIN_TOKEN")
    if env:
        return env.strip()
    path = data_dir / ADMIN_TOKEN_FILE
    try:
        return path.read_text().strip()
    except OSError:
        return None
