"""The taint rules: one ``Rule`` per sink kind, its severity and its message.

A value's taint is the set of sink kinds it is still dangerous for; a rule
fires when a value reaches a sink of its kind with that kind still in its set.
Ids RP-T001..RP-T015 and their CWEs are fixed (shared with the other scanner
families); severities are calibrated so that what is exploitable blocks a
deploy (high) and what only degrades logs or session trust warns (medium).
"""

from __future__ import annotations

from collections.abc import Iterable

from ramparts.scan.findings import Rule, Severity

Taint = frozenset[str]
CLEAN: Taint = frozenset()

RULES: dict[str, Rule] = {
    "code": Rule("RP-T001", "taint", "input-to-eval",
                 "Attacker data reaches eval/exec/compile: arbitrary code execution.", "CWE-94"),
    "command": Rule("RP-T002", "taint", "input-to-shell",
                    "Attacker data reaches a shell command or picks the program to run.",
                    "CWE-78"),
    "sql": Rule("RP-T003", "taint", "input-to-sql",
                "SQL built from attacker data by formatting or concatenation is executed.",
                "CWE-89"),
    "deserialize": Rule("RP-T004", "taint", "input-to-unsafe-deserialization",
                        "Attacker data is deserialised with pickle/marshal/yaml.load and friends.",
                        "CWE-502"),
    "path": Rule("RP-T005", "taint", "input-to-file-path",
                 "An attacker-controlled path is used without a containment check "
                 "(path traversal).", "CWE-22"),
    "ssrf": Rule("RP-T006", "taint", "input-to-outbound-url",
                 "An outbound request goes to an attacker-controlled URL (SSRF).", "CWE-918"),
    "template": Rule("RP-T007", "taint", "input-to-template",
                     "A template is compiled from attacker data (server-side template "
                     "injection).", "CWE-1336"),
    "nosql": Rule("RP-T008", "taint", "input-to-nosql",
                  "A NoSQL query or operator is built from attacker data.", "CWE-943"),
    "xpath": Rule("RP-T009", "taint", "input-to-xpath",
                  "An XPath expression is built from attacker data.", "CWE-643"),
    "ldap": Rule("RP-T010", "taint", "input-to-ldap",
                 "An LDAP search filter or DN is built from unescaped attacker data.", "CWE-90"),
    "redirect": Rule("RP-T011", "taint", "input-to-redirect",
                     "A redirect goes to an attacker-controlled URL (open redirect).", "CWE-601"),
    "xss": Rule("RP-T012", "taint", "input-to-html",
                "Attacker data is written into an HTML response unescaped (reflected XSS).",
                "CWE-79"),
    "xxe": Rule("RP-T013", "taint", "input-to-xml-parser",
                "Attacker XML is parsed by a parser that resolves external entities.",
                "CWE-611"),
    "log": Rule("RP-T014", "taint", "input-to-log",
                "Attacker data is logged without neutralising CR/LF (log injection).",
                "CWE-117"),
    "trust-boundary": Rule("RP-T015", "taint", "input-to-session",
                           "Request data is stored in the session unvalidated "
                           "(trust boundary violation).", "CWE-501"),
}

KINDS: Taint = frozenset(RULES)
SEVERITY: dict[str, Severity] = {k: Severity.HIGH for k in RULES} | {
    "log": Severity.MEDIUM, "trust-boundary": Severity.MEDIUM}

MESSAGES: dict[str, tuple[str, str]] = {
    "code": ("attacker data reaches {sink}() and is run as code", "never evaluate request "
             "data; parse it (json.loads, ast.literal_eval) or dispatch through a fixed mapping"),
    "command": ("attacker data reaches the shell through {sink}()", "pass an argument list "
                "without shell=True, or validate against an allowlist and shlex.quote() it"),
    "sql": ("SQL built from attacker data is passed to {sink}()", "use a parameterised query: "
            "execute(\"... WHERE id = ?\", (value,))"),
    "deserialize": ("attacker data is deserialised with {sink}()", "use json, or "
                    "yaml.safe_load / yaml.load(..., Loader=yaml.SafeLoader)"),
    "path": ("an attacker-controlled path reaches {sink}() unchecked", "reduce it to a file "
             "name (os.path.basename, replace separators) or resolve() it and check "
             "is_relative_to(base)"),
    "ssrf": ("an outbound request via {sink}() goes to an attacker-controlled URL", "pick the "
             "host from a fixed allowlist (urlparse(url).hostname in ALLOWED); see also egress:"),
    "template": ("a template is compiled from attacker data with {sink}()", "load templates "
                 "from files and pass request data only as render() variables"),
    "nosql": ("a query passed to {sink}() is built from attacker data", "never pass request "
              "objects as filters; coerce each value (str(), int()) and never use $where"),
    "xpath": ("an XPath expression passed to {sink}() is built from attacker data", "pass "
              "values as XPath variables: tree.xpath(\"//u[@name=$n]\", n=value)"),
    "ldap": ("an LDAP filter passed to {sink}() is built from attacker data", "escape values "
             "with ldap3.utils.conv.escape_filter_chars / ldap.filter.filter_format"),
    "redirect": ("a redirect via {sink} goes to an attacker-controlled URL", "redirect only to "
                 "relative paths of this app or hosts in an allowlist (urlparse(u).netloc)"),
    "xss": ("attacker data is written into an HTML response by {sink}", "render through an "
            "autoescaping template, or html.escape()/markupsafe.escape() the value"),
    "xxe": ("attacker XML is parsed by {sink}() with external entities enabled", "parse with "
            "defusedxml, or lxml XMLParser(resolve_entities=False, no_network=True)"),
    "log": ("attacker data is logged by {sink}() without neutralising line breaks", "strip "
            "CR/LF (value.replace('\\n', ' ')) or log it with %r / json.dumps"),
    "trust-boundary": ("request data is stored in the session by {sink}", "validate the value "
                       "(allowlist, int(), a pattern) before trusting it in the session"),
}


def union(items: Iterable[Taint]) -> Taint:
    """The kinds any of ``items`` is dangerous for."""
    out: set[str] = set()
    for t in items:
        out |= t
    return frozenset(out)
