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
_PATH_ADDS = {"sys.path.insert": 1, "sys.path.append": 0, "sys.path.extend": 0,
              "site.addsitedir": 0}
# Python imports ``name.cpython-311-x86_64-linux-gnu.so`` (or ``name.abi3.so``, ``name.pyd``)
# in preference to a ``name.py`` beside it: native code no scanner reads (review 3, F9).
_NATIVE = (".so", ".pyd")
_ARCHIVES = (".zip", ".whl", ".egg", ".pyz")
_READS = {"read", "read_text", "read_bytes", "get_data", "read_binary", "readlines"}
_TASK_ROOTS = ("/var/task/",)
# A file can hold one of the calls above only if its text names it (an alias is imported by
# that name): files without any of these are not parsed here, so a warm, cached scan still
# parses no file.  Wider than the calls (``path.insert`` of any ``path``): it only skips work.
_MAY_CALL = re.compile(
    r"(?<![.\w])(?:exec|eval|compile)\s*\(|builtins|SourceFileLoader|SourcelessFileLoader"
    r"|ExtensionFileLoader|spec_from_file_location|run_path|zipimporter|load_source"
    r"|load_compiled|load_dynamic|\bpath\s*\.\s*(?:insert|append|extend)\b|addsitedir"
    r"|\bsys\s*\.\s*path\s*(?:\[|\+=|=)"
)


def run(
    tree: SourceTree,
    handlers: dict[str, set[str]],
    scan_code: Callable[[SourceTree, dict[str, set[str]]], list[Finding]],
) -> list[Finding]:
    """RP-G005 findings, and ``scan_code``'s findings on embedded literals, at their calls."""
    scanned = {sf.rel for sf in tree.python}
    out: list[Finding] = _native_modules(tree)
    ships_pth = any(f.rel.endswith(".pth") for f in tree.files)
    for sf in tree.python:
        if sf.text is None or _MAY_CALL.search(sf.text) is None:
            continue
        assert sf.tree is not None
        constants = _string_constants(sf.tree)
        imports = _import_aliases(sf.tree)
        bound = _module_bindings(sf.tree)
        read_names = _names_bound_to_reads(sf.tree, scanned)
        literals: list[tuple[int, str, str]] = []
        for node in ast.walk(sf.tree):  # iterative: deep files do not crash it
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                what = _path_assignment(node, bound)
                if what is not None:
                    out.append(_g005(sf, node, what))
                continue
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
                elif _mentions(node.args[0], read_names):
                    out.append(_g005(sf, node, f"{name}() of text read from a file "
                                               "(through a name bound to it)"))
            elif name in _LOADERS:
                arg = _argument(node, *_LOADERS[name])
                if arg is None or not _names_scanned(arg, scanned):
                    out.append(_g005(sf, node, f"{name}() loads code from a file"))
            elif name in _PATH_ADDS:
                arg = _argument(node, _PATH_ADDS[name], "")
                if name == "site.addsitedir" and ships_pth:
                    out.append(_g005(sf, node, "site.addsitedir() runs the app's .pth files, "
                                               "whose lines put more entries on sys.path"))
                else:
                    what = _unsafe_path_entry(arg, bound)
                    if what is not None:
                        out.append(_g005(sf, node, what))
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


def _native_modules(tree: SourceTree) -> list[Finding]:
    """RP-G005 for each shipped native extension module (``.so``/``.pyd``).

    Python imports an extension module from the app's own path like any
    ``.py`` file, and prefers it to a ``.py`` of the same name, so the code
    that runs is machine code no scanner reads (review 3, F9).  It is blocking;
    an app that means to ship one lists it in ``scan.exclude`` (then it is
    listed as excluded, a decision the reviewer sees).
    """
    out: list[Finding] = []
    for f in tree.files:
        name = PurePosixPath(f.rel).name
        if not name.endswith(_NATIVE) and ".so." not in name:
            continue
        out.append(Finding(
            RULE.rule_id,
            Severity.HIGH,
            f.rel,
            1,
            "a native extension module is shipped: Python imports it (in preference to a .py "
            "file of the same name), and its machine code is not analysed by the gate",
            "build native dependencies at deploy time from requirements.txt, or, after review, "
            "list the file in scan.exclude in ramparts.yaml",
            "gate",
            RULE.cwe,
            fingerprint_text=f"native:{f.rel}",
        ))
    return out


