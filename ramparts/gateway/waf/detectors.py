"""Named detectors: checks a regular expression cannot express well.

A rule names one with ``detector:``.  Each takes a decoded value and returns
why it fired (a short phrase for the audit record), or None.

``libinjection_sqli`` and ``libinjection_xss`` are libinjection's tokenising
detectors (PyPI ``libinjection-python``, the C library ModSecurity's CRS
uses); the others are ours: the ``ssrf_*`` ones (``ssrf.py``) parse hosts
out of URL-looking values and resolve every spelling of an internal address
without any DNS lookup; ``jndi_lookup`` undoes log4j's
nested lookups (``${${lower:j}ndi:...}``, ``${::-j}``) before looking for
``${jndi:``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Iterable
from typing import NamedTuple

import libinjection

from ramparts.gateway.waf.prose import quoted_in_prose
from ramparts.gateway.waf.sqlshape import whole_statement
from ramparts.gateway.waf.ssrf import (
    ssrf_embedded,
    ssrf_host,
    ssrf_odd_url,
    ssrf_path_host,
    ssrf_url,
)


class Found(NamedTuple):
    """Where a detector fired, so the engine can tell a quotation (``prose:``) from a value."""

    why: str
    text: str  # the text the positions refer to (a detector may normalise the value first)
    start: int
    end: int


Detector = Callable[[str], "str | Found | None"]
_TRIES = 8  # matches looked at per pattern for one not quoted in prose


def _found(patterns: Iterable[re.Pattern[str]], text: str, why: str) -> Found | None:
    """The first match not quoted in prose, else the first match, else None."""
    first: Found | None = None
    for pattern in patterns:
        for n, m in enumerate(pattern.finditer(text)):
            if n >= _TRIES:
                break
            hit = Found(why, text, m.start(), m.end())
            if not quoted_in_prose(text, m.start(), m.end()):
                return hit
            first = first or hit
    return first


_SQLI_HINT = frozenset("'\"`;-#/()=|&*")


PROSE_WORDS = 10
_BOOLEAN_SEARCH = frozenset("n&()")


def _sqli(value: str) -> str | None:
    if len(value) < 3:
        return None
    result = libinjection.is_sql_injection(value)
    if result["is_sqli"]:
        fingerprint = result["fingerprint"]
        if _BOOLEAN_SEARCH.issuperset(fingerprint):
            # barewords, AND/OR and parentheses only -- "(red OR blue) AND size:M" is a
            # search expression; without a string, number, comment or keyword no injection
            # can make it a tautology
            return None
        if fingerprint in _WORD_COMMENT and _PROSE_COMMENT.search(value):
            # "50% off -- today only!": a number or word, then a dash pair followed by
            # words.  An injection that comments out the rest of a query ends there (or
            # pads with a dash); a sentence after the dashes is punctuation in prose.
            return None
        if fingerprint.startswith("f(") and _MATH_CALL.match(value):
            return None  # "sqrt(2) = 1.414": arithmetic, no quote, comment or keyword
        return f"libinjection SQLi fingerprint {fingerprint}"
    return None


_LINE_COMMENT = re.compile(r"--|#")
_WORD_COMMENT = frozenset({"1c", "nc", "1nc", "nnc", "n1c"})
_PROSE_COMMENT = re.compile(r"--+ ?[^\W\d_]{2,} [^\W\d_]{2}")
_MATH_CALL = re.compile(
    r"(?i)(?:sqrt|log\d*|ln|sin|cos|tan|abs|round|pow|max|min|avg|mean|sum|gcd|lcm|mod)"
    r"\([\d., ]{1,20}\)[^'\"`;#=]{0,40}$"
)


def libinjection_sqli(value: str) -> str | None:
    """libinjection on values of at most ten words (injections are short).

    SQL ignores what follows a line comment, so junk words after ``--`` or ``#``
    must not make an injection "long text": the part up to and including the
    first comment is judged as a short value too.  A whole command line
    (``psql -c 'select * from pg_stat_activity'``, see ``_COMMAND_LINE``) quotes
    SQL as an argument, and a whole well-formed query or filter (``status = 'open'
    AND priority > 2``, see ``sqlshape.py``) is SQL; neither breaks out of one.
    """
    return _libinjection_sqli(value, shortcuts=True)


def _libinjection_sqli(value: str, shortcuts: bool) -> str | None:
    """``shortcuts``: ask the command-line regex and the statement shape only of a finding
    (they cost more than most values' checks, and only ever withdraw one); False: first, as
    the plain reading (tests/gateway/waf/test_waf_reference.py holds the two equal)."""
    if not shortcuts and (_COMMAND_LINE.match(value) or whole_statement(value)):
        return None
    if len(value.split(None, PROSE_WORDS)) <= PROSE_WORDS:
        why = _sqli(value)
    else:
        comment = _LINE_COMMENT.search(value, 0, 2000)
        if comment is None:
            return None
        head = value[: comment.end()]
        if len(head.split(None, PROSE_WORDS)) > PROSE_WORDS:
            return None
        why = _sqli(head)
        why = f"{why} (before a line comment)" if why else None
    if why is None or (shortcuts and (_COMMAND_LINE.match(value) or whole_statement(value))):
        return None
    return why


def libinjection_sqli_prose(value: str) -> str | None:
    """libinjection on longer text: code-review comments quote SQL and code, so weaker.

    A whole well-formed query or filter (a saved report query, ``sqlshape.py``) is SQL
    by design, not a fragment breaking out of a literal: libinjection's verdict on it
    says nothing."""
    if len(value.split(None, PROSE_WORDS)) <= PROSE_WORDS:
        return None
    why = _sqli(value)
    return None if why is None or whole_statement(value) else why


_STYLE_ATTR = re.compile(r"""\sstyle\s*=\s*(?:"[^"<>]{0,500}"|'[^'<>]{0,500}')""", re.IGNORECASE)
# Rich-text tags with plain attributes (<p>, <a href="https://...">, a YouTube <iframe>):
# libinjection refuses some of them outright, but none runs script.  Attributes are
# whitespace-separated names with quoted or bare values, so the repetition cannot overlap.
_RICH_TAG = re.compile(
    r"</?(?:p|div|span|a|img|iframe|b|i|u|s|em|strong|small|sub|sup|mark|del|ins|h[1-6]|ul|ol|"
    r"li|dl|dt|dd|table|thead|tbody|tfoot|tr|td|th|caption|col|colgroup|br|hr|blockquote|"
    r"code|pre|figure|figcaption|picture|video|audio|source|abbr|cite|q|section|article|"
    r"header|footer|nav|label|font|center)"
    r"""(?:\s+[a-z][a-z0-9-]{0,40}(?:\s*=\s*(?:"[^"<>]{0,1000}"|'[^'<>]{0,1000}'|[^\s"'<>=`]{1,1000}))?){0,30}"""
    r"\s*/?>",
    re.IGNORECASE,
)
_UNSAFE_IN_TAG = re.compile(
    r"[\s/\"']on[a-z]{3,}\s*=|srcdoc|formaction|(?:java|vb)script\s*:|data\s*:|expression\s*\(",
    re.IGNORECASE,
)


