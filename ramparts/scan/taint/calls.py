"""What a call does to taint: sinks, sanitisers, sources, container writes, app calls.

Evaluated for every ``ast.Call`` the interpreter meets: the arguments are
evaluated first, the call is checked against the sink tables, and its result
taint is decided here: a call into the app's own code is interpreted by the
whole-program step; a sanitiser's result keeps only what it does not
neutralise; a request's data methods and a queue's read methods are sources;
anything else returns what its receiver and arguments carried.
"""

from __future__ import annotations

import ast
from typing import Any, Protocol

import ramparts.scan.taint.models as models
import ramparts.scan.taint.responses as responses
import ramparts.scan.taint.sanitisers as sanitisers
import ramparts.scan.taint.sinks as sinks
import ramparts.scan.taint.sources as sources
from ramparts.scan.taint.frameworks.base import AS_SESSION, MARKERS, REQUEST, SESSION, VIEW
from ramparts.scan.taint.index import ModuleIndex
from ramparts.scan.taint.rules import CLEAN, KINDS, Taint, union

_MUTATORS = frozenset({"append", "extend", "insert", "update", "add", "setdefault",
                       "appendleft", "extendleft", "__setitem__", "write", "writelines"})
# a lookup returns what the container holds: a tainted key into a clean dict is clean
_LOOKUPS = frozenset({"get", "pop", "getlist", "getone", "getall", "get_all"})
_ORM_LOOKUPS = frozenset({"django.shortcuts.get_object_or_404",
                          "django.shortcuts.get_list_or_404"})


class Caller(Protocol):
    """The interpreter state a call reads and updates (``engine.Interp``)."""

    mod: ModuleIndex
    env: dict[str, Taint]
    objs: dict[str, str]
    argv: dict[str, Taint]
    partials: dict[str, ast.Call]
    cls: str | None
    p: Any  # engine.Program

    def expr(self, node: ast.expr | None) -> Taint: ...

    def qualname(self, func: ast.expr) -> str: ...

    def owner(self, node: ast.expr) -> str | None: ...

    def hit(self, node: ast.AST, kind: str, sink: str, t: Taint) -> None: ...

    def module_dict(self, node: ast.expr) -> ast.Dict | None: ...

    def module_table(self, node: ast.expr) -> list[ast.expr]: ...


def evaluate(i: Caller, node: ast.Call) -> Taint:
    """Check ``node`` against the sinks and return the taint of its result."""
    if (bound := _partial(i, node.func)) is not None:  # run_sh = partial(subprocess.run, ...)
        call = ast.Call(func=bound.args[0], args=[*bound.args[1:], *node.args],
                        keywords=[*bound.keywords, *node.keywords])
        return evaluate(i, ast.copy_location(call, node))
    if (method_call := _method_caller(i, node)) is not None:
        return evaluate(i, method_call)  # operator.methodcaller("system", x)(os)
    args = [i.expr(a) for a in node.args]
    kwargs = {k.arg: i.expr(k.value) for k in node.keywords}
    name = i.qualname(node.func)
    func = node.func
    method = func.attr if isinstance(func, ast.Attribute) else None
    receiver = i.expr(func.value) if isinstance(func, ast.Attribute) else CLEAN
    sinks.check(i, node, name, method, args, kwargs, receiver)
    _handed_sinks(i, node, name, args, kwargs)

    if method in models.VALIDATORS and (cls := models.app_class(
            i, func.value)) is not None:  # type: ignore[union-attr]
        models.construct(i.p, cls, [], {None: args[0] if args else kwargs.get("obj", CLEAN)})
        return CLEAN  # the instance's taint is in its fields
    target = app_target(i, func, name)
    if target is not None:
        return i.p.call(i, node, target, args, kwargs,
                        receiver if target[2] is not None else None)
    everything = union([*args, *kwargs.values()]) - MARKERS
    if receiver & MARKERS:
        if REQUEST in receiver and method in sources.REQUEST_METHODS:
            return KINDS
        if REQUEST in receiver or SESSION in receiver or VIEW in receiver:
            return CLEAN  # request.is_secure(), session.get("user"), self.get_form()
    if name in sources.SESSION_FACTORIES:
        return AS_SESSION
    if method in sources.READ_METHODS or name in sources.CONSUMERS:
        return KINDS
    if name in sanitisers.CLEAR_ALL or name in responses.RESPONSE_OBJECTS:
        return CLEAN
    if not receiver and _stored(name, method):
        return CLEAN
    if name in sinks.URL_OBJECTS:  # the request's URL is what matters, not its body
        return (args[0] if args else CLEAN) | kwargs.get("url", CLEAN)
    if name in sanitisers.SANITISERS:
        return everything - sanitisers.sanitiser_clears(name, node)
    if name == "re.sub" and len(node.args) >= 3:
        return (args[1] | args[2]) - sanitisers.sub_clears(node)
    if method is None:
        return everything
    receiver = receiver - MARKERS
    if method in sanitisers.CLEAN_METHODS:
        return CLEAN
    if method in _LOOKUPS and args:  # the key picks a value, it does not become one
        return receiver | union([*args[1:], *kwargs.values()])
    if method == "format" and isinstance(func.value, ast.Call) and i.qualname(  # type: ignore[union-attr]
            func.value.func) in responses.MARKUP:  # type: ignore[union-attr]
        return (receiver | everything) - {"xss"}  # Markup(...).format() escapes its arguments
    if method == "format":
        return responses.fixed_origin(func.value, receiver | everything)  # type: ignore[union-attr]
    if method == "replace":
        return (receiver | union(args[1:])) - sanitisers.replace_clears(node.args)
    if method == "render":  # escaping is the template's choice, checked at render()
        return (receiver | everything) - {"xss"}
    if method in _MUTATORS and everything:
        _store_into(i, func.value, everything)  # type: ignore[union-attr]
    return receiver | everything


