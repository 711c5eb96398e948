"""RP-L007: md5 or sha1 protecting a password, a secret or a token.

md5 and sha1 are fine as checksums and cache keys, which is most of their
use; bandit's B324 reports every use.  This rule reports the ones that
matter: the hashed value, or the name the digest is stored under, is a
password, secret, token or key (by name: ``password``, ``pwd``, ``secret``,
``token``, ``api_key``, ``otp`` ...), where a fast unsalted hash is cracked
offline in seconds.  Recognised constructors: ``hashlib.md5``/``sha1``,
``hashlib.new("md5"|"sha1", ...)``, pycryptodome ``MD5.new``/``SHA1.new``,
and ``h.update(password)`` on such an object.
"""

from __future__ import annotations

import ast

from ramparts.scan.findings import Rule, Severity
from ramparts.scan.logic.context import (
    SECRET_NAME,
    Hit,
    ModuleContext,
    names_in,
    target_names,
)

RULE = Rule("RP-L007", "logic", "weak-hash-for-secret",
            "A password, secret or token is protected with md5 or sha1.", "CWE-328")

_WEAK = {"hashlib.md5": "md5", "hashlib.sha1": "sha1", "Crypto.Hash.MD5.new": "md5",
         "Crypto.Hash.SHA1.new": "sha1", "Cryptodome.Hash.MD5.new": "md5",
         "Cryptodome.Hash.SHA1.new": "sha1"}
_FIX = ("store passwords with a slow salted hash (argon2, bcrypt, scrypt, "
        "hashlib.pbkdf2_hmac); compare tokens with hmac.compare_digest over sha256")


def check(ctx: ModuleContext) -> list[Hit]:
    weak_objects: set[str] = set()  # names bound to an md5/sha1 object made without data
    out = []
    for node in ctx.calls:
        algo = _algorithm(ctx, node)
        if algo is None:
            continue
        stmt = ctx.statement_of(node)
        args = node.args[1:] if ctx.call_name(node) == "hashlib.new" else node.args
        data = [*args, *(k.value for k in node.keywords if k.arg in {"data", "string"})]
        if not data:
            weak_objects.update(target_names(stmt))
        names = [n for d in data for n in names_in(d)] + target_names(stmt)
        if any(SECRET_NAME.search(n) for n in names):
            out.append(_hit(node, algo))
    for node in ctx.calls:
        if (isinstance(node.func, ast.Attribute) and node.func.attr == "update"
                and isinstance(node.func.value, ast.Name) and node.func.value.id in weak_objects
                and any(SECRET_NAME.search(n) for a in node.args for n in names_in(a))):
            out.append(_hit(node, "a weak hash"))
    return out


def _hit(node: ast.Call, algo: str) -> Hit:
    return Hit(RULE.rule_id, node.lineno, node.col_offset + 1,
               f"{algo} protects a password, secret or token: it is fast and unsalted, "
               "so leaked digests are reversed offline", _FIX, Severity.MEDIUM)


def _algorithm(ctx: ModuleContext, call: ast.Call) -> str | None:
    name = ctx.call_name(call)
    if name in _WEAK:
        return _WEAK[name]
    if name == "hashlib.new" and call.args:
        algo = ctx.value(call.args[0])
        if isinstance(algo, str) and algo.lower().replace("-", "") in {"md5", "sha1"}:
            return algo.lower()
    return None

