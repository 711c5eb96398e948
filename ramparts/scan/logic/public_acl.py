"""RP-L003: stored objects or buckets made readable (or writable) by anyone.

Recognised, on any boto3-style call (client, resource, presigned):

* ``ACL="public-read" | "public-read-write" | "authenticated-read"`` as a
  keyword (``put_object``, ``create_bucket``, ``put_object_acl``,
  ``Object.put`` ...), inside ``ExtraArgs=``/``Params=``/``Fields=`` dicts
  (``upload_file``, ``generate_presigned_url``, ``generate_presigned_post``),
  in presigned-post ``Conditions``, or as an ``x-amz-acl`` header;
* the same inside ``**{...}`` (a literal dict, or one a module function
  returns: ``**public_args()``);
* ``Grant*`` parameters (``GrantRead``, ``GrantFullControl`` ...) and
  ``AccessControlPolicy`` grants naming the AllUsers or AuthenticatedUsers
  groups (``uri=http://acs.amazonaws.com/groups/global/AllUsers``);
* a bucket policy (``put_bucket_policy``) written in the code, with an
  ``Allow`` statement for ``Principal: "*"`` (or ``{"AWS": "*"}``, or a list
  holding ``"*"``) and no ``Condition`` narrowing it;
* ``put_public_access_block`` turning any of its four protections off
  (medium: it allows public ACLs/policies rather than granting them).

Values are followed through names assigned once to literals; a policy read
from a file or built at run time is not judged.
"""

from __future__ import annotations

import ast
import json
from typing import Any

from ramparts.scan.findings import Rule, Severity
from ramparts.scan.logic.context import Hit, ModuleContext

RULE = Rule("RP-L003", "logic", "public-object-acl",
            "Objects or a bucket are made public by an ACL or a bucket policy.", "CWE-732")

_PUBLIC = {"public-read", "public-read-write", "authenticated-read"}
_ACL_KEYS = {"ACL", "acl", "x-amz-acl"}
_PUBLIC_GROUPS = ("acs.amazonaws.com/groups/global/AllUsers",
                  "acs.amazonaws.com/groups/global/AuthenticatedUsers")
_GRANT_HEADERS = ("x-amz-grant-",)
_FIX = ("keep objects private and hand out short-lived presigned GET URLs (without an ACL), "
        "or serve them through a function that checks the caller")


def check(ctx: ModuleContext) -> list[Hit]:
    out = []
    for call in ctx.calls:
        short = ctx.call_name(call).rsplit(".", 1)[-1]
        found = _public_acl(ctx, call)
        if found is None and short == "put_bucket_policy":
            found = _public_policy(ctx, call)
        severity = Severity.HIGH
        if found is None and short == "put_public_access_block":
            found, severity = _access_block_off(ctx, call), Severity.MEDIUM
        if found is not None:
            where, problem = found
            out.append(Hit(RULE.rule_id, where.lineno, where.col_offset + 1,
                           f"{short or 'call'}(): {problem}", _FIX, severity))
    return out


def _access_block_off(ctx: ModuleContext, call: ast.Call) -> tuple[ast.AST, str] | None:
    config = ctx.value(ctx.keyword(call, "PublicAccessBlockConfiguration"))
    if isinstance(config, dict):
        off = sorted(str(k) for k, v in config.items() if v is False)
        if off:
            return call, (f"the public access block turns off {', '.join(off)}: public ACLs "
                          "or policies on the bucket take effect")
    return None


def _public_grant(value: Any) -> bool:
    return isinstance(value, str) and any(g in value for g in _PUBLIC_GROUPS)


