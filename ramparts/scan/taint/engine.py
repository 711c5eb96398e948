"""Abstract interpretation of one function over taint sets.

The interpreter walks a function's statements once (a loop body again when a
value carried round changed), keeping for each local name the set of
sink kinds its value is still dangerous for. Branches run from the same state
and merge; a branch that ends in ``return``/``raise``/``abort()`` adds nothing
after the ``if``, and a guard's facts (``sanitisers.guard_facts``) clear what
the guard rules out in the arm where it holds. Sinks are checked at each call
(``sinks.check``), each store (``responses.check_store``) and each response
dict (``responses.check_dict``); calls into the app's own functions and
methods go back to the ``Program`` (``analysis.py``), which interprets the
callee with the arguments' taint. Expressions and stores are ``values.py``.
"""

from __future__ import annotations

import ast
import dataclasses

import ramparts.scan.taint.models as models
import ramparts.scan.taint.responses as responses
import ramparts.scan.taint.sanitisers as sanitisers
import ramparts.scan.taint.sinks as sinks
import ramparts.scan.taint.sources as sources
from ramparts.scan.taint.frameworks.base import MARKERS
from ramparts.scan.taint.rules import CLEAN, KINDS, Taint
from ramparts.scan.taint.values import Program, Values

__all__ = ["Interp", "Program"]

_NORMALISING_METHODS = frozenset({"resolve", "absolute", "realpath"})
_PASSING_MANAGERS = frozenset({
    "open", "io.open", "gzip.open", "bz2.open", "lzma.open", "tarfile.open", "zipfile.ZipFile",
    "tempfile.TemporaryDirectory", "tempfile.NamedTemporaryFile", "tempfile.TemporaryFile",
    "os.scandir", "threading.Lock", "threading.RLock", "urllib.request.urlopen",
    "requests.Session", "httpx.Client", "socket.socket", "sqlite3.connect"})
_MAX_PASSES = 12  # loop passes before everything the loop assigns counts as unknown


def join(envs: list[dict[str, Taint]]) -> dict[str, Taint]:
    """The env after any of ``envs``: each name's kinds joined; what a guard or store
    knew of a path (``d['k']``, ``obj.x``) only if every one of them still knows it
    (one arm's ``setattr(obj, k, v)`` or ``d.update()`` forgot it)."""
    out: dict[str, Taint] = {}
    for env in envs:
        for k, v in env.items():
            out[k] = out.get(k, CLEAN) | v
    for k in [k for k in out if ("." in k or "[" in k) and any(k not in e for e in envs)]:
        del out[k]
    return out


