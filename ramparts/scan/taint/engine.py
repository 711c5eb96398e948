"""Abstract interpretation of one function over taint sets.

The interpreter walks a function's statements once (loops twice, to reach a
fixed point for values carried round), keeping for each local name the set of
sink kinds its value is still dangerous for. Branches run from the same state
and merge; a branch that ends in ``return``/``raise``/``abort()`` adds nothing
after the ``if``, and a guard's facts (``sanitisers.guard_facts``) clear what
the guard rules out in the arm where it holds. Sinks are checked at each call
(``sinks.check``), each store (``responses.check_store``) and each response
dict (``responses.check_dict``); calls into the app's own functions and
methods go back to the ``Program`` (``analysis.py``), which interprets the
callee with the arguments' taint.
"""

from __future__ import annotations

import ast
from typing import Protocol

from ramparts.scan.taint import calls, responses, sanitisers, sinks, sources
from ramparts.scan.taint.frameworks.base import AS_SESSION, MARKERS, REQUEST, VIEW
from ramparts.scan.taint.index import Function, ModuleIndex
from ramparts.scan.taint.rules import CLEAN, KINDS, Taint, union

_PATH_PARTS = frozenset({"name", "stem", "suffix"})  # only the final component is kept
_NORMALISING_METHODS = frozenset({"resolve", "absolute", "realpath"})


