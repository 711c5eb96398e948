"""RP-L008: the ``random`` module making a token, a password or a secret.

``random`` is a Mersenne Twister: its output is predictable from earlier
output, so a reset code, session id or API key made with it can be guessed.
Shuffling data, sampling, jitter and test fixtures are what it is for, and
are not reported (bandit's B311 reports every call, at low severity).  A
call is reported when its value is stored under a secret-sounding name
(``token = "".join(random.choice(...) ...)``, ``{"password": random...}``)
or returned from a function named like one (``def make_token(): return ...``),
or when it assembles a string of six or more random characters
(``"".join(random.choice(ALPHABET) for _ in range(32))``, ``"".join(random.choices(
ALPHABET, k=8))``): that is a token's shape whatever the variable is called.
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
_MIN_TOKEN_LENGTH = 6  # an OTP is 6 digits; shorter random strings are name suffixes
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
    length = _assembled_length(ctx, call)
    if length is not None:
        return f"a {length}-character random string (the shape of a token, code or password)"
    scope = ctx.scope_of(call)
    if isinstance(stmt, ast.Return) and isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef) \
            and SECRET_NAME.search(scope.name):
        return f"the result of {scope.name}()"
    return None


def _assembled_length(ctx: ModuleContext, call: ast.Call) -> int | None:
    """The length of a string ``call`` assembles character by character, if a token's.

    ``"".join(random.choice(ALPHABET) for _ in range(32))``,
    ``"".join(str(random.randint(0, 9)) for _ in range(8))`` and
    ``"".join(random.choices(ALPHABET, k=12))`` build a string of random
    characters: that is what a token, a reset code or a password is, whatever
    the variable is called.  Under six characters it is taken for a suffix.
    """
    length: object = None
    parent = ctx.parents.get(call)
    while isinstance(parent, ast.Call) and ctx.call_name(parent) in {"str", "chr", "format"}:
        parent = ctx.parents.get(parent)
    if isinstance(parent, ast.GeneratorExp | ast.ListComp) and len(parent.generators) == 1:
        loop = parent.generators[0].iter
        if isinstance(loop, ast.Call) and ctx.call_name(loop) == "range" and loop.args:
            length = ctx.value(loop.args[-1]) if len(loop.args) <= 2 else None
        joined = ctx.parents.get(parent)
    elif ctx.call_name(call) in {"random.choices", "random.sample"}:
        k = ctx.keyword(call, "k")
        length = ctx.value(k if k is not None else (call.args[1] if len(call.args) > 1 else None))
        joined = parent
    else:
        return None
    if not (isinstance(joined, ast.Call) and isinstance(joined.func, ast.Attribute)
            and joined.func.attr == "join"):
        return None
    if isinstance(length, int) and not isinstance(length, bool) and length >= _MIN_TOKEN_LENGTH:
        return length
    return None