def _plain_tag(match: re.Match[str]) -> str:
    return match.group() if _UNSAFE_IN_TAG.search(match.group()) else " "


def libinjection_xss(value: str) -> str | None:
    if "<" not in value and "=" not in value and ":" not in value:
        return None  # every XSS libinjection finds needs a tag, an attribute or a scheme
    if not libinjection.is_xss(value)["is_xss"]:
        return None
    # libinjection refuses every style attribute; rich text carries them all the time.
    # Judge the value without quoted inline styles (url(javascript:...) and expression()
    # inside one are the xss-css-expression rule's).
    cleaned = _STYLE_ATTR.sub(" ", value) if "style" in value.lower() else value
    cleaned = _RICH_TAG.sub(_plain_tag, cleaned)
    if cleaned != value and not libinjection.is_xss(cleaned)["is_xss"]:
        return None
    return "libinjection XSS"


# -- two-part patterns, found from their rare part ----------------------------------------
# "A, then B within N characters" as one regex retries the window at every A; on a value
# of nothing but As (100 KB of "{{") that is N steps per character.  These find each B
# (rare in any value) and look back for an A instead: linear in the value.
_EVENT_ATTR = re.compile(r"[\s/\"'`]on[a-z]{3,25}\s*=", re.IGNORECASE)
_TAG_OPEN = re.compile(r"<[a-z]", re.IGNORECASE)
_TEMPLATE_ESCAPES = re.compile(
    r"__(?:class|mro|subclasses|globals|builtins|import|init)__|\battr ?\(|\|attr\b|\blipsum\b|"
    r"\bcycler\b|\bjoiner\b|\bnamespace\b|config\.items|request\.application|"
    r"_templatereference|url_for\.__|\b(?:os|subprocess|sys|builtins)\.(?:system|popen|spawn\w*|"
    r"exec\w*|call|check_output|modules)\b",
    re.IGNORECASE,
)


