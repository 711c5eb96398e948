"""RP-L009: a session or auth cookie set without ``Secure`` or ``HttpOnly``.

Without ``Secure`` the cookie also travels over plain HTTP; without
``HttpOnly`` any script injected into the page reads it.  Flask, Werkzeug,
Django and Starlette all default both to off, so ``set_cookie("session", v)``
is the bug.  Only cookies that authenticate are judged: the cookie's name
(``session``, ``sid``, ``auth``, ``token``, ``jwt``, ``remember`` ...) or its
value's name says so.  A CSRF cookie is judged on ``Secure`` only (the
double-submit pattern needs scripts to read it).  Recognised:

* ``set_cookie(...)`` on any response object, without ``secure=True`` or
  ``httponly=True`` (a non-literal flag counts as set; ``**kwargs`` is not judged);
* a ``Set-Cookie`` header or an API Gateway ``cookies`` entry written by hand
  whose literal text lacks ``Secure`` or ``HttpOnly``;
* Django settings ``SESSION_COOKIE_SECURE/HTTPONLY = False``, ``CSRF_COOKIE_SECURE = False``;
* Starlette ``SessionMiddleware`` (``Middleware(SessionMiddleware, ...)``,
  ``add_middleware``) without ``https_only=True`` (its default is False).
"""

from __future__ import annotations

import ast
import re

from ramparts.scan.findings import Rule, Severity
from ramparts.scan.logic.context import UNKNOWN, Hit, ModuleContext, names_in

RULE = Rule("RP-L009", "logic", "insecure-auth-cookie",
            "A session or auth cookie is set without Secure or HttpOnly.", "CWE-614")

_AUTH_COOKIE = re.compile(r"(sess|sid|auth|token|jwt|login|remember|identity|access|refresh|"
                          r"csrf|xsrf)", re.I)
_CSRF = re.compile(r"(csrf|xsrf)", re.I)
_DJANGO = {"SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "CSRF_COOKIE_SECURE"}
_FIX = ("set the cookie with secure=True, httponly=True and samesite=\"Lax\" (or \"Strict\"); "
        "for Django set SESSION_COOKIE_SECURE/HTTPONLY = True")


def check(ctx: ModuleContext) -> list[Hit]:
    def judge(node: ast.AST) -> str | None:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "set_cookie":
            return _set_cookie(ctx, node)
        if isinstance(node, ast.Call):
            return _session_middleware(ctx, node)
        if isinstance(node, ast.Dict):
            return _header_dict(ctx, node)
        if isinstance(node, ast.Assign) and node.col_offset == 0 and len(node.targets) == 1 \
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id in _DJANGO \
                and ctx.value(node.value) is False:
            return f"{node.targets[0].id} = False"
        return None

    return ctx.hits(ctx.nodes, judge, RULE.rule_id, _FIX, Severity.MEDIUM)


def _set_cookie(ctx: ModuleContext, call: ast.Call) -> str | None:
    if ctx.has_star_kwargs(call):
        return None
    name_node = ctx.keyword(call, "key") or (call.args[0] if call.args else None)
    value_node = ctx.keyword(call, "value") or (call.args[1] if len(call.args) > 1 else None)
    name = ctx.value(name_node)
    if not isinstance(name, str):
        name = ""
    value_names = names_in(value_node) if value_node is not None else []
    if not (_AUTH_COOKIE.search(name) or any(_AUTH_COOKIE.search(n) for n in value_names)):
        return None
    readable = bool(_CSRF.search(name))  # double-submit: scripts must read a CSRF cookie
    missing = [flag for flag in ("secure", "httponly")
               if not _flag_set(ctx, call, flag) and not (flag == "httponly" and readable)]
    if not missing:
        return None
    label = f"cookie {name!r}" if name else "an auth cookie"
    return f"{label} is set without {' and '.join(missing)}=True"


def _session_middleware(ctx: ModuleContext, call: ast.Call) -> str | None:
    """Starlette ``SessionMiddleware`` without ``https_only=True``.

    Its cookie is always HttpOnly, but ``https_only`` defaults to False, so
    the session travels over plain HTTP unless the app says otherwise;
    ``Middleware(SessionMiddleware, ...)`` and ``app.add_middleware(...)``
    are judged alike.
    """
    direct = ctx.call_name(call).endswith("SessionMiddleware")
    if not direct and not (
            call.args and (ctx.qualname(call.args[0]) or "").endswith("SessionMiddleware")):
        return None
    if ctx.has_star_kwargs(call) or _flag_set(ctx, call, "https_only"):
        return None
    return "SessionMiddleware keeps the session cookie without https_only=True (no Secure flag)"


def _flag_set(ctx: ModuleContext, call: ast.Call, flag: str) -> bool:
    node = ctx.keyword(call, flag)
    if node is None:
        return False
    value = ctx.value(node)
    return value is UNKNOWN or bool(value)


def _header_dict(ctx: ModuleContext, node: ast.Dict) -> str | None:
    for key, value in zip(node.keys, node.values, strict=True):
        key_text = ctx.value(key) if key is not None else None
        if not (isinstance(key_text, str) and key_text.lower() in {"set-cookie", "cookies"}):
            continue
        items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
        for item in items:
            text = _literal_text(item)
            cookie = text.split("=", 1)[0].strip()
            if not text or not _AUTH_COOKIE.search(cookie):
                continue
            flags = {p.strip().lower() for p in text.split(";")[1:]}
            missing = [f for f in ("Secure", "HttpOnly") if f.lower() not in flags
                       and not (f == "HttpOnly" and _CSRF.search(cookie))]
            if missing:
                return f"Set-Cookie {cookie!r} without {' and '.join(missing)}"
    return None


def _literal_text(node: ast.AST) -> str:
    """The literal parts of a string, f-string or concatenation ({} for the rest)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(_literal_text(v) if isinstance(v, ast.Constant) else "{}"
                       for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _literal_text(node.left) + _literal_text(node.right)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
        return _literal_text(node.left)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "format":
        return _literal_text(node.func.value)
    return ""
