"""What each sanitiser and guard neutralises, by sink kind.

A sanitiser clears only the kinds it really defeats: ``shlex.quote`` makes a
value safe in a shell command but not in SQL; ``html.escape`` defeats XSS but
not template injection (``{{7*7}}`` has nothing to escape). Normalising a path
(``realpath``, ``resolve()``) does not contain it; only the containment check
after it (``is_relative_to``, ``startswith`` on the normalised path,
``commonpath``) does, and that check is a guard, read in ``guard_facts``.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import ramparts.scan.taint.regex_guard as regex_guard
from ramparts.scan.taint.rules import KINDS, Taint

_ALL = KINDS
# a value that passed a character check holds no quotes, metacharacters or "../",
# but a bare host or scheme-relative URL may still be picked
_CHARSET: Taint = KINDS - {"ssrf", "redirect"}
_URL: Taint = frozenset({"ssrf", "redirect"})
_SIGNED: Taint = frozenset({"deserialize", "code"})

# calls whose result carries nothing the caller chose as text (not ipaddress.ip_address:
# an IPv6 scope id keeps any text, str(ip_address("fe80::1%;id")) == "fe80::1%;id"; nor
# django.shortcuts.resolve_url: what does not reverse and holds "/" or "." comes back as is)
CLEAR_ALL = frozenset({
    "int", "float", "bool", "len", "abs", "round", "hash", "uuid.UUID", "ord", "complex",
    "hashlib.sha256", "hashlib.sha1", "hashlib.md5", "hashlib.sha512", "hmac.compare_digest",
    "hmac.new", "datetime.datetime.fromisoformat", "datetime.date.fromisoformat",
    "decimal.Decimal", "isinstance", "callable", "id", "type", "secrets.token_hex",
    "secrets.token_urlsafe", "bson.ObjectId",
    "bson.objectid.ObjectId"})
_ESCAPE_HTML: Taint = frozenset({"xss"})
_ESCAPE_LDAP: Taint = frozenset({"ldap"})
SANITISERS: dict[str, Taint] = {
    "str": frozenset({"nosql"}),
    "shlex.quote": frozenset({"command"}),
    "pipes.quote": frozenset({"command"}),
    "shlex.join": frozenset({"command"}),
    "os.path.basename": frozenset({"path"}),
    "werkzeug.utils.secure_filename": frozenset({"path"}),
    "werkzeug.secure_filename": frozenset({"path"}),
    "django.utils.text.get_valid_filename": frozenset({"path"}),
    # None (refused) when the joined path would leave the base directory
    "werkzeug.utils.safe_join": frozenset({"path"}),
    "werkzeug.security.safe_join": frozenset({"path"}),
    "flask.safe_join": frozenset({"path"}),
    "html.escape": _ESCAPE_HTML,
    "cgi.escape": _ESCAPE_HTML,
    "markupsafe.escape": _ESCAPE_HTML,
    "flask.escape": _ESCAPE_HTML,
    "jinja2.escape": _ESCAPE_HTML,
    "django.utils.html.escape": _ESCAPE_HTML,
    "django.utils.html.conditional_escape": _ESCAPE_HTML,
    "xml.sax.saxutils.escape": _ESCAPE_HTML,
    "bleach.clean": _ESCAPE_HTML,
    "nh3.clean": _ESCAPE_HTML,
    "ast.literal_eval": frozenset({"code"}),
    "ldap3.utils.conv.escape_filter_chars": _ESCAPE_LDAP,
    "ldap.filter.escape_filter_chars": _ESCAPE_LDAP,
    "ldap.filter.filter_format": _ESCAPE_LDAP,
    "ldap.dn.escape_dn_chars": _ESCAPE_LDAP,
    "ldap3.utils.dn.escape_rdn": _ESCAPE_LDAP,
    "json.dumps": frozenset({"log"}),
    "repr": frozenset({"log"}),
    "urllib.parse.quote": frozenset({"xss", "log", "command", "sql", "ldap", "xpath", "code"}),
    # the route's path is the app's own: no open redirect or SSRF to another host; but
    # werkzeug/django keep ; $ & ' ( ) * in values (safe sub-delims): still shell syntax
    "flask.url_for": frozenset({"redirect", "ssrf", "path"}),
    "url_for": frozenset({"redirect", "ssrf", "path"}),
    "django.urls.reverse": frozenset({"redirect", "ssrf", "path"}),
    "urllib.parse.quote_plus": frozenset({"xss", "log", "command", "sql", "ldap", "xpath",
                                          "code", "path"}),
}
_URL_QUOTES = frozenset({"urllib.parse.quote", "urllib.parse.quote_plus"})


def sanitiser_clears(name: str, call: ast.Call) -> Taint:
    """What ``SANITISERS[name]`` clears for this call: ``quote(v, safe=";&")`` keeps ``;&``."""
    if name not in _URL_QUOTES:
        return SANITISERS[name]
    safe = call.args[1] if len(call.args) > 1 else next(
        (k.value for k in call.keywords if k.arg == "safe"), None)
    if safe is None:
        return SANITISERS[name]
    if not isinstance(safe, ast.Constant) or not isinstance(safe.value, str):
        return frozenset()
    if not safe.value:
        return SANITISERS[name]
    # the characters ``safe`` lets through unescaped, judged as a guard would judge them
    return SANITISERS[name] & regex_guard.cleared("[" + re.escape(safe.value) + "]*", 0,
                                                  "fullmatch")


# methods whose result is a digest, a flag or a number, not the caller's text
CLEAN_METHODS = frozenset({"isdigit", "isalnum", "isalpha", "isdecimal", "isnumeric",
                           "startswith", "endswith", "count", "index", "find", "rfind",
                           "is_relative_to", "exists", "is_file", "is_dir", "hexdigest",
                           "digest", "isidentifier", "islower", "isupper"})
NORMALISERS = frozenset({"os.path.realpath", "os.path.abspath", "os.path.normpath",
                         "posixpath.normpath", "os.path.commonpath"})
_CHARSET_CHECKS = frozenset({"isdigit", "isdecimal", "isnumeric", "isalnum", "isalpha",
                             "isidentifier"})
_REGEX_GUARDS = frozenset({"re.fullmatch", "re.match", "re.search"})
_PATTERN_METHODS = frozenset({"fullmatch", "match", "search"})
_URL_GUARDS = frozenset({"django.utils.http.url_has_allowed_host_and_scheme",
                         "django.utils.http.is_safe_url"})
_HOST_PARTS = frozenset({"netloc", "hostname", "host"})
# calls that end a branch: the code after the ``if`` is not reached through it
# (not a bare ``abort``: an app function of that name may well return)
TERMINAL_CALLS = frozenset({"flask.abort", "sys.exit", "werkzeug.exceptions.abort",
                            "os._exit", "quart.abort", "bottle.abort"})


def replace_clears(args: list[ast.expr]) -> Taint:
    """``s.replace(old, new)``: removing separators defeats traversal, CR/LF log forging."""
    if not args or not isinstance(args[0], ast.Constant) or not isinstance(args[0].value, str):
        return frozenset()
    old = args[0].value
    new = args[1].value if len(args) > 1 and isinstance(args[1], ast.Constant) else None
    if isinstance(new, str) and old in new:
        return frozenset()
    cleared: set[str] = set()
    if "/" in old or "\\" in old or old == "..":
        cleared.add("path")
    if "\n" in old or "\r" in old:
        cleared.add("log")
    return frozenset(cleared)


def sub_clears(call: ast.Call) -> Taint:
    """``re.sub(P, repl, s)``: what ``regex_clears`` says, unless ``count`` (a 4th
    positional argument, often ``re.I`` by mistake, or ``count=``) stops it early."""
    count = call.args[3] if len(call.args) > 3 else next(
        (k.value for k in call.keywords if k.arg == "count"), None)
    if count is not None and not (isinstance(count, ast.Constant) and count.value == 0):
        return frozenset()
    if any(k.arg is None for k in call.keywords) or len(call.args) < 3:
        return frozenset()
    return regex_clears(call.args[0], call.args[1])


def regex_clears(pattern: ast.expr, repl: ast.expr | None = None) -> Taint:
    """``re.sub(P, repl, s)`` with a negated class of safe characters keeps only those.

    The replacement is written in too: ``re.sub("[^a-z]", ";", "a id")`` is ``a;id``,
    so a replacement that is not a literal, or refers back to the match, clears nothing.
    """
    if not isinstance(pattern, ast.Constant) or not isinstance(pattern.value, str):
        return frozenset()
    p = pattern.value
    written = repl.value if isinstance(repl, ast.Constant) else None
    if repl is None:
        written = ""
    if not isinstance(written, str) or "\\" in written:
        return frozenset()
    if p.startswith("[^") and p.rstrip("+*").endswith("]"):
        # what is kept is what the class names, plus the replacement: judged as the
        # guard ``[...]*`` would be (spaces and globs count for the shell, as in
        # regex_guard.DANGEROUS)
        kept = regex_guard.cleared("[" + p[2:p.rstrip("+*").rindex("]")]
                                   + re.escape(written) + "]*", 0, "fullmatch")
        if kept:
            return kept
    if "\\n" in p or "\n" in p or "\\r" in p or "\r" in p:
        return frozenset({"log"})
    return frozenset()


@dataclass
class Shapes:
    """What the engine knows about local names beyond their taint."""

    normalised: set[str] = field(default_factory=set)  # realpath/resolve() results
    url_of: dict[str, str] = field(default_factory=dict)  # parsed -> key of the URL it parsed
    signed_of: dict[str, str] = field(default_factory=dict)  # expected MAC -> key of its message
    constants: dict[str, str] = field(default_factory=dict)  # module-level NAME = "text"
    # module-level NAME = re.compile("literal", flags) -> (pattern, flags)
    patterns: dict[str, tuple[str, int]] = field(default_factory=dict)


def compiled_pattern(call: ast.Call, qual: Callable[[ast.expr], str],
                     constants: dict[str, str]) -> tuple[str, int] | None:
    """``re.compile("[a-z]+", re.I)`` -> its literal pattern and flags (None: not literal)."""
    if qual(call.func) != "re.compile" or not call.args:
        return None
    pattern = literal_pattern(call.args[0], constants)
    flag_node = call.args[1] if len(call.args) > 1 else next(
        (k.value for k in call.keywords if k.arg == "flags"), None)
    flags = _flags(flag_node, qual)
    return (pattern, flags) if pattern is not None and flags is not None else None


def literal_pattern(node: ast.expr, constants: dict[str, str]) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name) and node.id in constants:
        return constants[node.id]
    return None


def _flags(node: ast.expr | None, qual: Callable[[ast.expr], str]) -> int | None:
    if node is None:
        return 0
    names: list[str] = []
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.BitOr):
            todo += [n.left, n.right]
        elif isinstance(n, ast.Attribute | ast.Name):
            names.append(qual(n))
        else:
            return None
    return regex_guard.flags_of(names)


def signed_message(ctor: str, call: ast.Call) -> str | None:
    """``hmac.new(KEY, msg, ...).hexdigest()`` / ``hmac.digest(KEY, msg, ...)``: msg's key."""
    if isinstance(call.func, ast.Attribute) and call.func.attr in ("hexdigest", "digest") \
            and isinstance(call.func.value, ast.Call):
        call, ctor = call.func.value, ctor.rsplit(".", 1)[0].removesuffix("()")
    if ctor in ("hmac.new", "hmac.digest") and len(call.args) >= 2:
        return key(call.args[1])
    return None


