"""Proof that a shell command is built only from constants and neutralised parts.

The taint rules follow attacker data forward from its sources; a value they
never saw tainted is not thereby safe (the rules may simply not model where
it came from). Bandit's shell findings (B602/B604/B605) are the backstop for
those cases, so they may only be lowered on positive evidence. ``shell_command``
gives it: it interprets the function around the call with the same engine
(``engine.Interp``: its sanitisers, guards, branches and loops) but trusts
nothing: every parameter, every global that is not a literal, every attribute
of something unknown, every call into the app (not followed here) and every
library call the engine does not know to keep only its inputs (``os.getenv``,
``open().read()``) counts as dangerous for every sink kind. If the command
that reaches the call is still free of the ``command`` kind, each of its
run-time parts went through ``shlex.quote``/``int()``/``uuid.UUID()`` and the
like, or a guard (allowlist membership, a ``re.fullmatch`` character check,
``isdigit()`` ...) ruled out what the shell would read as syntax.
"""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path
from typing import Any

import ramparts.scan.taint.index as index
import ramparts.scan.taint.sanitisers as sanitisers
from ramparts.scan.source import SourceFile
from ramparts.scan.taint.analysis import Program
from ramparts.scan.taint.engine import Interp
from ramparts.scan.taint.rules import CLEAN, KINDS, Taint

__all__ = ["GUARDED", "SANITISED", "plain_braces", "plain_percent", "shell_command"]

SANITISED = "sanitised"  # proven without any guard: quoting, numbers, constants
GUARDED = "guarded"  # proven only with a guard's help (allowlist, pattern, isdigit)

# library calls whose result is made only of their arguments (and receiver)
_KEEPS_INPUTS = frozenset({
    "str", "repr", "format", "list", "tuple", "sorted", "reversed", "min", "max", "sum",
    "os.path.join", "os.path.basename", "os.path.dirname", "os.path.normpath",
    "os.path.splitext", "posixpath.join", "posixpath.basename", "posixpath.normpath",
    "pathlib.Path", "pathlib.PurePath", "pathlib.PurePosixPath", "re.sub", "shlex.split",
    "json.dumps", "textwrap.dedent"})
# a shell-quoted word stays one word through these (they neither cut nor re-quote it);
# anything else given a quoted value (replace("'", ""), strip("'"), re.sub, json.dumps,
# a slice, %r/{!r}/format specs) may undo the quoting, and proves nothing
QUOTED = "@quoted"
_QUOTERS = frozenset({"shlex.quote", "pipes.quote", "shlex.join"})
_KEEPS_QUOTES = frozenset({"str", "os.path.join", "posixpath.join", "list", "tuple",
                           "sorted", "reversed", "min", "max", *_QUOTERS})
_KEEPS_QUOTES_METHODS = frozenset({"join", "encode", "decode", "append", "extend", "insert",
                                   "add", "update", "setdefault", "get", "pop", "copy",
                                   "items", "keys", "values"})
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d*))?[hlL]?(.)")
# methods of str/bytes/lists/dicts that only rearrange what the receiver and arguments hold
_VALUE_METHODS = frozenset({
    "format", "join", "replace", "strip", "lstrip", "rstrip", "lower", "upper", "casefold",
    "title", "capitalize", "split", "rsplit", "splitlines", "encode", "decode",
    "removeprefix", "removesuffix", "zfill", "ljust", "rjust", "center", "partition",
    "rpartition", "get", "pop", "copy", "items", "keys", "values", "append", "extend",
    "insert", "add", "update", "setdefault", "translate", "expandtabs", "swapcase"})


def shell_command(sf_tree: ast.Module, line: int, column: int,
                  cache: dict[str, Any] | None = None) -> str | None:
    """``SANITISED``/``GUARDED`` when the command of the call at (line, column) is proven
    safe, else ``None`` (tainted, unknown, not a command sink the engine models, or not
    inside a function). ``cache`` keeps the file's index between calls for one file."""
    call = next((n for n in ast.walk(sf_tree) if isinstance(n, ast.Call)
                 and n.lineno == line and n.col_offset == column), None)
    fn = _enclosing_function(sf_tree, call) if call is not None else None
    if fn is None:
        return None
    cache = {} if cache is None else cache
    if "proof_index" not in cache:
        sf = SourceFile(rel="proof.py", path=Path("proof.py"), text="")
        sf.tree = sf_tree
        cache["proof_index"] = index.build(sf)
    mod = cache["proof_index"]
    try:
        if _run(mod, fn, line, column, guards=False):
            return SANITISED
        if _run(mod, fn, line, column, guards=True):
            return GUARDED
    except RecursionError:  # too deep to follow: nothing proven, bandit's severity stands
        return None
    return None


def _enclosing_function(tree: ast.Module, call: ast.Call) -> index.Function | None:
    """The innermost function whose body holds ``call`` (lambdas do not count)."""
    around = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
              and n.lineno <= call.lineno <= (n.end_lineno or n.lineno)
              and any(c is call for c in ast.walk(n))]
    return max(around, key=lambda n: (n.lineno, n.col_offset), default=None)


def _run(mod: index.ModuleIndex, fn: index.Function, line: int, column: int,
         guards: bool) -> bool:
    program = _Distrustful([mod], {})
    params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    params += [a.arg for a in (fn.args.vararg, fn.args.kwarg) if a is not None]
    interp = _Skeptic(program, mod, dict.fromkeys(params, KINDS), 0, "")
    interp.setup(fn, line, column, guards)
    interp.block(fn.body)
    return interp.checked and "command" not in interp.reached


