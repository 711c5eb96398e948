"""Per-category sink tables and the check that runs at every call.

Each table names calls whose given argument must not carry its kind of taint.
Names are dotted origins as the engine resolves them through the module's
imports (``from subprocess import run as r`` -> ``subprocess.run``); methods
on objects of unknown type are matched by name where the name is specific
enough (``execute``, ``xpath``, ``search_s``) and by argument shape where it
is not (``find`` with a dict is a MongoDB query, ``find`` with a string is not).
Response sinks (redirects, HTML) live in ``responses.py``.
"""

from __future__ import annotations

import ast
from typing import Protocol

from ramparts.scan.taint.responses import check_response, literal_start
from ramparts.scan.taint.rules import CLEAN, Taint

CODE = frozenset({"eval", "exec", "compile", "builtins.eval", "builtins.exec",
                  # an attacker-named module runs its top-level code when imported
                  "importlib.import_module", "__import__", "builtins.__import__"})
SHELL_ALWAYS = frozenset({"os.system", "os.popen", "subprocess.getoutput",
                          "subprocess.getstatusoutput", "commands.getoutput", "os.popen2",
                          "os.popen3", "asyncio.create_subprocess_shell"})
SUBPROCESS = frozenset({"subprocess.call", "subprocess.run", "subprocess.Popen",
                        "subprocess.check_call", "subprocess.check_output"})
# calls whose first argument names the program to run (no shell, but input picks it)
EXEC_PROGRAM = frozenset({"os.execl", "os.execle", "os.execlp", "os.execlpe", "os.execv",
                          "os.execve", "os.execvp", "os.execvpe", "os.posix_spawn",
                          "os.posix_spawnp", "os.spawnl", "os.spawnlp", "os.spawnv",
                          "os.spawnvp", "asyncio.create_subprocess_exec"})
SHELLS = ("sh", "bash", "zsh", "dash", "ksh", "cmd", "cmd.exe", "powershell")
SQL_METHODS = frozenset({"execute", "executemany", "executescript", "raw", "mogrify",
                         "exec_driver_sql", "read_sql", "read_sql_query"})
SQL_FUNCS = frozenset({"sqlalchemy.text", "sqlalchemy.sql.text", "pandas.read_sql",
                       "pandas.read_sql_query", "sqlalchemy.sql.expression.text",
                       "django.db.models.expressions.RawSQL", "django.db.models.RawSQL"})
# loaders that unpickle only when asked to: numpy.load(f, allow_pickle=True)
PICKLE_OPT_IN = frozenset({"numpy.load", "np.load"})

DESERIALIZE = frozenset({"pickle.loads", "pickle.load", "pickle.Unpickler", "cPickle.loads",
                         "cPickle.load", "marshal.loads", "marshal.load", "dill.loads",
                         "dill.load", "shelve.open", "jsonpickle.decode", "yaml.unsafe_load",
                         "yaml.full_load", "yaml.unsafe_load_all", "yaml.full_load_all",
                         "pandas.read_pickle", "_pickle.loads", "cloudpickle.loads",
                         "joblib.load", "torch.load"})
YAML_LOAD = frozenset({"yaml.load", "yaml.load_all"})  # unsafe unless given a safe Loader
SAFE_YAML_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
PATH_SINKS = frozenset({"open", "io.open", "os.open", "codecs.open", "os.remove", "os.unlink",
                        "os.rmdir", "os.listdir", "os.scandir", "shutil.rmtree", "shutil.copy",
                        "shutil.copyfile", "shutil.move", "os.rename", "tarfile.open",
                        "zipfile.ZipFile", "os.makedirs", "os.mkdir", "shutil.copytree",
                        "flask.send_file", "django.http.FileResponse",
                        "starlette.responses.FileResponse", "fastapi.responses.FileResponse",
                        "aiohttp.web.FileResponse", "aiofiles.open", "os.truncate",
                        "os.chmod", "linecache.getlines", "fileinput.input",
                        "shutil.unpack_archive", "io.FileIO", "_io.FileIO",
                        "builtins.open", "_io.open", "sqlite3.connect"})