def html_event_handler(value: str) -> str | None:
    """An ``on...=`` attribute inside an open tag (``<img src=x onerror=...>``)."""
    if "<" not in value:
        return None
    for found in _EVENT_ATTR.finditer(value):
        start = found.start()
        window = value[max(0, start - 300) : start]
        lt = window.rfind("<")
        if lt >= 0 and window.rfind(">") < lt and _TAG_OPEN.match(window, lt):
            return "event handler attribute in a tag"
    return None


def template_escape(value: str) -> str | None:
    """Python object-graph escapes inside a Jinja2-style expression or statement."""
    if "{{" not in value and "{%" not in value:
        return None
    for found in _TEMPLATE_ESCAPES.finditer(value):
        window = value[max(0, found.start() - 200) : found.start()]
        if "{{" in window or "{%" in window:
            return "Python object access inside a template expression"
    return None


_JAVA_ESCAPES = re.compile(
    r"getruntime|processbuilder|class\.forname|getclass ?\(|java\.lang\.|@java\.|ognlcontext|"
    r"_memberaccess|\.(?:forname|newinstance|getmethod|invoke) ?\(",
    re.IGNORECASE,
)


def java_expression(value: str) -> str | None:
    """Reflection or process calls inside an EL/OGNL/SpEL expression (``${...}``, ``%{...}``)."""
    if "{" not in value:
        return None
    for found in _JAVA_ESCAPES.finditer(value):
        window = value[max(0, found.start() - 200) : found.start()]
        opened = max(window.rfind("${"), window.rfind("#{"), window.rfind("%{"), window.rfind("*{"))
        if opened >= 0 and "}" not in window[opened:]:
            return "Java reflection or process call inside an expression"
    return None


# -- log4shell ----------------------------------------------------------------------------
_LOOKUP = re.compile(r"\$\{([^${}]{0,200})\}")


def _resolve(match: re.Match[str]) -> str:
    inner = match.group(1).lstrip()
    if ":-" in inner:
        return inner.rsplit(":-", 1)[1]
    low = inner.lower()
    if low.startswith("lower:"):
        return inner[6:].lower()
    if low.startswith("upper:"):
        return inner[6:].upper()
    if low.startswith("base64:"):
        try:
            return base64.b64decode(inner[7:], validate=True).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return "\x00LOOKUP\x00"
    if low.startswith("date:"):
        return inner[5:].strip("'\"")
    if low.startswith("jndi:") or low.startswith("jndi :"):
        return "\x00JNDI\x00"  # marker: a jndi lookup, kept through the outer rounds
    return inner if ":" not in inner else "\x00LOOKUP\x00"


