"""SIEM transports, chosen by the destination URL's scheme from one registry."""

from __future__ import annotations

from ramparts.errors import ConfigError
from ramparts.observe.siem.targets import Target
from ramparts.observe.siem.transports.base import TokenSource, Transport
from ramparts.observe.siem.transports.file import FileTransport
from ramparts.observe.siem.transports.http import HttpTransport
from ramparts.observe.siem.transports.syslog import TcpSyslog, TlsSyslog, UdpSyslog


def _registry(*pairs: tuple[str, type[Transport]]) -> dict[str, type[Transport]]:
    out: dict[str, type[Transport]] = {}
    for scheme, cls in pairs:
        if scheme in out:  # a later class never silently takes a scheme over
            raise ValueError(f"SIEM scheme {scheme!r} registered twice")
        out[scheme] = cls
    return out


TRANSPORTS = _registry(
    ("syslog+udp", UdpSyslog),
    ("syslog+tcp", TcpSyslog),
    ("syslog+tls", TlsSyslog),
    ("ocsf+file", FileTransport),
    ("ocsf+https", HttpTransport),
    ("ocsf+http", HttpTransport),
)


def open_transport(target: Target, *, version: str, token: TokenSource | None) -> Transport:
    cls = TRANSPORTS.get(target.scheme)
    if cls is None:
        raise ConfigError(f"--siem {target.url!r}: no transport for {target.scheme}://")
    return cls(target, version=version, token=token if target.is_http else None)


__all__ = ["TRANSPORTS", "Transport", "open_transport"]
