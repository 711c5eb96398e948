"""RP-L008: the ``random`` module making a token, a password or a secret.

``random`` is a Mersenne Twister: its output is predictable from earlier
output, so a reset code, session id or API key made with it can be guessed.
Shuffling data, sampling, jitter and test fixtures are what it is for, and
are not reported (bandit's B311 reports every call, at low severity).  A
call is reported when its value is stored under a secret-sounding name
(``token = "".join(random.choice(...) ...)``, ``{"password": random...}``)
or returned from a function named like one (``def make_token(): return ...``).
``random.SystemRandom()`` and ``secrets`` are the fix and are never reported.
"""

from __future__ import annotations

import ast

from ramparts.scan.findings import Rule, Severity
from ramparts.scan.logic.context import SECRET_NAME, Hit, ModuleContext, target_names

RULE = Rule("RP-L008", "logic", "weak-random-for-secret",
            "A secret, token or password is made with the non-cryptographic random module.",
            "CWE-330")

_RANDOM = {"random.random", "random.randint", "random.choice", "random.choices",
           "random.randrange", "random.getrandbits", "random.sample", "random.uniform",
           "random.randbytes", "numpy.random.randint", "numpy.random.choice",
           "numpy.random.bytes", "random.Random"}
_FIX = ("use the secrets module (secrets.token_urlsafe(32), secrets.choice, "
        "secrets.randbelow) for anything someone must not guess")


def check(ctx: ModuleContext) -> list[Hit]:
    out = []
    for node in ctx.calls:
        if not (isinstance(node, ast.Call) and ctx.call_name(node) in _RANDOM):
            continue
        why = _secret_use(ctx, node)
        if why:
            out.append(Hit(RULE.rule_id, node.lineno, node.col_offset + 1,
                           f"random.{ctx.call_name(node).rsplit('.', 1)[-1]}() makes {why}: "
                           "its output is predictable", _FIX, Severity.MEDIUM))
    return out


def _secret_use(ctx: ModuleContext, call: ast.Call) -> str | None:
    stmt = ctx.statement_of(call)
    for name in target_names(stmt):
        if SECRET_NAME.search(name):
            return f"the value of {name}"
    for parent in ctx.ancestors(call):
        if isinstance(parent, ast.Dict):
            for key, value in zip(parent.keys, parent.values, strict=True):
                key_text = ctx.value(key) if key is not None else None
                if isinstance(key_text, str) and SECRET_NAME.search(key_text) and (
                        call is value or call in set(ast.walk(value))):
                    return f"the {key_text!r} entry"
        if isinstance(parent, ast.keyword) and parent.arg and SECRET_NAME.search(parent.arg):
            return f"the {parent.arg}= argument"
        if isinstance(parent, ast.stmt):
            break
    scope = ctx.scope_of(call)
    if isinstance(stmt, ast.Return) and isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef) \
            and SECRET_NAME.search(scope.name):
        return f"the result of {scope.name}()"
    return None