PATH_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes", "unlink",
                          "rmdir", "iterdir", "mkdir", "touch", "rename", "replace_file"})
HTTP_LIBS = ("requests", "httpx", "urllib3", "aiohttp")
HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request",
                        "stream", "urlopen"})
HTTP_CLIENTS = frozenset({"requests.Session", "requests.session", "httpx.Client",
                          "httpx.AsyncClient", "urllib3.PoolManager", "aiohttp.ClientSession"})
URL_FUNCS = frozenset({"urllib.request.urlopen", "urllib.request.Request", "urllib.urlopen",
                       "urllib2.urlopen", "http.client.HTTPConnection",
                       "http.client.HTTPSConnection", "socket.create_connection",
                       "urllib.request.urlretrieve", "pycurl.Curl", "smtplib.SMTP",
                       "smtplib.SMTP_SSL", "smtplib.LMTP", "ftplib.FTP", "poplib.POP3",
                       "imaplib.IMAP4", "imaplib.IMAP4_SSL", "telnetlib.Telnet",
                       "urllib.request.build_opener().open",
                       "urllib.request.OpenerDirector().open"})
URL_OBJECTS = frozenset({"urllib.request.Request", "requests.Request", "httpx.Request"})
TEMPLATE_FUNCS = frozenset({"jinja2.Template", "jinja2.environment.Template",
                            "mako.template.Template", "flask.render_template_string",
                            "django.template.Template", "chameleon.PageTemplate",
                            "quart.render_template_string", "tornado.template.Template"})
TEMPLATE_METHODS = frozenset({"from_string", "render_template_string"})
NOSQL_METHODS = frozenset({"find", "find_one", "find_one_and_delete", "find_one_and_replace",
                           "find_one_and_update", "update_one", "update_many", "delete_one",
                           "delete_many", "count_documents", "aggregate", "replace_one",
                           "distinct", "map_reduce"})
XPATH_FUNCS = frozenset({"lxml.etree.XPath", "lxml.etree.ETXPath", "lxml.etree.XPathEvaluator"})
XPATH_METHODS = frozenset({"xpath", "findall", "iterfind", "findtext"})
LDAP_METHODS = {"search": (0, 1, 2), "search_s": (0, 2), "search_st": (0, 2),
                "search_ext": (0, 2), "search_ext_s": (0, 2), "paged_search": (0, 1)}
LDAP_KEYWORDS = ("search_filter", "filterstr", "search_base", "base")
XXE_STDLIB = frozenset({"xml.sax.parseString", "xml.sax.parse", "xml.dom.minidom.parseString",
                        "xml.dom.minidom.parse", "xml.dom.pulldom.parseString",
                        "xml.dom.pulldom.parse", "xml.etree.ElementTree.fromstring",
                        "xml.etree.ElementTree.parse", "xml.etree.ElementTree.XML",
                        "xml.etree.ElementTree.iterparse", "xml.etree.cElementTree.fromstring",
                        "xml.etree.cElementTree.parse", "xml.dom.expatbuilder.parseString",
                        "xml.sax.expatreader.create_parser"})
LXML_PARSE = frozenset({"lxml.etree.fromstring", "lxml.etree.XML", "lxml.etree.parse",
                        "lxml.etree.iterparse", "lxml.etree.XMLID"})
