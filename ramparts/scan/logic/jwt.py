"""RP-L001: a JWT read without verifying its signature, or with any algorithm allowed.

A token whose signature is not checked is whatever the caller wrote: the
claims (``sub``, ``role``, ``tenant``) become attacker input.  Recognised:

* PyJWT ``jwt.decode(..., options={"verify_signature": False})`` and the old
  ``verify=False``; python-jose ``jwt.decode`` with the same option;
* ``algorithms`` containing ``"none"`` (any case);
* ``algorithms`` taken from the token's own unverified header
  (``alg = jwt.get_unverified_header(token)["alg"]``, directly or through
  locals): the token chooses how it is checked, e.g. HS256 with the public key;
* ``jwt.decode`` with a key but no ``algorithms`` (PyJWT before 2.0 and
  python-jose then accept the algorithm the token names: alg confusion);
* python-jose ``jwt.get_unverified_claims``, PyJWT/joserfc
  ``jws.extract_compact``-style readers, taken as truth;
* authlib/joserfc ``jwt.decode`` (which check the signature only) whose
  claims are never validated in the same function (medium).

Reading a token unverified to pick the key (``iss``/``kid``) and then
decoding it *verified* is the documented pattern, so such a peek is not
reported, but only when each condition holds (the adversarial review decoyed a
looser rule with one verified decode in dead code, or of another header):

* a verified decode of the *same token* (the same expression as the peek's
  first argument) follows the peek in the same function;
* that decode is reachable (not under ``if False:``/``while 0:``);
* the peek's result does not decide anything on its own: it is not tested in
  an ``if``/``while``/``assert``/conditional expression or comparison, nor
  returned (only used to pick the key).

Each decode call is otherwise judged on its own options, algorithms and key.
"""

from __future__ import annotations

import ast

from ramparts.scan.findings import Rule, Severity
from ramparts.scan.logic.context import UNKNOWN, Hit, ModuleContext, is_false

RULE = Rule("RP-L001", "logic", "jwt-without-verification",
            "A JWT is decoded without verifying its signature, or without fixing the "
            "algorithms it may use.", "CWE-347")

_DECODE = {"jwt.decode", "jwt.api_jwt.decode", "jose.jwt.decode", "jwt.decode_complete",
           "jwt.api_jwt.decode_complete"}
# PyJWT().decode(...): the class's methods are the module functions' implementation
_DECODER_CLASSES = {"jwt.PyJWT", "jwt.api_jwt.PyJWT"}
_UNVERIFIED = {"jose.jwt.get_unverified_claims", "jose.jws.get_unverified_claims",
               "joserfc.jws.extract_compact", "joserfc.jwt.extract_compact",
               "authlib.jose.util.extract_segment"}
# these read the token's header without checking anything: the token wrote it
_HEADER_READERS = {"jwt.get_unverified_header", "jwt.api_jws.get_unverified_header",
                   "jose.jwt.get_unverified_header", "jose.jwt.get_unverified_headers",
                   "jose.jws.get_unverified_header", "jose.jws.get_unverified_headers"}
# these verify the signature but leave the claims to a separate call the code must make
_CLAIMS_UNCHECKED = {"authlib.jose.jwt.decode", "joserfc.jwt.decode"}
_FIX = ("verify the signature: jwt.decode(token, key, algorithms=[\"RS256\"]) with the "
        "issuer's key (or let the platform's auth: verify it and read context.identity)")


def check(ctx: ModuleContext) -> list[Hit]:
    hits: list[tuple[ast.Call, str, Severity, bool]] = []  # (..., an unverified peek)
    verified: list[ast.Call] = []
    for node in ctx.calls:
        if not isinstance(node, ast.Call):
            continue
        name = _decode_name(ctx, node)
        if name in _DECODE:
            problem, severity, peek = _decode_problem(ctx, node)
            if problem is None:
                if not _dead(ctx, node):
                    verified.append(node)
            else:
                hits.append((node, problem, severity, peek))
        elif name in _UNVERIFIED:
            hits.append((node, f"{name.rsplit('.', 1)[-1]}() reads the token's claims "
                         "without checking its signature", Severity.HIGH, True))
        elif name in _CLAIMS_UNCHECKED and not _claims_validated(ctx, node):
            hits.append((node, "decoded, but its claims (exp, nbf, iss) are never validated: "
                         "an expired or foreign token is accepted", Severity.MEDIUM, False))
    out = []
    for call, problem, severity, peek in hits:
        if peek and _peek_then_verify(ctx, call, verified):
            continue  # peeked at the issuer/kid, then verified: the documented pattern
        out.append(Hit(RULE.rule_id, call.lineno, call.col_offset + 1,
                       f"JWT: {problem}; its claims are attacker-controlled", _FIX, severity))
    return out


def _decode_name(ctx: ModuleContext, call: ast.Call) -> str:
    """The call's name, with ``PyJWT().decode`` read as ``jwt.decode``."""
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in ("decode", "decode_complete") \
            and isinstance(func.value, ast.Call) and ctx.call_name(func.value) in _DECODER_CLASSES:
        return f"jwt.{func.attr}"
    return ctx.call_name(call)


