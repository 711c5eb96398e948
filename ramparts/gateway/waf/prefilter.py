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
only ever skips work, never a match.  Where a pattern requires several
strings, the rarest set is its needles (``_weight``: prose is full of letters
and ``;:'&``, not of line breaks or ``{``), and ``also_needed`` lists the
others, which must be present too before it runs.

``NeedleFinder`` says which needles a value may hold at the cost of its
*distinct words*, not of its characters: Python's ``re`` costs about as much
per character to try a trie of a few hundred needles as to run a rule, and
prose repeats its words.  A needle's letters (its longest ``[a-z]`` run) can
only occur inside one run of letters of the text, so the trie runs once per
new word (remembered, bounded) and needles without letters (``;``, ``--``)
are C substring searches.
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


# Every byte but ASCII punctuation: deleted by bytes.translate (C) before the set is made.
# UTF-8 spells a non-ASCII character with bytes >= 0x80 only, so no punctuation is lost
# or made up.
_NOT_PUNCTUATION = bytes(b for b in range(256) if chr(b) not in PUNCTUATION)


def signature(value: str) -> frozenset[str]:
    """The ASCII punctuation in ``value``: what decides which patterns could match it."""
    marks = value.encode("utf-8", "surrogatepass").translate(None, _NOT_PUNCTUATION)
    return frozenset(marks.decode("ascii"))


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


# Characters any prose holds: a needle made of them finds most values.  Others
# (line breaks, <, {, $, |, backslash, ...) count double: code-pickle's ``\n`` is a
# far better needle than its ``c``.
_COMMON = frozenset(string.ascii_lowercase + string.digits + " .,;:'-&()!?\"/")


def _weight(needle: str) -> int:
    return sum(1 if ch in _COMMON else 2 for ch in needle)


_ALSO = 3  # required sets checked besides the needles, at most


@lru_cache(maxsize=8192)
def also_needed(pattern: re.Pattern[str]) -> tuple[frozenset[str], ...]:
    r"""Further sets of strings every match of ``pattern`` contains one of (besides ``needles``).

    A pattern's top level is a sequence: each literal run or required group in it
    must match, so each gives a requirement of its own.  ``needles`` keeps the
    best one for the index; a candidate pattern is run only when one needle of
    each of these (at most three, the rarest) is in the text too:
    ``(?:^|[\s"'])(?:javascript|vbscript) ?:`` needs a ``:`` *and* a ``j`` or ``v``.
    """
    best = needles(pattern)
    if best is None or pattern.flags & re.VERBOSE:
        return ()
    try:
        tree = _parser.parse(pattern.pattern, pattern.flags & ~re.UNICODE)
    except re.error:
        return ()
    sets: list[frozenset[str]] = []
    run = ""
    for op, av in tree:
        if op is C.LITERAL:
            run += chr(av)  # type: ignore[arg-type]
            continue
        if run:
            sets.append(frozenset({run}))
            run = ""
        if op in (
            C.SUBPATTERN,
            C.ATOMIC_GROUP,
            C.BRANCH,
            C.MAX_REPEAT,
            C.MIN_REPEAT,
            C.POSSESSIVE_REPEAT,
        ):
            got = _required([(op, av)])
            if got is not None:
                sets.append(got)
    if run:
        sets.append(frozenset({run}))
    found = {frozenset(n.lower() for n in s) for s in sets if min(map(len, s)) >= 1} - {best}
    ranked = sorted(found, key=lambda s: (min(map(_weight, s)), -len(s)), reverse=True)
    return tuple(ranked[:_ALSO])


def _better(a: _Needles, b: _Needles) -> _Needles:
    """The stricter requirement: heavier lightest needle (rare characters weigh 2), then fewer."""
    if a is None:
        return b
    if b is None:
        return a
    key_a = (min(map(_weight, a)), -len(a))
    key_b = (min(map(_weight, b)), -len(b))
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


_LETTERS = re.compile(r"[a-z]+")
# Everything but a-z as a space: the text's chunks then hold every run of letters (a chunk
# may hold other characters too -- non-ASCII ones -- which only makes it a superset).
_NOT_LETTERS_STR = str.maketrans({c: " " for c in range(128) if not 97 <= c <= 122})
_NOT_LETTERS_BYTES = bytes(c if 97 <= c <= 122 else 32 for c in range(256))
_WORDS_REMEMBERED = 4096  # distinct words per finder (well under 1 MB), then forgotten
_WORD_CHARS = 24  # longer runs of letters are scanned every time, not remembered
_NOTHING: frozenset[str] = frozenset()  # most words hold no needle: one shared empty set


def _core(needle: str) -> str | None:
    """The needle's longest run of letters ``a-z`` (None: it has none)."""
    runs = _LETTERS.findall(needle)
    return max(runs, key=len) if runs else None


class NeedleFinder:
    """Which needles a lower-case text may hold, found word by word.

    ``markers(text)`` returns a set that holds ``marker[n]`` for every needle
    ``n`` that occurs in ``text`` (it may hold more: a marker stands for every
    needle whose letters begin the same way, so a pattern whose markers are all
    absent cannot match, and the others are checked needle by needle).
    """

    __slots__ = ("_scan", "_words", "bare", "marker")

    def __init__(self, required: list[_Needles]) -> None:
        every = {n for r in required for n in r or ()}
        cores = {n: _core(n) for n in every}
        found = scanner([frozenset(c for c in cores.values() if c is not None)])
        self._scan, shortest = found if found is not None else (None, {})
        # a needle's marker: the shortest needle-letters prefix of its letters, or itself
        self.marker: dict[str, str] = {n: n if c is None else shortest[c] for n, c in cores.items()}
        self.bare = tuple(sorted(n for n, c in cores.items() if c is None))
        self._words: dict[str | bytes, frozenset[str]] = {}

    def markers(
        self, text: str, bare: tuple[str, ...] | None = None, words: set[str] | None = None
    ) -> set[str]:
        """The markers of the needles ``text`` (lower case) may hold (see the class).

        ``bare``: the needles without letters to look for, when the caller knows that
        the others cannot be there (``only_possible``); default every one.  ``words``:
        ``word_markers`` of a text with the same runs of letters, already found.
        """
        found = {n for n in (self.bare if bare is None else bare) if n in text}
        found.update(self.word_markers(text) if words is None else words)
        return found

    def word_markers(self, text: str) -> set[str]:
        """The markers of the needles with letters that ``text`` (lower case) may hold."""
        found: set[str] = set()
        scan = self._scan
        if scan is None:
            return found
        words = self._words
        # bytes.translate is C over a table; ASCII text (most of it) takes that road
        chunks: set[str] | set[bytes] = (
            set(text.encode("ascii").translate(_NOT_LETTERS_BYTES).split())
            if text.isascii()
            else set(text.translate(_NOT_LETTERS_STR).split())
        )
        for word in chunks:
            got = words.get(word)
            if got is None:
                spelt = word.decode("ascii") if isinstance(word, bytes) else word
                got = frozenset(m.group(1) for m in scan.finditer(spelt)) or _NOTHING
                if len(word) <= _WORD_CHARS:
                    if len(words) >= _WORDS_REMEMBERED:
                        words.clear()
                    words[word] = got
            if got:
                found.update(got)
        return found


def only_possible(needles: tuple[str, ...], sig: frozenset[str]) -> tuple[str, ...]:
    """The ``needles`` a text whose ASCII punctuation is ``sig`` could hold."""
    return tuple(n for n in needles if PUNCTUATION.intersection(n) <= sig)


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
