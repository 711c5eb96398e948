"""Facts about how a shell command is written, for the in-place quoting check.

``calibrate`` lowers bandit's shell finding (B602/B604/B605) to medium only when
every run-time part of the command is ``shlex.quote(...)``/``int()`` spliced in
at the call, outside literal quotes, in a module that names no program that
re-parses its arguments and rebinds none of the names involved.  This module
answers those questions (``pieces``, ``holes_outside_quotes``, ``reparses``,
``opens_quotes``, ``unfollowed_names``, ``changed_in_place``).

It once also re-ran the taint engine over the function, distrusting everything,
to *prove* a command safe through variables, helpers and guards; two adversarial
reviews found dozens of ways past that proof (rebinding, aliasing, control flow,
guards that check less than they seem, programs that run their arguments), so
the proof was withdrawn: a command built through names keeps bandit's severity.
"""

from __future__ import annotations

import ast
import re
import string
from typing import Any

import ramparts.scan.taint.index as index
import ramparts.scan.taint.sanitisers as sanitisers

__all__ = ["changed_in_place", "plain_braces", "plain_percent", "unfollowed_names"]

_HELPER_DEPTH = 3  # helper -> helper's helper -> ...; deeper calls are unknown
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
# (not sorted/reversed/min/max: given a str they work per character, B24)
_KEEPS_QUOTES = frozenset({"str", "os.path.join", "posixpath.join", "list", "tuple",
                           *_QUOTERS})
_KEEPS_QUOTES_METHODS = frozenset({"join", "append", "extend", "insert",
                                   "add", "update", "setdefault", "get", "pop", "copy",
                                   "items", "keys", "values"})
# encode()/decode() keep a quoted word only in a codec that maps text to itself
# ("unicode_escape", "utf-7" turn \x27 or +ACc- into a quote, B10)
_PLAIN_CODECS = frozenset({"utf-8", "utf8", "ascii", "latin-1", "latin1", "iso-8859-1"})
# a value that held a list, tuple, set or dict: str() of it repr()s every item, and
# repr("'$(x)'") is "\"'$(x)'\"", where $() runs (B14); only sep.join() of it keeps words
CONTAINER = "@container"
_CONTAINER_CALLS = frozenset({"list", "tuple", "set", "frozenset", "dict", "sorted",
                              "reversed"})
_PERCENT = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d*))?[hlL]?(.)")
# methods of str/bytes/lists/dicts that only rearrange what the receiver and arguments hold
_VALUE_METHODS = frozenset({
    "format", "join", "replace", "strip", "lstrip", "rstrip", "lower", "upper", "casefold",
    "title", "capitalize", "split", "rsplit", "splitlines", "encode", "decode",
    "removeprefix", "removesuffix", "zfill", "ljust", "rjust", "center", "partition",
    "rpartition", "get", "pop", "copy", "items", "keys", "values", "append", "extend",
    "insert", "add", "update", "setdefault", "translate", "expandtabs", "swapcase"})


# programs that run (part of) an argument as a command or script: a quoted word handed
# to them is still code (sed's e, find -exec, env/timeout/sudo prefixes, interpreters)
_REPARSERS = re.compile(
    r"(?<![\w.])-?(?:(?:ba|z|da|k|c|tc|a|fi)?sh|ssh|eval|exec|watch|xargs|su|runuser|"
    r"parallel|busybox|script|sed|g?awk|env|find|timeout|nice|nohup|sudo|doas|stdbuf|"
    r"python[\d.]*|perl|ruby|node|php|lua|docker|kubectl|git|tar|rsync|zip)(?![\w./])")


def reparses(tree: ast.AST) -> bool:
    """Whether any string literal of ``tree`` names a program that re-parses its arguments."""
    return any(_REPARSERS.search(text) for _, text in _texts(tree))


_HOLE = object()  # a part of a built string chosen at run time


