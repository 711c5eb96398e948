"""Values: what taint an expression carries, and what a store does.

The half of the interpreter that evaluates expressions (names, attributes of
request objects and app instances, containers, string building, calls through
``calls.py``) and performs stores (``x = ...``, ``obj.attr = ...``,
``d[k] = ...``), with the per-function state both halves share; the
statement half (branches, guards, loops) is ``engine.py``.
"""

from __future__ import annotations

import ast
import re
from typing import Any, Protocol

import ramparts.scan.taint.calls as calls
import ramparts.scan.taint.responses as responses
import ramparts.scan.taint.sanitisers as sanitisers
import ramparts.scan.taint.sinks as sinks
import ramparts.scan.taint.sources as sources
from ramparts.scan.taint.frameworks.base import AS_SESSION, MARKERS, REQUEST, VIEW
from ramparts.scan.taint.index import Function, ModuleIndex
from ramparts.scan.taint.rules import CLEAN, KINDS, Taint, union

_PATH_PARTS = frozenset({"name", "stem", "suffix"})  # only the final component is kept


class Program(Protocol):
    """What the interpreter needs from the whole-program step."""

    def resolve(self, mod: ModuleIndex, dotted: str, cls: str | None
                ) -> tuple[ModuleIndex, Function, str | None] | None: ...

    def call(self, caller: Any, node: ast.Call,
             target: tuple[ModuleIndex, Function, str | None], args: list[Taint],
             kwargs: dict[str | None, Taint], receiver: Taint | None) -> Taint: ...

    def report(self, mod: ModuleIndex, node: ast.AST, kind: str, sink: str, via: str) -> None: ...

    def method(self, cls: str, name: str) -> tuple[ModuleIndex, Function, str | None] | None: ...

    def field(self, cls: str, attr: str) -> Taint: ...

    def field_class(self, cls: str, attr: str) -> str | None: ...

    def global_class(self, mod: ModuleIndex, name: str) -> str | None: ...

    def argv_of(self, fn: Function) -> Taint | None: ...

    def store_field_class(self, cls: str, attr: str, of: str) -> None: ...

    def store_field(self, cls: str, attr: str, t: Taint) -> None: ...


