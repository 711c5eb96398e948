"""A static read of a handler's ``context`` calls: which actions on which resources.

Parses the handler's module (and the app's own modules it imports) with
``ast`` -- nothing is imported or run -- and finds calls such as
``context.kv.get("orders", key)`` or ``context.publish("order-created", m)``.
Literal arguments give a resource (``kv:orders/*`` when the key is not a
literal); an f-string keeps its literal prefix (``f"user-{uid}"`` ->
``user-*``); a name or expression the read cannot follow gives ``None``
for the resource: the action is known, the resource is not.

What it cannot see: calls through another name (``kv = context.kv`` then
``kv.get``), ``getattr`` tricks, code outside the app.  The advisor pairs it
with what the broker actually recorded.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from ramparts.manifest import parse_handler

# (namespace, method) -> (action, resource kind, positional arg names)
_CALLS: dict[tuple[str, str], tuple[str, str, tuple[str, ...]]] = {
    ("kv", "put"): ("kv:PutItem", "kv", ("table", "key")),
    ("kv", "get"): ("kv:GetItem", "kv", ("table", "key")),
    ("kv", "delete"): ("kv:DeleteItem", "kv", ("table", "key")),
    ("kv", "query"): ("kv:Query", "kvq", ("table",)),
    ("objects", "put"): ("objects:PutObject", "objects", ("bucket", "key")),
    ("objects", "get"): ("objects:GetObject", "objects", ("bucket", "key")),
    ("objects", "delete"): ("objects:DeleteObject", "objects", ("bucket", "key")),
    ("secrets", "get"): ("secrets:GetSecretValue", "secret", ("name",)),
    ("", "publish"): ("topics:Publish", "topic", ("topic",)),
    ("", "invoke"): ("functions:Invoke", "function", ("function",)),
}
_CONTEXT_NAMES = {"context", "ctx"}


@dataclass(frozen=True)
class StaticAccess:
    action: str
    resource: str | None  # short form, e.g. kv:orders/* ; None when not a literal
    file: str
    line: int


def _literal(node: ast.expr | None) -> str | None:
    """A string the code always passes, or a glob for an f-string; None if unknown."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.replace("*", "").replace("?", "") if node.value else None
    if isinstance(node, ast.JoinedStr):
        out = []
        for part in node.values:
            if isinstance(part, ast.Constant) and isinstance(part.value, str):
                out.append(part.value.replace("*", "").replace("?", ""))
            else:
                out.append("*")
        text = "".join(out)
        while "**" in text:
            text = text.replace("**", "*")
        return text or None
    return None


def _arg(call: ast.Call, index: int, name: str) -> ast.expr | None:
    if index < len(call.args):
        return call.args[index]
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


class _Finder(ast.NodeVisitor):
    def __init__(self, file: str) -> None:
        self.file = file
        self.names = set(_CONTEXT_NAMES)
        self.found: list[StaticAccess] = []

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        args = node.args.args
        if len(args) >= 2 and args[1].arg:
            self.names.add(args[1].arg)  # handler(event, context)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_Call(self, node: ast.Call) -> None:
        self.generic_visit(node)
        func = node.func
        if not isinstance(func, ast.Attribute):
            return
        base = func.value
        if isinstance(base, ast.Name) and base.id in self.names:
            spec = _CALLS.get(("", func.attr))
        elif (
            isinstance(base, ast.Attribute)
            and isinstance(base.value, ast.Name)
            and base.value.id in self.names
        ):
            spec = _CALLS.get((base.attr, func.attr))
        else:
            return
        if spec is None:
            return
        action, kind, argnames = spec
        first = _literal(_arg(node, 0, argnames[0]))
        resource: str | None
        if first is None:
            resource = None
        elif kind in ("kv", "objects"):
            key = _literal(_arg(node, 1, argnames[1]))
            resource = f"{kind}:{first}/{key or '*'}"
        elif kind == "kvq":
            resource = f"kv:{first}/*"
        else:
            resource = f"{kind}:{first}"
        self.found.append(StaticAccess(action, resource, self.file, node.lineno))


def reachable(tree: ast.Module, entry: str) -> list[ast.AST]:
    """The parts of a module the handler ``entry`` can run: module-level code, the handler,
    and the module's functions it calls by name (transitively).  Other handlers that share
    the file are left out, so one function is not credited with another's calls."""
    functions = {
        n.name: n for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    if entry not in functions:
        return [tree]
    nodes: list[ast.AST] = [
        n for n in tree.body if n.__class__.__name__ not in ("FunctionDef", "AsyncFunctionDef")
    ]
    seen: set[str] = set()
    todo = [entry]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        fn = functions[name]
        nodes.append(fn)
        for sub in ast.walk(fn):
            if isinstance(sub, ast.Name) and sub.id in functions and sub.id not in seen:
                todo.append(sub.id)
    for sub in list(nodes):
        if not isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
            for inner in ast.walk(sub):
                if isinstance(inner, ast.Name) and inner.id in functions and inner.id not in seen:
                    seen.add(inner.id)
                    nodes.append(functions[inner.id])
    return nodes


def scan_source(
    source: str, file: str = "<handler>", entry: str | None = None
) -> list[StaticAccess]:
    try:
        tree = ast.parse(source, filename=file)
    except SyntaxError:
        return []
    finder = _Finder(file)
    for part in reachable(tree, entry) if entry else [tree]:
        finder.visit(part)
    return sorted(finder.found, key=lambda a: a.line)


def _local_imports(tree: ast.AST, root: Path, here: Path) -> list[Path]:
    out: list[Path] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = here.parent
            for _ in range(node.level - 1):
                base = base.parent
            mods = [node.module] if node.module else [a.name for a in node.names]
            for m in mods:
                for cand in (base / (m.replace(".", "/") + ".py"), base / m / "__init__.py"):
                    if cand.is_file():
                        out.append(cand)
            continue
        for name in names:
            rel = name.replace(".", "/")
            for cand in (root / f"{rel}.py", root / rel / "__init__.py", here.parent / f"{rel}.py"):
                if cand.is_file():
                    out.append(cand)
    return out


def scan_handler(app_dir: Path, handler: str) -> list[StaticAccess]:
    """Context calls in the handler's file and the app modules it imports (transitively)."""
    root = app_dir.resolve()
    file, entry = parse_handler(handler)
    start = (root / file).resolve()
    seen: set[Path] = set()
    todo = [start]
    found: list[StaticAccess] = []
    while todo:
        path = todo.pop()
        if path in seen or not path.is_file() or not path.is_relative_to(root):
            continue
        seen.add(path)
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source, filename=str(path))
        except (OSError, UnicodeDecodeError, SyntaxError):
            continue
        finder = _Finder(str(path.relative_to(root)))
        for part in reachable(tree, entry) if path == start else [tree]:
            finder.visit(part)
        found.extend(sorted(finder.found, key=lambda a: a.line))
        todo.extend(p.resolve() for p in _local_imports(tree, root, path))
    return found