def _public_acl(ctx: ModuleContext, call: ast.Call) -> tuple[ast.AST, str] | None:
    """(where to report, what is wrong): a direct ``ACL=`` at its own line, else the call."""
    for kw in call.keywords:
        if kw.arg is None:  # **{"ACL": "public-read"} / **public_args()
            built = _built_by_function(ctx, kw.value)
            found = _acl_inside(ctx.value(built if built is not None else kw.value))
            if found is not None:
                return call, f"**{{...}} sets {found!r}: anyone reads it"
            continue
        value = ctx.value(kw.value)
        if kw.arg in _ACL_KEYS and isinstance(value, str) and value in _PUBLIC:
            return kw.value, f"{kw.arg}={value!r} makes the object readable by anyone"
        if kw.arg.startswith("Grant") and _public_grant(value):
            return kw.value, (f"{kw.arg} grants the AllUsers/AuthenticatedUsers group: "
                              "anyone (with any AWS account) gets that access")
        found = _acl_inside(value)
        if found is not None:
            return call, (f"{kw.arg} sets ACL {found!r}: anyone with the link, or anyone at "
                          "all, reads it")
    return None


def _acl_inside(value: Any, depth: int = 0) -> str | None:
    if depth > 4:
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            if k in _ACL_KEYS and isinstance(v, str) and v in _PUBLIC:
                return v
            if (k == "URI" or str(k).startswith(("Grant", *_GRANT_HEADERS))) \
                    and _public_grant(v):
                return "a grant to the AllUsers/AuthenticatedUsers group"
            found = _acl_inside(v, depth + 1)
            if found is not None:
                return found
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, list) and len(item) == 3 and str(item[1]) in _ACL_KEYS | {"$acl"} \
                    and item[2] in _PUBLIC:  # ["eq", "$acl", "public-read"]
                return str(item[2])
            found = _acl_inside(item, depth + 1)
            if found is not None:
                return found
    return None


def _public_policy(ctx: ModuleContext, call: ast.Call) -> tuple[ast.AST, str] | None:
    """A public ``Allow`` in the policy: reported at the call, or in the builder function.

    A policy made by a function of the module (``Policy=json.dumps(policy_for(b))``)
    is reported at its ``Principal`` there: that is the code to fix, and the
    builder may serve several calls.
    """
    node = ctx.keyword(call, "Policy")
    if node is None:
        return None
    if isinstance(node, ast.Name):
        node = ctx.assigned_value(node) or node
    where: ast.AST = call
    if isinstance(node, ast.Call) and ctx.call_name(node) == "json.dumps" and node.args:
        built = _built_by_function(ctx, node.args[0])
        policy = ctx.value(built if built is not None else node.args[0])
        if built is not None:
            where = _public_principal_node(ctx, built) or call
    else:
        text = ctx.value(node)
        try:
            policy = json.loads(text) if isinstance(text, str) else None
        except ValueError:
            return None
    statements = policy.get("Statement") if isinstance(policy, dict) else None
    if isinstance(statements, dict):
        statements = [statements]
    for st in statements if isinstance(statements, list) else []:
        if not isinstance(st, dict) or st.get("Effect") != "Allow" or "Condition" in st:
            continue
        if _is_public_principal(st.get("Principal")):
            return where, ("the bucket policy allows Principal \"*\" (everyone) without a "
                           "condition")
    return None


def _is_public_principal(principal: Any) -> bool:
    """``"*"``, ``["*"]``, ``{"AWS": "*"}`` or ``{"AWS": [..., "*"]}``."""
    if isinstance(principal, dict):
        principal = principal.get("AWS")
    if isinstance(principal, list):
        return "*" in principal
    return principal == "*"


def _built_by_function(ctx: ModuleContext, expr: ast.expr) -> ast.expr | None:
    """The one returned expression of the module function ``expr`` calls, if it has one."""
    if not (isinstance(expr, ast.Call) and isinstance(expr.func, ast.Name)):
        return None
    for stmt in ctx.module.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) and stmt.name == expr.func.id:
            returns = [n for n in ctx.scopes.get(stmt, []) if isinstance(n, ast.Return)]
            if len(returns) == 1 and returns[0].value is not None:
                return returns[0].value
    return None


def _public_principal_node(ctx: ModuleContext, expr: ast.expr) -> ast.expr | None:
    """The ``"Principal": "*"`` value written inside ``expr``."""
    for node in ast.walk(expr):
        if isinstance(node, ast.Dict):
            for k, v in zip(node.keys, node.values, strict=True):
                if k is not None and ctx.value(k) == "Principal" and _is_public_principal(
                        ctx.value(v)):
                    return v
    return None