class Values:
    """Per-function state, expression evaluation and stores (see ``engine.Interp``)."""

    def __init__(self, program: Program, mod: ModuleIndex, env: dict[str, Taint], depth: int,
                 via: str, cls: str | None = None, self_name: str | None = None) -> None:
        self.p = program
        self.mod = mod
        self.env = env
        self.depth = depth
        self.via = via
        self.cls = cls  # "module:Class" for methods of the app's classes
        self.self_name = self_name
        self.returns: Taint = CLEAN
        self.return_nodes: list[tuple[ast.Return, Taint]] = []
        self.return_argv: Taint = CLEAN  # what picks the program of argument lists returned
        self.returns_other = False  # some return gives something else than an argument list
        self.objs: dict[str, str] = {}  # local name -> constructor, e.g. s -> requests.Session
        self.argv: dict[str, Taint] = {}  # name bound to a list literal -> its program's taint
        self.partials: dict[str, ast.Call] = {}  # name bound to functools.partial(f, ...)
        self.funcs: dict[str, str] = {}  # name bound to a library callable: f = os.system
        self.html_names: set[str] = set()  # names bound to headers that say text/html
        self.shapes = sanitisers.Shapes(constants=mod.constants, patterns=_patterns(mod))
        self._exits: list[list[dict[str, Taint]]] = []  # envs at each ``break``, per loop
        self._continues: list[list[dict[str, Taint]]] = []  # envs at each ``continue``
        # envs before each statement of the ``try`` bodies being run: where a raise may leave
        self._points: list[list[dict[str, Taint]]] = []

    def hit(self, node: ast.AST, kind: str, sink: str, t: Taint) -> None:
        if kind in t:
            self.p.report(self.mod, node, kind, sink, self.via if self.depth else "")

    def _path_taint(self, path: str) -> Taint:
        try:
            node = ast.parse(path, mode="eval").body
        except SyntaxError:  # not a path sanitisers.key() makes; nothing to clear
            return CLEAN
        return self.expr(node)

    def made_by(self, node: ast.expr) -> tuple[str, ast.Call | None]:
        """What made the object ``node`` names: a local ``objs`` entry or a module global."""
        if isinstance(node, ast.Name):
            if node.id in self.objs:
                return self.objs[node.id], None
            if node.id not in self.env and node.id in self.mod.instances:
                call = self.mod.instances[node.id]
                return self.mod.dotted(call.func), call
        if isinstance(node, ast.Call):
            return self.qualname(node.func), node
        return "", None

    def argv_of_call(self, call: ast.Call) -> Taint | None:
        """What picks the program of the argument list an app helper returned."""
        local = self.p.resolve(self.mod, self.qualname(call.func), self.cls)
        return self.p.argv_of(local[1]) if local is not None and local[2] is None else None

    def assign(self, target: ast.expr, t: Taint, weak: bool = False) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = (self.env.get(target.id, CLEAN) | t) if weak else t
            prefixes = (target.id + ".", target.id + "[")  # what a guard knew of the old value
            for stale in [k for k in self.env if k.startswith(prefixes)]:
                del self.env[stale]
        elif isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                self.assign(elt.value if isinstance(elt, ast.Starred) else elt, t, weak)
        elif isinstance(target, ast.Attribute):
            path = sanitisers.key(target)
            if path is not None and not weak:
                self.env[path] = t  # later reads in this function see exactly this value
            owner = self.owner(target.value)
            if owner is not None:
                self.p.store_field(owner, target.attr, t - MARKERS)
            else:
                self._taint_root(target, t)
        elif isinstance(target, ast.Subscript):
            path = sanitisers.key(target)
            if path is not None:  # a store replaces what a guard proved of event["k"]
                self.env[path] = (self.env.get(path, self._path_taint(path)) | t) if weak else t
            base = self.expr(target.value)
            responses.check_store(self, target, t, base)
            if "@session" not in base:
                self._taint_root(target, t)

    def _taint_root(self, target: ast.expr, t: Taint) -> None:
        node = target
        while isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        if isinstance(node, ast.Name) and t - MARKERS:
            self.env[node.id] = self.env.get(node.id, CLEAN) | (t - MARKERS)

    def owner(self, node: ast.expr) -> str | None:
        """The app class whose instance ``node`` is (``self`` in a method, ``obj = C()``)."""
        if isinstance(node, ast.Name):
            if node.id == self.self_name and self.cls is not None:
                return self.cls
            ctor = self.objs.get(node.id, "")
            if ctor.startswith("class:"):
                return ctor[6:]
            if node.id not in self.env:  # a module-level instance: repo = OrderRepo()
                return self.p.global_class(self.mod, node.id)
        elif isinstance(node, ast.Attribute):  # self.engine, where engine = RuleEngine()
            outer = self.owner(node.value)
            if outer is not None:
                return self.p.field_class(outer, node.attr)
        elif isinstance(node, ast.Call):  # Req(event).path: an instance made in place
            qual = self.qualname(node.func)
            target = self.p.resolve(self.mod, qual, self.cls) if qual else None
            if target is not None and target[2] is not None \
                    and target[2].rpartition(":")[2] == qual.rpartition(".")[2]:
                return target[2]
        return None

    def expr(self, node: ast.expr | None) -> Taint:
        if node is None or isinstance(node, ast.Constant | ast.Lambda):
            return CLEAN
        if isinstance(node, ast.Yield | ast.YieldFrom):
            # what a generator yields is what iterating its call gives the caller
            self.returns |= self.expr(node.value)
            self.returns_other = True
            return CLEAN  # the value sent back in (send()) is the caller's, not input
        if isinstance(node, ast.Name):
            if node.id in self.env:
                return self.env[node.id]
            return sources.global_taint(self.mod.aliases.get(node.id, "")) or CLEAN
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Subscript):
            path = sanitisers.key(node)
            if path is not None and path in self.env:  # guarded: sub["url"] host checked
                return self.env[path]
            self.expr(node.slice)
            base = self.expr(node.value)
            return CLEAN if base & MARKERS and not base - MARKERS else base - MARKERS
        if isinstance(node, ast.JoinedStr):
            return self._origin(node, union(self.expr(v) for v in node.values))
        if isinstance(node, ast.FormattedValue):
            t = self.expr(node.value)
            return t - {"log"} if node.conversion == ord("r") else t
        if isinstance(node, ast.BinOp):  # "a" + b + c ... : walk the left spine, not recurse
            t, spine = CLEAN, node
            while isinstance(spine, ast.BinOp):
                t |= self.expr(spine.right)
                spine = spine.left
            return self._origin(node, t | self.expr(spine))
        if isinstance(node, ast.BoolOp):
            return union(self.expr(v) for v in node.values)
        if isinstance(node, ast.Compare | ast.UnaryOp) and (
                isinstance(node, ast.Compare) or isinstance(node.op, ast.Not)):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)
            return CLEAN
        if isinstance(node, ast.IfExp):
            self.expr(node.test)
            return self.expr(node.body) | self.expr(node.orelse)
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return union(self.expr(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            responses.check_dict(self, node)
            return union(self.expr(e) for e in [*node.keys, *node.values] if e is not None)
        if isinstance(node, ast.NamedExpr):
            t = self.expr(node.value)
            self.assign(node.target, t)
            return t
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            return self._comprehension(node)
        if isinstance(node, ast.Call):
            path = sanitisers.key(node)
            if path is not None and path in self.env:  # creds.get("user"), type-checked
                return self.env[path]
            return self.call(node)
        return union(self.expr(c) for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr))

    def module_table(self, node: ast.expr) -> list[ast.expr]:
        """The functions a module-level dict, list or tuple literal holds (``OPS[k](x)``)."""
        if not isinstance(node, ast.Name) or node.id in self.env:
            return []
        if (d := self.mod.dicts.get(node.id)) is not None:
            return [v for v in d.values if v is not None]
        seq = self.mod.sequences.get(node.id)
        return list(seq.elts) if seq is not None else []

    def module_dict(self, node: ast.expr) -> ast.Dict | None:
        """The dict literal a module-level name is bound to (not shadowed locally)."""
        if isinstance(node, ast.Name) and node.id not in self.env:
            return self.mod.dicts.get(node.id)
        return None

    def _origin(self, node: ast.JoinedStr | ast.BinOp, t: Taint) -> Taint:
        """A URL whose scheme and host are fixed (a literal or operator-set base) keeps them."""
        if self._configured_base(node):
            return t - {"ssrf", "redirect"}
        return responses.fixed_origin(node, t)

    def _configured_base(self, node: ast.JoinedStr | ast.BinOp) -> bool:
        """``f"{API}/users/{uid}"`` or ``API + "/users/" + uid`` with API set by the operator.

        The text after the base must start with ``/``: ``f"{API}{x}"`` lets ``x`` be
        ``@evil.example``, which moves the host.
        """
        if isinstance(node, ast.JoinedStr):
            if len(node.values) < 2 or not isinstance(node.values[0], ast.FormattedValue):
                return False
            base, rest = node.values[0].value, node.values[1]
        else:
            while isinstance(node.left, ast.BinOp):
                node = node.left
            base, rest = node.left, node.right
        if not isinstance(base, ast.Name) or base.id in self.env:
            return False
        follows = rest.value if isinstance(rest, ast.Constant) and isinstance(
            rest.value, str) else None
        literal = self.mod.constants.get(base.id)
        if literal is not None and (host_end := _fixed_host(literal)) is not None:
            # API = "https://api.example.com": the host is fixed once a path, query or
            # fragment starts, in the constant itself or right after it
            return host_end < len(literal) or (follows or "").startswith(("/", "?", "#"))
        return base.id in self.mod.configured and (follows or "").startswith("/")

    def _attribute(self, node: ast.Attribute) -> Taint:
        path = sanitisers.key(node)
        if path is not None and path in self.env:
            return self.env[path]
        base = self.expr(node.value)
        if not base and (current := sources.current_request(self.made_by(node.value)[0],
                                                            node.attr)) is not None:
            return current  # app.current_event of a Powertools/Chalice app
        if REQUEST in base:
            if node.attr in sources.REQUEST_ATTRS:
                return KINDS
            return AS_SESSION if node.attr == "session" else base - MARKERS
        if VIEW in base:
            return sources.VIEW_ATTRS.get(node.attr, CLEAN)
        owner = self.owner(node.value)
        if owner is not None:
            getter = self.p.method(owner, node.attr)
            if getter is not None and _is_property(getter[1]):  # obj.path runs path(self)
                call = ast.copy_location(ast.Call(func=node, args=[], keywords=[]), node)
                return self.p.call(self, call, getter, [], {}, base) | (base - MARKERS)
            return self.p.field(owner, node.attr) | (base - MARKERS)
        if base & MARKERS:
            return base - MARKERS
        return base - {"path"} if node.attr in _PATH_PARTS else base

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp
                       | ast.DictComp) -> Taint:
        saved = dict(self.env)
        for gen in node.generators:
            self.assign(gen.target, self.expr(gen.iter))
            for cond in gen.ifs:
                self.expr(cond)
        if isinstance(node, ast.DictComp):
            t = self.expr(node.key) | self.expr(node.value)
        else:
            t = self.expr(node.elt)
        # the comprehension's own targets are gone after it; what it changed outside
        # (argv.append(x), a walrus) stays, joined with before (it may run zero times)
        own = {n.id for gen in node.generators for n in ast.walk(gen.target)
               if isinstance(n, ast.Name)}
        changed = self.env
        self.env = saved
        for k, v in changed.items():
            if k not in own and v != saved.get(k, CLEAN):
                self.env[k] = saved.get(k, CLEAN) | v
        return t

    def call(self, node: ast.Call) -> Taint:
        return calls.evaluate(self, node)

    def _module_client(self, name: str) -> str | None:
        """The HTTP client class a module-level instance was made by, if it is one."""
        call = self.mod.instances.get(name)
        ctor = self.mod.dotted(call.func) if call is not None else ""
        return ctor if ctor in sinks.HTTP_CLIENTS else None

    def qualname(self, func: ast.expr) -> str:
        parts: list[str] = []
        node = func
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            if node.id in self.objs:  # an object made in this function
                parts.append(self.objs[node.id] + "()")
            elif node.id in self.funcs:  # f = eval: the callable it is bound to
                parts.append(self.funcs[node.id])
            elif node.id in self.env:  # a local variable shadows imports and builtins
                parts.append(node.id)
            elif (ctor := self._module_client(node.id)) is not None:
                parts.append(ctor + "()")  # s = requests.Session() at module level
            else:
                parts.append(self.mod.aliases.get(node.id, node.id))
        elif isinstance(node, ast.Call):
            parts.append(self.called_module(node) or self.qualname(node.func) + "()")
        elif isinstance(node, ast.Subscript):
            parts.append(self._subscripted(node) or "?")
        else:
            parts.append("?")
        if len(parts) > 1 and parts[-1] in _BUILTINS:
            parts.pop()  # builtins.eval is eval, the name every sink table knows
        return ".".join(reversed(parts))

    def _subscripted(self, node: ast.Subscript) -> str | None:
        """The object a namespace lookup with a literal key names (review 3, F1).

        ``sys.modules["os"]`` -> os, ``os.__dict__["popen"]`` and
        ``vars(os)["popen"]`` -> os.popen, ``__builtins__["eval"]`` and
        ``globals()["__builtins__"]["eval"]`` -> eval: the same callee as the
        attribute spelling, so the same sink rules apply.
        """
        key = _folded(node.slice)
        if key is None:
            return None
        base = node.value
        if isinstance(base, ast.Call):
            func = self.qualname(base.func)
            if func == "vars" and len(base.args) == 1:
                owner = self.qualname(base.args[0])
            elif func == "globals" and not base.args:
                return "builtins" if key == "__builtins__" else self.mod.aliases.get(key, key)
            else:
                return None
        elif isinstance(base, ast.Attribute) and base.attr == "__dict__":
            owner = self.qualname(base.value)
        elif self.qualname(base) == "sys.modules":
            return key
        elif isinstance(base, ast.Name) and base.id == "__builtins__":
            owner = "builtins"
        elif isinstance(base, ast.Subscript) and (inner := self._subscripted(base)) is not None:
            owner = inner  # globals()["__builtins__"]["eval"]: a namespace of a namespace
        else:
            return None
        return key if owner in _BUILTINS else f"{owner}.{key}"

    def called_module(self, node: ast.Call) -> str | None:
        """``getattr(os, "system")`` -> os.system, ``importlib.import_module("os")`` -> os."""
        func = self.qualname(node.func)
        if func in ("getattr", "builtins.getattr") and len(node.args) >= 2 \
                and (attr := _folded(node.args[1])) is not None:
            return f"{self.qualname(node.args[0])}.{attr}"
        if isinstance(node.func, ast.Attribute) and node.func.attr == "__getattribute__" \
                and len(node.args) == 1 and (attr := _folded(node.args[0])) is not None:
            return f"{self.qualname(node.func.value)}.{attr}"  # os.__getattribute__("popen")
        if func in ("importlib.import_module", "__import__", "builtins.__import__") \
                and node.args and (module := _folded(node.args[0])) is not None:
            return module
        return None