def _method_caller(i: Caller, node: ast.Call) -> ast.Call | None:
    """``methodcaller("m", *a, **k)(obj)`` is ``obj.m(*a, **k)``."""
    maker = node.func
    if not (isinstance(maker, ast.Call) and maker.args and len(node.args) == 1
            and isinstance(maker.args[0], ast.Constant) and isinstance(maker.args[0].value, str)
            and i.qualname(maker.func) == "operator.methodcaller"):
        return None
    func = ast.Attribute(value=node.args[0], attr=maker.args[0].value, ctx=ast.Load())
    call = ast.Call(func=ast.copy_location(func, node), args=maker.args[1:],
                    keywords=maker.keywords)
    return ast.copy_location(call, node)


def _handed_sinks(i: Caller, node: ast.Call, name: str, args: list[Taint],
                  kwargs: dict[str | None, Taint]) -> None:
    """A sink passed as a value, or picked from a table of functions, runs the input.

    ``apply(os.system, x)``, ``sorted([x], key=os.system)``, ``pool.submit(pickle.loads,
    blob)``: the sink is called with what the call it is handed to was given (assumed,
    as the callee is not followed). ``OPS[op](arg)`` with ``OPS = {"run": os.system}``
    may call any of the table's functions.
    """
    if name == "functools.partial":  # a partial is followed when it is called
        return
    handed = [*node.args, *(k.value for k in node.keywords)]
    taints = [*args, *kwargs.values()]
    for n, fn in enumerate(handed):
        if not isinstance(fn, ast.Name | ast.Attribute | ast.Call):
            continue
        value = union(t for m, t in enumerate(taints) if m != n) - MARKERS
        rest = [a for m, a in enumerate(handed) if m != n and not isinstance(a, ast.Starred)]
        if (sink := sinks.callable_sink(i.qualname(fn))) is not None:
            call = ast.copy_location(ast.Call(func=fn, args=rest, keywords=[]), node)
            sinks.check(i, call, sink, None, [value] * max(len(rest), 1), {}, CLEAN)
        elif value and isinstance(fn, ast.Name) and fn.id not in i.env and \
                (target := app_target(i, fn, i.qualname(fn))) is not None \
                and target[2] is None:  # apply(fetch, url): the app's function gets the input
            params = len(target[1].args.args) or 1
            i.p.call(i, node, target, [value] * params, {}, None)
    table = i.module_table(node.func.value) if isinstance(node.func, ast.Subscript) else []
    for fn in table:
        if (sink := sinks.callable_sink(i.qualname(fn))) is not None:
            sinks.check(i, node, sink, None, args, kwargs, CLEAN)


def _stored(name: str, method: str | None) -> bool:
    """What a database query returns is stored data, not the request that asked for it.

    Only for a receiver that is not attacker data itself (``request.query.get`` is).
    """
    return (method in sinks.SQL_METHODS or method in sinks.NOSQL_METHODS
            or name in _ORM_LOOKUPS or ".objects." in name or ".query." in name
            or "query()." in name)


def app_target(i: Caller, func: ast.expr, name: str) -> Any:
    """The app function or method a call runs, if the app defines it."""
    if isinstance(func, ast.Name):
        if func.id in i.env:
            return None
        return i.p.resolve(i.mod, i.mod.aliases.get(func.id, func.id), None)
    if isinstance(func, ast.Attribute):
        owner = i.owner(func.value)
        if owner is not None:
            return i.p.method(owner, func.attr)
        if isinstance(func.value, ast.Name) and func.value.id in i.env:
            return None
        if isinstance(func.value, ast.Call):  # Store().run(q)
            made = app_target(i, func.value.func, i.qualname(func.value.func))
            if made is not None and made[2] is not None and made[1].name == "__init__":
                return i.p.method(made[2], func.attr)
        return i.p.resolve(i.mod, name, None)
    return None


def _store_into(i: Caller, container: ast.expr, t: Taint) -> None:
    """``items.append(x)``: the container now holds what was put in it."""
    if isinstance(container, ast.Attribute):
        owner = i.owner(container.value)
        if owner is not None:
            i.p.store_field(owner, container.attr, t)
            return
    while isinstance(container, ast.Attribute | ast.Subscript):
        container = container.value
    if isinstance(container, ast.Name):
        i.env[container.id] = i.env.get(container.id, CLEAN) | t
        forget_paths(i.env, container.id)


def forget_paths(env: dict[str, Taint], name: str) -> None:
    """``name`` was changed in place: what guards and stores knew of ``name.x`` /
    ``name[k]`` may no longer hold (``params.update(body)`` after checking params["n"])."""
    prefixes = (name + ".", name + "[")
    for stale in [k for k in env if k.startswith(prefixes)]:
        del env[stale]


def _partial(i: Caller, func: ast.expr) -> ast.Call | None:
    """The ``functools.partial(f, ...)`` call a called name is bound to, if any."""
    if not isinstance(func, ast.Name):
        return None
    bound = i.partials.get(func.id)
    if bound is None and func.id not in i.env:
        bound = i.mod.instances.get(func.id)
    if bound is None or not bound.args or i.mod.dotted(bound.func) != "functools.partial":
        return None
    inner = bound.args[0]  # a partial of a partial (or of itself) is not followed
    if isinstance(inner, ast.Name) and (inner.id in i.partials or inner.id == func.id or (
            (made := i.mod.instances.get(inner.id)) is not None
            and i.mod.dotted(made.func) == "functools.partial")):
        return None
    return bound