def jndi_lookup(value: str) -> str | None:
    if "${" not in value:
        return None
    text = value[:20_000]
    for _ in range(8):
        resolved = _LOOKUP.sub(_resolve, text)
        if "\x00JNDI\x00" in resolved:
            return "log4j JNDI lookup"
        if resolved == text:
            break
        text = resolved
    return None


# -- command injection ------------------------------------------------------------------
# Commands an injected shell fragment runs first: recon, readers, fetchers, interpreters,
# reverse-shell tools, and their Windows counterparts.
SHELL_COMMANDS = (
    "id|whoami|uname|ps|tac|ls|nl|od|xxd|wget|curl|"
    "nc|ncat|netcat|socat|telnet|ssh|scp|bash|sh|zsh|ksh|dash|csh|tcsh|busybox|python[23]?|"
    "perl|php|lua|awk|gawk|sed|printenv|nslookup|dig|ifconfig|"
    "ipconfig|netstat|hostname|pwd|echo|printf|rm|mv|cp|chmod|chown|mkdir|pkill|"
    "reboot|shutdown|systeminfo|tasklist|taskkill|certutil|bitsadmin|mshta|rundll32|"
    "regsvr32|wmic|powershell|pwsh|cmd|cscript|wscript|xargs|base64|openssl|crontab|sudo|"
    "nohup|mkfifo|tftp|xterm|getent|hexdump|%comspec%|findstr|icacls|schtasks|nltest|"
    "killall|useradd|usermod|iptables|nmap|chattr|lsb_release|hostnamectl|lscpu|"
    # cmd's "set" lists the environment: alone, ending the value or the command
    "set(?=[ \t]*(?:$|[;|&]))|"
    # PowerShell cmdlets an injected fragment starts with (Verb-Noun; not "set-up")
    "(?:get|invoke|start|new|remove|stop|set|out)-(?:process|childitem|content|item|service|"
    "wmiobject|ciminstance|command|expression|webrequest|restmethod|localuser|localgroup|"
    "localgroupmember|acl|itemproperty|executionpolicy|psdrive|netipaddress|computerinfo|"
    "object|variable|location|history|eventlog|hotfix)"
)
# Commands that are also English words ("less sugar; more salt"): only with what a command
# takes -- an option, a path, a number, a dotted host, a variable -- or ending the value.
SHELL_WORDS = (
    "cat|dir|head|tail|more|less|strings|fetch|ruby|node|env|sleep|ping|touch|kill|net|type|"
    "find|su|timeout|eval|exec|ftp|last|w|who|groups|ver|tee|tar|history"
)
_WORD_ARG = (
    r"(?=$|[ \t]+(?:[-/\\~$.'\"0-9]|[\w-]{1,60}\.[\w.-]{1,60}|[a-z]:[\\/]|%\w{1,40}%|"
    r"user\b|localgroup\b))"
)
_CMD = (
    rf"(?:(?:/usr|/usr/local)?/s?bin/)?(?:(?:{SHELL_COMMANDS})(?:\.exe)?"
    rf"(?=$|[\s;|&<>`)'\"#]|\$\{{?ifs)|(?:{SHELL_WORDS})(?:\.exe)?{_WORD_ARG})"
)
_CMD_END = ""
# Shell quoting that leaves a word intact: c'a't, w"h"o"a"m"i, w\ho\am\i, who$@ami, i$()d.
# Also an unset variable inside a word (c${u}at, ca$9t): the shell expands it to nothing.
_SHELL_NOISE = re.compile(
    r"(?<=\w)(?:\\|\$@|\$\(\)|\$\{\w{0,20}\}|\$[0-9])(?=\w)|['\"]"
    # a one-letter unset variable ending a word or starting a command: cat$u /etc$u/passwd,
    # ;$u cat /etc/passwd (commix); the shell expands it to nothing
    r"|(?<=\w)\$[a-z](?=[\s/;|&]|$)|(?:(?<=[;|&])|(?<=[;|&] ))\$[a-z] "
)
_ANSI_C = re.compile(rf"(?:^|[;|&\s])\$'{_CMD}'", re.IGNORECASE)  # $'\x69\x64', decoded: $'id'
_IFS = re.compile(r"\$\{?ifs(?:%\?\?)?\}?|\$\{ifs:0:1\}", re.IGNORECASE)
# ${PATH:0:1} and its kind expand to "/" (these variables hold absolute paths)
_SLASH_VAR = re.compile(r"\$\{(?:path|home|pwd|oldpwd|shell) ?: ?0 ?: ?1\}", re.IGNORECASE)
# a one-character glob class inside a word is that character: c[a]t, pass[w]d
_GLOB_CLASS = re.compile(r"(?<=\w)\[(\w)\]|\[(\w)\](?=\w)")
_SHELL_HINT = frozenset(";|&`$\n'\"\\")
_SHELL_PATTERNS = (
    # a separator that ends a short value (a host, a file name, a closed quote), then a command
    re.compile(
        rf"^[\w.:/@,=+'\"()\[\]-]{{0,100}}(?: [\w.:/@=+-]{{1,40}}){{0,2}} ?"
        # separators may repeat (;\nid, & & id): the shell reads an empty command between;
        # a blank line alone is a paragraph break in prose, not two separators
        # (the lookahead fails fast at each of the prefix's many backtracking points)
        rf"(?=[;&|\r\n])(?:(?:;|&&?|\|\|?)[ \t]*(?:(?:;|&&?|\|\|?)[ \t]*){{0,2}}"
        rf"(?:\r?\n[ \t]*)?|\r?\n[ \t]*){_CMD}{_CMD_END}",
        re.IGNORECASE,
    ),
    # command substitution around a command: $(id), `whoami`, x$(uname -a), a`id`b --
    # but not a shell loop's list (for f in $(ls *.log); do ...)
    re.compile(
        rf"(?<!\bin )\$\([ \t]*{_CMD}{_CMD_END}|`[ \t]*{_CMD}(?:[ \t][^`]{{0,100}})?`",
        re.IGNORECASE,
    ),
)