SAFE_PARSER = "lxml.etree.XMLParser+safe"
# sinks that run code, a program or a file read when handed a value
CODE_RUNNERS = frozenset({"runpy.run_path", "runpy.run_module", "timeit.timeit",
                          "timeit.repeat", "code.InteractiveInterpreter().runsource",
                          "code.InteractiveInterpreter().runcode",
                          "code.InteractiveConsole().push", "code.InteractiveConsole().runsource",
                          "code.compile_command", "pdb.run", "pdb.runeval", "pdb.runctx",
                          "pdb.Pdb().run", "pdb.Pdb().runeval", "pdb.Pdb().runctx",
                          "bdb.Bdb().run", "bdb.Bdb().runeval", "bdb.Bdb().runctx",
                          "cProfile.run", "cProfile.runctx", "profile.run", "profile.runctx",
                          "cProfile.Profile().run", "cProfile.Profile().runctx",
                          "profile.Profile().run", "profile.Profile().runctx"})
# libc functions reached through ctypes (``ctypes.CDLL(None).system``) that run a shell
LIBC_SHELL = frozenset({"system", "popen"})
# programs that run another program named in their arguments, or code given with -c/-e
PROGRAM_WRAPPERS = ("env", "nohup", "nice", "sudo", "timeout", "xargs", "stdbuf", "time",
                    "setsid", "exec", "chroot", "doas", "su")
INTERPRETERS = ("python", "python2", "python3", "perl", "ruby", "node", "php", "lua", "Rscript",
                "awk", "gawk", "osascript", "pwsh")
LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "critical", "exception",
                         "log", "fatal"})
LOGGER_NAMES = frozenset({"logger", "log", "_logger", "_log", "LOGGER", "LOG", "logging",
                          "audit_log", "LOGGING", "structlog"})


# the C modules behind ``os``: ``posix.system`` is ``os.system`` under another name
_OS_IMPLEMENTATIONS = ("posix.", "nt.")


def canonical(name: str) -> str:
    """The name a sink table uses for ``name``: ``posix.system`` -> ``os.system``."""
    if name.startswith(_OS_IMPLEMENTATIONS):
        return "os." + name.split(".", 1)[1]
    return name


def callable_sink(name: str) -> str | None:
    """``name`` if it is a sink that can be handed around as a value (``os.system``)."""
    name = canonical(name)
    return name if name in _CALLABLE_SINKS else None


_CALLABLE_SINKS = CODE | CODE_RUNNERS | SHELL_ALWAYS | SUBPROCESS | EXEC_PROGRAM | DESERIALIZE \
    | YAML_LOAD | PATH_SINKS | URL_FUNCS | TEMPLATE_FUNCS | XXE_STDLIB | LXML_PARSE \
    | {"pty.spawn"}


class Interp(Protocol):
    """What a sink check needs from the engine that is interpreting a function."""

    objs: dict[str, str]
    argv: dict[str, Taint]

    def expr(self, node: ast.expr | None) -> Taint: ...

    def qualname(self, func: ast.expr) -> str: ...

    def hit(self, node: ast.AST, kind: str, sink: str, t: Taint) -> None: ...

    def argv_of_call(self, call: ast.Call) -> Taint | None: ...

    def made_by(self, node: ast.expr) -> tuple[str, ast.Call | None]: ...


