"""Values that stand in for a secret without being one.

Shared by the secret detector (``secrets.py``) and the hardcoded-credential
check (``logic/credentials.py``) so both draw the line in the same place:
a masked value (``****``, ``xxxxxxxx``, ``<redacted>``, ``[REDACTED]``), a
template reference resolved elsewhere (``${DB_PASSWORD}``, ``{{ secret }}``,
``%(password)s``, ``$PASSWORD``) or an empty string cannot authenticate
anyone.  A *default* password (``changeme``, ``password``, ``admin``) is
not a placeholder: shipped, it logs in, so it stays a finding.
"""

from __future__ import annotations

import re

_MASKED = re.compile(r"^[\s*xX•#.\-_]*$")  # ****, xxxx, XXXX-XXXX, ••••, ....
_MARKED = re.compile(
    r"^[<\[({]\s*(redacted|removed|hidden|masked|secret|password|token|api[_ -]?key|your[\w -]*|"
    r"insert[\w -]*|replace[\w -]*|placeholder|changed|omitted|\.\.\.)\s*[>\])}]$",
    re.I,
)
_REDACTED_WORD = re.compile(r"^(redacted|\*+redacted\*+|<redacted>|_redacted_|placeholder)$", re.I)
_TEMPLATE = re.compile(
    r"^(\$\{[^}]+\}|\$\([^)]+\)|\{\{[^}]+\}\}|%\([\w.]+\)s|\$[A-Z_][A-Z0-9_]*|"
    r"#\{[^}]+\}|<%=?[^%]+%>)$"
)


def is_placeholder(value: str) -> bool:
    """True for masked, marked-as-redacted, template or empty values (never a real secret)."""
    v = value.strip().strip("'\"")
    return (not v or bool(_MASKED.match(v)) or bool(_MARKED.match(v))
            or bool(_REDACTED_WORD.match(v)) or bool(_TEMPLATE.match(v)))
