"""Whether a match is *quoted* in prose rather than sent as a value.

Support tickets quote shell (``try `ls -la ~/.ssh` first``), code reviews quote
SQL (``can we avoid `SELECT *` here?``); an injection is a value on its own or
the end of one.  Rules that say ``prose: N`` score N instead of their full
score when the text they matched reads as a quotation:

* the match lies inside a markdown code span or fence, and at least three
  words of two or more letters stand outside every code span (one is enough
  when the text also has a fenced block: it is written in markdown);
* the match is a markdown link's target (``[guide](../../docs/a.md)``) in a
  text of at least three words; or
* the text outside code spans has at least four English function words
  (``the``, ``you``, ``should``, ...) and eight words in all.

For the first and the last, the text outside code spans must read as sentences: at most one
brace, bracket, pipe, quote or operator character per two words (a Handlebars
payload full of ``{{#with this}}`` is code, whatever its words).  Markdown's own
syntax -- headings, ``>`` quotes, list bullets, task boxes, ``**``, link
brackets -- is not counted: a note that starts ``> **Warning**`` is prose.

For SQL rules only, a value that is one whole, well-formed SQL query or filter,
or a match opening a whole subquery a name is tested against, counts as quoted
too (``sqlshape.py``): it is SQL, not a fragment breaking out of a literal.

Function words are chosen so that no SQL or shell keyword counts (``and``,
``or``, ``not``, ``in``, ``is``, ``if``, ``set``, ``from`` are left out), so a
payload's own keywords never make it prose.  What this does NOT guarantee: an
attacker who wraps a payload in backticks and pads it with a sentence gets the
lower score for rules with ``prose:``; markers no one quotes by accident
(``/dev/tcp/``, ``${jndi:``, ``__globals__``) sit in rules without it.

Each test is linear in the text; a text's profile is computed once and kept
(bounded cache).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache

from ramparts.gateway.waf.sqlshape import list_subquery, whole_statement

_CODE = re.compile(r"```[^`]{0,5000}```|`[^`\n]{1,300}`")
_WORD = re.compile(r"[a-z][a-z']+", re.IGNORECASE)
FUNCTION_WORDS = frozenset(
    "the this that these those it its it's to we you your our my me us they them he she his "
    "her can could should would will please why what for with was were be been but so have has "
    "had does did do don't doesn't didn't just also now because about still only let's i'm i'd "
    "i've there here before after an of at on how which some any try run see thanks thank "
    "maybe i'll we'll you'll probably again instead works worked fixed fails failed get got "
    "then open steps reproduce clone repo error using use when are avoid consider rather than "
    "think looks need needs query index since while would same each other fine good nit "
    "careful safe exactly until keep isn't we're".split()
)
_CODE_CHARS = "{}[]()<>|$;=`\"\\%#@*&^~+"
# Markdown's own syntax is not code: headings, block quotes, list bullets and task boxes
# at a line's start, bold/italic markers, and links (their text is kept, the target not).
_MARKDOWN = re.compile(
    r"(?m)^[ \t]{0,3}(?:#{1,6}[ \t]|>[ \t]?|[-*+][ \t]+(?:\[[ xX]\][ \t]+)?|\d{1,3}[.)][ \t]+)"
    r"|\*\*|__"
)
_LINE_MARKS = frozenset("#>-*+0123456789")
_MARKDOWN_LINK = re.compile(r"!?\[([^\[\]\n]{0,100})\]\([^()\s]{0,300}\)")

_SPAN_WORDS = 3
_PROSE_FUNCTION_WORDS = 4
_PROSE_WORDS = 8
_MAX_TEXT = 20_000  # beyond this, only the first part is profiled


@lru_cache(maxsize=512)
def _profile(text: str) -> tuple[int, int, tuple[int, ...]]:
    """(words outside code, function words outside code, flat code span bounds)."""
    head = text[:_MAX_TEXT]
    bounds: list[int] = []
    outside: list[str] = []
    last = 0
    for m in _CODE.finditer(head):
        outside.append(head[last : m.start()])
        bounds += [m.start(), m.end()]
        last = m.end()
    outside.append(head[last:])
    rest = " ".join(outside)
    if "**" in rest or "__" in rest or "\n" in rest or rest.lstrip()[:1] in _LINE_MARKS:
        rest = _MARKDOWN.sub(" ", rest)
    if "](" in rest:
        rest = _MARKDOWN_LINK.sub(r" \1 ", rest)  # a link keeps its text
    words = _WORD.findall(rest)
    if 2 * sum(rest.count(c) for c in _CODE_CHARS) > len(words):
        return 0, 0, ()  # braces, pipes and operators outside code: code, not sentences
    function = sum(1 for w in words if w.lower() in FUNCTION_WORDS)
    return len(words), function, tuple(bounds)


def _link_target(text: str, start: int, end: int) -> bool:
    """The match is a markdown link's target: ``[text](../../docs/a.md)``."""
    if start < 2 or text[start - 2 : start] != "](":
        return False
    close = text.find(")", start)
    return close >= end or (close < 0 and end == len(text))


def quoted_in_prose(text: str, start: int, end: int, sql: bool = False) -> bool:
    """Whether ``text[start:end]`` is quoted in prose (see the module docstring).

    ``start < 0``: a detector that judged the whole value without saying where;
    then any code span in a sentence counts.  ``sql``: the asking rule is an SQL one, and
    a value that is one whole, well-formed query or filter (``sqlshape.whole_statement``:
    a saved report query) counts as quoted too -- it is SQL, it does not break out of any --
    and so does a match that opens a whole subquery a name is tested against
    (``id IN (SELECT user_id FROM admins)``, ``sqlshape.list_subquery``).
    """
    if len(text) < 12 or " " not in text:
        return False
    if sql and (whole_statement(text) or list_subquery(text, start)):
        return True
    if _link_target(text, start, end) and len(_WORD.findall(text, 0, _MAX_TEXT)) >= _SPAN_WORDS:
        return True
    words, function, bounds = _profile(text)
    if function >= _PROSE_FUNCTION_WORDS and words >= _PROSE_WORDS:
        return True
    fenced = "```" in text[:_MAX_TEXT]
    if words < (1 if fenced else _SPAN_WORDS) or not bounds:
        return False
    if start < 0:
        return True
    i = bisect_right(bounds, start)
    # an odd index: start lies inside the span bounds[i-1] .. bounds[i]; a match that
    # starts on the span's closing backtick took markdown for a quote (`x` and not ...)
    return i % 2 == 1 and (end <= bounds[i] or start == bounds[i] - 1)
