"""Values that stand in for a secret without being one.

Shared by the secret detector (``secrets.py``) and the hardcoded-credential
check (``logic/credentials.py``) so both draw the line in the same place:
a masked value (``****``, ``xxxxxxxx``, ``<redacted>``, ``[REDACTED]``), a
template reference resolved elsewhere (``${DB_PASSWORD}``, ``{{ secret }}``,
``%(password)s``, ``$PASSWORD``) or an empty string cannot authenticate
anyone, nor can a stand-in written in words (``dummy``, ``fake-api-key``,
``your-api-key-here``).  A *default* password (``changeme``, ``password``,
``admin``) is not a placeholder: shipped, it logs in, so it stays a finding.
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


# Values written only with these words, at least one of them a stand-in marker, say
# "put the real one here": "dummy", "fake-api-key", "your-api-key-here", "test-key-not-real".
_STAND_IN_MARKERS = {"dummy", "fake", "example", "sample", "mock", "placeholder", "your",
                     "here", "not", "fixme", "todo", "tbd"}
_STAND_IN_WORDS = _STAND_IN_MARKERS | {
    "api", "apikey", "key", "token", "secret", "password", "pass", "pwd", "access", "client",
    "test", "real", "value", "a", "an", "the", "goes", "insert", "replace", "with", "me",
    "my", "for", "app", "account", "id", "auth", "string", "credential", "credentials"}
_WORD_SPLIT = re.compile(r"[\s_.\-/:]+")


def _stand_in_words(value: str) -> bool:
    words = [w for w in _WORD_SPLIT.split(value.lower()) if w]
    return (0 < len(words) <= 8 and all(w in _STAND_IN_WORDS for w in words)
            and any(w in _STAND_IN_MARKERS for w in words))


def is_placeholder(value: str) -> bool:
    """True for masked, marked-as-redacted, template, stand-in or empty values.

    A stand-in is made only of words like "dummy", "fake", "example", "your ...
    here", "not real" (and the words they qualify: api, key, token ...);
    ``password`` or ``changeme`` alone have no marker word and stay findings.
    """
    v = value.strip().strip("'\"")
    return (not v or bool(_MASKED.match(v)) or bool(_MARKED.match(v))
            or bool(_REDACTED_WORD.match(v)) or bool(_TEMPLATE.match(v))
            or _stand_in_words(v))
