"""Per-file index: what a module imports, defines and exposes as entry points.

Building the index needs one file only, so it can run per file (in parallel,
or from a cache keyed on the file's content); the inter-procedural step in
``analysis.py`` then works over all indexes at once.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ramparts.scan.source import SourceFile

Function = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass
class ClassInfo:
    name: str
    bases: list[str]  # dotted origins of the base classes
    methods: dict[str, Function] = field(default_factory=dict)
    attrs: dict[str, ast.Call] = field(default_factory=dict)  # class attribute -> its making
    # declared fields (``name: str``, ``host = attr.ib()``) -> their type's last name ("" unknown)
    fields: dict[str, str] = field(default_factory=dict)


@dataclass
class ModuleIndex:
    sf: SourceFile
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> dotted origin
    functions: dict[str, Function] = field(default_factory=dict)
    # module-level definitions a later one of the same name replaces (if/else arms):
    # which one runs depends on run-time state, so each is analysed as an entry point
    shadowed: list[Function] = field(default_factory=list)
    # module-level list/tuple literals: a table of functions called by index (OPS[0](x))
    sequences: dict[str, ast.List | ast.Tuple] = field(default_factory=dict)
    star_imports: list[str] = field(default_factory=list)  # modules of ``from m import *``
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    callbacks: set[str] = field(default_factory=set)  # functions handed to a message consumer
    instances: dict[str, ast.Call] = field(default_factory=dict)  # global = Maker(...)
    constants: dict[str, str] = field(default_factory=dict)  # global = "text"
    # globals the operator sets: API = os.environ["API_BASE"], os.getenv(...), settings.X
    configured: set[str] = field(default_factory=set)
    dicts: dict[str, ast.Dict] = field(default_factory=dict)  # global = {...} (header sets)
    # handler = _impl, lambda_handler = wrap(_impl): exported name -> the app function it runs
    function_aliases: dict[str, str] = field(default_factory=dict)
    # views registered by a call, not a decorator: add_url_rule / add_api_route -> their rules
    registered: dict[str, list[str]] = field(default_factory=dict)
    # lines holding a name or method that may read attacker data on its own
    # (``request`` imported from flask, ``receive_message``): see ``reads_sources``
    source_lines: list[tuple[int, str]] = field(default_factory=list)

    def reads_sources(self, fn: Function) -> bool:
        """Whether ``fn`` mentions a source global or read method (so it is worth a run)."""
        end = fn.end_lineno or fn.lineno
        return any(fn.lineno <= line <= end for line, _ in self.source_lines)

    # top-level packages this module imports from (``flask``, ``django`` ...)
    imported_roots: set[str] = field(default_factory=set)

    def dotted(self, node: ast.expr | None) -> str:
        """``node`` as a dotted name with its first part resolved through the imports."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Call):
            parts.append(self.dotted(node.func) + "()")
        elif isinstance(node, ast.Name):
            parts.append(self.aliases.get(node.id, node.id))
        else:
            parts.append("?")
        return ".".join(reversed(parts))


# keyword arguments through which message clients take a consumer callback
_CALLBACK_KEYWORDS = {"cb", "callback", "on_message", "on_message_callback", "handler"}
_SUBSCRIBE_METHODS = {"subscribe", "basic_consume", "consume", "psubscribe", "add_handler"}