class Program(Protocol):
    """What the interpreter needs from the whole-program step."""

    def resolve(self, mod: ModuleIndex, dotted: str, cls: str | None
                ) -> tuple[ModuleIndex, Function, str | None] | None: ...

    def call(self, caller: Interp, node: ast.Call,
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


class Interp:
    """Interprets one function body for one assignment of taint to its parameters."""

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
        self.shapes = sanitisers.Shapes()
        self._exits: list[list[dict[str, Taint]]] = []  # envs at each ``break``, per loop

    def hit(self, node: ast.AST, kind: str, sink: str, t: Taint) -> None:
        if kind in t:
            self.p.report(self.mod, node, kind, sink, self.via if self.depth else "")

    # -- statements ------------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def _guarded(self, arms: list[tuple[list[ast.stmt], list[sanitisers.Fact]]]) -> None:
        """Run each arm from the same env (less what its guard rules out) and merge."""
        base = dict(self.env)
        merged: dict[str, Taint] = {}
        live = False
        for body, facts in arms:
            self.env = dict(base)
            for name, kinds in facts:
                if name in self.env:
                    self.env[name] = self.env[name] - kinds
                elif "." in name or "[" in name:  # self.value / sub["url"] not in ALLOWED
                    self.env[name] = self._path_taint(name) - kinds
            self.block(body)
            if body and self._terminal(body[-1]):
                if isinstance(body[-1], ast.Break) and self._exits:
                    self._exits[-1].append(dict(self.env))  # it reaches the loop's end
                continue
            live = True
            for k, v in self.env.items():
                merged[k] = merged.get(k, CLEAN) | v
        self.env = merged if live else base

    def _path_taint(self, path: str) -> Taint:
        try:
            node = ast.parse(path, mode="eval").body
        except SyntaxError:  # not a path sanitisers.key() makes; nothing to clear
            return CLEAN
        return self.expr(node)

    def _terminal(self, stmt: ast.stmt) -> bool:
        if isinstance(stmt, ast.Return | ast.Raise | ast.Continue | ast.Break):
            return True
        return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                and self.qualname(stmt.value.func) in sanitisers.TERMINAL_CALLS)

    def _facts(self, test: ast.expr, truth: bool) -> list[sanitisers.Fact]:
        return sanitisers.guard_facts(test, truth, self.qualname, self.expr, self.shapes)

    def _shape(self, target: ast.expr, value: ast.expr | None) -> None:
        """Remember what kind of object a local name holds (client, argv list, parsed URL)."""
        if not isinstance(target, ast.Name):
            return
        name = target.id
        self.objs.pop(name, None)
        self.argv.pop(name, None)
        self.shapes.normalised.discard(name)
        self.shapes.url_of.pop(name, None)
        if isinstance(value, ast.Call):
            ctor = self.qualname(value.func)
            method = getattr(value.func, "attr", None)
            if ctor in sinks.HTTP_CLIENTS or ctor.endswith(("getLogger", "get_logger")) \
                    or ctor == "xml.sax.make_parser" or ctor.startswith(("ldap3.", "ldap.")):
                self.objs[name] = ctor
            elif ctor.endswith("XMLParser"):
                self.objs[name] = sinks.parser_kind(ctor, value)
            elif responses.unescaped(self, value):
                self.objs[name] = (responses.NOESCAPE_ENV if ctor.endswith("Environment")
                                   else responses.NOESCAPE_TEMPLATE)
            elif (local := self.p.resolve(self.mod, ctor, self.cls)) is not None:
                if local[2] is not None and local[1].name == "__init__":
                    self.objs[name] = "class:" + local[2]
                elif (argv := self.argv_of_call(value)) is not None:
                    self.argv[name] = argv  # a helper that builds an argument list
            if ctor in sanitisers.NORMALISERS or method in _NORMALISING_METHODS:
                self.shapes.normalised.add(name)
            url = sanitisers.key(value.args[0]) if value.args else None
            if ctor.endswith(("urlparse", "urlsplit")) and url is not None:
                self.shapes.url_of[name] = url
        elif isinstance(value, ast.List | ast.Tuple):
            first = value.elts[0] if value.elts else None
            self.argv[name] = (CLEAN if first is None or isinstance(first, ast.Constant)
                               else self.expr(first))

    def stmt(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            t = self.expr(node.value)
            for target in node.targets:
                self.assign(target, t)
                self._shape(target, node.value)
                if isinstance(target, ast.Attribute) and isinstance(node.value, ast.Call):
                    self._field_shape(target, node.value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.expr(node.value))
                self._shape(node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            t = self.expr(node.value) | self.expr(node.target)
            self.assign(node.target, t, weak=True)
        elif isinstance(node, ast.Return):
            self._return_argv(node.value)
            if node.value is not None:
                t = self.expr(node.value)
                self.returns |= t
                self.return_nodes.append((node, t))
        elif isinstance(node, ast.Expr):
            self.expr(node.value)
        elif isinstance(node, ast.If):
            self.expr(node.test)
            self._guarded([(node.body, self._facts(node.test, True)),
                           (node.orelse, self._facts(node.test, False))])
        elif isinstance(node, ast.For | ast.AsyncFor):
            self.assign(node.target, self._iterated(node.iter))
            self._loop(node)
        elif isinstance(node, ast.While):
            self.expr(node.test)
            self._loop(node)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                t = self.expr(item.context_expr)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, t)
                    self._shape(item.optional_vars, item.context_expr)
            self.block(node.body)
        elif isinstance(node, ast.Try | ast.TryStar):
            self._guarded([(node.body, []), *[(h.body, []) for h in node.handlers],
                           (node.orelse, [])])
            self.block(node.finalbody)
        elif isinstance(node, ast.Match):
            subject = self.expr(node.subject)
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    name = getattr(sub, "name", None)
                    if isinstance(name, str):
                        self.env[name] = subject
            self._guarded([(c.body, []) for c in node.cases])
        elif isinstance(node, ast.Raise | ast.Assert | ast.Delete):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)
        # nested defs and classes are not followed (see docs/scanning.md)

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

    def _field_shape(self, target: ast.Attribute, value: ast.Call) -> None:
        """``self.repo = OrderRepo(...)``: calls on ``self.repo`` go to that class."""
        owner = self.owner(target.value)
        made = self.p.resolve(self.mod, self.qualname(value.func), None)
        if owner is not None and made is not None and made[2] is not None:
            self.p.store_field_class(owner, target.attr, made[2])

    def _return_argv(self, value: ast.expr | None) -> None:
        """Whether every return gives an argument list, and what picks its program."""
        if isinstance(value, ast.Name) and value.id in self.argv:
            argv: Taint | None = self.argv[value.id]
        elif isinstance(value, ast.List | ast.Tuple):
            first = value.elts[0] if value.elts else None
            argv = CLEAN if first is None or isinstance(first, ast.Constant) \
                else self.expr(first)
        else:
            argv = None
        if argv is None:
            self.returns_other = True
        else:
            self.return_argv |= argv

    def _loop(self, node: ast.For | ast.AsyncFor | ast.While) -> None:
        """Twice round (values carried to the next iteration), then what ``break`` left."""
        self._exits.append([])
        before = dict(self.env)
        self._guarded([(node.body, [])])
        if self.env != before:  # a value carried round may reach further the second time
            self._guarded([(node.body, [])])
        self._guarded([(node.orelse, [])])
        for env in self._exits.pop():
            for k, v in env.items():
                self.env[k] = self.env.get(k, CLEAN) | v

    def _iterated(self, node: ast.expr) -> Taint:
        t = self.expr(node)
        if isinstance(node, ast.Name) and self.objs.get(node.id) in sources.CONSUMERS:
            return KINDS
        return t - MARKERS

    def assign(self, target: ast.expr, t: Taint, weak: bool = False) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = (self.env.get(target.id, CLEAN) | t) if weak else t
            prefix = target.id + "."
            for stale in [k for k in self.env if k.startswith(prefix)]:
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
        return None

    # -- expressions -----------------------------------------------------------------------
    def expr(self, node: ast.expr | None) -> Taint:
        if node is None or isinstance(node, ast.Constant | ast.Lambda):
            return CLEAN
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
            return responses.fixed_origin(node, union(self.expr(v) for v in node.values))
        if isinstance(node, ast.FormattedValue):
            t = self.expr(node.value)
            return t - {"log"} if node.conversion == ord("r") else t
        if isinstance(node, ast.BinOp):  # "a" + b + c ... : walk the left spine, not recurse
            t, spine = CLEAN, node
            while isinstance(spine, ast.BinOp):
                t |= self.expr(spine.right)
                spine = spine.left
            return responses.fixed_origin(node, t | self.expr(spine))
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

    def _attribute(self, node: ast.Attribute) -> Taint:
        path = sanitisers.key(node)
        if path is not None and path in self.env:
            return self.env[path]
        base = self.expr(node.value)
        if REQUEST in base:
            if node.attr in sources.REQUEST_ATTRS:
                return KINDS
            return AS_SESSION if node.attr == "session" else base - MARKERS
        if VIEW in base:
            return sources.VIEW_ATTRS.get(node.attr, CLEAN)
        owner = self.owner(node.value)
        if owner is not None:
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
        self.env = saved
        return t

    def call(self, node: ast.Call) -> Taint:
        return calls.evaluate(self, node)

    def qualname(self, func: ast.expr) -> str:
        parts: list[str] = []
        node = func
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            if node.id in self.objs:  # an object made in this function
                parts.append(self.objs[node.id] + "()")
            elif node.id in self.env:  # a local variable shadows imports and builtins
                parts.append(node.id)
            else:
                parts.append(self.mod.aliases.get(node.id, node.id))
        elif isinstance(node, ast.Call):
            parts.append(self.qualname(node.func) + "()")
        else:
            parts.append("?")
        return ".".join(reversed(parts))