def shell_command(value: str) -> str | Found | None:
    """A shell separator or substitution followed by a command, quoting tricks undone.

    Structure, not payloads: a command word in a position that starts a new
    command (after ``;``, ``|``, ``&&``, a line break, inside ``$( )`` or
    backticks) of a short value, after removing quoting that leaves a word intact
    (``c'a't``) and ``$IFS`` spellings.
    """
    return _shell_command(value, shortcuts=True)


def _shell_command(value: str, shortcuts: bool) -> str | Found | None:
    """``shortcuts``: skip work that cannot change the answer (below); False: the plain
    reading, every pattern (tests/gateway/waf/test_waf_reference.py holds the two equal)."""
    if _SHELL_HINT.isdisjoint(value):
        return None
    text = value[:4096]
    if "$" in text:
        if _ANSI_C.search(text):
            return "ANSI-C quoted command"
        text = _IFS.sub(" ", text)
        if ":" in text:
            text = _SLASH_VAR.sub("/", text)
    if shortcuts and "\\" not in text and "$" not in text:
        if "'" in text or '"' in text:
            # all _SHELL_NOISE removes from a text without a backslash or a "$": the quotes
            text = text.replace("'", "").replace('"', "")
    elif "'" in text or '"' in text or "\\" in text or "$" in text:
        text = _SHELL_NOISE.sub("", text)
    if "[" in text:
        text = _GLOB_CLASS.sub(r"\1\2", text)
    # "sleep 5 && curl -I localhost", "Workaround: systemctl status nginx | head": a whole
    # command line, as tickets quote them; an injection's separator follows a data value
    # (a host, a file name, a closed quote), not a command's arguments
    if not shortcuts:
        patterns = _SHELL_PATTERNS[1:] if _COMMAND_LINE.match(text) else _SHELL_PATTERNS
        return _found(patterns, text, _SHELL_WHY)
    # The first pattern is anchored (one try), so it goes first and the command-line regex
    # runs only when it matched; the substitution pattern needs "$(" or a backtick.
    first = _SHELL_PATTERNS[0]
    chosen = [first] if first.search(text) and not _COMMAND_LINE.match(text) else []
    if "$(" in text or "`" in text:
        chosen.append(_SHELL_PATTERNS[1])
    return _found(chosen, text, _SHELL_WHY)