def build(sf: SourceFile, source_words: frozenset[str] = frozenset(),
          source_globals: frozenset[str] = frozenset()) -> ModuleIndex:
    """Index one parsed file.

    ``source_words`` (method names such as ``receive_message``) and
    ``source_globals`` (imported names such as ``flask.request``) are what
    ``sources.py`` counts as reading attacker data without a parameter.
    """
    mod = ModuleIndex(sf)
    tree = sf.tree
    if tree is None:
        return mod
    package = sf.module.rsplit(".", 1)[0] if "." in sf.module else ""
    if sf.rel.endswith("__init__.py"):
        package = sf.module
    watch = set(source_words)  # local names (and methods) that read attacker data
    for node in ast.walk(tree):
        kind = type(node)
        if kind is ast.Name:
            if node.id in watch:  # type: ignore[attr-defined]
                mod.source_lines.append((node.lineno, node.id))  # type: ignore[attr-defined]
        elif kind is ast.Attribute:
            if node.attr in source_words:  # type: ignore[attr-defined]
                mod.source_lines.append((node.lineno, node.attr))  # type: ignore[attr-defined]
        elif kind is ast.Call:
            _callbacks(mod, node)  # type: ignore[arg-type]
            _registered(mod, node)  # type: ignore[arg-type]
        elif kind is ast.Import or kind is ast.ImportFrom:
            for local, origin in _imported(node, package):  # type: ignore[arg-type]
                if local == "*":  # from m import *: m's names are this module's too
                    mod.star_imports.append(origin[:-2])
                mod.aliases[local] = origin
                if origin in source_globals:
                    watch.add(local)
    top = list(_module_level(tree.body))
    for stmt in top:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
            if stmt.name in mod.functions:
                mod.shadowed.append(mod.functions[stmt.name])
            mod.functions[stmt.name] = stmt
        elif isinstance(stmt, ast.ClassDef):
            info = ClassInfo(stmt.name, [mod.dotted(b) for b in stmt.bases])
            for item in stmt.body:
                if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef):
                    info.methods[item.name] = item
                info.attrs.update(_made(item))
                info.fields.update(_declared(item))
            mod.classes[stmt.name] = info
        mod.instances.update(_made(stmt))
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Dict):
            mod.dicts.update({t.id: stmt.value for t in stmt.targets if isinstance(t, ast.Name)})
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.List | ast.Tuple):
            mod.sequences.update({t.id: stmt.value for t in stmt.targets
                                  if isinstance(t, ast.Name)})
        if isinstance(stmt, ast.Assign) and _from_configuration(mod, stmt.value):
            mod.configured.update(t.id for t in stmt.targets if isinstance(t, ast.Name))
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant) \
                and isinstance(stmt.value.value, str):
            mod.constants.update({t.id: stmt.value.value for t in stmt.targets
                                  if isinstance(t, ast.Name)})
    for stmt in top:
        if isinstance(stmt, ast.Assign):
            _function_alias(mod, stmt)
    mod.imported_roots = {origin.split(".")[0] for origin in mod.aliases.values()}
    return mod


def _module_level(body: list[ast.stmt]) -> list[ast.stmt]:
    """Statements run at import time, those under ``if``/``try``/``with`` included.

    A handler defined in an ``else:`` or ``except ImportError:`` arm is as much
    the module's function as one at the top (adv-gate3 F8).
    """
    out: list[ast.stmt] = []
    for stmt in body:
        out.append(stmt)
        if isinstance(stmt, ast.If):
            out += _module_level(stmt.body) + _module_level(stmt.orelse)
        elif isinstance(stmt, ast.Try | ast.TryStar):
            out += _module_level(stmt.body)
            for h in stmt.handlers:
                out += _module_level(h.body)
            out += _module_level(stmt.orelse) + _module_level(stmt.finalbody)
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            out += _module_level(stmt.body)
    return out


def positional(fn: Function) -> list[str]:
    return [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]


def _made(stmt: ast.stmt) -> dict[str, ast.Call]:
    """``name = Maker(...)`` -> {name: that call}: what made an object bound at this level."""
    if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call):
        return {t.id: stmt.value for t in stmt.targets if isinstance(t, ast.Name)}
    return {}


def _from_configuration(mod: ModuleIndex, value: ast.expr) -> bool:
    """``os.environ["X"]``, ``os.getenv("X")``, ``os.environ.get("X")``, ``settings.X``."""
    if isinstance(value, ast.Subscript):
        return mod.dotted(value.value) == "os.environ"
    if isinstance(value, ast.Call):
        return mod.dotted(value.func) in ("os.getenv", "os.environ.get")
    if isinstance(value, ast.Attribute):
        return mod.dotted(value.value) in ("django.conf.settings", "settings")
    return False


def _declared(item: ast.stmt) -> dict[str, str]:
    """A class body's field declaration: ``name: str`` or ``host = attr.ib()``."""
    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
        if type_name(item.annotation) != "ClassVar":
            return {item.target.id: type_name(item.annotation)}
    if isinstance(item, ast.Assign) and isinstance(item.value, ast.Call):
        func = item.value.func
        if (getattr(func, "attr", None) or getattr(func, "id", "")) in _FIELD_MAKERS:
            return {t.id: "" for t in item.targets if isinstance(t, ast.Name)}
    return {}


_FIELD_MAKERS = frozenset({"ib", "attrib", "field", "Field"})


