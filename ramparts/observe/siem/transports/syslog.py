"""Syslog transports: UDP (RFC 5426), TCP (RFC 6587) and TLS (RFC 5425).

TCP and TLS keep one connection open between batches and frame each message
by octet counting.  Before a batch goes out on a kept connection we check
that the peer has not closed it (a receiver that restarted), and reconnect:
otherwise the first batch after a restart would vanish into a dead socket.
Syslog has no application-level acknowledgement, so a batch written just
before the receiver dies can still be lost; HTTP destinations do not have
this gap (see docs/siem.md).  UDP has no delivery guarantee at all.

TLS verifies the collector's certificate and host name against the system's
CAs, or only against ``?ca=`` when given; there is no way to turn that off.
"""

from __future__ import annotations

import select
import socket
import ssl
from typing import Any

from ramparts.observe.siem.cef import cef_line
from ramparts.observe.siem.errors import DeliveryFailed
from ramparts.observe.siem.syslog import octet_frame, rfc5424
from ramparts.observe.siem.transports.base import TIMEOUT, Transport

UDP_MAX = 65000  # a message longer than one datagram is cut (CEF's detail is bounded anyway)


def _fail(target_where: str, exc: Exception) -> DeliveryFailed:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = f"certificate not trusted ({exc.verify_message})"
    elif isinstance(exc, ssl.SSLError):
        reason = f"TLS failed ({exc.reason or exc})"
    elif isinstance(exc, TimeoutError | socket.timeout):
        reason = "timed out"
    return DeliveryFailed(f"{target_where}: {reason}")


class UdpSyslog(Transport):
    def send(self, records: list[dict[str, Any]]) -> None:
        t = self.target
        try:
            infos = socket.getaddrinfo(t.host, t.port, type=socket.SOCK_DGRAM)
            family, _, _, _, addr = infos[0]
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.settimeout(TIMEOUT)
                for record in records:
                    sock.sendto(rfc5424(record, cef_line(record, self.version))[:UDP_MAX], addr)
        except OSError as exc:
            raise _fail(t.where, exc) from exc


class TcpSyslog(Transport):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sock: socket.socket | None = None

    def _context(self) -> ssl.SSLContext | None:
        return None

    def _connect(self) -> socket.socket:
        t = self.target
        sock = socket.create_connection((t.host, t.port), timeout=TIMEOUT)
        context = self._context()
        if context is None:
            return sock
        try:
            return context.wrap_socket(sock, server_hostname=t.host)
        except BaseException:
            sock.close()
            raise

    def _alive(self, sock: socket.socket) -> bool:
        """False when the peer closed (or reset) the kept connection."""
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return True
            if not isinstance(sock, ssl.SSLSocket):
                return sock.recv(1, socket.MSG_PEEK) != b""
            # TLS: records such as a TLS 1.3 session ticket make the socket readable
            # without the peer closing; only a read tells them apart from the end.
            sock.setblocking(False)
            try:
                return sock.recv(1) != b""  # a collector sends no data: b"" is the close
            except ssl.SSLWantReadError:
                return True
            finally:
                sock.settimeout(TIMEOUT)
        except (OSError, ValueError):
            return False

    def send(self, records: list[dict[str, Any]]) -> None:
        payload = b"".join(
            octet_frame(rfc5424(r, cef_line(r, self.version))) for r in records
        )
        try:
            if self._sock is not None and not self._alive(self._sock):
                self.close()
            if self._sock is None:
                self._sock = self._connect()
            self._sock.sendall(payload)
        except (OSError, ssl.SSLError) as exc:
            self.close()
            raise _fail(self.target.where, exc) from exc

    def close(self) -> None:
        if self._sock is not None:
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None


class TlsSyslog(TcpSyslog):
    def _context(self) -> ssl.SSLContext:
        ca = self.target.ca
        context = ssl.create_default_context(cafile=str(ca) if ca else None)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        return context
