"""Literal prefilters for rule patterns: skip a regex when its required text is absent.

Python's ``re`` has no multi-pattern scan: one alternation of every rule's
patterns costs a few microseconds per character of every value.  Almost every
pattern, though, cannot match unless one of a few literal strings occurs in
the text (``union`` for UNION SELECT; one of ``;``, ``|``, ``&`` for a shell
separator).  ``needles`` reads those strings off the compiled pattern's parse
tree; ``str.__contains__`` (a C substring search) then rules most patterns out
before any regex runs.  ``signature`` goes further: a value's ASCII
punctuation decides, once per distinct set, which patterns could match at
all (a name with an apostrophe never needs the shell or template rules).  A
pattern with no such requirement gets ``None`` and always runs: the prefilter
only ever skips work, never a match.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

try:  # CPython 3.11+: the regex parser ``re`` itself uses
    from re import _constants as C  # noqa: N812 - the parser's opcodes
    from re import _parser
except ImportError:  # pragma: no cover - older layouts
    import sre_constants as C  # noqa: N812
    import sre_parse as _parser

_Needles = frozenset[str] | None


PUNCTUATION = frozenset(string.punctuation)


def signature(value: str) -> frozenset[str]:
    """The ASCII punctuation in ``value``: what decides which patterns could match it."""
    return PUNCTUATION.intersection(value)


def possible(required: _Needles, sig: frozenset[str]) -> bool:
    """Whether a text with punctuation ``sig`` could hold one of ``required``."""
    return required is None or any(PUNCTUATION.intersection(n) <= sig for n in required)


@lru_cache(maxsize=8192)
def needles(pattern: re.Pattern[str]) -> _Needles:
    """Strings one of which every match of ``pattern`` contains (lower case), or None."""
    if pattern.flags & re.VERBOSE:
        return None
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags & ~re.UNICODE)
    except re.error:
        return None
    found = _required(list(tree))
    if found is None or min(len(s) for s in found) < 1:
        return None
    return frozenset(s.lower() for s in found)


def _better(a: _Needles, b: _Needles) -> _Needles:
    """The stricter requirement: longer shortest needle, then fewer needles."""
    if a is None:
        return b
    if b is None:
        return a
    key_a = (min(map(len, a)), -len(a))
    key_b = (min(map(len, b)), -len(b))
    return a if key_a >= key_b else b


def _required(items: list[tuple[object, object]]) -> _Needles:  # noqa: PLR0912 - one case per opcode
    best: _Needles = None
    run = ""
    for op, av in items:
        if op is C.LITERAL:
            run += chr(av)  # type: ignore[arg-type]
            continue
        repeated = _repeated_literal(op, av)
        if repeated is not None:
            # ``\.{2,}``: its first ``low`` characters follow what came before, so they
            # extend the run (``..`` is a far rarer needle than ``.`` in prose)
            char, low, exact = repeated
            run += char * low
            if not exact:  # more may follow: the run ends here
                best = _better(best, frozenset({run}))
                run = ""
            continue
        if run:
            best = _better(best, frozenset({run}))
            run = ""
        inner: _Needles = None
        if op is C.SUBPATTERN:
            inner = _required(list(av[3]))  # type: ignore[index]
        elif op is C.ATOMIC_GROUP:
            inner = _required(list(av))  # type: ignore[arg-type]
        elif op is C.BRANCH:
            options: set[str] = set()
            for branch in av[1]:  # type: ignore[index]
                got = _required(list(branch))
                if got is None:
                    options = set()
                    break
                options |= got
            inner = frozenset(options) if options else None
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            low, _high, sub = av  # type: ignore[misc]
            if low >= 1:
                inner = _required(list(sub))
        best = _better(best, inner)
    if run:
        best = _better(best, frozenset({run}))
    return best


def _repeated_literal(op: object, av: object) -> tuple[str, int, bool] | None:
    """(char, least count, exact) for a repeat of one literal character (``x{2,}``), else None."""
    if op not in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
        return None
    low, high, sub = av  # type: ignore[misc]
    body = list(sub)
    if low < 1 or len(body) != 1 or body[0][0] is not C.LITERAL:
        return None
    return chr(body[0][1]), low, low == high


def gate(required: list[_Needles], flags: int = 0) -> re.Pattern[str] | None:
    """One regex that finds whether any needle of any pattern occurs (None: cannot tell).

    Built as a trie (``a(?:nd|ttr)|u(?:nion|pdate)``) so the engine tries a
    character class per position rather than every needle: a clean value costs a
    microsecond or so per 10 characters.  A needle that is a prefix of another
    ends its branch (finding the shorter one is enough).
    """
    if not required or any(r is None for r in required):
        return None
    trie = _build_trie(required)
    return re.compile(_trie(trie), flags) if trie else None


def scanner(required: list[_Needles]) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """Which needles a text holds, in one regex scan instead of one search per needle.

    Returns a regex whose ``finditer`` yields, at every position of a (lower-case)
    text, the shortest needle starting there (a lookahead over the needle trie,
    so matches may overlap), and each needle's shortest needle prefix.  A needle
    ``n`` occurs in a text only if the scan found ``shortest[n]`` there (the trie,
    walked along ``n`` from where it occurs, stops at that prefix), so a pattern
    none of whose needles' prefixes were found cannot match: the engine skips it,
    and checks the others with ``in`` as before.  None when there are no needles.
    """
    trie = _build_trie(required)
    if not trie:
        return None
    shortest: dict[str, str] = {}
    for needle_set in required:
        for needle in needle_set or ():
            node = trie
            for i, ch in enumerate(needle):
                node = node[ch]
                if "" in node:
                    shortest[needle] = needle[: i + 1]
                    break
    return re.compile(f"(?=({_trie(trie)}))"), shortest


def _build_trie(required: list[_Needles]) -> dict[str, dict]:
    """Every needle as a path of characters; ``""`` marks where a needle ends."""
    trie: dict[str, dict] = {}
    for needle_set in required:
        for needle in needle_set or ():
            node = trie
            for ch in needle:
                node = node.setdefault(ch, {})
            node[""] = {}
    return trie


def _trie(node: dict[str, dict]) -> str:
    if "" in node:
        return ""  # a needle ends here: its prefix alone passes the gate
    alternatives = [re.escape(ch) + _trie(child) for ch, child in sorted(node.items())]
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"