Fact = tuple[str, Taint]  # (a name or a dotted path such as "self.value", kinds ruled out)


def key(node: ast.expr) -> str | None:
    """``x`` -> "x", ``self.value`` -> "self.value", ``sub["url"]`` -> "sub['url']"."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = key(node.value)
        return f"{base}.{node.attr}" if base is not None and base.count(".") < 2 else None
    item: ast.expr | None = None
    if isinstance(node, ast.Subscript):
        base_node, item = node.value, node.slice
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "get" and node.args and not node.keywords and (
                len(node.args) == 1 or len(node.args) == 2 and isinstance(
                    node.args[1], ast.Constant)):
        # creds.get("user") is creds["user"] (with a literal default, or none: a default
        # computed at run time is another value, B32)
        base_node, item = node.func.value, node.args[0]
    if item is not None and isinstance(item, ast.Constant) and isinstance(item.value, str | int):
        base = key(base_node)
        return f"{base}[{item.value!r}]" if base is not None and "." not in base \
            and "[" not in base else None
    return None


def guard_facts(test: ast.expr, truth: bool, qual: Callable[[ast.expr], str],
                tainted: Callable[[ast.expr], Taint], shapes: Shapes) -> list[Fact]:
    """(name, kinds) that ``test`` evaluating to ``truth`` rules out."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return guard_facts(test.operand, not truth, qual, tainted, shapes)
    if isinstance(test, ast.BoolOp):
        if isinstance(test.op, ast.And) == truth:  # all of them hold
            facts = [f for v in test.values
                     for f in guard_facts(v, truth, qual, tainted, shapes)]
            return facts + _local_path(test.values, truth)
        return []
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        return _compare_facts(test, truth, qual, tainted, shapes)
    if isinstance(test, ast.Call) and truth:
        return _call_facts(test, qual, shapes)
    if isinstance(test, ast.Attribute) and test.attr in ("netloc", "hostname") and not truth:
        return _host_facts(test, qual, shapes)  # no host at all: a path on this site
    return []


