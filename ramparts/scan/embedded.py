"""Code the app runs that is not a shipped ``.py`` file: string literals and loaded files.

The code scanners read ``.py`` files.  Python runs more than that:
``exec(compile(PLUGIN, "plugin", "exec"))`` runs a string literal, and
``SourceFileLoader("impl", "impl.txt")``, ``spec_from_file_location``,
``runpy.run_path``, ``zipimport``, a ``.zip``/``.whl`` put on ``sys.path`` or
``exec(open(...).read())`` run a file no scanner read as code.  Left alone,
that is a way to ship a handler the gate never analysed (review 2, F7).

So, in every parsed ``.py`` file:

* ``exec``/``eval``/``compile`` of a string literal (or of a module-level name
  bound once to one) has the literal parsed and scanned as Python, by the
  taint rules and bandit; what they find is reported at the call, under its own
  rule id, with the embedded line named in the message;
* a call that loads code from a file is RP-G005 (high), unless the file is a
  ``.py`` the gate scanned (a literal path, or a path expression ending in a
  literal, that names a shipped ``.py`` file).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from pathlib import PurePosixPath

from ramparts.scan import depth
from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.source import SourceFile, SourceTree

RULE = Rule(
    "RP-G005",
    "gate",
    "code-from-unscanned-file",
    "Code is loaded from a file the gate does not analyse as Python (a non-.py file, "
    "an archive on sys.path, or a path it cannot resolve to a scanned .py file).",
    "CWE-94",
)

_RUNS_TEXT = {"exec", "eval", "compile", "builtins.exec", "builtins.eval", "builtins.compile"}
# call -> index of the positional argument that names the file (or the keyword)
_LOADERS: dict[str, tuple[int, str]] = {
    "importlib.machinery.SourceFileLoader": (1, "path"),
    "importlib.machinery.SourcelessFileLoader": (1, "path"),
    "importlib.machinery.ExtensionFileLoader": (1, "path"),
    "importlib.util.spec_from_file_location": (1, "location"),
    "runpy.run_path": (0, "path_name"),
    "zipimport.zipimporter": (0, "path"),
    "imp.load_source": (1, "pathname"),
    "imp.load_compiled": (1, "pathname"),
    "imp.load_dynamic": (1, "pathname"),
}
_PATH_ADDS = {"sys.path.insert": 1, "sys.path.append": 0}
_ARCHIVES = (".zip", ".whl", ".egg", ".pyz")
_READS = {"read", "read_text", "read_bytes"}
_TASK_ROOTS = ("/var/task/",)
# A file can hold one of the calls above only if its text names it (an alias is imported by
# that name): files without any of these are not parsed here, so a warm, cached scan still
# parses no file.  Wider than the calls (``path.insert`` of any ``path``): it only skips work.
_MAY_CALL = re.compile(
    r"(?<![.\w])(?:exec|eval|compile)\s*\(|builtins|SourceFileLoader|SourcelessFileLoader"
    r"|ExtensionFileLoader|spec_from_file_location|run_path|zipimporter|load_source"
    r"|load_compiled|load_dynamic|\bpath\s*\.\s*(?:insert|append)\b"
)


def run(
    tree: SourceTree,
    handlers: dict[str, set[str]],
    scan_code: Callable[[SourceTree, dict[str, set[str]]], list[Finding]],
) -> list[Finding]:
    """RP-G005 findings, and ``scan_code``'s findings on embedded literals, at their calls."""
    scanned = {sf.rel for sf in tree.python}
    out: list[Finding] = []
    for sf in tree.python:
        if sf.text is None or _MAY_CALL.search(sf.text) is None:
            continue
        assert sf.tree is not None
        constants = _string_constants(sf.tree)
        imports = _import_aliases(sf.tree)
        literals: list[tuple[int, str, str]] = []
        for node in ast.walk(sf.tree):  # iterative: deep files do not crash it
            if not isinstance(node, ast.Call):
                continue
            name = _resolve(_dotted(node.func), imports)
            if name in _RUNS_TEXT and node.args:
                text = _literal(node.args[0], constants)
                if text is not None:
                    literals.append((node.lineno, name.rsplit(".", 1)[-1], text))
                elif _reads_file(node.args[0]) and not _names_scanned(
                    _opened(node.args[0]), scanned
                ):
                    out.append(_g005(sf, node, f"{name}() of text read from a file"))
            elif name in _LOADERS:
                arg = _argument(node, *_LOADERS[name])
                if arg is None or not _names_scanned(arg, scanned):
                    out.append(_g005(sf, node, f"{name}() loads code from a file"))
            elif name in _PATH_ADDS:
                arg = _argument(node, _PATH_ADDS[name], "")
                text = _literal(arg, constants) if arg is not None else None
                if text is not None and text.rstrip("/").lower().endswith(_ARCHIVES):
                    out.append(
                        _g005(
                            sf,
                            node,
                            f"an archive ({PurePosixPath(text).name}) is put "
                            "on sys.path and imported from",
                        )
                    )
        out += _scan_literals(sf, literals, handlers.get(sf.rel, set()), scan_code)
    return out