def pieces(node: ast.expr) -> list[Any] | None:
    """The literal text and the run-time parts (``_HOLE``) of an f-string, a ``+`` chain,
    a ``%`` or a ``.format`` of a literal template; ``None`` for anything else."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        out: list[Any] = []
        for v in node.values:
            out += [v.value] if isinstance(v, ast.Constant) else [_HOLE]
        return out
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return [*(pieces(node.left) or [_HOLE]), *(pieces(node.right) or [_HOLE])]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) \
            and isinstance(node.left, ast.Constant) and isinstance(node.left.value, str):
        out, at = [], 0
        for m in _PERCENT.finditer(node.left.value):
            out.append(node.left.value[at:m.start()])
            out.append("%" if m.group(0) == "%%" else _HOLE)
            at = m.end()
        return [*out, node.left.value[at:]]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "format" and isinstance(node.func.value, ast.Constant) \
            and isinstance(node.func.value.value, str):
        try:
            fields = list(string.Formatter().parse(node.func.value.value))
        except ValueError:
            return None
        out = []
        for text, field, _, _ in fields:
            out.append(text)
            if field is not None:
                out.append(_HOLE)
        return out
    return None


def opens_quotes(tree: ast.AST) -> bool:
    """Whether a string literal of ``tree`` (not a docstring) leaves a quote, backquote
    or backslash open, or starts a here-document: spliced next to a shell-quoted
    word from elsewhere (a name, a helper's result, a list item joined in), it may put
    the word inside quotes, where the quoting is undone."""
    docs = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Expr)}
    return any(id(n) not in docs and (not holes_outside_quotes([text, _HOLE]) or "<<" in text)
               for n, text in _texts(tree))


def _texts(tree: ast.AST) -> list[tuple[ast.Constant, str]]:
    """Every str and bytes literal (bytes read as latin-1: b"'" is a quote too)."""
    return [(n, n.value if isinstance(n.value, str) else n.value.decode("latin-1"))
            for n in ast.walk(tree) if isinstance(n, ast.Constant)
            and isinstance(n.value, str | bytes)]


def holes_outside_quotes(parts: list[Any]) -> bool:
    """Every run-time part sits outside '...', "..." and `...`, and not after a backslash:
    only there is a shell-quoted word one word (``'{q}'`` and ``"{q}"`` undo the quoting)."""
    state = ""
    escaped = False
    for part in parts:
        if part is _HOLE:
            if state or escaped:
                return False
            continue
        if "<<" in part:  # a here-document expands $(...) whatever the quotes
            return False
        for ch in part:
            if escaped:
                escaped = False
            elif state == "'":
                state = "" if ch == "'" else state
            elif ch == "\\":
                escaped = True
            elif state:
                state = "" if ch == state else state
            elif ch in "'\"`":
                state = ch
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
    return all(conv in (None, "s") and not spec and not (field and ("[" in field or "." in field))
               for _, field, spec, conv in fields)  # {0[1]} picks one character (B24)


_READ_ONLY = (_VALUE_METHODS | sanitisers.CLEAN_METHODS) - {
    "append", "extend", "insert", "add", "update", "setdefault", "pop"}
_PURE = sanitisers.CLEAR_ALL | frozenset(sanitisers.SANITISERS) | _KEEPS_INPUTS | _QUOTERS \
    | frozenset({"print", "enumerate", "zip", "iter", "any", "all", "set", "frozenset",
                 "dict", "re.fullmatch", "re.match", "re.search", "re.findall"})
_CONTAINERS = frozenset({"list", "dict", "set", "bytearray", "collections.defaultdict",
                         "collections.OrderedDict", "collections.deque", "defaultdict",
                         "OrderedDict", "deque"})


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Starred):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


_NEW_VALUE = frozenset({
    "copy", "format", "join", "strip", "lstrip", "rstrip", "lower", "upper", "casefold",
    "title", "capitalize", "split", "rsplit", "splitlines", "replace", "encode", "decode",
    "removeprefix", "removesuffix", "zfill", "ljust", "rjust", "center", "partition",
    "rpartition", "translate", "expandtabs", "swapcase"}) | sanitisers.CLEAN_METHODS
_NEW_OBJECT = sanitisers.CLEAR_ALL | frozenset(sanitisers.SANITISERS) | _QUOTERS


def _shares(value: ast.expr) -> set[str]:
    """The local names whose objects ``value`` may be (part of): ``b``, ``b[k]``,
    ``b.get(k)``, ``d.values()``, ``first(b)``, ``list(b)`` (a shallow copy)."""
    if isinstance(value, ast.Call):
        func = value.func
        if isinstance(func, ast.Attribute):
            if func.attr in _NEW_VALUE:
                return set()
            return {r for r in [_root(func.value)] if r is not None}
        if isinstance(func, ast.Name) and func.id in _NEW_OBJECT:
            return set()
        return {r for a in [*value.args, *(k.value for k in value.keywords)]
                for r in [_root(a)] if r is not None}
    r = _root(value)
    return {r} if r is not None else set()


def _held(value: ast.expr) -> list[ast.expr]:
    """What a value shares objects with: itself, or the items of a container display."""
    if isinstance(value, ast.List | ast.Tuple | ast.Set):
        return [x for e in value.elts for x in _held(e)]
    if isinstance(value, ast.Dict):
        return [x for e in value.values for x in _held(e)]
    if isinstance(value, ast.IfExp | ast.BoolOp):  # a = b or c, a = b if t else c
        items = [value.body, value.orelse] if isinstance(value, ast.IfExp) else value.values
        return [x for e in items for x in _held(e)]
    return [value]


def _shared_and_changed(fn: index.Function) -> set[str]:
    """Local names that share a list or object made here with another name, one of which
    is changed in place.

    The engine tracks each name on its own: after ``alias = parts`` a value appended to
    ``alias`` is not seen in ``parts``. So when names are tied (``a = b``, ``a = b[k]``,
    ``a = [b]``, ``for a in b``, ``a = b.get(k)``), one of them holds a container made in
    the function (``[...]``, ``{...}``, ``list()``) and any of them is changed in place
    (a store into it, a method that is not a plain read, or being handed to a call we do
    not know), all of them are unknown.
    """
    parent: dict[str, str] = {}

    def find(n: str) -> str:
        while parent.get(n, n) != n:
            n = parent[n]
        return n

    tied: set[str] = set()
    made: set[str] = set()
    for node in ast.walk(fn):
        pairs: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(node, ast.Assign):
            pairs = [(t, node.value) for t in node.targets]
        elif isinstance(node, ast.AnnAssign | ast.NamedExpr) and node.value is not None:
            pairs = [(node.target, node.value)]
        elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
            pairs = [(node.target, node.iter)]
        elif isinstance(node, ast.withitem) and node.optional_vars is not None:
            pairs = [(node.optional_vars, node.context_expr)]
        for target, value in pairs:
            roots = {r for v in _held(value) for r in _shares(v)}
            for t in ast.walk(target):
                if not isinstance(t, ast.Name):
                    continue
                if _makes_container(value):
                    made.add(t.id)
                for r in roots:
                    parent[find(t.id)] = find(r)
                    tied |= {t.id, r}
    # only the function's own names (parameters and what it assigns), not modules it uses
    own = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)} | {
        n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
    tied &= own
    spoilt = {find(n) for n in _changed(fn) & tied} & {find(n) for n in made & tied}
    return {n for n in tied if find(n) in spoilt}


def unfollowed_names(tree: ast.Module) -> set[str]:
    """Names bound in ways neither the proof nor the constant check follows exactly.

    A command that reads one of them is not proven safe (nor constant): bandit's
    severity stands. Deliberately coarse (by name, module-wide): a name declared
    ``global``/``nonlocal`` anywhere; bound by a ``match`` pattern, a walrus or
    ``except ... as``; bound in a function and also read by a function, lambda or
    class nested in it (a closure sees the enclosing function's latest value,
    whenever it runs); and, when the module writes through ``globals()``/``vars()``/
    ``sys.modules``/``exec``/``eval`` (``exec("global CMD; CMD = ...")``) or binds a
    module name more than once or inside a block, those
    module names; and a name imported inside a function.
    """
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Global | ast.Nonlocal):
            out |= set(node.names)
        elif isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
            out.add(node.target.id)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            out.add(node.name)
        elif isinstance(node, ast.MatchAs | ast.MatchStar) and node.name:
            out.add(node.name)
        elif isinstance(node, ast.MatchMapping) and node.rest:
            out.add(node.rest)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            out |= _closed_over(node)
            # an import inside a function rebinds the name there (from settings import CMD)
            out |= {(a.asname or a.name).split(".")[0] for n in _own_nodes(node)
                    if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}
    # a builtin or a module-level import bound again anywhere (int = str, a parameter
    # named quote, def quote() in a function): which one a call means is not followed
    imported = {(a.asname or a.name).split(".")[0] for n in tree.body
                if isinstance(n, ast.Import | ast.ImportFrom) for a in n.names}
    rebound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            rebound.add(node.id)
        elif isinstance(node, ast.arg):
            rebound.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            rebound.add(node.name)
    out |= rebound & (imported | _BUILTINS)
    module_bound = _module_bindings(tree)
    if any(isinstance(n, ast.Name) and n.id in ("globals", "vars", "exec", "eval") or (
            isinstance(n, ast.Attribute) and n.attr == "modules") for n in ast.walk(tree)):
        out |= set(module_bound)
    out |= {n for n, count in module_bound.items() if count > 1}
    return out


def _quote_names(tree: ast.AST) -> set[str]:
    """Names assigned anywhere a value with a quote or backslash in its literal text: the
    text they splice into a command may open a quote around a shell-quoted word."""
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr) \
                and node.value is not None and any(
                    isinstance(c, ast.Constant) and isinstance(c.value, str)
                    and any(q in c.value for q in "'\"`\\") for c in ast.walk(node.value)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            out |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return out


_BUILTINS = frozenset({"int", "float", "str", "repr", "bool", "len", "abs", "round", "hash",
                       "ord", "complex", "isinstance", "callable", "id", "type", "sorted",
                       "list", "tuple", "set", "frozenset", "dict", "min", "max", "sum",
                       "format", "print", "enumerate", "zip", "iter", "any", "all",
                       "reversed", "getattr", "setattr", "globals", "vars"})


_COLLECTION_CALLS = frozenset({"set", "frozenset", "tuple", "list", "dict"})


def _a_collection(node: ast.expr, names: set[str]) -> bool:
    """A list/tuple/set/dict display, a call making one, ``d.keys()``, or a name only
    ever bound to one: ``x in`` it is membership, not a substring test."""
    if isinstance(node, ast.List | ast.Tuple | ast.Set | ast.Dict):
        return True
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id in _COLLECTION_CALLS or (
            isinstance(node.func, ast.Attribute) and node.func.attr in ("keys", "values"))
    return isinstance(node, ast.Name) and node.id in names


def _collection_names(tree: ast.AST) -> set[str]:
    """Names every assignment of which (anywhere in the module) is a collection."""
    good: set[str] = set()
    bad: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            ok = _a_collection(node.value, set())
            for t in targets:
                if isinstance(t, ast.Name):
                    (good if ok else bad).add(t.id)
    stores = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
              and isinstance(n.ctx, ast.Store)}
    assigned = good | bad
    return good - bad - (stores - assigned)


def _own_nodes(fn: ast.AST) -> list[ast.AST]:
    """The nodes of a function (or module) body, not those of functions/classes in it."""
    out: list[ast.AST] = []
    todo = list(ast.iter_child_nodes(fn))
    while todo:
        node = todo.pop()
        out.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                          | ast.ClassDef):
            todo.extend(ast.iter_child_nodes(node))
    return out


def _closed_over(fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """Names ``fn`` binds that a function, lambda or class nested in it reads."""
    bound = {a.arg for a in ast.walk(fn.args) if isinstance(a, ast.arg)}
    nested: list[ast.AST] = []
    for node in _own_nodes(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store | ast.Del):
            bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
                        | ast.ClassDef):
            nested.append(node)
    used = {n.id for inner in nested for n in ast.walk(inner) if isinstance(n, ast.Name)}
    return bound & used


def _module_bindings(tree: ast.Module) -> dict[str, int]:
    """How many times each name is bound at module level, and ``2`` for a name bound
    anywhere but by a top-level assignment (in an ``if``/``try``/``for``/``with``
    block, by an import, a ``def`` or a ``class``) when it is also assigned."""
    count: dict[str, int] = {}
    assigned: set[str] = set()
    other: set[str] = set()
    for node in _own_nodes(tree):
        names: list[str] = []
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names = [node.id]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [(a.asname or a.name).split(".")[0] for a in node.names]
            other |= set(names)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names = [node.name]
            other |= set(names)
        for n in names:
            count[n] = count.get(n, 0) + 1
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign | ast.AnnAssign):
            for t in (stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]):
                assigned |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
    nested_stores = {n.id for s in tree.body if not isinstance(
                         s, ast.Assign | ast.AnnAssign | ast.FunctionDef | ast.AsyncFunctionDef
                         | ast.ClassDef)
                     for n in _own_nodes(s) if isinstance(n, ast.Name)
                     and isinstance(n.ctx, ast.Store)}
    for n in (other | nested_stores) & (assigned | nested_stores):
        count[n] = max(count.get(n, 0), 2)
    return count


def changed_in_place(tree: ast.AST) -> set[str]:
    """Names ``tree`` stores into, calls a changing method of, or hands to an unknown call."""
    return _changed(tree)


def _makes_container(value: ast.expr) -> bool:
    if isinstance(value, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp
                  | ast.SetComp):
        return True
    return isinstance(value, ast.Call) and ast.unparse(value.func) in _CONTAINERS


def _changed(tree: ast.AST) -> set[str]:
    """Names changed in place somewhere in ``tree``: a store into them (``a[k] = v``,
    ``a.x = v``, ``del a[k]``, ``a[k] += v``), a method that is not a plain read, or being
    handed to a call that is not known to leave its arguments alone."""
    changed: set[str] = set()
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for t in targets:
            for sub in ast.walk(t):
                if isinstance(sub, ast.Attribute | ast.Subscript) and (r := _root(sub)):
                    changed.add(r)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in _READ_ONLY:
                continue
            if isinstance(func, ast.Attribute) and (r := _root(func.value)) is not None:
                changed.add(r)
            if isinstance(func, ast.Name) and func.id not in _PURE:
                changed.add(func.id)  # add = argv.append; add(x) changes argv (B21)
            name = ast.unparse(func) if isinstance(func, ast.Name | ast.Attribute) else ""
            if name not in _PURE:
                changed |= {r for a in [*node.args, *(k.value for k in node.keywords)]
                            if (r := _root(a)) is not None}
        if isinstance(node, ast.Global):
            changed |= set(node.names)
    return changed


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
    literal = {n for n, ok in bound.items() if ok and n not in rebound}
    # a list, dict or set may be changed by any code, this module's or another's that
    # imports it (app.TOOLS.extend(...), B20): only frozen literals (str, tuple,
    # frozenset) count
    mutable: set[str] = set()
    nested: set[str] = set()  # {"a": ["ls"]}: N["a"] hands out a list anyone may change
    for stmt in tree.body:
        if not isinstance(stmt, ast.Assign | ast.AnnAssign) or stmt.value is None \
                or _frozen(stmt.value):
            continue
        names = {t.id for t in (stmt.targets if isinstance(stmt, ast.Assign)
                                else [stmt.target]) if isinstance(t, ast.Name)}
        mutable |= names
        items = [*getattr(stmt.value, "elts", []), *getattr(stmt.value, "values", []),
                 *getattr(stmt.value, "args", [])]
        if not all(_frozen(i) for i in items):
            nested |= names
    return literal - nested - mutable


def _frozen(node: ast.expr) -> bool:
    """A literal nothing can change: constants, tuples and frozensets of them."""
    if isinstance(node, ast.Call):
        return isinstance(node.func, ast.Name) and node.func.id == "frozenset" \
            and all(_frozen(a) or isinstance(a, ast.Set | ast.List | ast.Tuple) and all(
                _frozen(e) for e in a.elts) for a in node.args)
    return all(isinstance(n, ast.Constant | ast.Tuple | ast.expr_context | ast.BinOp
                          | ast.operator) for n in ast.walk(node))


def _literal(node: ast.expr) -> bool:
    if isinstance(node, ast.Call):  # frozenset({...}), tuple([...])
        return isinstance(node.func, ast.Name) and node.func.id in (
            "frozenset", "set", "tuple", "list", "dict") and not node.keywords \
            and all(_literal(a) for a in node.args)
    return all(isinstance(n, ast.Constant | ast.Tuple | ast.List | ast.Set | ast.Dict
                          | ast.expr_context | ast.BinOp | ast.operator)
               for n in ast.walk(node))