class _Distrustful(Program):
    """Calls into the app are not followed: what they return is unknown."""

    def call(self, caller: Any, node: ast.Call, target: Any, args: list[Taint],
             kwargs: dict[str | None, Taint], receiver: Taint | None) -> Taint:
        return KINDS

    def field(self, cls: str, attr: str) -> Taint:
        return KINDS

    def report(self, mod: Any, node: ast.AST, kind: str, sink: str, via: str) -> None:
        return None

    def store_field(self, cls: str, attr: str, t: Taint) -> None:
        return None


class _Skeptic(Interp):
    """``Interp`` with every value it cannot account for dangerous for every kind."""

    def setup(self, fn: index.Function, line: int, column: int, guards: bool) -> None:
        self.target = (line, column)
        self.guards = guards
        self.checked = False
        self.reached: Taint = CLEAN
        self.literal_globals = _literal_globals(self.mod.sf.tree)  # type: ignore[arg-type]
        self.callee_parts: set[int] = set()  # receivers of calls: os.path in os.path.join()
        for node in ast.walk(fn):
            if isinstance(node, ast.Call):
                func = node.func
                while isinstance(func, ast.Attribute):
                    func = func.value
                    self.callee_parts.add(id(func))

    def hit(self, node: ast.AST, kind: str, sink: str, t: Taint) -> None:
        at = (getattr(node, "lineno", 0), getattr(node, "col_offset", -1))
        if kind == "command" and at == self.target:
            self.checked = True
            self.reached |= t

    def _facts(self, test: ast.expr, truth: bool) -> list[sanitisers.Fact]:
        return super()._facts(test, truth) if self.guards else []

    def expr(self, node: ast.expr | None) -> Taint:
        if isinstance(node, ast.Name) and node.id not in self.env \
                and id(node) not in self.callee_parts:
            return CLEAN if node.id in self.literal_globals else KINDS
        t = super().expr(node)
        if QUOTED not in t:
            return t
        if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice):
            return t | KINDS  # shlex.quote(x)[1:-1] drops the quotes
        if isinstance(node, ast.FormattedValue) and (
                node.conversion in (ord("r"), ord("a")) or node.format_spec is not None):
            return t | KINDS  # {q!r} re-quotes with "...", where $() runs; {q:.5} cuts
        if isinstance(node, ast.BinOp) and any(
                isinstance(b, ast.BinOp) and isinstance(b.op, ast.Mod) and not (
                    isinstance(b.left, ast.Constant) and isinstance(b.left.value, str)
                    and plain_percent(b.left.value)) for b in ast.walk(node)):
            return t | KINDS  # "%r" % q, "%.5s" % q, or a format read at run time
        return t

    def call(self, node: ast.Call) -> Taint:
        t = super().call(node)
        name = self.qualname(node.func)
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if name in _QUOTERS:
            return t | {QUOTED}
        if QUOTED in t and not self._keeps_quoting(node, name, method):
            return t | KINDS
        if name in sanitisers.CLEAR_ALL or name in sanitisers.SANITISERS \
                or name in _KEEPS_INPUTS or method in sanitisers.CLEAN_METHODS:
            return t
        if method in _VALUE_METHODS and self._is_value(node.func.value):  # type: ignore[attr-defined]
            return t
        return t | KINDS

    def _keeps_quoting(self, node: ast.Call, name: str, method: str | None) -> bool:
        """Whether a call given a shell-quoted value keeps each quoted word whole."""
        if name in _KEEPS_QUOTES or method in sanitisers.CLEAN_METHODS:
            return True
        if method == "format":
            template = node.func.value  # type: ignore[attr-defined]
            return isinstance(template, ast.Constant) and isinstance(template.value, str) \
                and plain_braces(template.value)
        return method in _KEEPS_QUOTES_METHODS and self._is_value(node.func.value)  # type: ignore[attr-defined]

    def _is_value(self, node: ast.expr) -> bool:
        """A receiver that is data (a local, a literal, a call's result), not a module."""
        while isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        if isinstance(node, ast.Name):
            return node.id in self.env or node.id in self.literal_globals
        return True


def plain_percent(template: str) -> bool:
    """Only bare ``%s``/``%d`` (no width, precision, ``%r`` or ``%a``) in a %-format."""
    return all(m.group(0) in ("%s", "%d", "%i", "%%") for m in _PERCENT.finditer(template))


def plain_braces(template: str) -> bool:
    """Only ``{}``/``{name}`` fields (no ``!r``/``!a`` conversion, no format spec)."""
    try:
        fields = list(string.Formatter().parse(template))
    except ValueError:
        return False
    return all(conv in (None, "s") and not spec for _, _, spec, conv in fields)


def _literal_globals(tree: ast.Module) -> set[str]:
    """Module-level names bound only to literals (``ALLOWED = {"ls", "du"}``), never rebound."""
    bound: dict[str, bool] = {}
    for stmt in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign):
            targets, value = [stmt.target], stmt.value
        elif isinstance(stmt, ast.AugAssign):
            targets, value = [stmt.target], None
        for t in targets:
            if isinstance(t, ast.Name):
                bound[t.id] = bound.get(t.id, True) and value is not None and _literal(value)
    rebound = {n for node in ast.walk(tree) if isinstance(node, ast.Global) for n in node.names}
    return {n for n, ok in bound.items() if ok and n not in rebound}


def _literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):  # frozenset({...}), tuple([...])
        return isinstance(node.func, ast.Name) and node.func.id in (
            "frozenset", "set", "tuple", "list", "dict") and not node.keywords \
            and all(_literal(a) for a in node.args)
    return all(isinstance(n, ast.Constant | ast.Tuple | ast.List | ast.Set | ast.Dict
                          | ast.expr_context | ast.BinOp | ast.operator)
               for n in ast.walk(node))