def check(i: Interp, node: ast.Call, name: str, method: str | None, args: list[Taint],
          kwargs: dict[str | None, Taint], receiver: Taint) -> None:
    """Report every sink ``node`` is, for the taint of the arguments it is given."""
    name = canonical(name)
    # f(**opts): a spread dict may carry the first argument (and shell=True) by name
    first = args[0] if args else kwargs.get(None, CLEAN)
    kw = kwargs.get
    if name in CODE or name in CODE_RUNNERS:
        i.hit(node, "code", name, first | kw("source", CLEAN) | kw("stmt", CLEAN)
              | kw("path_name", CLEAN) | kw("mod_name", CLEAN))
    elif name in SHELL_ALWAYS:
        i.hit(node, "command", name, first | kw("cmd", CLEAN))
    elif method in LIBC_SHELL and name.startswith("ctypes."):
        i.hit(node, "command", name, first)
    elif name in SUBPROCESS:
        _subprocess(i, node, name, first | kw("args", CLEAN) | kw(None, CLEAN))
    elif name in EXEC_PROGRAM or name == "pty.spawn":
        _exec_family(i, node, name, args, kw("path", CLEAN) | kw("program", CLEAN)
                     | kw("argv", CLEAN))
    elif method == "communicate" and _stdin_runs(i, node):
        i.hit(node, "command", "subprocess.Popen().communicate", first | kw("input", CLEAN))
    elif name in SQL_FUNCS or (method in SQL_METHODS and name.split(".")[0] not in
                               ("subprocess", "os")):
        i.hit(node, "sql", name if name in SQL_FUNCS else f".{method}",
              first | kw("sql", CLEAN) | kw("query", CLEAN) | kw("statement", CLEAN))
    elif method == "extra" and (node.keywords or node.args):  # Django QuerySet.extra()
        i.hit(node, "sql", ".extra", kw("where", CLEAN) | kw("select", CLEAN)
              | kw("tables", CLEAN) | kw("order_by", CLEAN) | first)
    elif name in DESERIALIZE:
        i.hit(node, "deserialize", name, first | kw("data", CLEAN) | kw("file", CLEAN))
    elif name in YAML_LOAD:
        loader = node.args[1] if len(node.args) > 1 else _keyword(node, "Loader")
        loader_name = i.qualname(loader).rsplit(".", 1)[-1] if loader is not None else ""
        if loader_name not in SAFE_YAML_LOADERS:
            i.hit(node, "deserialize", name, first | kw("stream", CLEAN))
    elif name in PICKLE_OPT_IN and any(
            k.arg == "allow_pickle" and not (isinstance(k.value, ast.Constant)
                                             and not k.value.value) for k in node.keywords):
        i.hit(node, "deserialize", name, first | kw("file", CLEAN))
    elif method == "download_file" and (len(args) >= 3 or "Filename" in kwargs):
        i.hit(node, "path", ".download_file",
              (args[2] if len(args) >= 3 else CLEAN) | kw("Filename", CLEAN))
    elif name == "map" and len(node.args) >= 2 and i.qualname(node.args[0]) in SHELL_ALWAYS:
        i.hit(node, "command", i.qualname(node.args[0]), _union(args[1:]))
    elif name in PATH_SINKS:
        i.hit(node, "path", name, first | kw("file", CLEAN) | kw("path", CLEAN)
              | kw("filename", CLEAN) | kw("name", CLEAN) | kw("files", CLEAN))
    elif method in PATH_METHODS or (method == "open" and receiver):
        i.hit(node, "path", f"Path.{method}", receiver)
    elif method == "save" and node.args:  # an upload saved under a client-chosen name
        i.hit(node, "path", ".save", first)
    elif name in URL_FUNCS:
        i.hit(node, "ssrf", name, first | kw("url", CLEAN) | kw("host", CLEAN))
    elif method in HTTP_VERBS and _is_http_client(name):
        url = args[1] if method in ("request", "stream", "urlopen") and len(args) > 1 else first
        i.hit(node, "ssrf", name, url | kw("url", CLEAN))
    elif name in TEMPLATE_FUNCS or method in TEMPLATE_METHODS:
        if not _sandboxed(i, node):
            i.hit(node, "template", name, first | kw("source", CLEAN) | kw("text", CLEAN))
    elif name in XPATH_FUNCS or (method in XPATH_METHODS and not receiver) or (
            method == "find" and node.args and (literal_start(node.args[0]) or "").startswith(
                ("./", "/", "*"))):
        i.hit(node, "xpath", name if name in XPATH_FUNCS else f".{method}",
              first | kw("path", CLEAN) | kw("_path", CLEAN))
    elif method in LDAP_METHODS and _is_ldap(i, node, method):
        t = _union(args[n] for n in LDAP_METHODS[method] if n < len(args))
        i.hit(node, "ldap", f".{method}", t | _union(kw(k, CLEAN) for k in LDAP_KEYWORDS))
    elif method in NOSQL_METHODS:
        _nosql(i, node, method, receiver)
    elif name in XXE_STDLIB:
        i.hit(node, "xxe", name, first | kw("source", CLEAN) | kw("string", CLEAN))
    elif name in LXML_PARSE or (method in ("parse", "feed") and node.func is not None
                                and _receiver_ctor(i, node) == "xml.sax.make_parser"):
        if name not in LXML_PARSE or _lxml_resolves(i, node):
            i.hit(node, "xxe", name, first | kw("source", CLEAN) | kw("text", CLEAN))
    elif method in LOG_METHODS and _is_logger(i, node, name):
        start = 1 if method == "log" else 0
        i.hit(node, "log", name, _logged(node.args[start:], args[start:]) | kw("msg", CLEAN))
    else:
        check_response(i, node, name, method, args, kwargs, receiver)
    if method in ("update", "setdefault", "__setitem__") and isinstance(
            node.func, ast.Attribute) and "@session" in receiver:
        i.hit(node, "trust-boundary", "session." + method, _union([*args, *kwargs.values()]))


