"""Node and client settings: data dir, backend URLs, listeners, limits.

Every command resolves the data dir the same way (``--data-dir``, else
``RAMPARTS_DATA_DIR``, else ``./.ramparts``) so that ``ramparts up`` and the
client commands run from the same directory find each other.  Backends are
named by URL; the defaults are the embedded ones under the data dir.
"""

from __future__ import annotations

import os
import re
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ramparts.errors import ConfigError

DEFAULT_GATEWAY_PORT = 8080
DEFAULT_ADMIN_PORT = 8081
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_ADMIN_PORT}"
ADMIN_TOKEN_FILE = "admin-token"  # noqa: S105 - a file name, not a secret


def resolve_data_dir(explicit: str | os.PathLike[str] | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("RAMPARTS_DATA_DIR")
    if env:
        return Path(env).expanduser().resolve()
    return (Path.cwd() / ".ramparts").resolve()


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
    forwarded_allow_ips: str = ""  # proxies whose X-Forwarded-For the gateway trusts (none)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        if not self.state_url:
            self.state_url = f"sqlite:///{self.data_dir / 'state.db'}"
        if not self.bus_url:
            self.bus_url = f"embedded://{self.data_dir / 'bus.db'}"
        if self.max_body_bytes <= 0:
            raise ConfigError("max_body_bytes must be positive")
        if not 1.0 <= self.bus_lease <= 3600.0:
            raise ConfigError(
                f"bus lease (RAMPARTS_BUS_LEASE) must be 1 to 3600 seconds, got {self.bus_lease}"
            )
        for name in ("port", "admin_port"):
            value = getattr(self, name)
            if not 0 <= value <= 65535:
                raise ConfigError(f"{name} must be between 0 and 65535, got {value}")

    @classmethod
    def from_env(
        cls, data_dir: str | os.PathLike[str] | None = None, **overrides: object
    ) -> Settings:
        values: dict[str, object] = {
            "data_dir": resolve_data_dir(data_dir),
            "state_url": os.environ.get("RAMPARTS_STATE_URL", ""),
            "bus_url": os.environ.get("RAMPARTS_BUS_URL", ""),
            "max_body_bytes": _env_int("RAMPARTS_MAX_BODY_BYTES", 6 * 1024 * 1024),
            "retry_max_delay": _env_float("RAMPARTS_RETRY_MAX_DELAY", 300.0),
            "bus_lease": _env_float("RAMPARTS_BUS_LEASE", 10.0),
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
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.data_dir, 0o700)
        for sub in (self.artifacts_dir, self.deps_dir, self.runtime_dir):
            sub.mkdir(exist_ok=True, mode=0o700)


_TOKEN_RE = re.compile(r"^[A-Za-z0-9_\-]{32,128}$")


def ensure_admin_token(data_dir: Path) -> str:
    """Create the admin token on first start (mode 0600); refuse a readable one."""
    path = data_dir / ADMIN_TOKEN_FILE
    if path.exists():
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            raise ConfigError(
                f"{path} is readable by other users (mode {mode:o}); run chmod 600 on it"
            )
        token = path.read_text().strip()
        if not _TOKEN_RE.match(token):
            raise ConfigError(f"{path} does not hold a valid admin token")
        return token
    token = "rat_" + secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(token + "\n")
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
