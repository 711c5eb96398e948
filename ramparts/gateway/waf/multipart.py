"""Multipart details that form parsers honour and a plain ``name=""`` reading misses.

Used by the WAF's extraction (``ramparts.gateway.waf.request``) for each part:
RFC 2231/5987 extended parameters (werkzeug and ``email`` prefer
``filename*`` to ``filename``) and transfer encodings undone, so the WAF
inspects what a handler's parser hands it.
"""

from __future__ import annotations

import base64
import binascii
import quopri
import re
from urllib.parse import unquote

# RFC 2231 / 5987 extended parameters (``filename*=UTF-8''..%2F..``, continuations
# ``filename*0*=``): many parsers (werkzeug, email) prefer them to the plain one.
_EXTENDED_PARAM = re.compile(
    r'\b(name|filename)\*(?:\d{1,3}\*?)?=("[^"]{0,1000}"|[^;\r\n]{0,1000})', re.IGNORECASE
)


def extended_params(headers: str) -> dict[str, list[str]]:
    """The decoded values of a part's extended parameters, by name (lower case).

    Each piece is percent-decoded as UTF-8 (what handlers get for the charset
    everyone declares) and, when another charset is declared and known, in
    that charset too; the pieces of one name are also joined (continuations).
    """
    found: dict[str, list[str]] = {}
    for name, raw in _EXTENDED_PARAM.findall(headers):
        value = raw.strip().strip('"')
        charset = ""
        if value.count("'") >= 2:
            charset, _, value = value.split("'", 2)
        pieces = found.setdefault(name.lower(), [])
        pieces.append(unquote(value, encoding="utf-8", errors="replace"))
        if charset and charset.lower().replace("_", "-") not in ("utf-8", "utf8", "us-ascii"):
            try:
                pieces.append(unquote(value, encoding=charset, errors="replace"))
            except LookupError:
                pass  # an unknown charset: the UTF-8 reading stands
    for pieces in found.values():
        if len(pieces) > 1:
            pieces.append("".join(pieces))
    return found


def decoded_part(content: bytes, encoding: str) -> list[bytes]:
    """The part's bytes as a handler may read them: as sent, and with its transfer encoding undone.

    base64 replaces what was sent (base64 text holds no payload); quoted-printable
    keeps both readings (a handler that does not decode it sees ``=3C`` as is).
    """
    if encoding == "base64":
        try:
            return [base64.b64decode(b"".join(content.split()), validate=False)]
        except (binascii.Error, ValueError):
            return [content]  # not base64 after all: inspected as sent
    if encoding == "quoted-printable":
        decoded = quopri.decodestring(content)
        return [content] if decoded == content else [content, decoded]
    return [content]
