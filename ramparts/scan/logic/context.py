"""What every logic check needs to know about one parsed module.

The checks are about what a call *is* (``jwt.decode`` of PyJWT, not some
``decode``) and what a value *is* when written as a literal somewhere in the
same function or module (``options=OPTS`` where ``OPTS = {...}``).  This
module answers both once per file: import aliases resolve a call to its
dotted name, and a small, flow-insensitive constant lookup follows names to
the one literal they were assigned.  A name assigned more than once, or to
anything that is not a literal, is unknown, and an unknown value never makes
a finding (the checks report what the code says, not what it might do).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ramparts.scan.findings import Severity

UNKNOWN: Any = object()  # a value the code does not spell out as a literal

_MAX_DEPTH = 8  # name hops plus literal nesting (a policy document nests 6 deep)

# names that say a value is a password, a secret, a key or a token
SECRET_NAME = re.compile(
    r"(pass(word|wd|phrase)?|pwd|secret|token|api_?key|apikey|private_?key|signing_?key|"
    r"credential|nonce|otp|session_?id|sessionid|csrf|salt|reset_?code|verification_?code|"
    r"invite_?code|auth_?code|pin_?code)",
    re.I,
)

Scope = ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


@dataclass(frozen=True)
class Hit:
    """One finding of a logic check, before the gate gives it a path and an id."""

    rule_id: str
    line: int
    column: int
    message: str
    remediation: str
    severity: Severity


class ModuleContext:
    """Import aliases, parents and single-assignment literals of one module."""

    def __init__(self, module: ast.Module) -> None:
        self.module = module
        self.aliases: dict[str, str] = {}
        self.parents: dict[ast.AST, ast.AST] = {}
        self.nodes: list[ast.AST] = []  # every node, once: the checks never walk the tree again
        self.calls: list[ast.Call] = []
        # the module and each function, with the nodes that belong to it (not to nested ones)
        self.scopes: dict[Scope, list[ast.AST]] = {module: []}
        self._scope: dict[ast.AST, Scope] = {}
        self._assigned: dict[tuple[int, str], list[ast.expr]] = {}
        self._declared: set[str] = set()  # names declared global/nonlocal anywhere
        todo: list[tuple[ast.AST, Scope]] = [(module, module)]
        while todo:
            node, scope = todo.pop()
            inner = scope
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                inner = node
                self.scopes[node] = []
                for arg in ast.walk(node.args):
                    if isinstance(arg, ast.arg):  # a parameter shadows a module constant
                        self._unknown(node, arg.arg)
            for child in ast.iter_child_nodes(node):
                self.parents[child] = node
                self._scope[child] = inner
                self.scopes[inner].append(child)
                self.nodes.append(child)
                todo.append((child, inner))
            self._index(node, scope)

    def _index(self, node: ast.AST, scope: Scope) -> None:
        if isinstance(node, ast.Global | ast.Nonlocal):
            self._declared |= set(node.names)
        if isinstance(node, ast.Call):
            self.calls.append(node)
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    self.aliases[a.asname] = a.name
                else:
                    top = a.name.split(".")[0]
                    self.aliases.setdefault(top, top)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                self.aliases[a.asname or a.name] = f"{node.module}.{a.name}"
        elif isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    self._assigned.setdefault((id(scope), t.id), []).append(node.value)
                else:
                    for n in ast.walk(t):
                        if isinstance(n, ast.Name):
                            self._unknown(scope, n.id)
        else:
            for name in _rebound(node):
                self._unknown(scope, name)

    def _unknown(self, scope: ast.AST, name: str) -> None:
        """Bound in a way we do not follow (a parameter, a loop, augmented assignment)."""
        self._assigned.setdefault((id(scope), name), []).extend([ast.Constant(None)] * 2)

    # -- where a node sits -------------------------------------------------------------
    def scope_of(self, node: ast.AST) -> Scope:
        return self._scope.get(node, self.module)

    def statement_of(self, node: ast.AST) -> ast.AST:
        """The statement an expression is part of."""
        cur = node
        while not isinstance(cur, ast.stmt) and cur in self.parents:
            cur = self.parents[cur]
        return cur

    def ancestors(self, node: ast.AST) -> list[ast.AST]:
        out = []
        cur = self.parents.get(node)
        while cur is not None:
            out.append(cur)
            cur = self.parents.get(cur)
        return out

    # -- what a call is ----------------------------------------------------------------
    def qualname(self, expr: ast.AST) -> str | None:
        """``jwt.decode`` for ``jwt.decode`` / ``from jwt import decode`` / ``import jwt as j``."""
        if isinstance(expr, ast.Name):
            return self.aliases.get(expr.id, expr.id)
        if isinstance(expr, ast.Attribute):
            base = self.qualname(expr.value)
            return f"{base}.{expr.attr}" if base else None
        return None

    def call_name(self, call: ast.Call) -> str:
        return self.qualname(call.func) or (
            call.func.attr if isinstance(call.func, ast.Attribute) else ""
        )

    # -- what a value is ---------------------------------------------------------------
    def value(self, expr: ast.AST | None, depth: int = 0) -> Any:
        """The literal ``expr`` stands for, following names, or ``UNKNOWN``."""
        if expr is None or depth > _MAX_DEPTH:
            return UNKNOWN
        if isinstance(expr, ast.Constant):
            return expr.value
        if isinstance(expr, ast.Name):
            node = self.assigned_value(expr)
            return UNKNOWN if node is None else self.value(node, depth + 1)
        if isinstance(expr, ast.List | ast.Tuple | ast.Set):
            items = [self.value(e, depth + 1) for e in expr.elts]
            return UNKNOWN if any(i is UNKNOWN for i in items) else items
        if isinstance(expr, ast.Dict):
            out: dict[Any, Any] = {}
            for k, v in zip(expr.keys, expr.values, strict=True):
                key = self.value(k, depth + 1) if k is not None else UNKNOWN
                if key is UNKNOWN or not isinstance(key, str | int | float | bool):
                    continue  # partly known dicts keep their known entries
                out[key] = self.value(v, depth + 1)
            return out
        if isinstance(expr, ast.Call) and self.qualname(expr.func) == "dict" and not expr.args:
            return {k.arg: self.value(k.value, depth + 1) for k in expr.keywords if k.arg}
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
            left, right = self.value(expr.left, depth + 1), self.value(expr.right, depth + 1)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
        if isinstance(expr, ast.Attribute):
            name = self.qualname(expr)
            return _KNOWN_CONSTANTS.get(name or "", UNKNOWN)
        return UNKNOWN

    def assigned_value(self, name: ast.Name) -> ast.expr | None:
        """The one expression ``name`` was assigned in its function, else in the module.

        A name bound in an enclosing function (a closure's value, whenever it runs)
        or declared ``global``/``nonlocal`` anywhere is unknown."""
        if name.id in self._declared:
            return None
        scope = self.scope_of(name)
        values = self._assigned.get((id(scope), name.id))
        if values is not None:
            return values[0] if len(values) == 1 else None
        while scope is not self.module:
            scope = self.scope_of(scope)
            values = self._assigned.get((id(scope), name.id))
            if values is not None:
                return (values[0] if len(values) == 1 else None) if scope is self.module \
                    else None
        return None

    def hits(self, nodes: list[Any], judge: Callable[[Any], str | None], rule_id: str,
             remediation: str, severity: Severity) -> list[Hit]:
        """One ``Hit`` per node ``judge`` has a complaint about (its message)."""
        out = []
        for node in nodes:
            message = judge(node)
            if message:
                out.append(Hit(rule_id, node.lineno, node.col_offset + 1, message, remediation,
                               severity))
        return out

    def keyword(self, call: ast.Call, name: str) -> ast.expr | None:
        return next((k.value for k in call.keywords if k.arg == name), None)

    def has_star_kwargs(self, call: ast.Call) -> bool:
        return any(k.arg is None for k in call.keywords)


# the stdlib constants a check compares against, spelled as their value
_KNOWN_CONSTANTS = {"ssl.CERT_NONE": "CERT_NONE", "ssl.VerifyMode.CERT_NONE": "CERT_NONE"}


def _rebound(node: ast.AST) -> list[str]:
    targets: list[ast.AST] = []
    if isinstance(node, ast.AugAssign | ast.For | ast.AsyncFor | ast.NamedExpr | ast.comprehension):
        targets = [node.target]
    elif isinstance(node, ast.With | ast.AsyncWith):
        targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
    elif isinstance(node, ast.ExceptHandler) and node.name:
        return [node.name]
    elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
        return [node.name]  # case {"cmd": str(cmd)}: binds cmd
    elif isinstance(node, ast.MatchMapping) and node.rest:
        return [node.rest]
    return [t.id for n in targets for t in ast.walk(n) if isinstance(t, ast.Name)]


def names_in(expr: ast.AST) -> list[str]:
    """Every variable, attribute, keyword and string-key name an expression mentions."""
    out: list[str] = []
    for node in ast.walk(expr):
        if isinstance(node, ast.Name):
            out.append(node.id)
        elif isinstance(node, ast.Attribute):
            out.append(node.attr)
        elif isinstance(node, ast.keyword) and node.arg:
            out.append(node.arg)
        elif (isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant)
              and isinstance(node.slice.value, str)):
            out.append(node.slice.value)
    return out


def target_names(node: ast.AST) -> list[str]:
    """The names an assignment binds (``x``, ``self.x``, ``d["x"]``)."""
    targets: list[ast.AST] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    return names_in(ast.Tuple(elts=targets, ctx=ast.Store())) if targets else []


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or value == 0 or (
        isinstance(value, str) and value.strip().lower() == "false")

