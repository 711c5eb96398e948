"""The whole-program step: entry points, calls between the app's functions, findings.

Every module is indexed on its own (``index.build``); this step then
interprets each entry point with its sources, following calls into functions
and methods the app defines (``MAX_DEPTH`` deep, memoised on the callee and
the taint of its arguments). Attribute stores on instances of the app's
classes (``self.x = ...``) are kept per class and attribute, flow-insensitively;
entry points are run again until those stores stop changing (at most
``MAX_ROUNDS`` times), so a value stored by one method reaches another.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import cast

import ramparts.scan.taint.index as index
import ramparts.scan.taint.models as models
import ramparts.scan.taint.sources as sources
from ramparts.scan.findings import Finding
from ramparts.scan.source import SourceTree
from ramparts.scan.taint.engine import Interp
from ramparts.scan.taint.frameworks import fastapi
from ramparts.scan.taint.frameworks.base import MARKERS, Entry
from ramparts.scan.taint.index import Function, ModuleIndex, positional
from ramparts.scan.taint.rules import CLEAN, MESSAGES, RULES, SEVERITY, Taint

MAX_DEPTH = 4  # handler -> helper -> helper's helper -> ...
MAX_ROUNDS = 3
Target = tuple[ModuleIndex, Function, str | None]


# the constructor of an app class that defines no __init__ (its instances still count)
_NO_INIT = cast(Function, ast.parse("def __init__(self, *args, **kwargs):\n    pass").body[0])


@dataclass(frozen=True)
class _Hit:
    kind: str
    sink: str
    rel: str
    line: int
    col: int
    via: str


class Program:
    """One run over a tree; ``findings()`` returns what it found."""

    def __init__(self, indexes: list[ModuleIndex], handlers: dict[str, set[str]]) -> None:
        self.modules = {m.sf.module: m for m in indexes}
        self.handlers = handlers
        self.hits: dict[tuple[str, str, int], _Hit] = {}
        self.fields: dict[tuple[str, str], Taint] = {}
        self._changed = False
        self._memo: dict[tuple[int, tuple[tuple[str, Taint], ...]], Taint] = {}
        self._active: set[int] = set()
        self._argv: dict[int, Taint | None] = {}
        self._field_classes: dict[tuple[str, str], str] = {}
        self._globals: dict[tuple[str, str], str | None] = {}

    # -- the run -------------------------------------------------------------------------
    def findings(self) -> list[Finding]:
        entries = [(m, e) for m in self.modules.values()
                   for e in sources.entries(m, self.handlers.get(m.sf.rel, set()))]
        for _ in range(MAX_ROUNDS):
            self._changed = False
            self._memo.clear()
            tainted_classes = {cls for cls, _ in self.fields}
            for mod, entry in entries:
                if entry.origin != "code" or entry.reads or (
                        entry.cls and f"{mod.sf.module}:{entry.cls}" in tainted_classes):
                    self._entry(mod, entry)
            if not self._changed:
                break
        return [self._finding(h) for h in self.hits.values()]

    def _entry(self, mod: ModuleIndex, entry: Entry) -> None:
        cls = f"{mod.sf.module}:{entry.cls}" if entry.cls else None
        env, objs = dict(entry.params), {}
        for name, dep in entry.depends.items():
            env[name] = self._dependency(mod, dep) | env.get(name, CLEAN)
        for name, annotation in entry.models.items():  # a body model the framework fills
            made = self.resolve(mod, mod.dotted(annotation), None)
            if made is not None and made[2] is not None and made[1].name == "__init__" \
                    and models.declared_fields(self, made[2]):
                models.construct(self, made[2], [], {None: env.pop(name, CLEAN)})
                objs[name] = "class:" + made[2]
        interp = self._interpret(mod, entry.fn, env, 0, "", cls, objs)
        if entry.html_returns:
            for node, t in interp.return_nodes:
                if _returns_text(node.value):
                    interp.hit(node, "xss", "the view's return value", t)

    def _dependency(self, mod: ModuleIndex, dep: ast.expr) -> Taint:
        """What a FastAPI dependency returns, run with its parameters filled from the request.

        A dependency's own dependencies are not followed (they count as the app's).
        """
        target = self.resolve(mod, mod.dotted(dep), None)
        if target is None or target[2] is not None:
            return CLEAN
        dep_mod, fn, _ = target
        filled = Entry(fn, "fastapi")
        fastapi.fill(filled, fn)
        if not filled.params:
            return CLEAN
        return self._interpret(dep_mod, fn, dict(filled.params), 0, "", None).returns - MARKERS

    def _interpret(self, mod: ModuleIndex, fn: Function, env: dict[str, Taint], depth: int,
                   via: str, cls: str | None, objs: dict[str, str] | None = None) -> Interp:
        params = positional(fn)
        self_name = params[0] if cls is not None and params else None
        interp = Interp(self, mod, env, depth, via, cls, self_name)
        interp.objs.update(objs or {})
        interp.block(fn.body)
        return interp

    # -- engine.Program -------------------------------------------------------------------
    def resolve(self, mod: ModuleIndex, dotted: str, cls: str | None) -> Target | None:
        """The app's function (or class constructor) a dotted name refers to."""
        if "." not in dotted:
            return self._in_module(mod, dotted)
        module, _, name = dotted.rpartition(".")
        target = self.modules.get(module)
        if target is not None:
            return self._in_module(target, name)
        if module in mod.classes:  # Storage.read(x): a classmethod/staticmethod of this module
            return self.method(f"{mod.sf.module}:{module}", name)
        module, _, klass = module.rpartition(".")
        owner = self.modules.get(module)
        if owner is not None and klass in owner.classes:
            return self.method(f"{module}:{klass}", name)
        return None

    def _in_module(self, mod: ModuleIndex, name: str, seen: int = 0) -> Target | None:
        if seen > 5:
            return None
        if name in mod.functions:
            return mod, mod.functions[name], None
        if name in mod.classes:
            cls = f"{mod.sf.module}:{name}"
            return self.method(cls, "__init__") or (mod, _NO_INIT, cls)
        if name in mod.function_aliases:
            return mod, mod.functions[mod.function_aliases[name]], None
        alias = mod.aliases.get(name)
        if alias and alias != name and "." in alias:
            module, _, short = alias.rpartition(".")
            target = self.modules.get(module)
            if target is not None and target is not mod:
                return self._in_module(target, short, seen + 1)
        for star in mod.star_imports:  # from m import * (a package __init__ re-export too)
            target = self.modules.get(star)
            if target is not None and target is not mod and name not in mod.aliases:
                found = self._in_module(target, name, seen + 1)
                if found is not None:
                    return found
        return None

    def method(self, cls: str, name: str, seen: int = 0) -> Target | None:
        """A method of an app class, looked up through the app's own base classes."""
        module, _, klass = cls.partition(":")
        mod = self.modules.get(module)
        info = mod.classes.get(klass) if mod is not None else None
        if mod is None or info is None or seen > 5:
            return None
        if name in info.methods:
            return mod, info.methods[name], cls
        for base in info.bases:
            base_module, _, base_name = base.rpartition(".")
            owner = self.modules.get(base_module) if base_module else mod
            if owner is not None and base_name in owner.classes:
                found = self.method(f"{owner.sf.module}:{base_name}", name, seen + 1)
                if found is not None:
                    return found
        return None

    def call(self, caller: Interp, node: ast.Call, target: Target, args: list[Taint],
             kwargs: dict[str | None, Taint], receiver: Taint | None) -> Taint:
        mod, fn, cls = target
        everything = frozenset().union(*args, *kwargs.values())
        if caller.depth + 1 > MAX_DEPTH:
            return everything  # too deep to follow: assume the value carries its inputs
        if fn is _NO_INIT and cls is not None:  # a data model: its fields take the input
            models.construct(self, cls, args, kwargs)
            return CLEAN
        params = positional(fn)
        env: dict[str, Taint] = {}
        if cls is not None and params and not _is_static(fn):
            env[params[0]] = receiver or CLEAN
            params = params[1:]
        for i, t in enumerate(args):
            if i < len(params):
                env[params[i]] = t
            elif fn.args.vararg is not None:
                env[fn.args.vararg.arg] = env.get(fn.args.vararg.arg, CLEAN) | t
        keyword_only = {a.arg for a in fn.args.kwonlyargs}
        for k, t in kwargs.items():
            if k is None:  # f(**spread): it may fill any parameter not given by position
                for name in [*params[len(args):], *keyword_only]:
                    env[name] = env.get(name, CLEAN) | t
            if k is not None and (k in params or k in keyword_only):
                env[k] = t
            elif fn.args.kwarg is not None:
                env[fn.args.kwarg.arg] = env.get(fn.args.kwarg.arg, CLEAN) | t
        env = {k: v for k, v in env.items() if v}
        if not env and cls is None:
            return CLEAN
        key = (id(fn), tuple(sorted(env.items(), key=lambda kv: kv[0])))
        if key in self._memo:
            return self._memo[key]
        if id(fn) in self._active:
            return everything  # recursion: assume the value carries its inputs
        hop = f"{caller.mod.sf.rel}:{node.lineno} -> {mod.sf.rel}:{fn.name}"
        via = hop if caller.depth == 0 else f"{caller.via}; {hop}"
        self._active.add(id(fn))
        try:
            interp = self._interpret(mod, fn, env, caller.depth + 1, via, cls)
        finally:
            self._active.discard(id(fn))
        result = CLEAN if fn.name == "__init__" else interp.returns
        self._memo[key] = result
        self._argv[id(fn)] = None if interp.returns_other or not interp.return_nodes \
            else interp.return_argv
        return result

    def report(self, mod: ModuleIndex, node: ast.AST, kind: str, sink: str, via: str) -> None:
        line = getattr(node, "lineno", 1)
        key = (kind, mod.sf.rel, line)
        if key not in self.hits:
            self.hits[key] = _Hit(kind, sink, mod.sf.rel, line,
                                  getattr(node, "col_offset", 0), via)

    def field(self, cls: str, attr: str) -> Taint:
        return self.fields.get((cls, attr), CLEAN)

    def field_class(self, cls: str, attr: str) -> str | None:
        """The app class of ``self.attr``: stored by a method, or a class attribute."""
        if (cls, attr) in self._field_classes:
            return self._field_classes[(cls, attr)]
        module, _, klass = cls.partition(":")
        mod = self.modules.get(module)
        info = mod.classes.get(klass) if mod is not None else None
        if mod is None or info is None or attr not in info.attrs:
            return None
        made = self.resolve(mod, mod.dotted(info.attrs[attr].func), None)
        return made[2] if made is not None and made[1].name == "__init__" else None

    def store_field_class(self, cls: str, attr: str, of: str) -> None:
        self._field_classes[(cls, attr)] = of

    def global_class(self, mod: ModuleIndex, name: str) -> str | None:
        """The app class of a module-level instance (``repo = OrderRepo(...)``)."""
        key = (mod.sf.module, name)
        if key not in self._globals:
            ctor = mod.instances.get(name)
            made = self.resolve(mod, mod.dotted(ctor.func), None) if ctor is not None else None
            self._globals[key] = made[2] if made is not None and made[1].name == "__init__" \
                else None
        return self._globals[key]

    def argv_of(self, fn: Function) -> Taint | None:
        return self._argv.get(id(fn))

    def store_field(self, cls: str, attr: str, t: Taint) -> None:
        old = self.fields.get((cls, attr), CLEAN)
        if t - old:
            self.fields[(cls, attr)] = old | t
            self._changed = True

    # -- output ---------------------------------------------------------------------------
    def _finding(self, hit: _Hit) -> Finding:
        rule = RULES[hit.kind]
        message, remediation = MESSAGES[hit.kind]
        msg = message.format(sink=hit.sink)
        if hit.via:
            msg += f" (via {hit.via})"
        sf = self.modules_by_rel()[hit.rel].sf
        return Finding(
            rule_id=rule.rule_id,
            severity=SEVERITY[hit.kind],
            path=hit.rel,
            line=hit.line,
            column=hit.col + 1,
            message=msg,
            remediation=remediation,
            family="taint",
            cwe=rule.cwe,
            fingerprint_text=sf.line(hit.line) + "\x1f" + hit.sink,
        )

    def modules_by_rel(self) -> dict[str, ModuleIndex]:
        return {m.sf.rel: m for m in self.modules.values()}


def _is_static(fn: Function) -> bool:
    return any(getattr(d, "id", "") == "staticmethod" for d in fn.decorator_list)


def _returns_text(value: ast.expr | None) -> bool:
    """A view's return value that Flask sends as text/html (not a dict, list or response)."""
    if isinstance(value, ast.Tuple) and value.elts:
        value = value.elts[0]
    return not isinstance(value, ast.Dict | ast.List | ast.Constant | ast.Tuple | None)


def run(tree: SourceTree, handlers: dict[str, set[str]] | None = None) -> list[Finding]:
    """Taint findings for the tree; ``handlers`` maps file -> declared handler names."""
    indexes = [index.build(sf, sources.SOURCE_WORDS, sources.SOURCE_GLOBALS)
               for sf in tree.python]
    return Program(indexes, handlers or {}).findings()