def _patterns(mod: ModuleIndex) -> dict[str, tuple[str, int]]:
    """Module-level ``NAME = re.compile("literal")``: the patterns regex guards may use."""
    out = {}
    for name, call in mod.instances.items():
        if mod.dotted(call.func) == "re.compile":
            found = sanitisers.compiled_pattern(call, mod.dotted, mod.constants)
            if found is not None:
                out[name] = found
    return out


_URL_HOST = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\\\s]+")


def _fixed_host(literal: str) -> int | None:
    """Where the host of a literal absolute URL ends (None: not an absolute URL)."""
    m = _URL_HOST.match(literal)
    if m is None or (m.end() < len(literal) and literal[m.end()] not in "/?#"):
        return None  # "https://user@" + host: the host is still open
    return m.end()


_BUILTINS = frozenset({"builtins", "__builtins__"})


def _folded(node: ast.expr) -> str | None:
    """A string literal, or literals joined with ``+`` (``"o" + "s"``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _folded(node.left), _folded(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _is_property(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """``@property`` (or ``functools.cached_property``): reading the attribute calls it."""
    return any((isinstance(d, ast.Name) and d.id in ("property", "cached_property"))
               or (isinstance(d, ast.Attribute) and d.attr == "cached_property")
               for d in fn.decorator_list)