def _exec_family(i: Interp, node: ast.Call, name: str, args: list[Taint], extra: Taint) -> None:
    """os.exec*/spawn*/posix_spawn*/pty.spawn: input picks the program, or runs ``sh -c``.

    The program is the first argument (``spawn*``: the second, after the mode); the
    argument list follows it: spread out (``execl``/``spawnl``) or as one list (``execv``,
    ``spawnv``, ``posix_spawn``); ``pty.spawn`` takes a string or the list itself.
    """
    skip = 1 if name.startswith("os.spawn") else 0
    program = args[skip] if len(args) > skip else CLEAN
    rest = node.args[skip + 1:]
    if name == "pty.spawn" or name == "asyncio.create_subprocess_exec":
        rest, program = node.args, CLEAN
    argv: Taint = CLEAN
    if len(rest) == 1 and (elts := argv_elts(rest[0])) is not None:
        argv = argv_taint(i, elts)
    elif len(rest) == 1 and name == "pty.spawn":
        argv = i.expr(rest[0])  # a string names the program
    elif rest and not name.endswith(("v", "ve", "vp", "vpe", "posix_spawn", "posix_spawnp")):
        argv = argv_taint(i, list(rest))
    elif name in ("os.posix_spawn", "os.posix_spawnp") or name.startswith(("os.execv",
                                                                          "os.spawnv")):
        elts = argv_elts(rest[0]) if rest else None
        argv = argv_taint(i, elts) if elts is not None else CLEAN
    i.hit(node, "command", name, program | argv | extra)


def _keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def _union(items: object) -> Taint:
    out: set[str] = set()
    for t in items:  # type: ignore[attr-defined]
        out |= t
    return frozenset(out)


def _subprocess(i: Interp, node: ast.Call, name: str, taint: Taint) -> None:
    shell = _keyword(node, "shell")
    cmd = node.args[0] if node.args else _keyword(node, "args")
    elts = argv_elts(cmd) if cmd is not None else None
    if shell is not None and not (isinstance(shell, ast.Constant) and not shell.value):
        i.hit(node, "command", name, taint)
    elif cmd is None and any(k.arg is None for k in node.keywords):
        i.hit(node, "command", name, taint)  # run(**kw): args and shell come from the dict
    elif elts is not None:
        stdin = i.expr(_keyword(node, "input")) if _reads_stdin(elts) else CLEAN
        i.hit(node, "command", name, argv_taint(i, elts) | stdin)
    elif isinstance(cmd, ast.Name) and cmd.id in i.argv:
        i.hit(node, "command", name, i.argv[cmd.id])
    elif isinstance(cmd, ast.Call) and (argv := i.argv_of_call(cmd)) is not None:
        i.hit(node, "command", name, argv)
    else:  # a string (or something unknown) names the program to run
        i.hit(node, "command", name, taint)


