"""RP-I010: credentials written as literal values into functions' environment variables.

Anyone who can read the template, the stack, or the function's configuration
reads these.  Judged with the same tests as the log redactor and the manifest
(``ramparts.observe.redact.looks_like_secret``: known token formats, URLs with
passwords, credential-like values under secret-sounding names) plus the
scanner's density test for unnamed keys (``ramparts.scan.secrets.looks_random``).
References are not values: ``{{resolve:secretsmanager:...}}``/``ssm-secure``,
intrinsic functions (``!Ref``, ``!Sub``, ``!GetAtt``), serverless variables
(``${ssm:...}``, ``${env:...}``), ARNs and secret-name paths.

Not judged: secrets assembled with ``!Join``/``!Sub`` from literal pieces,
parameter defaults, and values outside ``Environment``/``environment``.
"""

from __future__ import annotations

import re
from typing import Any

from ramparts.observe.redact import looks_like_secret
from ramparts.scan.findings import Finding, Severity
from ramparts.scan.iac.loader import YMap
from ramparts.scan.iac.model import Template, mapping
from ramparts.scan.iac.rules import finding
from ramparts.scan.secrets import looks_random

_REFERENCE = re.compile(r"\{\{resolve:[^}]*\}\}|\$\{[^}]*\}")


def check(t: Template) -> list[Finding]:
    out: list[Finding] = []
    blocks: list[tuple[YMap, str, str]] = []
    for fn in t.functions():
        env = mapping(mapping(fn.props.get("Environment")).get("Variables"))
        blocks.append((env, f"{fn.where}.Environment", f"function {fn.name}"))
    globals_fn = mapping(t.section("Globals").get("Function"))
    blocks.append((mapping(mapping(globals_fn.get("Environment")).get("Variables")),
                   "Globals.Function.Environment", "every function (Globals)"))
    if t.kind == "serverless":
        blocks.append((mapping(t.section("provider").get("environment")),
                       "provider.environment", "every function (provider)"))
        for fname, fn in t.section("functions").items():
            blocks.append((mapping(fn.get("environment")), f"functions.{fname}.environment",
                           f"function {fname}"))
    for env, where, owner in blocks:
        for key, value in env.items():
            why = _why(str(key), value)
            if why:
                out.append(finding(
                    "RP-I010", Severity.HIGH, t, env.line_of(str(key)), f"{where}.{key}",
                    f"environment variable {key} of {owner}: {why}; environment values are "
                    "readable by anyone who can read the template or the function",
                    "store it in Secrets Manager or SSM SecureString and pass a reference "
                    "({{resolve:secretsmanager:NAME}} or the secret's ARN), or use "
                    "context.secrets on Ramparts"))
    return out


def _why(key: str, value: Any) -> str | None:
    if not isinstance(value, str):
        return None  # numbers, booleans, and intrinsic functions (!Ref, !Sub ...)
    if not _REFERENCE.search(value):
        why = looks_like_secret(key, value)
        if why is None and looks_random(value.strip(), key):
            why = "its value is a dense random string, the shape of a key"
        return why
    # built from references, so a name, unless a literal piece has the shape of a credential
    for piece in _REFERENCE.split(value):
        piece = piece.strip()
        if piece and (looks_like_secret("", piece) or looks_random(piece, key)):
            return "a literal part of its value has the shape of a credential"
    return None
