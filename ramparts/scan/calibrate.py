"""Calibrated severities for bandit's findings: block what is exploitable.

Bandit judges one call by its shape; a few of its shapes are usually safe
and, left at bandit's severity, taught users to accept findings unread.
``adjust`` looks at the flagged code (the file's ``ast``) and returns the severity and CWE the
gate uses, or ``None`` to drop the finding.  Every change is listed, with
its reason, in docs/scanning.md ("Bandit rules we change"):

* command rules (B602/B604/B605 shell, B603 no shell): a command written as a
  literal at the call (``+`` of literals, a list of literals) is LOW whatever
  bandit says: nothing outside the code can change it.  A shell command whose
  every run-time part is ``shlex.quote``-d or ``int()`` right there (outside
  literal quotes, in a module that names no program re-parsing its arguments)
  is MEDIUM, as B603 with a part chosen at run time is (argument injection; the
  taint rule RP-T002 blocks it when the part comes from a request).  Nothing is
  lowered through names or a proof of the taint engine: that was tried and
  withdrawn after two adversarial reviews got past it, so bandit stays the
  backstop for flows the taint rules miss.  A shell fed its script on stdin,
  ``sh -c`` with a run-time script, or a run-time ``executable=`` is HIGH.
  B404 (import) and B607 (partial path; the sandbox fixes ``PATH``) stay at
  bandit's LOW.
* B608 (SQL built as a string): a query that binds its values (placeholders
  and a parameters argument) and only splices in constants or placeholder
  lists (``",".join("?" * len(ids))``) is not reported; one that also splices
  in a run-time identifier (a table name) is LOW.  Values formatted into the
  SQL stay at bandit's MEDIUM, and RP-T003 blocks them when they come from a request.
* CWEs follow docs/cwe table where bandit's differ: eval/exec are code
  injection (CWE-94), not OS command injection.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from typing import Any

from ramparts.scan.cwe import BANDIT_CWE
from ramparts.scan.findings import Severity
from ramparts.scan.logic.context import UNKNOWN, ModuleContext
from ramparts.scan.taint import proof

# one CWE per weakness across our rules and bandit's (cwe.py; docs/scanning.md's table)
CWE_OVERRIDES = BANDIT_CWE
_COMMAND = {"B602", "B603", "B604", "B605"}
_PLACEHOLDER = re.compile(r"%s|\?|%\([A-Za-z_]\w*\)s|(?<![:\w]):[A-Za-z_]\w*|\$\d+")
_PLACEHOLDER_LIST = re.compile(r"^[\s,?()]*$|^(\s*,?\s*%s\s*,?\s*)+$")
_PARAM_KEYWORDS = {"params", "parameters", "args", "vars", "bind", "values"}


def adjust(
    test_id: str, severity: Severity, cwe: str | None, tree: ast.Module | None,
    line: int, column: int, context: dict[str, Any],
) -> tuple[Severity, str | None, str] | None:
    """The (severity, cwe, why) the gate gives bandit's finding, or ``None`` to drop it.

    ``column`` is bandit's 0-based offset; ``context`` caches, per file, one
    ``ModuleContext`` and the quoting facts of ``taint/proof.py`` (built only for
    files with a finding that needs them).
    """
    cwe = CWE_OVERRIDES.get(test_id, cwe)
    if tree is None or (test_id not in _COMMAND and test_id not in ("B608", "B324")):
        return severity, cwe, ""
    if "ctx" not in context:
        context["ctx"] = ModuleContext(tree)
    ctx = context["ctx"]
    if test_id == "B324":
        calls = [c for c in ctx.calls if c.lineno == line and c.col_offset == column]
        if calls and not any(_hashes_a_secret(c) for c in calls):
            return Severity.LOW, cwe, "the hashed value is not named as a secret (ETag, cache key)"
        return severity, cwe, ""
    if test_id in _COMMAND:
        call = _call_at(ctx, line, column)
        if call is not None and call.args and (_steered(ctx, call) or _shell_script(ctx, call)):
            return Severity.HIGH, cwe, ("what runs is chosen at run time: a script fed on stdin "
                                        "to a shell or interpreter, sh -c with a run-time "
                                        "script, or executable=")
        if call is None or not call.args:
            return severity, cwe, ""
        # Only what is written at the call counts: two adversarial reviews found dozens of
        # ways to rebind a name, change a list or fool a guard that a lowering through
        # names or the taint engine's proof relied on (docs/scanning.md), so those keep
        # bandit's severity.
        if _literal_command(call.args[0]):
            return Severity.LOW, cwe, "the command is a literal written at the call"
        if test_id != "B603" and _quoted_command(ctx, call.args[0], tree, context):
            return Severity.MEDIUM, cwe, (
                "every part chosen at run time is shell-quoted or a number, in place: no shell "
                "injection, but the program may still read an argument as an option or as code "
                "(as with B603)")
        if test_id == "B603":
            return Severity.MEDIUM, cwe, "no shell, but a part of the command is chosen at run time"
        return severity, cwe, ""
    query: ast.AST | None = _expr_at(ctx, line, column)
    parent = ctx.parents.get(query) if query is not None else None
    if isinstance(parent, ast.Attribute) and parent.attr == "format":
        query = ctx.parents.get(parent)  # "...{}".format(x): the whole call is the query
    call = ctx.parents.get(query) if query is not None else None
    if not (isinstance(call, ast.Call) and call.args and call.args[0] is query
            and _binds_parameters(call)):
        return severity, cwe, ""
    literal, spliced = _parts(ctx, query)
    if not (_PLACEHOLDER.search(literal) or any(_placeholder_list(ctx, e) for e in spliced)):
        return severity, cwe, ""
    if all(_constant_or_placeholders(ctx, e) for e in spliced):
        return None
    return Severity.LOW, cwe, "values are bound as parameters; an identifier is spliced in"


def _call_at(ctx: ModuleContext, line: int, column: int) -> ast.Call | None:
    """The call bandit flagged: the innermost one at its position, so that in
    ``check_output(cmd, shell=True).decode("utf-8")`` it is ``check_output``, not ``decode``."""
    at = [c for c in ctx.calls if c.lineno == line and c.col_offset == column]
    inner = [c for c in at if not any(o is not c and any(n is o for n in ast.walk(c.func))
                                      for o in at)]
    return inner[0] if len(inner) == 1 else None


def _expr_at(ctx: ModuleContext, line: int, column: int) -> ast.expr | None:
    return next((n for n in ctx.nodes if isinstance(n, ast.expr)
                 and n.lineno == line and n.col_offset == column
                 and not isinstance(ctx.parents.get(n), ast.BinOp | ast.JoinedStr)), None)


def _literal_command(expr: ast.expr) -> bool:
    """A string literal (``+`` of literals included), or a list/tuple of string
    literals, written at the call itself."""
    if isinstance(expr, ast.Constant):
        return isinstance(expr.value, str | bytes)
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add):
        return _literal_command(expr.left) and _literal_command(expr.right)
    if isinstance(expr, ast.List | ast.Tuple):
        return bool(expr.elts) and all(
            isinstance(e, ast.Constant) and isinstance(e.value, str | bytes) for e in expr.elts)
    return False


# programs that run what stdin says when given no script operand
# (a path prefix counts: /bin/sh; so do the shell builtins that run what they read:
# ". /dev/stdin", source, eval "$(cat)")
_STDIN_RUNNERS = re.compile(
    r"(?<![\w.-])(?:(?:ba|z|da|k|c|tc|a|fi)?sh|python[\d.]*|perl|ruby|node|php|lua|tclsh|"
    r"psql|mysql|sqlite3|osascript|pwsh|bc|dc|awk|gawk|sed|xargs|at|batch|crontab|env|"
    r"source|eval|exec)(?![\w./-])|(?<![\w./-])\.(?=\s)")


def _literal_str(node: ast.expr) -> bool:
    """A str or bytes literal written right there (a name may be rebound: not followed)."""
    return isinstance(node, ast.Constant) and isinstance(node.value, str | bytes)


def _steered(ctx: ModuleContext, call: ast.Call) -> bool:
    """Whether something other than the command text picks what runs: ``executable=``
    not a literal, or a script fed on stdin (``input=`` not a literal, ``stdin=PIPE`` +
    ``communicate()``) to a shell or interpreter (``run("sh", shell=True, input=s)``):
    bandit rates the constant command low, but the script is the command (B29)."""
    fed = [k for k in call.keywords if k.arg is None]  # **kw may hold input=/stdin=
    mode = call.args[1] if len(call.args) > 1 else ctx.keyword(call, "mode")
    if ctx.call_name(call) in ("os.popen", "os.popen2", "os.popen3") and mode is not None \
            and not (_literal_str(mode) and "w" not in mode.value):
        fed.append(ast.keyword(arg="stdin", value=mode))  # os.popen("sh", "w").write(s)
    for k in [*call.keywords, *fed]:
        if k.arg == "executable" and not _literal_str(k.value):
            return True
        if (k.arg in ("input", "stdin") or k in fed) and (k in fed or not (
                isinstance(k.value, ast.Constant) and k.value.value is None
                or _literal_str(k.value)
                or ctx.qualname(k.value) in ("subprocess.DEVNULL", "subprocess.STDOUT"))):
            texts = [n.value for n in ast.walk(call.args[0])
                     if isinstance(n, ast.Constant) and isinstance(n.value, str)]
            value = ctx.value(call.args[0])
            texts += [value] if isinstance(value, str) else [
                v for v in value if isinstance(v, str)] if isinstance(value, list) else []
            if not texts or any(_STDIN_RUNNERS.search(t) for t in texts):
                return True
    return False


_SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "ash", "busybox"})


def _shell_script(ctx: ModuleContext, call: ast.Call) -> bool:
    """``run(["sh", "-c", script])``: no ``shell=True``, but a shell runs ``script``;
    when that is not a literal it is a shell command like any other (bandit: B603)."""
    argv = call.args[0]
    if not isinstance(argv, ast.List | ast.Tuple) or len(argv.elts) < 3:
        return False
    words = [ctx.value(e) for e in argv.elts]
    # the shell may follow a wrapper (timeout 10 sh -c, env sh -c, sudo sh -c), and its
    # script may follow "--" or other options: any run-time word after -c counts
    for i, program in enumerate(words):
        if not isinstance(program, str) or program.rsplit("/", 1)[-1] not in _SHELLS:
            continue
        for n in range(i + 1, len(words)):
            w = words[n]
            if isinstance(w, str) and w.startswith("-") and "c" in w and not w.startswith("--"):
                return any(not isinstance(x, str) for x in words[n + 1:])
    return False


_SECRET_NAME = re.compile(r"pass(wd|word)?|pwd|secret|token|api_?key|credential", re.I)


def _hashes_a_secret(call: ast.Call) -> bool:
    """md5/sha1 of something named as a secret (``password.encode()``): a weak password hash."""
    if any(k.arg == "usedforsecurity" for k in call.keywords):
        return False
    return any(_SECRET_NAME.search(ast.unparse(a)) for a in call.args)


_SHELL_SAFE_CALLS = {"shlex.quote", "pipes.quote", "int", "float"}
_SHELL_SAFE_COMMANDS = {"shlex.join"}  # every word quoted by the standard library


def _quoted_command(ctx: ModuleContext, expr: ast.expr, tree: ast.Module,
                    context: dict[str, Any]) -> bool:
    """A command string whose spliced-in parts all went through ``shlex.quote`` or ``int``.

    The shell then sees each as one word (or digits), so it cannot inject, provided
    the literal text around them does not put them inside quotes (``'{q}'``) and no
    program in the module re-parses its arguments as shell code (``sh -c``, ``ssh``).
    """
    if "reparse" not in context:
        context["reparse"] = proof.reparses(tree) or proof.opens_quotes(tree)
    if context["reparse"]:
        return False
    if "unfollowed" not in context:
        context["unfollowed"] = proof.unfollowed_names(tree)
    if any(isinstance(n, ast.Name) and n.id in context["unfollowed"] for n in ast.walk(expr)):
        return False  # from shlex import quote; def quote(s): ... -- which one runs?
    if isinstance(expr, ast.Call) and ctx.call_name(expr) in _SHELL_SAFE_COMMANDS:
        return True
    if not _keeps_words(expr):
        return False
    parts = proof.pieces(expr)
    if parts is None or not proof.holes_outside_quotes(parts):
        return False
    literal, spliced = _parts(ctx, expr)
    if not spliced or not literal:
        return False
    return all(isinstance(e, ast.Call) and ctx.call_name(e) in _SHELL_SAFE_CALLS
               for e in spliced)


def _keeps_words(expr: ast.expr) -> bool:
    """No ``!r``/``%r`` re-quoting and no width or precision that could cut a quoted word."""
    for n in ast.walk(expr):
        if isinstance(n, ast.FormattedValue) and (
                n.conversion in (ord("r"), ord("a")) or n.format_spec is not None):
            return False
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Mod) and not (
                isinstance(n.left, ast.Constant) and isinstance(n.left.value, str)
                and proof.plain_percent(n.left.value)):
            return False
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) \
                and n.func.attr == "format" and not (
                    isinstance(n.func.value, ast.Constant) and isinstance(n.func.value.value, str)
                    and proof.plain_braces(n.func.value.value)):
            return False
    return True


def _binds_parameters(call: ast.Call) -> bool:
    return len(call.args) >= 2 or any(k.arg in _PARAM_KEYWORDS for k in call.keywords)


def _parts(ctx: ModuleContext, expr: ast.AST) -> tuple[str, list[ast.expr]]:
    """The literal text of a built query, and the expressions spliced into it."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value, []
    if isinstance(expr, ast.JoinedStr):
        text, spliced = "", []
        for v in expr.values:
            if isinstance(v, ast.FormattedValue):
                spliced.append(v.value)
            else:
                text += _parts(ctx, v)[0]
        return text, spliced
    if isinstance(expr, ast.BinOp) and isinstance(expr.op, ast.Add | ast.Mod):
        left, right = _parts(ctx, expr.left), _parts(ctx, expr.right)
        if isinstance(expr.op, ast.Mod):
            return left[0], [*left[1], expr.right]  # "..." % x: x is formatted in
        return left[0] + right[0], [*left[1], *right[1]]
    if isinstance(expr, ast.Call) and isinstance(expr.func, ast.Attribute) \
            and expr.func.attr == "format":
        text, spliced = _parts(ctx, expr.func.value)
        return text, [*spliced, *expr.args, *(k.value for k in expr.keywords)]
    if isinstance(expr, ast.expr):
        return "", [expr]
    return "", []


