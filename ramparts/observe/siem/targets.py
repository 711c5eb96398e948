"""``--siem`` URLs: parsed and checked once, at start, into ``Target``s.

A URL that names an unknown scheme, lacks a host or port, carries
credentials, or points plain HTTP off this machine is a ``ConfigError`` that
names ``--siem``: the node refuses to start rather than export nowhere.

Forms (see docs/siem.md)::

    syslog+udp://HOST:PORT
    syslog+tcp://HOST:PORT
    syslog+tls://HOST[:6514][?ca=/path/ca.pem]
    ocsf+file:///ABSOLUTE/PATH.jsonl
    ocsf+https://HOST[:443]/PATH[?format=hec|bulk|ndjson][&ca=/path/ca.pem]
    ocsf+http://127.0.0.1:PORT/PATH[?format=...]     (loopback only)
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from ramparts.errors import ConfigError

SCHEMES = ("syslog+udp", "syslog+tcp", "syslog+tls", "ocsf+file", "ocsf+https", "ocsf+http")
HTTP_FORMATS = ("ndjson", "hec", "bulk")
_DEFAULT_PORTS = {"syslog+tls": 6514, "ocsf+https": 443, "ocsf+http": 80}
_QUERY = {
    "syslog+udp": set(),
    "syslog+tcp": set(),
    "syslog+tls": {"ca"},
    "ocsf+file": set(),
    "ocsf+https": {"format", "ca"},
    "ocsf+http": {"format"},
}


@dataclass(frozen=True)
class Target:
    """One checked destination."""

    url: str  # as the operator wrote it (never holds credentials: those are refused)
    scheme: str
    host: str = ""
    port: int = 0
    path: str = ""
    format: str = ""  # cef | jsonl | ndjson | hec | bulk
    ca: Path | None = None

    @property
    def key(self) -> str:
        """A stable name for this destination's spool: the same URL finds its spool again."""
        return hashlib.sha256(self.url.encode()).hexdigest()[:16]

    @property
    def is_http(self) -> bool:
        return self.scheme in ("ocsf+https", "ocsf+http")

    @property
    def where(self) -> str:
        """Where it sends, for log lines and errors."""
        if self.scheme == "ocsf+file":
            return self.path
        return f"{self.scheme}://{self.host}:{self.port}"


def _bad(url: str, why: str) -> ConfigError:
    return ConfigError(f"--siem {url!r}: {why}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_target(url: str) -> Target:
    """Check one ``--siem`` URL; a ``ConfigError`` naming ``--siem`` says what is wrong."""
    if not isinstance(url, str) or not url.strip() or any(c in url for c in "\r\n\t\x00 "):
        raise _bad(str(url), "not a URL")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise _bad(url, f"invalid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise _bad(url, f"unknown scheme {parts.scheme!r}; use one of " + ", ".join(
            f"{s}://" for s in SCHEMES))
    if parts.username is not None or parts.password is not None:
        raise _bad(url, "credentials in the URL are refused; use --siem-token-secret APP/NAME")
    if parts.fragment:
        raise _bad(url, "a URL fragment (#...) means nothing here")
    try:
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
    except ValueError:
        raise _bad(url, "invalid query string") from None
    unknown = set(query) - _QUERY[scheme]
    if unknown:
        allowed = ", ".join(sorted(_QUERY[scheme])) or "none"
        raise _bad(url, f"unknown parameter {sorted(unknown)[0]!r} (allowed: {allowed})")
    for name, values in query.items():
        if len(values) != 1 or not values[0]:
            raise _bad(url, f"parameter {name!r} must be given once, with a value")
    ca: Path | None = None
    if "ca" in query:
        ca = Path(query["ca"][0])
        if not ca.is_absolute() or not ca.is_file():
            raise _bad(url, f"ca={ca} is not an absolute path to a readable PEM file")
    if scheme == "ocsf+file":
        if parts.netloc not in ("", "localhost"):
            raise _bad(url, "ocsf+file takes an absolute path: ocsf+file:///path/events.jsonl")
        path = Path(parts.path)
        if not parts.path.startswith("/") or path.name in ("", ".", ".."):
            raise _bad(url, "ocsf+file takes an absolute file path: ocsf+file:///path/events.jsonl")
        if not path.parent.is_dir():
            raise _bad(url, f"the directory {path.parent} does not exist")
        return Target(url=url, scheme=scheme, path=str(path), format="jsonl")
    host = parts.hostname or ""
    if not host:
        raise _bad(url, "a host is required")
    port = port or _DEFAULT_PORTS.get(scheme, 0)
    if not port:
        raise _bad(url, "a port is required (e.g. :514)")
    if not 0 < port < 65536:
        raise _bad(url, f"port {port} is out of range")
    if scheme.startswith("syslog+"):
        if parts.path not in ("", "/"):
            raise _bad(url, "syslog URLs take no path")
        return Target(url=url, scheme=scheme, host=host, port=port, format="cef", ca=ca)
    if scheme == "ocsf+http" and not _is_loopback(host):
        raise _bad(url, "plain ocsf+http:// is allowed to loopback only; use ocsf+https://")
    fmt = query.get("format", ["ndjson"])[0]
    if fmt not in HTTP_FORMATS:
        raise _bad(url, f"format={fmt!r}: use one of {', '.join(HTTP_FORMATS)}")
    return Target(
        url=url, scheme=scheme, host=host, port=port, path=parts.path or "/", format=fmt, ca=ca
    )


def parse_targets(urls: list[str]) -> list[Target]:
    """Every ``--siem`` URL checked; the same URL twice is refused (one spool each)."""
    targets = [parse_target(u) for u in urls]
    seen: set[str] = set()
    for t in targets:
        if t.url in seen:
            raise _bad(t.url, "given twice")
        seen.add(t.url)
    return targets


def parse_token_secret(ref: str) -> tuple[str, str]:
    """``APP/NAME`` of ``--siem-token-secret`` split in two (names are checked by the node)."""
    app, sep, name = ref.partition("/")
    if not sep or not app or not name or "/" in name:
        raise ConfigError(
            f"--siem-token-secret {ref!r}: name the secret as APP/NAME (the app that owns it, "
            "then its name)"
        )
    return app, name