def type_name(node: ast.expr | None) -> str:
    """The type's last name: ``Annotated[int, Query()]`` -> ``int``, ``uuid.UUID`` -> UUID."""
    if isinstance(node, ast.Subscript):
        head = getattr(node.value, "id", None) or getattr(node.value, "attr", "")
        if head == "Annotated":
            first = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
            return type_name(first)
        if head == "Optional":
            return type_name(node.slice)
        return head
    if isinstance(node, ast.BinOp):  # int | None
        return type_name(node.left)
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _imported(node: ast.Import | ast.ImportFrom, package: str) -> list[tuple[str, str]]:
    """(local name, dotted origin) for each name an import binds."""
    if isinstance(node, ast.Import):
        return [(a.asname, a.name) if a.asname else (a.name.split(".")[0],) * 2
                for a in node.names]
    base = node.module or ""
    if node.level:
        parts = package.split(".") if package else []
        parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
        base = ".".join([*parts, base] if base else parts)
    return [(a.asname or a.name, f"{base}.{a.name}" if base else a.name) for a in node.names]


def _callbacks(mod: ModuleIndex, node: ast.Call) -> None:
    """``nc.subscribe("orders", cb=on_message)``: ``on_message`` receives messages."""
    if isinstance(node.func, ast.Attribute) and node.func.attr in _SUBSCRIBE_METHODS:
        for k in node.keywords:
            if k.arg in _CALLBACK_KEYWORDS and isinstance(k.value, ast.Name):
                mod.callbacks.add(k.value.id)


# wrappers around an imported callable: a module-level ``run = os.system`` is that callable
_CALLABLE_ORIGINS = frozenset({"eval", "exec", "compile", "open", "__import__"})


def _function_alias(mod: ModuleIndex, stmt: ast.Assign) -> None:
    """``handler = _impl`` / ``handler = wrap(_impl)`` / ``run = os.system`` at module level."""
    names = [t.id for t in stmt.targets if isinstance(t, ast.Name)]
    value = stmt.value
    if isinstance(value, ast.Call) and value.args and isinstance(value.args[0], ast.Name) \
            and value.args[0].id in mod.functions and mod.dotted(value.func) != "functools.partial":
        value = value.args[0]  # a decorator applied by hand: the wrapped function runs
    if isinstance(value, ast.Name) and value.id in mod.functions:
        for name in names:
            if name not in mod.functions:
                mod.function_aliases[name] = value.id
        return
    if isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name) \
            and value.value.id in mod.classes \
            and (fn := mod.classes[value.value.id].methods.get(value.attr)) is not None \
            and _static(fn):
        key = f"{value.value.id}.{value.attr}"  # a plain function under its class's name
        mod.functions.setdefault(key, fn)
        for name in names:
            if name not in mod.functions:
                mod.function_aliases[name] = key
        return
    if isinstance(value, ast.Name | ast.Attribute):
        origin = mod.dotted(value)
        root = origin.split(".")[0]
        if root in {o.split(".")[0] for o in mod.aliases.values()} and "." in origin \
                or origin in _CALLABLE_ORIGINS:
            for name in names:
                if name not in mod.functions and name not in mod.classes:
                    mod.aliases.setdefault(name, origin)


def _static(fn: Function) -> bool:
    return any(isinstance(d, ast.Name) and d.id == "staticmethod" for d in fn.decorator_list)


# (method, index of the view among the positional arguments, its keyword)
_REGISTRARS = {"add_url_rule": (2, "view_func"), "add_api_route": (1, "endpoint"),
               "add_route": (1, "endpoint"), "add_websocket_route": (1, "endpoint"),
               "add_api_websocket_route": (1, "endpoint")}


def _registered(mod: ModuleIndex, node: ast.Call) -> None:
    """``app.add_url_rule("/f/<name>", view_func=read_file)``: ``read_file`` is a view."""
    if not isinstance(node.func, ast.Attribute) or node.func.attr not in _REGISTRARS:
        return
    at, keyword = _REGISTRARS[node.func.attr]
    view = node.args[at] if len(node.args) > at else next(
        (k.value for k in node.keywords if k.arg == keyword), None)
    rule = node.args[0] if node.args else next(
        (k.value for k in node.keywords if k.arg in ("rule", "path")), None)
    if isinstance(view, ast.Name):
        text = rule.value if isinstance(rule, ast.Constant) and isinstance(rule.value, str) \
            else ""
        mod.registered.setdefault(view.id, []).append(text)
