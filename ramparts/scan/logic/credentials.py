"""RP-L006: a literal credential handed to a client or a connection.

The secret detector (RP-S001) finds credentials by their *shape*; this
check finds them by *where they go*, so a short or low-entropy password
(``password="hunter2"``) passed to a database driver is caught too.
Recognised:

* signing keys given to ``jwt.encode``/``jwt.decode``/``hmac.new``/itsdangerous;
* keyword arguments named like a credential (``password``, ``passwd``,
  ``secret``, ``client_secret``, ``aws_secret_access_key``, ``api_key``,
  ``token`` ...) given a string literal (or a name assigned one);
* ``auth=("user", "literal")`` and ``HTTPBasicAuth("user", "literal")``;
* a literal password given by position to a log-in method: smtplib/imaplib/
  ftplib ``.login(user, pw)``, poplib ``.pass_(pw)``, python-ldap
  ``.simple_bind_s(dn, pw)``, paramiko ``auth_password(user, pw)``;
* connection URLs and DSNs with a literal password
  (``postgresql://app:pw@host/db``, ``"dbname=x password=pw"``) passed to a call.

Placeholders (``****``, ``<redacted>``, ``${DB_PASSWORD}``, empty) are not
credentials (``ramparts.scan.placeholders``); default passwords are.
"""

from __future__ import annotations

import ast
import re

from ramparts.scan.findings import Rule, Severity
from ramparts.scan.logic.context import Hit, ModuleContext
from ramparts.scan.placeholders import is_placeholder

RULE = Rule("RP-L006", "logic", "hardcoded-credential",
            "A credential written in the code is passed to a client or a connection.", "CWE-798")

_CREDENTIAL_ARG = re.compile(
    r"^(password|passwd|pwd|pass|secret|client_secret|secret_key|aws_secret_access_key|"
    r"aws_session_token|api_key|apikey|access_token|auth_token|token|private_key|"
    r"refresh_token|bearer_token|master_password|db_password|sasl_plain_password)$",
    re.I,
)
_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^:/@\s]+:([^@/\s]+)@", re.I)
_DSN_PASSWORD = re.compile(r"(?:^|[\s;])(?:password|pwd)\s*=\s*([^\s;]+)", re.I)
# signing keys passed by position: (dotted name, index of the key argument)
_KEY_POSITION = {"jwt.encode": 1, "jwt.decode": 1, "jose.jwt.encode": 1, "jose.jwt.decode": 1,
                 "hmac.new": 0, "itsdangerous.URLSafeTimedSerializer": 0,
                 "itsdangerous.URLSafeSerializer": 0, "itsdangerous.Signer": 0}
# log-in methods that take the password by position, on an object we cannot type
# (``with smtplib.SMTP_SSL(...) as smtp: smtp.login(user, pw)``): method -> its index
_LOGIN_POSITION = {"login": 1, "pass_": 0, "simple_bind_s": 1,
                   "simple_bind": 1, "bind_s": 1, "auth_password": 1}
_TEXT_BUILDERS = {"format", "format_map", "substitute", "safe_substitute", "dict"}
_FIX = ("store it with `ramparts secrets set`, list it under the function's secrets:, and read "
        "it with context.secrets.get(); rotate the one in the code")


def check(ctx: ModuleContext) -> list[Hit]:
    def judge(call: ast.Call) -> str | None:
        problem = _credential(ctx, call)
        return f"{problem} is written in the code" if problem else None

    return ctx.hits(ctx.calls, judge, RULE.rule_id, _FIX, Severity.HIGH)


def _literal(ctx: ModuleContext, expr: ast.expr) -> str | None:
    """The literal text of ``expr`` if it could be a working secret (not a public key)."""
    value = ctx.value(expr)
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if not isinstance(value, str) or is_placeholder(value) or "PUBLIC KEY" in value:
        return None
    return value


def _credential(ctx: ModuleContext, call: ast.Call) -> str | None:
    dotted = ctx.call_name(call)
    name = dotted.rsplit(".", 1)[-1]
    index = _KEY_POSITION.get(dotted)
    if index is not None and len(call.args) > index:
        key = call.args[index]
        if _literal(ctx, key) is not None:
            return f"the signing key given to {dotted}()"
    if name in _TEXT_BUILDERS:
        return None  # "{secret}".format(secret=...) fills in text, it logs nobody in
    for kw in call.keywords:
        if kw.arg and _CREDENTIAL_ARG.match(kw.arg) and _literal(ctx, kw.value) is not None:
            return f"the {kw.arg}= argument of {name or 'a call'}()"
        if kw.arg == "auth" and isinstance(kw.value, ast.Tuple) and len(kw.value.elts) == 2 \
                and _literal(ctx, kw.value.elts[1]) is not None:
            return f"the password in auth=(...) of {name or 'a call'}()"
    if name in {"HTTPBasicAuth", "HTTPDigestAuth", "BasicAuth", "DigestAuth"} \
            and len(call.args) >= 2 and _literal(ctx, call.args[1]) is not None:
        return f"the password given to {name}()"
    index = _LOGIN_POSITION.get(name) if isinstance(call.func, ast.Attribute) else None
    if index is not None and len(call.args) > index and _literal(ctx, call.args[index]):
        return f"the password given to {name}()"
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        value = ctx.value(arg)
        if not isinstance(value, str):
            continue
        m = _URL_PASSWORD.match(value) or _DSN_PASSWORD.search(value)
        if m and not is_placeholder(m.group(1)) and not m.group(1).startswith(("{", "%", "$")):
            return f"a password inside the connection string given to {name or 'a call'}()"
    return None