def _local_path(tests: list[ast.expr], truth: bool) -> list[Fact]:
    """``x.startswith("/") and not x.startswith("//")``: a path on this site, no redirect."""
    held: set[tuple[str, str, bool]] = set()
    for t in tests:
        want = truth
        if isinstance(t, ast.UnaryOp) and isinstance(t.op, ast.Not):
            t, want = t.operand, not truth
        if isinstance(t, ast.Call) and isinstance(t.func, ast.Attribute) \
                and t.func.attr == "startswith" and t.args \
                and isinstance(t.args[0], ast.Constant) and (subject := key(t.func.value)):
            held.add((subject, str(t.args[0].value), want))
    return [(s, frozenset({"redirect"})) for s, prefix, want in held
            if prefix == "/" and want and (s, "//", False) in held]


def _compare_facts(test: ast.Compare, truth: bool, qual: Callable[[ast.expr], str],
                   tainted: Callable[[ast.expr], Taint], shapes: Shapes) -> list[Fact]:
    left, op, right = test.left, test.ops[0], test.comparators[0]
    positive = isinstance(op, ast.In | ast.Eq | ast.Is)
    if truth != positive or not isinstance(op, ast.In | ast.Eq | ast.NotIn | ast.NotEq |
                                           ast.Is | ast.IsNot):
        return []
    if isinstance(left, ast.Call) and qual(left.func) == "os.path.commonpath":
        return [(n.id, frozenset({"path"})) for a in left.args for n in ast.walk(a)
                if isinstance(n, ast.Name) and n.id in shapes.normalised]
    if tainted(right):
        return []
    if isinstance(op, ast.In | ast.NotIn) and (
            isinstance(right, ast.JoinedStr | ast.BinOp) or isinstance(right, ast.Constant)
            and isinstance(right.value, str | bytes)
            or isinstance(right, ast.Name) and right.id in shapes.constants):
        return []  # x in "json|yaml": a substring test, "n|y" passes
    if isinstance(left, ast.Attribute) and left.attr in _HOST_PARTS:
        if facts := _host_facts(left, qual, shapes):
            return facts
    if (subject := key(left)) is not None:  # an allowlist or a fixed value
        return [(subject, _ALL)]
    return []


