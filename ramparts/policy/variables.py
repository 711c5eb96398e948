"""Policy variables: ``${ramparts:function}``, ``${aws:username}``, ``${key, 'default'}``.

A variable is replaced by the request's value of that context key when the
statement is evaluated, as IAM does for documents of Version 2012-10-17 (in
older documents ``${...}`` is plain text).  Substituted values are literal:
a ``*`` inside a principal's name never becomes a wildcard.  ``${*}``,
``${?}`` and ``${$}`` stand for those characters literally.  When the key is
missing and no default is given the element cannot match (``None``), which
is IAM's rule and also the fail-closed one for allows.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from ramparts.policy.matching import escape_literal

_VAR = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}
_KEY = re.compile(r"^[A-Za-z0-9_.:/*?-]+$")


def has_variables(text: str) -> bool:
    return "${" in text


def parse_variable(body: str) -> tuple[str, str | None]:
    """``aws:username`` -> (``aws:username``, None); ``k, 'd'`` -> (``k``, ``d``)."""
    body = body.strip()
    if body in _SPECIAL:
        return body, None
    m = _DEFAULT.match(body)
    if m:
        return m.group(1), m.group(2)
    if "," in body or not _KEY.match(body):
        raise ValueError(f"invalid policy variable ${{{body}}}")
    return body, None


def check_variables(text: str) -> None:
    """Raise ``ValueError`` for a malformed ``${...}`` (checked when a policy is loaded)."""
    for m in _VAR.finditer(text):
        parse_variable(m.group(1))
    if "${" in _VAR.sub("", text):
        raise ValueError("unterminated policy variable")


def referenced_keys(text: str) -> set[str]:
    """Lower-cased context keys the variables of ``text`` read."""
    out = set()
    for m in _VAR.finditer(text):
        key, _ = parse_variable(m.group(1))
        if key not in _SPECIAL:
            out.add(key.lower())
    return out


def _scalar(value: Any) -> str | None:
    if value is None or isinstance(value, list | tuple | dict):
        return None  # multivalued keys cannot be policy variables (IAM's rule)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def substitute(text: str, context: Mapping[str, Any], *, glob: bool) -> str | None:
    """Replace the variables of ``text`` from ``context`` (lower-cased keys).

    With ``glob`` the result is a pattern and substituted values are escaped
    so they only match themselves.  Returns ``None`` when a variable has no
    value and no default.
    """
    missing = False

    def repl(m: re.Match[str]) -> str:
        nonlocal missing
        key, default = parse_variable(m.group(1))
        if key in _SPECIAL:
            value: str | None = _SPECIAL[key]
        else:
            value = _scalar(context.get(key.lower()))
            if value is None:
                value = default
        if value is None:
            missing = True
            return ""
        return escape_literal(value) if glob else value

    out = _VAR.sub(repl, text)
    return None if missing else out