def _token(call: ast.Call) -> str | None:
    """The decoded token as normalised source (``ast.dump``), for comparing two calls."""
    node = call.args[0] if call.args else next(
        (k.value for k in call.keywords if k.arg in ("jwt", "token")), None)
    return ast.dump(node) if node is not None else None


def _dead(ctx: ModuleContext, node: ast.AST) -> bool:
    """Under ``if False:`` / ``while 0:`` (or the false arm of ``x if False else y``)."""
    child = node
    for parent in ctx.ancestors(node):
        if isinstance(parent, ast.If | ast.While | ast.IfExp) and child is not parent.test:
            test = parent.test
            if isinstance(test, ast.Constant):
                in_body = child in parent.body if isinstance(parent.body, list) \
                    else child is parent.body
                if bool(test.value) != in_body:
                    return True
        child = parent
    return False


def _peek_then_verify(ctx: ModuleContext, peek: ast.Call, verified: list[ast.Call]) -> bool:
    """A peek that only picks the key for a later verified decode of the same token."""
    token = _token(peek)
    if token is None or _decides(ctx, peek):
        return False
    scope = ctx.scope_of(peek)
    return any(ctx.scope_of(v) is scope and _token(v) == token
               and (v.lineno, v.col_offset) > (peek.lineno, peek.col_offset)
               for v in verified)


_DECIDING = (ast.If, ast.While, ast.IfExp, ast.Assert, ast.Compare, ast.Return, ast.BoolOp,
             ast.Match)


def _decides(ctx: ModuleContext, peek: ast.Call) -> bool:
    """Whether the unverified claims are tested, compared or returned (not only a key pick)."""
    uses: list[ast.AST] = [peek]
    stmt = ctx.statement_of(peek)
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
            and isinstance(stmt.targets[0], ast.Name):
        name = stmt.targets[0].id
        uses = [n for n in ctx.scopes.get(ctx.scope_of(peek), [])
                if isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)]
    elif not isinstance(stmt, ast.Assign):
        return True  # used in place: a test, a return or an argument we do not follow
    for use in uses:
        child: ast.AST = use
        for parent in ctx.ancestors(use):
            if isinstance(parent, ast.stmt) and not isinstance(parent, _DECIDING):
                break
            if isinstance(parent, _DECIDING) and (
                    not isinstance(parent, ast.If | ast.While) or child is parent.test):
                return True
            if isinstance(parent, ast.Call) and child is not parent.func \
                    and _decode_name(ctx, parent) in _DECODE:
                break  # it picks the key (or algorithms) of the verified decode
            child = parent
    return False


def _decode_problem(ctx: ModuleContext, call: ast.Call) -> tuple[str | None, Severity, bool]:
    """What is wrong with one decode call, its severity, and whether it is an unverified peek."""
    options = ctx.value(ctx.keyword(call, "options"))
    if isinstance(options, dict) and is_false(options.get("verify_signature", True)):
        return "decoded with options verify_signature=False", Severity.HIGH, True
    verify = ctx.keyword(call, "verify")
    if verify is not None and is_false(ctx.value(verify)):
        return "decoded with verify=False", Severity.HIGH, True
    algorithms = ctx.keyword(call, "algorithms")
    if algorithms is None and len(call.args) >= 3:
        algorithms = call.args[2]
    if algorithms is not None:
        if _from_unverified_header(ctx, algorithms):
            return ("decoded with algorithms= taken from the token's own unverified header "
                    "(alg confusion: the token picks how it is checked)"), Severity.HIGH, False
        value = ctx.value(algorithms)
        if isinstance(value, str):
            value = [value]
        if isinstance(value, list) and any(str(a).lower() == "none" for a in value):
            return ("decoded allowing the 'none' algorithm (no signature at all)",
                    Severity.HIGH, False)
        return None, Severity.LOW, False
    options_node = ctx.keyword(call, "options")
    if ctx.has_star_kwargs(call) or (options_node is not None and options is UNKNOWN):
        return None, Severity.LOW, False  # options or algorithms come from elsewhere
    return ("decoded without algorithms=: the token picks its own algorithm "
            "(alg confusion on PyJWT < 2 and python-jose)"), Severity.MEDIUM, False


def _from_unverified_header(ctx: ModuleContext, expr: ast.AST, depth: int = 0) -> bool:
    """Does ``expr`` come from ``get_unverified_header(token)``, directly or through locals?"""
    if depth > 4:
        return False
    for node in ast.walk(expr):
        if isinstance(node, ast.Call) and ctx.call_name(node) in _HEADER_READERS:
            return True
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
            source = ctx.assigned_value(node)
            if source is not None and _from_unverified_header(ctx, source, depth + 1):
                return True
    return False


def _claims_validated(ctx: ModuleContext, call: ast.Call) -> bool:
    """authlib ``claims.validate()`` / joserfc ``JWTClaimsRegistry(...).validate(...)`` nearby.

    Looked for in the function that decodes (a validation elsewhere is not seen).
    """
    scope = ctx.scopes.get(ctx.scope_of(call), [])
    return any(isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
               and n.func.attr in {"validate", "validate_exp", "validate_claims"}
               for n in scope)