def _host_facts(host: ast.Attribute, qual: Callable[[ast.expr], str],
                shapes: Shapes) -> list[Fact]:
    """The URL whose host ``urlparse(url).netloc`` (or ``parsed.hostname``) reads."""
    base = host.value
    if isinstance(base, ast.Call) and base.args and (url := key(base.args[0])):
        if qual(base.func).endswith(("urlparse", "urlsplit")):
            return [(url, _URL)]
    if isinstance(base, ast.Name) and base.id in shapes.url_of:
        return [(shapes.url_of[base.id], _URL), (base.id, _URL)]
    return []


def _ends_with_separator(prefix: ast.expr, qual: Callable[[ast.expr], str],
                         shapes: Shapes) -> bool:
    """Whether a containment prefix ends with ``/``: "/srv/files" also admits /srv/files-x."""
    if isinstance(prefix, ast.Tuple):
        return bool(prefix.elts) and all(_ends_with_separator(e, qual, shapes)
                                         for e in prefix.elts)
    if isinstance(prefix, ast.Constant):
        return isinstance(prefix.value, str) and prefix.value.endswith("/")
    if isinstance(prefix, ast.Name) and prefix.id in shapes.constants:
        return shapes.constants[prefix.id].endswith("/")
    if isinstance(prefix, ast.BinOp) and isinstance(prefix.op, ast.Add):
        return qual(prefix.right) in ("os.sep", "os.path.sep", "posixpath.sep") \
            or _ends_with_separator(prefix.right, qual, shapes)
    if isinstance(prefix, ast.JoinedStr) and prefix.values:
        return _ends_with_separator(prefix.values[-1], qual, shapes)
    if isinstance(prefix, ast.Call) and qual(prefix.func).endswith("path.join") and prefix.args:
        last = prefix.args[-1]
        return isinstance(last, ast.Constant) and last.value in ("", "/")
    return False