def _scan_literals(
    host: SourceFile,
    literals: list[tuple[int, str, str]],
    entries: set[str],
    scan_code: Callable[[SourceTree, dict[str, set[str]]], list[Finding]],
) -> list[Finding]:
    """Scan each literal as a file of its own; report what is found at the call."""
    from ramparts.scan.pyparse import Unparsable, parse_python

    out: list[Finding] = []
    seen: set[tuple[int, str]] = set()
    for line, how, text in literals:
        if (line, text) in seen:
            continue
        seen.add((line, text))
        rel = f"{host.rel[:-3]}.__{how}_{line}__.py"
        try:
            parsed = parse_python(text, filename=rel)
        except Unparsable:
            continue  # Python would not run it either: exec raises SyntaxError
        sf = SourceFile(rel, host.path, text)
        sf.tree = parsed.tree
        try:
            found = scan_code(SourceTree(host.path.parent, [sf]), {rel: set(entries)})
        except RecursionError:
            out.append(depth.too_deep(host.rel, f"{how}() string literal"))
            continue
        for f in found:
            if f.path != rel:
                continue
            f.message = (
                f"in code run by {how}() of a string literal, its line {f.line}: {f.message}"
            )
            f.fingerprint_text = host.line(line) + "\x1f" + f.fingerprint_text
            f.path, f.line, f.column = host.rel, line, 1
            out.append(f)
    return out


def _g005(sf: SourceFile, node: ast.Call, what: str) -> Finding:
    return Finding(
        RULE.rule_id,
        Severity.HIGH,
        sf.rel,
        node.lineno,
        f"{what}: that code is not analysed by the gate, and it runs in the function",
        "ship the code as a .py file and import it normally (it is then scanned), or load "
        "only a .py file of the app by a literal path",
        "gate",
        RULE.cwe,
        column=node.col_offset + 1,
        fingerprint_text=sf.line(node.lineno),
    )


def _dotted(node: ast.expr) -> str:
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return ""


def _import_aliases(module: ast.Module) -> dict[str, str]:
    """Local name -> dotted name for ``import a.b as c`` and ``from a import b as c``."""
    out: dict[str, str] = {}
    for node in ast.walk(module):
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def _resolve(name: str, imports: dict[str, str]) -> str:
    head, _, rest = name.partition(".")
    if head in imports:
        return imports[head] + ("." + rest if rest else "")
    return name


def _string_constants(module: ast.Module) -> dict[str, str]:
    """Module-level names assigned exactly once, to a string (or bytes) literal."""
    values: dict[str, str] = {}
    counts: dict[str, int] = {}
    for node in ast.walk(module):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        for t in targets:
            if isinstance(t, ast.Name):
                counts[t.id] = counts.get(t.id, 0) + 1
    for node in module.body:
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
        ):
            text = _constant(node.value)
            if text is not None and counts.get(node.targets[0].id) == 1:
                values[node.targets[0].id] = text
    return values


def _constant(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Constant) and isinstance(node.value, bytes):
        return node.value.decode("utf-8", "replace")
    return None


def _literal(node: ast.expr, constants: dict[str, str]) -> str | None:
    text = _constant(node)
    if text is None and isinstance(node, ast.Name):
        text = constants.get(node.id)
    return text


def _argument(call: ast.Call, index: int, keyword: str) -> ast.expr | None:
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in call.args):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == keyword), None)


def _reads_file(node: ast.expr) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            if isinstance(sub.func, ast.Attribute) and sub.func.attr in _READS:
                return True
            if isinstance(sub.func, ast.Name) and sub.func.id == "open":
                return True
    return False


def _opened(node: ast.expr) -> ast.expr:
    """The path argument of an ``open(...)`` inside ``node``, else ``node`` itself."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id == "open":
            return sub.args[0] if sub.args else node
    return node


def _names_scanned(node: ast.expr, scanned: set[str]) -> bool:
    """Does the path expression end in a literal naming a scanned .py file?"""
    tails = [
        c.value for c in ast.walk(node) if isinstance(c, ast.Constant) and isinstance(c.value, str)
    ]
    if not tails:
        return False
    tail = tails[-1]
    for root in _TASK_ROOTS:
        tail = tail.removeprefix(root)
    tail = tail.lstrip("/").removeprefix("./")
    if not tail.endswith(".py"):
        return False
    return any(rel == tail or rel.endswith("/" + tail) for rel in scanned)