def argv_elts(node: ast.expr) -> list[ast.expr] | None:
    """The elements of an argument list, ``['sh'] + rest`` included (``rest`` as ``*rest``).

    None when ``node`` is not a list display or a sum of them.
    """
    if isinstance(node, ast.List | ast.Tuple):
        return list(node.elts)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = argv_elts(node.left), argv_elts(node.right)
        if left is None and right is None:
            return None
        return (left if left is not None else [ast.Starred(node.left, ast.Load())]) + (
            right if right is not None else [ast.Starred(node.right, ast.Load())])
    return None


def _program(elts: list[ast.expr]) -> str:
    first = elts[0] if elts else None
    if not isinstance(first, ast.Constant):
        return ""
    return str(first.value).rsplit("/", 1)[-1]


def _reads_stdin(elts: list[ast.expr]) -> bool:
    """A shell or interpreter given no script (only literal flags) runs what stdin says."""
    base = _program(elts)
    if base not in SHELLS and base.rstrip("0123456789.") not in INTERPRETERS:
        return False
    return all(isinstance(e, ast.Constant) and str(e.value).startswith("-") for e in elts[1:])


def _stdin_runs(i: Interp, node: ast.Call) -> bool:
    """``Popen([shell]).communicate(x)``: the data sent is the program the shell runs."""
    value = getattr(node.func, "value", None)
    if value is None:
        return False
    ctor, call = i.made_by(value)
    if canonical(ctor) != "subprocess.Popen" or call is None:
        return False
    cmd = call.args[0] if call.args else _keyword(call, "args")
    elts = argv_elts(cmd) if cmd is not None else None
    return elts is not None and _reads_stdin(elts)


def argv_taint(i: Interp, elts: list[ast.expr]) -> Taint:
    """An argument list is dangerous if input picks the program, or runs ``sh -c``."""
    if not elts:
        return CLEAN
    if isinstance(elts[0], ast.Starred):
        return i.expr(elts[0].value)
    program = elts[0]
    base = str(program.value).rsplit("/", 1)[-1] if isinstance(program, ast.Constant) else ""
    flags = [str(e.value) for e in elts[1:] if isinstance(e, ast.Constant)]
    if base in SHELLS and len(elts) >= 3 and isinstance(elts[1], ast.Constant) \
            and str(elts[1].value).lstrip("-/").lower() in ("c", "ec", "lc", "command"):
        return _union(i.expr(e) for e in elts[2:])
    if (base in SHELLS or base.rstrip("0123456789.") in INTERPRETERS) and len(elts) >= 2 \
            and not isinstance(elts[1], ast.Constant):
        return _union(i.expr(e) for e in elts[1:])  # sh *ARGS: input may supply -c CODE
    if base.rstrip("0123456789.") in INTERPRETERS and any(
            f in ("-c", "-e", "-E", "--eval", "-r", "-m") for f in flags):
        return _union(i.expr(e) for e in elts[1:])  # python3 -c CODE: input is the code
    if base in PROGRAM_WRAPPERS:
        return _union(i.expr(e) for e in elts[1:])  # env PROG: input picks the program
    if base == "find" and any(f in ("-exec", "-execdir", "-ok", "-okdir") for f in flags):
        at = next(n for n, e in enumerate(elts) if isinstance(e, ast.Constant)
                  and e.value in ("-exec", "-execdir", "-ok", "-okdir"))
        return _union(i.expr(e) for e in elts[at + 1:])
    return i.expr(program)


def _is_http_client(name: str) -> bool:
    root = name.split(".")[0].removesuffix("()")
    if root in HTTP_LIBS:
        return True
    # session objects made in this function: requests.Session(), httpx.Client()
    return any(lib + "." in name for lib in HTTP_LIBS) or root in ("session", "client", "http")


