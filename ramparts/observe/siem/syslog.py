"""RFC 5424 syslog messages, and their octet-counting frame for TCP and TLS.

Facility 13 (log audit); the severity follows the record's (see
``severity``).  MSGID is the record's kind; MSG is the CEF line, sent as
UTF-8 without a BOM (RFC 5424's MSG-ANY, which common receivers expect for
CEF).  On TCP (RFC 6587) and TLS (RFC 5425) each message is framed as
``LENGTH SP MESSAGE``, so framing survives any byte; still, MSG carries no
control character (C0, DEL, C1) and no U+2028/U+2029 line separator: each
is written as the six characters ``\\uXXXX``, so no receiver or viewer can
be made to break, recolour or rewrite a line.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
from typing import Any

from ramparts.observe.siem.severity import SYSLOG, severity_of

FACILITY = 13  # log audit
NIL = "-"
VALUE_MAX = 1024  # characters of one exported field (the path of a refused request, say)

_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """Every C0/C1 control, DEL, U+2028 and U+2029 as ``\\uXXXX`` (six characters)."""
    return _CONTROLS.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def bound(text: str, limit: int = VALUE_MAX) -> str:
    """``text``, cut to ``limit`` characters (ending in ``...``) when longer."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _token(value: str, limit: int) -> str:
    """A header field: printable US-ASCII without spaces, at most ``limit`` long, else NIL."""
    out = "".join(c for c in value if 33 <= ord(c) <= 126)[:limit]
    return out or NIL


_HOST = _token(socket.gethostname(), 255)


def rfc5424(record: dict[str, Any], msg: str) -> bytes:
    """One syslog message (no framing) whose MSG is ``msg``."""
    pri = FACILITY * 8 + SYSLOG[severity_of(record)]
    ts = dt.datetime.fromtimestamp(float(record.get("ts") or 0), tz=dt.UTC)
    stamp = ts.isoformat(timespec="microseconds").replace("+00:00", "Z")
    kind = _token(str(record.get("kind") or ""), 32)
    head = f"<{pri}>1 {stamp} {_HOST} ramparts {os.getpid()} {kind} {NIL} "
    return head.encode() + escape_controls(msg).encode("utf-8", "replace")


def octet_frame(message: bytes) -> bytes:
    """RFC 6587 octet counting: ``LEN SP MSG``."""
    return str(len(message)).encode() + b" " + message
