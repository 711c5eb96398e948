"""Ramparts' own SAST rules: data from the ``event`` into dangerous sinks.

Bandit looks at one call at a time; it cannot tell ``eval("1+1")`` from
``eval(event["body"])``.  These rules know that a handler's ``event`` is
attacker-controlled (HTTP body, query string, path parameters, headers, SQS
record bodies, S3 object keys ...) and follow it:

* intra-procedurally through assignments, tuple unpacking, augmented
  assignment, ``for`` targets, ``with ... as``, f-strings, ``%`` and ``+``
  concatenation, ``.format``, ``str.join``, dict/list/attribute access,
  container literals and comprehensions, and method calls on tainted values;
* inter-procedurally into functions defined in the same package (same module
  or imported from a module of the app), up to ``MAX_DEPTH`` calls deep: a
  tainted argument taints the parameter, sinks inside the callee are
  reported at their own line, and a callee returning tainted data taints the
  call's value.

Taint is a set of the sink kinds a value is still dangerous for, so a
sanitiser clears only what it actually neutralises (``shlex.quote`` clears
``command``, ``os.path.basename`` clears ``path``, ``int()`` clears all).
A few guards are understood: ``if x not in ALLOWED: return`` (also ``!=``,
``not x.isdigit()``, ``not re.fullmatch(P, x)``, ``not p.is_relative_to(base)``)
clears ``x`` after the ``if``, and the positive forms clear it inside the
``if`` body.  A URL whose scheme and host are fixed by a literal prefix
(``f"https://api.example.com/items/{id}"``) is not an SSRF target.

Limits are listed in docs/scanning.md: no classes/methods as callees, no
aliasing through containers held elsewhere, no general path-sensitivity (only
the guard shapes above).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.source import SourceFile, SourceTree

MAX_DEPTH = 3  # handler -> helper -> helper's helper

KINDS = frozenset({"code", "command", "sql", "deserialize", "path", "ssrf", "template"})
Taint = frozenset[str]
CLEAN: Taint = frozenset()

RULES = {
    "code": Rule(
        "RP-T001",
        "taint",
        "event-to-eval",
        "Event data reaches eval/exec/compile: arbitrary code execution.",
        "CWE-94",
    ),
    "command": Rule(
        "RP-T002",
        "taint",
        "event-to-shell",
        "Event data reaches a shell command (os.system, os.popen, subprocess with shell=True).",
        "CWE-78",
    ),
    "sql": Rule(
        "RP-T003",
        "taint",
        "event-to-sql",
        "SQL built from event data by formatting or concatenation is executed.",
        "CWE-89",
    ),
    "deserialize": Rule(
        "RP-T004",
        "taint",
        "event-to-unsafe-deserialization",
        "Event data is deserialised with pickle/marshal/yaml.load without a safe loader.",
        "CWE-502",
    ),
    "path": Rule(
        "RP-T005",
        "taint",
        "event-to-file-path",
        "An event-controlled path is opened without normalisation (path traversal).",
        "CWE-22",
    ),
    "ssrf": Rule(
        "RP-T006",
        "taint",
        "event-to-outbound-url",
        "An outbound request goes to an event-controlled URL (SSRF).",
        "CWE-918",
    ),
    "template": Rule(
        "RP-T007",
        "taint",
        "event-to-template",
        "A template is compiled from event data (server-side template injection).",
        "CWE-1336",
    ),
}

_MESSAGES = {
    "code": ("event data reaches {sink}() and is run as code", "never evaluate request data; "
             "parse it (json.loads, ast.literal_eval) or dispatch through a fixed mapping"),
    "command": ("event data reaches the shell through {sink}()", "pass an argument list "
                "without shell=True, or validate against an allowlist and shlex.quote() it"),
    "sql": ("SQL built from event data is passed to {sink}()", "use a parameterised query: "
            "execute(\"... WHERE id = ?\", (value,))"),
    "deserialize": ("event data is deserialised with {sink}()", "use json, or "
                    "yaml.safe_load / yaml.load(..., Loader=yaml.SafeLoader)"),
    "path": ("an event-controlled path reaches {sink}() without normalisation", "reduce it to "
             "a file name (os.path.basename) or resolve it and check it stays in its base dir"),
    "ssrf": ("an outbound request via {sink}() goes to an event-controlled URL", "pick the host "
             "from a fixed allowlist; never let the event choose the URL (see also egress:)"),
    "template": ("a template is compiled from event data with {sink}()", "load templates from "
                 "files and pass event data only as render() variables"),
}

# -- call classification ----------------------------------------------------------------------
_CODE_SINKS = {"eval", "exec", "compile", "builtins.eval", "builtins.exec"}
_SHELL_ALWAYS = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput",
                 "commands.getoutput", "os.popen2", "os.popen3", "asyncio.create_subprocess_shell"}
_SUBPROCESS = {"subprocess.call", "subprocess.run", "subprocess.Popen", "subprocess.check_call",
               "subprocess.check_output"}
# calls whose first argument names the program to run (no shell, but the event picks it)
_EXEC_PROGRAM = {"os.execl", "os.execle", "os.execlp", "os.execlpe", "os.execv", "os.execve",
                 "os.execvp", "os.execvpe", "os.posix_spawn", "os.posix_spawnp",
                 "asyncio.create_subprocess_exec"}
_SHELLS = ("sh", "bash", "zsh", "dash", "ksh")
_SQL_METHODS = {"execute", "executemany", "executescript", "raw", "mogrify"}
_SQL_FUNCS = {"sqlalchemy.text", "sqlalchemy.sql.text"}
_DESERIALIZE = {"pickle.loads", "pickle.load", "pickle.Unpickler", "cPickle.loads",
                "cPickle.load", "marshal.loads", "marshal.load", "dill.loads", "dill.load",
                "shelve.open", "jsonpickle.decode", "yaml.unsafe_load", "yaml.full_load",
                "yaml.unsafe_load_all", "yaml.full_load_all", "pandas.read_pickle"}
_YAML_LOAD = {"yaml.load", "yaml.load_all"}  # unsafe unless given a safe Loader
_SAFE_YAML_LOADERS = {"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"}
_PATH_SINKS = {"open", "io.open", "os.open", "codecs.open", "os.remove", "os.unlink",
               "os.rmdir", "os.listdir", "os.scandir", "shutil.rmtree", "shutil.copy",
               "shutil.copyfile", "shutil.move", "os.rename", "tarfile.open", "zipfile.ZipFile"}
_PATH_METHODS = {"read_text", "read_bytes", "write_text", "write_bytes", "unlink", "rmdir",
                 "iterdir"}
_HTTP_LIBS = ("requests", "httpx", "urllib3")
_HTTP_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream"}
_HTTP_CLIENTS = {"requests.Session", "requests.session", "httpx.Client", "httpx.AsyncClient",
                 "urllib3.PoolManager", "aiohttp.ClientSession"}
_URL_FUNCS = {"urllib.request.urlopen", "urllib.request.Request", "urllib.urlopen",
              "urllib2.urlopen", "http.client.HTTPConnection", "http.client.HTTPSConnection",
              "socket.create_connection"}
_TEMPLATE_FUNCS = {"jinja2.Template", "jinja2.environment.Template", "mako.template.Template",
                   "flask.render_template_string", "django.template.Template",
                   "chameleon.PageTemplate"}
_TEMPLATE_METHODS = {"from_string", "render_template_string"}

# sanitisers: which kinds they clear
_CLEAR_ALL = {"int", "float", "bool", "len", "abs", "round", "hash", "uuid.UUID", "ord",
              "hashlib.sha256", "hashlib.sha1", "hashlib.md5", "hmac.compare_digest",
              "datetime.datetime.fromisoformat", "decimal.Decimal", "isinstance", "callable",
              "id", "type"}
_SANITIZERS: dict[str, frozenset[str]] = {
    "shlex.quote": frozenset({"command"}),
    "pipes.quote": frozenset({"command"}),
    "os.path.basename": frozenset({"path"}),
    "os.path.normpath": frozenset({"path"}),
    "os.path.realpath": frozenset({"path"}),
    "os.path.abspath": frozenset({"path"}),
    "werkzeug.utils.secure_filename": frozenset({"path"}),
    "html.escape": frozenset({"template"}),
    "markupsafe.escape": frozenset({"template"}),
    "ast.literal_eval": frozenset({"code"}),
}
_SANITIZER_METHODS: dict[str, frozenset[str]] = {"resolve": frozenset({"path"})}
_CLEAN_METHODS = {"isdigit", "isalnum", "isalpha", "startswith", "endswith", "count", "index",
                  "find", "is_relative_to", "exists", "is_file", "is_dir", "hexdigest", "digest"}
_CONTEXT_PARAMS = {"context", "ctx", "_context", "lambda_context", "_ctx"}
_MUTATORS = {"append", "extend", "insert", "update", "add", "setdefault", "appendleft"}
# a lookup returns what the container holds: a tainted key into a clean dict is clean
_LOOKUPS = {"get", "pop"}
# attributes of a path object that keep only the final component
_PATH_PARTS = {"name", "stem", "suffix"}
# checks on a value's characters: they rule out quotes, metacharacters and "../", not hosts
_CHARSET_CHECKS = {"isdigit", "isdecimal", "isnumeric", "isalnum", "isalpha", "isidentifier"}
_FIXED_ORIGIN = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://[^/?#{}@%\s]+/")


@dataclass
class _Module:
    sf: SourceFile
    aliases: dict[str, str] = field(default_factory=dict)  # local name -> dotted origin
    functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = field(default_factory=dict)


@dataclass
class _Hit:
    kind: str
    sink: str
    sf: SourceFile
    line: int
    col: int
    via: str


class TaintAnalysis:
    """One run over a tree; ``analyze`` returns the findings."""

    def __init__(self, tree: SourceTree, handlers: dict[str, set[str]] | None = None) -> None:
        self.tree = tree
        self.handlers = handlers or {}
        self.modules: dict[str, _Module] = {}
        self.by_rel: dict[str, _Module] = {}
        for sf in tree.python:
            mod = self._index(sf)
            self.modules[sf.module] = mod
            self.by_rel[sf.rel] = mod
        self.hits: dict[tuple[str, str, int], _Hit] = {}
        self._memo: dict[tuple[int, tuple[tuple[str, Taint], ...]], Taint] = {}
        self._active: set[int] = set()

    def _index(self, sf: SourceFile) -> _Module:
        mod = _Module(sf)
        assert sf.tree is not None
        package = sf.module.rsplit(".", 1)[0] if "." in sf.module else ""
        if sf.rel.endswith("__init__.py"):
            package = sf.module
        for node in ast.walk(sf.tree):
            if isinstance(node, ast.Import):
                for a in node.names:
                    if a.asname:
                        mod.aliases[a.asname] = a.name
                    else:
                        top = a.name.split(".")[0]
                        mod.aliases[top] = top
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".") if package else []
                    parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                    base = ".".join([*parts, base] if base else parts)
                for a in node.names:
                    mod.aliases[a.asname or a.name] = f"{base}.{a.name}" if base else a.name
        for stmt in sf.tree.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                mod.functions[stmt.name] = stmt
        return mod

    # -- entry points ----------------------------------------------------------------------
    def analyze(self) -> list[Finding]:
        for mod in self.modules.values():
            declared = self.handlers.get(mod.sf.rel, set())
            for name, fn in mod.functions.items():
                params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
                if "event" in params:
                    source = "event"
                elif name in declared and params:
                    source = params[0]
                elif len(params) == 2 and params[1] in _CONTEXT_PARAMS:
                    source = params[0]  # handler(evt, context) under another name
                else:
                    continue
                self._function(mod, fn, {source: KINDS}, 0, f"{mod.sf.rel}:{name}")
        return [self._finding(h) for h in self.hits.values()]

    def _finding(self, hit: _Hit) -> Finding:
        rule = RULES[hit.kind]
        message, remediation = _MESSAGES[hit.kind]
        msg = message.format(sink=hit.sink)
        if hit.via:
            msg += f" (via {hit.via})"
        return Finding(
            rule_id=rule.rule_id,
            severity=Severity.HIGH,
            path=hit.sf.rel,
            line=hit.line,
            column=hit.col + 1,
            message=msg,
            remediation=remediation,
            family="taint",
            cwe=rule.cwe,
            fingerprint_text=hit.sf.line(hit.line) + "\x1f" + hit.sink,
        )

    # -- functions ---------------------------------------------------------------------------
    def _function(
        self,
        mod: _Module,
        fn: ast.FunctionDef | ast.AsyncFunctionDef,
        env: dict[str, Taint],
        depth: int,
        via: str,
    ) -> Taint:
        key = (id(fn), tuple(sorted(env.items())))
        if key in self._memo:
            return self._memo[key]
        if id(fn) in self._active:  # recursion: assume the worst for the return value
            return frozenset().union(*env.values()) if env else CLEAN
        self._active.add(id(fn))
        try:
            walker = _Walker(self, mod, dict(env), depth, via)
            walker.block(fn.body)
            walker.block(fn.body)  # second pass: taint that flows around loops
            result = walker.returns
        finally:
            self._active.discard(id(fn))
        self._memo[key] = result
        return result

    def resolve_local(
        self, mod: _Module, dotted: str
    ) -> tuple[_Module, ast.FunctionDef | ast.AsyncFunctionDef] | None:
        if dotted in mod.functions:
            return mod, mod.functions[dotted]
        module, _, name = dotted.rpartition(".")
        target = self.modules.get(module)
        if target is not None and name in target.functions:
            return target, target.functions[name]
        return None

    def report(self, hit: _Hit) -> None:
        self.hits.setdefault((hit.kind, hit.sf.rel, hit.line), hit)


class _Walker:
    """Evaluates one function body with an environment of tainted names."""

    def __init__(
        self, analysis: TaintAnalysis, mod: _Module, env: dict[str, Taint], depth: int, via: str
    ) -> None:
        self.a = analysis
        self.mod = mod
        self.env = env
        self.depth = depth
        self.via = via
        self.returns: Taint = CLEAN
        self.objs: dict[str, str] = {}  # local name -> constructor, e.g. s -> requests.Session
        self.argv: dict[str, Taint] = {}  # name bound to a list literal -> taint of its program

    # -- statements -------------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            self.stmt(stmt)

    def _branch(self, *bodies: list[ast.stmt]) -> None:
        self._guarded([(body, []) for body in bodies])

    def _guarded(self, arms: list[tuple[list[ast.stmt], list[tuple[str, Taint]]]]) -> None:
        """Run each arm from the same env (less what its guard rules out) and merge.

        An arm that ends in return/raise/continue/break does not reach the code
        after the statement, so it adds nothing to the merged env.
        """
        base = dict(self.env)
        merged: dict[str, Taint] = {}
        live = False
        for body, facts in arms:
            self.env = dict(base)
            for name, kinds in facts:
                if name in self.env:
                    self.env[name] = self.env[name] - kinds
            self.block(body)
            if body and isinstance(body[-1], ast.Return | ast.Raise | ast.Continue | ast.Break):
                continue
            live = True
            for k, v in self.env.items():
                merged[k] = merged.get(k, CLEAN) | v
        self.env = merged if live else base

    def _facts(self, test: ast.expr, truth: bool) -> list[tuple[str, Taint]]:
        """(name, kinds) that ``test`` evaluating to ``truth`` rules out."""
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            return self._facts(test.operand, not truth)
        if isinstance(test, ast.BoolOp):
            if isinstance(test.op, ast.And) == truth:  # all of them hold
                return [f for v in test.values for f in self._facts(v, truth)]
            return []
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, op, right = test.left, test.ops[0], test.comparators[0]
            if not isinstance(left, ast.Name) or self.expr(right):
                return []
            if truth == isinstance(op, ast.In | ast.Eq) and isinstance(
                op, ast.In | ast.Eq | ast.NotIn | ast.NotEq
            ):  # an allowlist or a fixed value: nothing the event chose is left
                return [(left.id, KINDS)]
            return []
        if isinstance(test, ast.Call) and truth:
            func = test.func
            charset = KINDS - {"ssrf"}
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                if func.attr in _CHARSET_CHECKS and not test.args:
                    return [(func.value.id, charset)]
            name = self.qualname(func)
            arg = test.args[1] if len(test.args) > 1 else None
            if name in ("re.fullmatch", "re.match", "re.search") and isinstance(arg, ast.Name):
                pattern = test.args[0]
                anchored = isinstance(pattern, ast.Constant) and isinstance(pattern.value, str) \
                    and pattern.value.endswith(("$", "\\Z")) and (
                        name != "re.search" or pattern.value.startswith(("^", "\\A")))
                if name == "re.fullmatch" or anchored:
                    return [(arg.id, charset)]
            if (isinstance(func, ast.Attribute) and func.attr == "fullmatch" and test.args
                    and isinstance(test.args[0], ast.Name)):
                return [(test.args[0].id, charset)]
        return []

    def _shape(self, target: ast.expr, value: ast.expr | None) -> None:
        """Remember what kind of object a local name holds (HTTP client, argv list)."""
        if not isinstance(target, ast.Name):
            return
        self.objs.pop(target.id, None)
        self.argv.pop(target.id, None)
        if isinstance(value, ast.Call):
            ctor = self.qualname(value.func)
            if ctor in _HTTP_CLIENTS:
                self.objs[target.id] = ctor
        elif isinstance(value, ast.List | ast.Tuple):
            first = value.elts[0] if value.elts else None
            self.argv[target.id] = (CLEAN if first is None or isinstance(first, ast.Constant)
                                    else self.expr(first))

    def stmt(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Assign):
            t = self.expr(node.value)
            for target in node.targets:
                self.assign(target, t)
                self._shape(target, node.value)
        elif isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.assign(node.target, self.expr(node.value))
                self._shape(node.target, node.value)
        elif isinstance(node, ast.AugAssign):
            t = self.expr(node.value) | self.expr(node.target)
            self.assign(node.target, t, weak=True)
        elif isinstance(node, ast.Return):
            if node.value is not None:
                self.returns |= self.expr(node.value)
        elif isinstance(node, ast.Expr):
            self.expr(node.value)
        elif isinstance(node, ast.If):
            self.expr(node.test)
            self._guarded([(node.body, self._facts(node.test, True)),
                           (node.orelse, self._facts(node.test, False))])
        elif isinstance(node, ast.For | ast.AsyncFor):
            self.assign(node.target, self.expr(node.iter))
            for _ in range(2):
                self._branch(node.body, [])
            self._branch(node.orelse, [])
        elif isinstance(node, ast.While):
            self.expr(node.test)
            for _ in range(2):
                self._branch(node.body, [])
            self._branch(node.orelse, [])
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                t = self.expr(item.context_expr)
                if item.optional_vars is not None:
                    self.assign(item.optional_vars, t)
                    self._shape(item.optional_vars, item.context_expr)
            self.block(node.body)
        elif isinstance(node, ast.Try | ast.TryStar):
            self._branch(node.body, *[h.body for h in node.handlers], node.orelse)
            self.block(node.finalbody)
        elif isinstance(node, ast.Match):
            subject = self.expr(node.subject)
            for case in node.cases:
                for sub in ast.walk(case.pattern):
                    name = getattr(sub, "name", None)
                    if isinstance(name, str):
                        self.env[name] = subject
            self._branch(*[c.body for c in node.cases])
        elif isinstance(node, ast.Raise | ast.Assert | ast.Delete):
            for child in ast.iter_child_nodes(node):
                if isinstance(child, ast.expr):
                    self.expr(child)
        # nested defs and classes are not followed (see the module docstring)

    def assign(self, target: ast.expr, t: Taint, weak: bool = False) -> None:
        if isinstance(target, ast.Name):
            self.env[target.id] = (self.env.get(target.id, CLEAN) | t) if weak else t
        elif isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                self.assign(elt.value if isinstance(elt, ast.Starred) else elt, t, weak)
        elif isinstance(target, ast.Subscript | ast.Attribute):
            base = _root_name(target)
            if base is not None and t:
                self.env[base] = self.env.get(base, CLEAN) | t

    # -- expressions ------------------------------------------------------------------------
    def expr(self, node: ast.expr | None) -> Taint:
        if node is None:
            return CLEAN
        if isinstance(node, ast.Name):
            return self.env.get(node.id, CLEAN)
        if isinstance(node, ast.Constant):
            return CLEAN
        if isinstance(node, ast.Attribute):
            t = self.expr(node.value)
            return t - {"path"} if node.attr in _PATH_PARTS else t
        if isinstance(node, ast.Subscript):
            self.expr(node.slice)
            return self.expr(node.value)
        if isinstance(node, ast.JoinedStr):
            return _fixed_origin(node, _union(self.expr(v) for v in node.values))
        if isinstance(node, ast.FormattedValue):
            return self.expr(node.value)
        if isinstance(node, ast.BinOp):
            return _fixed_origin(node, self.expr(node.left) | self.expr(node.right))
        if isinstance(node, ast.BoolOp):
            return _union(self.expr(v) for v in node.values)
        if isinstance(node, ast.Compare):
            self.expr(node.left)
            for c in node.comparators:
                self.expr(c)
            return CLEAN
        if isinstance(node, ast.UnaryOp):
            t = self.expr(node.operand)
            return CLEAN if isinstance(node.op, ast.Not) else t
        if isinstance(node, ast.IfExp):
            self.expr(node.test)
            return self.expr(node.body) | self.expr(node.orelse)
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return _union(self.expr(e) for e in node.elts)
        if isinstance(node, ast.Dict):
            return _union(self.expr(e) for e in [*node.keys, *node.values] if e is not None)
        if isinstance(node, ast.Starred | ast.Await):
            return self.expr(node.value)
        if isinstance(node, ast.NamedExpr):
            t = self.expr(node.value)
            self.assign(node.target, t)
            return t
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
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
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Lambda):
            return CLEAN
        return _union(self.expr(c) for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr))

    def qualname(self, func: ast.expr) -> str:
        parts: list[str] = []
        node = func
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            if node.id in self.objs:  # an HTTP client made in this function
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

    def call(self, node: ast.Call) -> Taint:
        args = [self.expr(a) for a in node.args]
        kwargs = {k.arg: self.expr(k.value) for k in node.keywords}
        name = self.qualname(node.func)
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        receiver = self.expr(node.func.value) if isinstance(node.func, ast.Attribute) else CLEAN
        self._check_sinks(node, name, method, args, kwargs, receiver)

        everything = _union([*args, *kwargs.values()])
        if isinstance(node.func, ast.Name) and node.func.id not in self.env:
            local = self.a.resolve_local(self.mod, self.mod.aliases.get(node.func.id,
                                                                         node.func.id))
        elif isinstance(node.func, ast.Attribute):
            local = self.a.resolve_local(self.mod, name)
        else:
            local = None
        if local is not None:
            return self._local_call(node, local, args, kwargs)
        if name in _CLEAR_ALL:
            return CLEAN
        if name in _SANITIZERS:
            return everything - _SANITIZERS[name]
        if method is not None:
            if method in _CLEAN_METHODS:
                return CLEAN
            if method in _LOOKUPS and args:  # the key picks a value, it does not become one
                return receiver | _union([*args[1:], *kwargs.values()])
            if method == "format":
                return _fixed_origin(node.func.value, receiver | everything)  # type: ignore[union-attr]
            if method in _SANITIZER_METHODS:
                return (receiver | everything) - _SANITIZER_METHODS[method]
            if method in _MUTATORS and everything:
                base = _root_name(node.func.value)  # type: ignore[union-attr]
                if base is not None:
                    self.env[base] = self.env.get(base, CLEAN) | everything
        return receiver | everything

    def _local_call(
        self,
        node: ast.Call,
        local: tuple[_Module, ast.FunctionDef | ast.AsyncFunctionDef],
        args: list[Taint],
        kwargs: dict[str | None, Taint],
    ) -> Taint:
        mod, fn = local
        everything = _union([*args, *kwargs.values()])
        if self.depth + 1 > MAX_DEPTH:
            return everything  # too deep to follow: assume the value carries its inputs
        params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
        env: dict[str, Taint] = {}
        for i, t in enumerate(args):
            if i < len(params):
                if t:
                    env[params[i]] = t
            elif fn.args.vararg is not None and t:
                env[fn.args.vararg.arg] = env.get(fn.args.vararg.arg, CLEAN) | t
        for k, t in kwargs.items():
            if not t:
                continue
            if k is not None and (k in params or k in [a.arg for a in fn.args.kwonlyargs]):
                env[k] = t
            elif fn.args.kwarg is not None:
                env[fn.args.kwarg.arg] = env.get(fn.args.kwarg.arg, CLEAN) | t
        if not env:
            return CLEAN
        via = f"{self.mod.sf.rel}:{node.lineno} -> {mod.sf.rel}:{fn.name}"
        return self.a._function(mod, fn, env, self.depth + 1, via if self.depth == 0 else
                                f"{self.via}; {via}")

    # -- sinks -----------------------------------------------------------------------------
    def _hit(self, node: ast.Call, kind: str, sink: str, t: Taint) -> None:
        if kind in t:
            via = self.via if self.depth > 0 else ""
            self.a.report(_Hit(kind, sink, self.mod.sf, node.lineno, node.col_offset, via))

    def _check_sinks(
        self,
        node: ast.Call,
        name: str,
        method: str | None,
        args: list[Taint],
        kwargs: dict[str | None, Taint],
        receiver: Taint,
    ) -> None:
        first = args[0] if args else CLEAN
        if name in _CODE_SINKS:
            self._hit(node, "code", name, first | kwargs.get("source", CLEAN))
        elif name in _SHELL_ALWAYS:
            self._hit(node, "command", name, first | kwargs.get("cmd", CLEAN))
        elif name in _SUBPROCESS:
            shell = next((k.value for k in node.keywords if k.arg == "shell"), None)
            cmd = node.args[0] if node.args else next(
                (k.value for k in node.keywords if k.arg == "args"), None)
            taint = first | kwargs.get("args", CLEAN)
            if shell is not None and not (isinstance(shell, ast.Constant) and not shell.value):
                self._hit(node, "command", name, taint)
            elif isinstance(cmd, ast.List | ast.Tuple):
                self._hit(node, "command", name, self._argv_taint(cmd.elts))
            elif isinstance(cmd, ast.Name) and cmd.id in self.argv:
                self._hit(node, "command", name, self.argv[cmd.id])
            else:  # a string (or something unknown) names the program to run
                self._hit(node, "command", name, taint)
        elif name in _EXEC_PROGRAM:
            self._hit(node, "command", name, first | kwargs.get("path", CLEAN)
                      | kwargs.get("program", CLEAN))
        elif name in _SQL_FUNCS or (method in _SQL_METHODS and name.split(".")[0] not in
                                    ("subprocess", "os")):
            self._hit(node, "sql", name if name in _SQL_FUNCS else f".{method}",
                      first | kwargs.get("sql", CLEAN) | kwargs.get("query", CLEAN)
                      | kwargs.get("statement", CLEAN))
        elif name in _DESERIALIZE:
            self._hit(node, "deserialize", name, first | kwargs.get("data", CLEAN))
        elif name in _YAML_LOAD:
            loader = node.args[1] if len(node.args) > 1 else next(
                (k.value for k in node.keywords if k.arg == "Loader"), None)
            loader_name = self.qualname(loader).rsplit(".", 1)[-1] if loader is not None else ""
            if loader_name not in _SAFE_YAML_LOADERS:
                self._hit(node, "deserialize", name, first | kwargs.get("stream", CLEAN))
        elif name in _PATH_SINKS:
            self._hit(node, "path", name, first | kwargs.get("file", CLEAN)
                      | kwargs.get("path", CLEAN))
        elif method in _PATH_METHODS or (method == "open" and receiver):
            self._hit(node, "path", f"Path.{method}", receiver)
        elif name in _URL_FUNCS:
            self._hit(node, "ssrf", name, first | kwargs.get("url", CLEAN)
                      | kwargs.get("host", CLEAN))
        elif method in _HTTP_VERBS and self._is_http_client(name):
            url = args[1] if method in ("request", "stream") and len(args) > 1 else first
            self._hit(node, "ssrf", name, url | kwargs.get("url", CLEAN))
        elif name in _TEMPLATE_FUNCS or method in _TEMPLATE_METHODS:
            self._hit(node, "template", name, first | kwargs.get("source", CLEAN)
                      | kwargs.get("text", CLEAN))

    def _argv_taint(self, elts: list[ast.expr]) -> Taint:
        """An argument list is dangerous if the event picks the program, or runs ``sh -c``."""
        if not elts or isinstance(elts[0], ast.Starred):
            return self.expr(elts[0].value) if elts else CLEAN  # type: ignore[attr-defined]
        program = elts[0]
        if (isinstance(program, ast.Constant)
                and str(program.value).rsplit("/", 1)[-1] in _SHELLS
                and len(elts) >= 3 and isinstance(elts[1], ast.Constant)
                and str(elts[1].value).startswith("-") and "c" in str(elts[1].value)):
            return self.expr(elts[2])
        return self.expr(program)

    def _is_http_client(self, name: str) -> bool:
        root = name.split(".")[0].removesuffix("()")
        if root in _HTTP_LIBS:
            return True
        # session objects made in this function: requests.Session(), httpx.Client()
        return any(lib + "." in name for lib in _HTTP_LIBS) or root in ("session", "client",
                                                                         "http")


def _literal_prefix(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return _literal_prefix(node.values[0]) if node.values else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        return _literal_prefix(node.left)
    return None


def _fixed_origin(node: ast.expr, t: Taint) -> Taint:
    """A string whose literal start fixes scheme and host cannot send a request elsewhere."""
    if "ssrf" in t:
        prefix = _literal_prefix(node)
        if prefix is not None and _FIXED_ORIGIN.match(prefix):
            return t - {"ssrf"}
    return t


def _root_name(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _union(items: object) -> Taint:
    out: set[str] = set()
    for t in items:  # type: ignore[attr-defined]
        out |= t
    return frozenset(out)


def run(tree: SourceTree, handlers: dict[str, set[str]] | None = None) -> list[Finding]:
    """Taint findings for the tree; ``handlers`` maps file -> declared handler names."""
    return TaintAnalysis(tree, handlers).analyze()