def _nosql(i: Interp, node: ast.Call, method: str, receiver: Taint) -> None:
    """A MongoDB filter is dangerous when input supplies it whole or an operator's code."""
    if not node.args or receiver:  # str.find(x) on a tainted string is not a query
        return
    query = node.args[0]
    if isinstance(node.func, ast.Attribute) and isinstance(node.func.value,
                                                           ast.Constant | ast.JoinedStr):
        return
    if isinstance(query, ast.Dict):
        t = _union(i.expr(v) for v in query.values) | _union(
            i.expr(k) for k in query.keys if k is not None)
    elif isinstance(query, ast.List) and method == "aggregate":
        t = i.expr(query)
    elif isinstance(query, ast.Constant | ast.JoinedStr | ast.BinOp):
        return  # a string: str.find / list.index shapes, not a filter
    else:
        t = i.expr(query)
    i.hit(node, "nosql", f".{method}", t)


def _receiver_ctor(i: Interp, node: ast.Call) -> str:
    value = getattr(node.func, "value", None)
    return i.made_by(value)[0] if value is not None else ""


def _sandboxed(i: Interp, node: ast.Call) -> bool:
    """jinja2's SandboxedEnvironment runs a template without reaching Python internals."""
    return _receiver_ctor(i, node).endswith("SandboxedEnvironment")


def _lxml_resolves(i: Interp, node: ast.Call) -> bool:
    """lxml is not trusted with input unless its parser turns entity resolution off.

    lxml before 5.0 resolves external entities by default, so a parse without a
    parser that says ``resolve_entities=False`` counts as resolving them.
    """
    parser = node.args[1] if len(node.args) > 1 else _keyword(node, "parser")
    if parser is None:
        return True
    ctor, call = i.made_by(parser)
    if call is not None:
        return parser_kind(ctor, call) != SAFE_PARSER
    return ctor != SAFE_PARSER


def parser_kind(ctor: str, call: ast.Call) -> str:
    """``XMLParser(resolve_entities=False)`` (without no_network=False) loads no entities."""
    safe = False
    for k in call.keywords:
        if k.arg == "resolve_entities" and isinstance(k.value, ast.Constant):
            safe = not k.value.value
        if k.arg == "no_network" and isinstance(k.value, ast.Constant) and not k.value.value:
            return ctor
    return SAFE_PARSER if safe else ctor


def _logged(nodes: list[ast.expr], args: list[Taint]) -> Taint:
    """What a logging call writes: ``%r`` and ``%d`` arguments cannot carry a line break."""
    if not nodes:
        return CLEAN
    fmt = nodes[0]
    if isinstance(fmt, ast.Constant) and isinstance(fmt.value, str) and "%s" not in fmt.value \
            and "%(" not in fmt.value:
        return args[0]
    return _union(args)


def _is_ldap(i: Interp, node: ast.Call, method: str) -> bool:
    """``search`` is everybody's method name: an LDAP one has a connection or a filter."""
    if method != "search":
        return True
    if _receiver_ctor(i, node).startswith(("ldap3.", "ldap.")):
        return True
    flt = node.args[1] if len(node.args) > 1 else _keyword(node, "search_filter")
    if flt is None and len(node.args) > 2:
        flt = node.args[2]
    prefix = literal_start(flt) or ""
    return prefix.startswith("(") or any(k.arg in ("search_filter", "search_scope")
                                         for k in node.keywords)


def _is_logger(i: Interp, node: ast.Call, name: str) -> bool:
    value = getattr(node.func, "value", None)
    if name.startswith(("logging.", "structlog.")):
        return True
    if isinstance(value, ast.Name):
        # a logger made here or at module level (audit = logging.getLogger("audit"))
        return value.id in LOGGER_NAMES or i.made_by(value)[0].endswith(
            ("getLogger", "get_logger"))
    if isinstance(value, ast.Attribute):
        return value.attr in ("logger", "log", "_logger", "_log")
    if isinstance(value, ast.Call):
        return i.qualname(value.func).endswith(("getLogger", "get_logger"))
    return False