class Interp(Values):
    """Interprets one function body for one assignment of taint to its parameters."""

    def block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def _guarded(self, arms: list[tuple[list[ast.stmt], list[sanitisers.Fact]]],
                 starts: list[dict[str, Taint]] | None = None) -> None:
        """Run each arm from the same env (less what its guard rules out) and merge;
        ``starts`` gives each arm its own env instead."""
        base = dict(self.env)
        ends: list[dict[str, Taint]] = []
        for n, (body, facts) in enumerate(arms):
            self.env = dict(base if starts is None else starts[n])
            for name, kinds in facts:
                if name in self.env:
                    self.env[name] = self.env[name] - kinds
                elif "." in name or "[" in name:  # self.value / sub["url"] not in ALLOWED
                    self.env[name] = self._path_taint(name) - kinds
            self.block(body)
            if body and self._terminal(body[-1]):
                if isinstance(body[-1], ast.Break) and self._exits:
                    self._exits[-1].append(dict(self.env))  # it reaches the loop's end
                if isinstance(body[-1], ast.Continue) and self._continues:
                    self._continues[-1].append(dict(self.env))  # ... and the next pass
                continue
            ends.append(self.env)
        self.env = join(ends) if ends else base

    def _terminal(self, stmt: ast.stmt) -> bool:
        if isinstance(stmt, ast.Return | ast.Raise | ast.Continue | ast.Break):
            return True
        return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
                and self.qualname(stmt.value.func) in sanitisers.TERMINAL_CALLS)

    def _facts(self, test: ast.expr, truth: bool) -> list[sanitisers.Fact]:
        shapes = self.shapes
        if any(n in self.env for n in [*shapes.patterns, *shapes.constants]):
            # a local (or parameter) of the same name shadows the module's pattern (B12)
            shapes = dataclasses.replace(
                shapes, patterns={k: v for k, v in shapes.patterns.items() if k not in self.env},
                constants={k: v for k, v in shapes.constants.items() if k not in self.env})
        return sanitisers.guard_facts(test, truth, self.qualname, self.expr, shapes)

    def _shape(self, target: ast.expr, value: ast.expr | None) -> None:
        """Remember what kind of object a local name holds (client, argv list, parsed URL)."""
        if not isinstance(target, ast.Name):
            return
        name = target.id
        self.objs.pop(name, None)
        self.argv.pop(name, None)
        self.partials.pop(name, None)
        self.funcs.pop(name, None)
        self.html_names.discard(name)
        if value is not None and responses.html_headers(self, value):
            self.html_names.add(name)  # h = dict(HTML): "headers": h says text/html
        if isinstance(value, ast.Name | ast.Attribute | ast.Call) and (
                held := sinks.callable_sink(self.qualname(value))) is not None:
            self.funcs[name] = held  # f = eval / run = getattr(os, "system"): calls of f are it
        elif isinstance(value, ast.Call) and (module := self.called_module(value)) is not None:
            self.funcs[name] = module  # m = importlib.import_module("os"): m.system is os.system
        self.shapes.normalised.discard(name)
        self.shapes.url_of.pop(name, None)
        self.shapes.signed_of.pop(name, None)
        if isinstance(value, ast.Call):
            ctor = self.qualname(value.func)
            method = getattr(value.func, "attr", None)
            if ctor == "functools.partial":
                self.partials[name] = value
            if ctor in sinks.HTTP_CLIENTS or ctor.endswith(("getLogger", "get_logger")) \
                    or ctor in ("xml.sax.make_parser", "urllib.request.build_opener") \
                    or ctor.startswith(("ldap3.", "ldap.")):
                self.objs[name] = ctor
            elif ctor.endswith("XMLParser"):
                self.objs[name] = sinks.parser_kind(ctor, value)
            elif responses.unescaped(self, value):
                self.objs[name] = (responses.NOESCAPE_ENV if ctor.endswith("Environment")
                                   else responses.NOESCAPE_TEMPLATE)
            elif method in models.VALIDATORS and (
                    made := models.app_class(self, value.func.value)) is not None:  # type: ignore[attr-defined]
                self.objs[name] = "class:" + made
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
            if (signed := sanitisers.signed_message(ctor, value)) is not None:
                self.shapes.signed_of[name] = signed
        elif isinstance(value, ast.List | ast.Tuple):
            first = value.elts[0] if value.elts else None
            self.argv[name] = (CLEAN if first is None or isinstance(first, ast.Constant)
                               else self.expr(first))

    def stmt(self, node: ast.stmt) -> None:
        for points in self._points:
            points.append(dict(self.env))
        if isinstance(node, ast.Assign):
            t = self.expr(node.value)
            for target in node.targets:
                self._late_headers(target, node.value)
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
            if all(self._does_not_suppress(i.context_expr) for i in node.items):
                self.block(node.body)
            else:  # __exit__ may swallow an exception: go on from any point of the body
                self._points.append([])
                self._guarded([(node.body, [])])
                self.env = join([self.env, *self._points.pop()])
        elif isinstance(node, ast.Try | ast.TryStar):
            self._try(node)
        elif isinstance(node, ast.Match):
            subject = self.expr(node.subject)
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    name = getattr(sub, "name", None)
                    if isinstance(name, str):
                        self.env[name] = subject
            arms = [(c.body, []) for c in node.cases]
            last = node.cases[-1] if node.cases else None
            if last is None or last.guard is not None or not (
                    isinstance(last.pattern, ast.MatchAs) and last.pattern.pattern is None):
                arms.append(([], []))  # no case may match: the values before it go on
            self._guarded(arms)
        elif isinstance(node, ast.Raise | ast.Assert | ast.Delete):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)
        # nested defs and classes are not followed (see docs/scanning.md)

    def _try(self, node: ast.Try | ast.TryStar) -> None:
        """The body, then ``else`` from where the body ended; each handler from any point
        of the body (a raise may leave after some of its assignments), its ``as`` name
        holding whatever the body had (an exception's text often quotes the input)."""
        self._points.append([])
        self._guarded([(node.body, [])])
        points = self._points.pop()
        after = dict(self.env)
        start = join([*points, after])
        arms: list[tuple[list[ast.stmt], list[sanitisers.Fact]]] = [(node.orelse, [])]
        starts = [after]
        for h in node.handlers:
            env = dict(start)
            if h.name:
                held = CLEAN
                for v in start.values():
                    held |= v
                env[h.name] = held - MARKERS
            arms.append((h.body, []))
            starts.append(env)
        self._guarded(arms, starts)
        if node.finalbody:  # finally runs after any of them, or after an uncaught raise
            self.env = join([self.env, start])
        self.block(node.finalbody)

    def _does_not_suppress(self, manager: ast.expr) -> bool:
        """A context manager known to let exceptions through (files, locks, temp dirs)."""
        if not isinstance(manager, ast.Call):
            return False
        name = self.qualname(manager.func)
        return name in _PASSING_MANAGERS or (
            isinstance(manager.func, ast.Attribute) and manager.func.attr in ("open", "acquire"))

    def _late_headers(self, target: ast.expr, value: ast.expr) -> None:
        """``resp["headers"] = {"Content-Type": "text/html"}`` after the body was put in."""
        if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant) \
                and str(target.slice.value).lower() in ("headers", "multivalueheaders") \
                and responses.html_headers(self, value):
            self.hit(target, "xss", "an HTML response body", self.expr(target.value))

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
        """Round until nothing carried to the next pass changes: the loop is left from its
        head (after zero or more passes, joined with every ``continue``), then ``else``,
        joined with what each ``break`` left."""
        self._exits.append([])
        head = dict(self.env)
        for _ in range(_MAX_PASSES):
            self._continues.append([])
            self.env = dict(head)
            self._guarded([(node.body, [])])
            ends = [self.env, *self._continues.pop()]
            if isinstance(node, ast.For | ast.AsyncFor):  # the next item is bound again
                item = self._iterated_again(node, head)
                ends = [{**e, **item} for e in ends]
            joined = join([head, *ends])
            if joined == head:
                break
            head = joined
        else:  # not settled: whatever the loop assigns may be anything
            for sub in ast.walk(node):
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    head[sub.id] = KINDS
        self.env = head
        self._guarded([(node.orelse, [])])
        self.env = join([self.env, *self._exits.pop()])

    def _iterated_again(self, node: ast.For | ast.AsyncFor,
                        head: dict[str, Taint]) -> dict[str, Taint]:
        """The loop target's names as the head binds them (what the iterable gives)."""
        return {n.id: head[n.id] for n in ast.walk(node.target)
                if isinstance(n, ast.Name) and n.id in head}

    def _iterated(self, node: ast.expr) -> Taint:
        t = self.expr(node)
        if isinstance(node, ast.Name) and self.objs.get(node.id) in sources.CONSUMERS:
            return KINDS
        return t - MARKERS