_SHELL_WHY = "shell separator or substitution followed by a command"


# A value that is a command line: an optional label ("Workaround: ", "1. ", "Tried "), a command
# people type at a prompt, and at least one argument before any separator.
_PROMPT_COMMANDS = (
    "systemctl|service|journalctl|dmesg|docker|podman|kubectl|helm|git|npm|npx|yarn|pnpm|pip3?|"
    "make|cargo|go|mvn|gradle|python[23]?|node|sleep|apt|apt-get|yum|dnf|brew|terraform|ansible|"
    "gcloud|aws|az|psql|mysql|redis-cli|sqlite3|tar|gzip|unzip|grep|ps|df|du|free|lsof|find|tail|"
    "head|cat|ls|cd|export|source|chmod|chown|sudo|ssh|scp|rsync|curl|wget|uname|hostname|ping|"
    "dig|nslookup|traceroute|ip|ss|netstat|openssl|base64|crontab|echo|kill|pkill|nginx|pytest|"
    "tox|rm|mv|cp|mkdir|touch|sed|awk|sort|jq|bash|sh|pg_dump|vim|nano|less|tee|time|watch"
)
# Commands that take no argument and read nothing an attacker wants first (not id, whoami).
_BARE_COMMANDS = "dmesg|uptime|lsblk|nproc|htop|top|df|free|date|ps"
_COMMAND_LINE = re.compile(
    rf"^(?:[a-z][\w ]{{0,30}}: ?|\$ |\d\. |(?:tried|ran|run|try|use|then|also) )?(?:sudo )?"
    rf"(?:(?:{_PROMPT_COMMANDS}) (?:-{{1,2}}[\w-]|[\w./~\\-]{{2,}}|\d)"
    rf"|(?:{_BARE_COMMANDS}) ?[|;&])",
    re.IGNORECASE,
)


_WILDCARD_SEGMENT = r"/(?=[a-z?*]{0,12}[?*])(?=[a-z?*]{0,12}[a-z])[a-z?*]{1,12}(?=[\s/;|&]|$)"
_WILDCARD_COMMAND = re.compile(
    rf"(?:^|[;|&`])[ \t]*(?:/[a-z]{{1,8}}){{0,3}}{_WILDCARD_SEGMENT}", re.IGNORECASE
)
_WILDCARD_PATH = re.compile(rf"{_WILDCARD_SEGMENT}[^\n]{{0,60}}?{_WILDCARD_SEGMENT}", re.IGNORECASE)


def shell_wildcard(value: str) -> str | Found | None:
    """Glob-spelt paths a shell expands to a command and a file (/???/c?t /e??/p??swd)."""
    if "?" not in value and "*" not in value:
        return None
    why = "glob-obfuscated command or path"
    return _found((_WILDCARD_PATH, _WILDCARD_COMMAND), value[:4096], why)


def inspection_limit(value: str) -> str | None:
    """Never fires on a value: the engine fires it when a request has too much to inspect."""
    return None


DETECTORS: dict[str, Detector] = {
    "inspection_limit": inspection_limit,
    "libinjection_sqli": libinjection_sqli,
    "libinjection_sqli_prose": libinjection_sqli_prose,
    "libinjection_xss": libinjection_xss,
    "ssrf_url": ssrf_url,
    "ssrf_host": ssrf_host,
    "ssrf_embedded": ssrf_embedded,
    "ssrf_odd_url": ssrf_odd_url,
    "ssrf_path_host": ssrf_path_host,
    "jndi_lookup": jndi_lookup,
    "html_event_handler": html_event_handler,
    "template_escape": template_escape,
    "java_expression": java_expression,
    "shell_command": shell_command,
    "shell_wildcard": shell_wildcard,
}