def _constant(ctx: ModuleContext, expr: ast.expr, depth: int = 0) -> bool:
    """A literal, or a name bound to one (no placeholder lists: commands are not SQL)."""
    value: Any = ctx.value(expr)
    if value is not UNKNOWN and isinstance(value, str | int | float):
        return True
    if isinstance(expr, ast.Name) and depth < 3:
        assigned = ctx.assigned_value(expr)
        return assigned is not None and _constant(ctx, assigned, depth + 1)
    return False


def _constant_or_placeholders(ctx: ModuleContext, expr: ast.expr, depth: int = 0) -> bool:
    """A literal, or a run of placeholders built from the number of values (``?, ?, ?``)."""
    value: Any = ctx.value(expr)
    if value is not UNKNOWN and isinstance(value, str | int | float):
        return True
    if isinstance(expr, ast.Name) and depth < 3:
        assigned = ctx.assigned_value(expr)
        return assigned is not None and _constant_or_placeholders(ctx, assigned, depth + 1)
    return _placeholder_list(ctx, expr)


def _placeholder_list(ctx: ModuleContext, expr: ast.expr, depth: int = 0) -> bool:
    """``",".join("?" * len(ids))``: only placeholders and separators are written."""
    if isinstance(expr, ast.Name) and depth < 3:
        assigned = ctx.assigned_value(expr)
        return assigned is not None and _placeholder_list(ctx, assigned, depth + 1)
    strings = [n.value for n in ast.walk(expr)
               if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return bool(strings) and all(_PLACEHOLDER_LIST.match(s) for s in strings) and any(
        "?" in s or "%s" in s for s in strings)


# a literal at the call cannot be changed from elsewhere; in-place quoting can (app.quote = str)
_LOWERED = ("every part chosen at run time",)
_MUTATING = frozenset({"append", "extend", "insert", "add", "update", "setdefault", "pop",
                       "remove", "clear", "discard", "__setitem__", "__setattr__"})


def changed_from_outside(python: list[Any], findings: list[Any]) -> list[Any]:
    """Shell findings lowered in one module go back to high when another module of the
    app changes that module's names (``import app; app.quote = str``,
    ``setattr(app, ...)``): each file is judged on its own, so only the whole app
    shows it. ``python`` is the app's parsed files, ``findings`` the per-file findings."""
    lowered = [f for f in findings if f.rule_id in _COMMAND and f.severity < Severity.HIGH
               and any(w in f.message for w in _LOWERED)]
    if not lowered:
        return findings
    touched: set[str] = set()  # module names (last dotted part) some other file changes
    for sf in python:
        tree = sf.tree
        modules: dict[str, set[str]] = {}  # local name -> modules it is or comes from
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    modules.setdefault(a.asname or a.name.split(".")[0], set()).add(
                        a.name.rsplit(".", 1)[-1] if a.asname else a.name.split(".")[0])
            elif isinstance(node, ast.ImportFrom):
                for a in node.names:
                    # from pkg import app (a module), from app import ARGS (app's object)
                    modules.setdefault(a.asname or a.name, set()).update(
                        {a.name, *([node.module.rsplit(".", 1)[-1]] if node.module else [])})
        for node in ast.walk(tree):  # an imported object aliased or handed on: unknown use
            given: list[ast.expr] = []
            if isinstance(node, ast.Call):
                given = [*node.args, *(k.value for k in node.keywords)]
            elif isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr) \
                    and node.value is not None:
                given = [node.value]
            for g in given:
                if isinstance(g, ast.Name) and g.id in modules:
                    touched |= modules[g.id]
        for node in ast.walk(tree):
            roots: list[ast.expr] = []
            if isinstance(node, ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete):
                targets = node.targets if isinstance(node, ast.Assign | ast.Delete) \
                    else [node.target]
                roots = [t for t in targets if isinstance(t, ast.Attribute | ast.Subscript)]
            elif isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in ("setattr", "delattr", "vars") \
                        and node.args:
                    roots = [ast.Attribute(value=node.args[0], attr="x", ctx=ast.Load())]
                elif isinstance(func, ast.Attribute) and func.attr in _MUTATING:
                    roots = [func.value]
            for r in roots:
                chain = r
                while isinstance(chain, ast.Attribute | ast.Subscript):
                    chain = chain.value
                if isinstance(chain, ast.Name) and chain.id in modules:
                    touched |= modules[chain.id]
        if any(n in ("__import__", "import_module") for n in
               (getattr(c.func, "id", getattr(c.func, "attr", "")) for c in ast.walk(tree)
                if isinstance(c, ast.Call))):
            touched.add("*")  # a module object got at run time: any of them
    out = []
    for f in findings:
        stem = f.path.rsplit("/", 1)[-1].removesuffix(".py")
        if stem == "__init__":
            stem = f.path.rsplit("/", 2)[-2] if "/" in f.path else stem
        if f in lowered and (stem in touched or "*" in touched):
            f = dataclasses.replace(f, severity=Severity.HIGH, message=(
                f.message.rsplit(" (", 1)[0] + " (another module of the app changes this "
                "module's names: not lowered)"))
        out.append(f)
    return out