def _module_bindings(module: ast.Module) -> dict[str, ast.expr]:
    """Names assigned exactly once in the module (any scope), to the expression assigned."""
    values: dict[str, ast.expr] = {}
    counts: dict[str, int] = {}
    for node in ast.walk(module):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                if isinstance(t, ast.Name):
                    counts[t.id] = counts.get(t.id, 0) + 1
                    if isinstance(node, ast.Assign) and len(node.targets) == 1:
                        values[t.id] = node.value
    return {k: v for k, v in values.items() if counts.get(k) == 1}


_PATH_NAMES = {"__file__", "os", "sys", "pathlib", "Path", "PurePath", "PurePosixPath", "str",
               "abspath", "dirname", "join", "realpath", "normpath"}


def _unsafe_path_entry(arg: ast.expr | None, bound: dict[str, ast.expr]) -> str | None:
    """Why a value put on ``sys.path`` may load unscanned code, or None.

    A directory of the app on ``sys.path`` is harmless: its ``.py`` files are
    scanned like any other.  A *file* on ``sys.path`` is read by zipimport
    whatever its name (``fonts.dat``), so a path whose last part has a suffix
    is one (review 3, F3); so is a value the gate cannot follow to literals,
    ``__file__`` and module-level names.
    """
    if arg is None:
        return "a value the gate cannot follow is put on sys.path and imported from"
    seen: set[str] = set()
    todo = [arg]
    while todo:
        node = todo.pop()
        for sub in ast.walk(node):
            if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
                last = sub.value.rstrip("/").rsplit("/", 1)[-1]
                if "." in last.strip(".") or (last.startswith(".") and last not in {".", ".."}):
                    return (f"a file ({last}) is put on sys.path and imported from "
                            "(zipimport reads an archive under any name)")
            elif isinstance(sub, ast.Name) and sub.id not in _PATH_NAMES:
                if sub.id in bound and sub.id not in seen:
                    seen.add(sub.id)
                    todo.append(bound[sub.id])
                elif sub.id not in bound:
                    return (f"a value the gate cannot follow ({sub.id}) is put on sys.path "
                            "and imported from")
    return None


def _path_assignment(node: ast.Assign | ast.AugAssign, bound: dict[str, ast.expr]) -> str | None:
    """``sys.path += [...]``, ``sys.path[:0] = [...]``, ``sys.path = [...]``: as a path add."""
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    for t in targets:
        base = t.value if isinstance(t, ast.Subscript) else t
        if _dotted(base) == "sys.path":
            return _unsafe_path_entry(node.value, bound)
    return None


def _names_bound_to_reads(module: ast.Module, scanned: set[str]) -> set[str]:
    """Names assigned (anywhere) text read from a file, or from another such name.

    ``src = open(p).read(); exec(src)`` is the direct form with one name in
    between (review 3, F10); a file that is a scanned ``.py`` is not counted.
    """
    assigns: list[tuple[list[str], ast.expr]] = []
    for node in ast.walk(module):
        if isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            assigns.append((names, node.value))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and isinstance(
            node.target, ast.Name
        ) and node.value is not None:
            assigns.append(([node.target.id], node.value))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if isinstance(item.optional_vars, ast.Name):
                    assigns.append(([item.optional_vars.id], item.context_expr))
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for names, value in assigns:
            if all(n in found for n in names):
                continue
            hit = (_reads_file(value) and not _names_scanned(_opened(value), scanned)) or (
                _mentions(value, found)
            )
            if hit:
                found.update(names)
                changed = True
    return found


def _mentions(node: ast.expr, names: set[str]) -> bool:
    return bool(names) and any(
        isinstance(sub, ast.Name) and sub.id in names for sub in ast.walk(node)
    )
