"""Whether a whole value *is* SQL (a saved query, a report filter) rather than breaks out of it.

Report builders and analytics APIs store queries users write
(``SELECT region, sum(amount) FROM sales GROUP BY region``) and SQL-like
filters (``status = 'open' AND priority > 2``, ``requests | where code >=
500``); code reviews paste a statement with a remark after ``--``.  Every SQL
rule fires on them, yet none of them *injects*: an injection breaks out of a
literal or a number the application wrote, so it starts (or ends) at a value
edge with a quote that closes a literal, a comment that cuts the query short,
a second statement, a constant condition or a function no report needs.

:func:`whole_statement` says the value is one well-formed query or filter
with none of those: read left to right, every quote opens a literal that
closes again; no literal touches a bare word (``x' or '``, read from outside,
puts a word against a literal); no literal holds operators, parentheses or
connectives (if the application put the value *inside* a literal, the
literals' contents would be what runs as SQL, so they must be inert words);
no ``;`` but one at the end, no comment but a trailing remark in words, no
constant condition (``1=1``, ``'a'='a'``, ``x = x``, ``or true``), no
catalogue table, server variable, time-delay, file, or command function.

SQL rules with a ``prose:`` score score it for such a value (the engine asks
through :func:`ramparts.gateway.waf.prose.quoted_in_prose` with ``sql=True``),
and the libinjection detectors leave it alone, so SQL rules alone never block
it.  Not guaranteed: a filter sent into a *numeric* context by someone who
knows the column names (``status != 'x' or id > 0``) reads as a filter too.
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_LENGTH = 4000  # longer values are not judged (the rules read them as usual)

_TOKEN = re.compile(
    r"""\s+
    |(?P<lit>'(?:[^']|'')*'|"[^"]*")
    |(?P<num>-?\d+(?:\.\d+)?(?:[a-z]{1,2}\b|(?:-\d+){1,2}\b)?)
    |(?P<param>%s|%\(\w{1,40}\)s|\$\d{1,3}|:[a-z_]\w{0,40}|\?)
    |(?P<word>[a-z_][\w.]{0,80}(?:\(\))?)
    |(?P<op>->>?|::|<=|>=|<>|!=~?|==|=~|!~|\|=|\|~|[=<>~+\-*/%,()\[\]{}|.])
    """,
    re.VERBOSE,
)
_REMARK = re.compile(r"(?:;\s*)?--\s+(?P<text>[^'\"`;\n]*)$")
# constant conditions: the same operand on both sides, number against number, or a
# connective followed by a constant
_CONSTANT = re.compile(
    r"""(?<![\w.'"])('[^']*'|"[^"]*"|\d+(?:\.\d+)?|[a-z_]\w*)\s*(?:==?|<=>|\blike\b|\bis\b)\s*\1(?![\w.'"])
    |(?<![\w.])\d+(?:\.\d+)?\s*(?:=|==|<>|!=|<|>|<=|>=)\s*\d+(?:\.\d+)?(?![\w.])
    |\b(?:or|and|xor|where|when|having)\s+(?:true|false|null|\d+)\b(?!\s*(?:=|<|>|!|\blike\b|\bis\b|[-+*/%]))
    |\b(?:or|xor)\s+not\b""",
    re.VERBOSE,
)
_BETWEEN = re.compile(r"\bbetween\s+(\S{1,40})\s+and\s+")  # its "and" is no connective
# what no report needs and injections reach for
_DANGER = re.compile(
    r"""@@|--|\{\{|\{%|<%|\$\{|__|<[a-z/!?]|0x[0-9a-f]|\\|`|/\*|\#|;.|&&|\|\||\bchr?\s*\(|\bn?char\s*\(|sleep\s*\(|\bbenchmark\b|\bwaitfor\b
    |\bload_file\b|\boutfile\b|\bdumpfile\b|\bxp_\w|\bsp_\w|information_schema|pg_catalog|pg_shadow|pg_user
    |pg_read|\bsysobjects|\bsyscolumns|sqlite_master|mysql\.user|\butl_|\bdbms_|\bctxsys\b|\bsys\.|v\$
    |\ball_tables\b|\buser_tables\b|\bexec(?:ute)?\b|\bdeclare\b|\bshutdown\b|\binto\b|\bprocedure\b
    |\bextractvalue\b|\bupdatexml\b|\bload_extension\b|\blo_import\b|\bprogram\b|\bcurrent_setting\b
    |\brandomblob\b|\bversion\s*\(|\bdatabase\s*\(|\buser\s*\(|\bcurrent_user\b|\bsystem_user\b""",
    re.VERBOSE,
)
# literal contents: inert words only (what would run as SQL if the value sat in a literal)
_INERT_LITERAL = re.compile(r"[\w\s%.,:@/+-]*")
_LITERAL_WORDS = re.compile(
    r"\b(?:or|and|xor|not|select|like|rlike|regexp|between|is|div|mod|sleep|having|where|"
    r"order|group|limit|case|when|then)\b|\.\.|--"
)
_STATEMENT_START = frozenset({"select", "with"})
# words a literal may follow / be followed by (operators and these)
_BEFORE_LITERAL = frozenset(
    "like ilike in is not contains has eq ne gt lt ge le then else when select by between "
    "startswith endswith matches interval date timestamp time".split()
)
_AFTER_LITERAL = frozenset(
    "and or order group limit then else end as asc desc escape having offset when from by "
    "nulls union intersect except".split()
)
_NOT_IN_FILTER = frozenset("select union case if iif elt from".split())
_COMPARISON = frozenset("= == != <> < > <= >= ~ =~ !~ != |= |~".split()) | frozenset(
    "like ilike in is between contains has eq ne gt lt ge le".split()
)


def _tokens(text: str) -> list[tuple[str, str]] | None:
    """(kind, text) tokens, or None when a character fits none of them."""
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            return None
        pos = m.end()
        kind = m.lastgroup
        if kind is not None:
            out.append((kind, m.group(kind)))
    return out


def _filter(tokens: list[tuple[str, str]]) -> bool:
    """A filter starts with a name (or a bracket) and compares a name with an operand; it
    holds no subquery or conditional (those are statements' or injections')."""
    kind, first = tokens[0]
    if kind != "word" and first not in ("(", "{"):
        return False
    compared = False
    for i, (_kind, tok) in enumerate(tokens):
        if tok in _NOT_IN_FILTER:
            return False
        if tok not in _COMPARISON:
            continue
        after = tokens[i + 1] if i + 1 < len(tokens) else ("", "")
        if tok == "is" and after[1] not in ("not", "null", "true", "false", "distinct"):
            return False
        if after[0] not in ("lit", "num", "word", "param") and after[1] not in ("(", "-"):
            return False
        if i > 0 and tokens[i - 1][0] == "word":
            compared = True
    return compared


def _inert(literal: str) -> bool:
    body = literal[1:-1].replace("''", "")
    return _INERT_LITERAL.fullmatch(body) is not None and _LITERAL_WORDS.search(body) is None


@lru_cache(maxsize=256)
def whole_statement(value: str) -> bool:
    """Whether ``value`` is one well-formed SQL query or SQL-like filter (module docstring)."""
    if len(value) > MAX_LENGTH or len(value) < 8:
        return False
    text = value.strip().lower()
    remark = _REMARK.search(text)
    if remark is not None:
        if len(re.findall(r"[a-z]{2,}", remark.group("text"))) < 2:
            return False
        text = text[: remark.start()]
    text = text.rstrip().removesuffix(";")
    if _DANGER.search(text) or _CONSTANT.search(_BETWEEN.sub(r"between \1 , ", text)):
        return False
    tokens = _tokens(text)
    if not tokens or tokens[0][0] in ("lit", "num"):
        return False
    statement = tokens[0][1] in _STATEMENT_START
    if statement and not any(v == "from" for _, v in tokens):
        return False
    if not statement and not _filter(tokens):
        return False
    depth = 0
    for i, (kind, tok) in enumerate(tokens):
        if tok in ("(", "[", "{"):
            depth += 1
        elif tok in (")", "]", "}"):
            depth -= 1
            if depth < 0:
                return False
        if kind != "lit":
            continue
        if not _inert(tok):
            return False
        before = tokens[i - 1]
        between = before[1] == "and" and i >= 3 and tokens[i - 3][1] == "between"
        if before[0] in ("lit", "num", "param") or (
            before[0] == "word" and before[1] not in _BEFORE_LITERAL and not between
        ):
            return False
        if i + 1 < len(tokens):
            after = tokens[i + 1]
            if after[0] in ("lit", "num", "param") or (
                after[0] == "word" and after[1] not in _AFTER_LITERAL
            ):
                return False
    return depth == 0


_SUBQUERY_HEAD = re.compile(r"(?:\b[a-z_][\w.]{0,60} (?:not )?in|\b(?:not )?exists) ?$")


def list_subquery(text: str, start: int) -> bool:
    """Whether ``text[start:]`` opens a parenthesised subquery a name is tested against
    (``id IN (SELECT user_id FROM admins)``, ``NOT EXISTS (SELECT 1 FROM ...)``) whose
    inside is a whole query by :func:`whole_statement`.  A review sentence quotes one;
    an injection compares a number or a literal (``1 in (select @@version)``) or reaches
    for what a whole query may not hold."""
    if start < 0 or text[start : start + 1] != "(":
        return False
    head = text[max(0, start - 80) : start].lower()
    if _SUBQUERY_HEAD.search(head) is None:
        return False
    depth = 0
    for i in range(start, min(len(text), start + MAX_LENGTH)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return whole_statement(text[start + 1 : i])
    return False