def _call_facts(test: ast.Call, qual: Callable[[ast.expr], str], shapes: Shapes) -> list[Fact]:
    func = test.func
    if isinstance(func, ast.Attribute) and (subject := key(func.value)) is not None:
        if func.attr in _CHARSET_CHECKS and not test.args:
            return [(subject, _CHARSET)]
        if func.attr == "is_relative_to":
            return [(subject, frozenset({"path"}))]
        if func.attr == "startswith" and subject in shapes.normalised and test.args \
                and _ends_with_separator(test.args[0], qual, shapes):
            return [(subject, frozenset({"path"}))]
        if func.attr in _PATTERN_METHODS and len(test.args) == 1 and not test.keywords \
                and (value := key(test.args[0])):  # P.fullmatch(x, 0, 32) checks a slice
            compiled = shapes.patterns.get(func.value.id) if isinstance(
                func.value, ast.Name) else None
            if isinstance(func.value, ast.Call):
                compiled = compiled_pattern(func.value, qual, shapes.constants)
            if compiled is None:
                return []  # a pattern we cannot read proves nothing
            kinds = regex_guard.cleared(compiled[0], compiled[1], func.attr)
            return [(value, kinds)] if kinds else []
    name = qual(func)
    if name == "hmac.compare_digest" and len(test.args) == 2:
        # the message whose MAC matched came from who holds the key, not the client
        return [(shapes.signed_of[k], _SIGNED) for a in test.args
                if (k := key(a)) is not None and k in shapes.signed_of]
    first = key(test.args[0]) if test.args else None
    if name == "isinstance" and len(test.args) == 2 and first:
        kinds = {n.id for n in ast.walk(test.args[1]) if isinstance(n, ast.Name)}
        if kinds and kinds <= {"int", "float", "bool"}:
            return [(first, _ALL)]
        if kinds == {"str"}:
            return [(first, frozenset({"nosql"}))]
    arg = test.args[1] if len(test.args) > 1 else None
    if name in _REGEX_GUARDS and arg is not None and (value := key(arg)):
        pattern = literal_pattern(test.args[0], shapes.constants)
        flags = _flags(test.args[2] if len(test.args) > 2 else next(
            (k.value for k in test.keywords if k.arg == "flags"), None), qual)
        if pattern is None or flags is None:
            return []
        kinds = regex_guard.cleared(pattern, flags, name.removeprefix("re."))
        return [(value, kinds)] if kinds else []
    if name in _URL_GUARDS and first:
        return [(first, _URL)]
    return []
