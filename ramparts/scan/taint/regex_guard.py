"""Which sink kinds a regular-expression check really rules out.

``if not re.fullmatch(P, x): return`` proves only what ``P`` cannot match.
The adversarial review (issue 16, F5) passed path traversal through
``[\\w./-]+`` and SQL injection through ``[^\\n]+``, both "guards" to a rule
that trusted any fullmatch. So a literal pattern is parsed with the stdlib's
own parser (``re._parser``) and over-approximated: the set of characters it
can match anywhere, and whether it can match ``..``. A kind is cleared only
when the pattern can match none of that kind's dangerous characters, and only
when the check is anchored at both ends (``fullmatch``, or ``match``/``search``
with ``^``...``\\Z``; ``$`` also admits a trailing newline). Lookarounds are
ignored (they only restrict, so ignoring them over-approximates); a back
reference or anything unknown counts as "any character". A pattern that is not
a literal string proves nothing.
"""

from __future__ import annotations

import re
import re._constants as sre_c  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
from dataclasses import dataclass

from ramparts.scan.taint.rules import Taint

# every ASCII character, and the non-ASCII line breaks str.splitlines() honours
_UNIVERSE = frozenset(chr(c) for c in range(128)) | frozenset("\x85\u2028\u2029")
_LINE_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
_SPACE = frozenset(" \t") | _LINE_BREAKS
_SAFE_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")

# per sink kind: the characters that carry an attack into it (ssrf/redirect are never
# cleared by a character check: a bare host still picks the server)
DANGEROUS: dict[str, frozenset[str]] = {
    "path": frozenset("/\\\x00"),  # and a ".." sequence (checked separately)
    "sql": frozenset("'\";-#\\/*()=") | _SPACE,
    "command": frozenset(";|&$`<>(){}[]*?~!#'\"\\%^") | _SPACE,
    # no call, attribute, subscript, literal or statement: operators on names stay harmless
    "code": frozenset("()[]{}.;:'\"@\\") | _LINE_BREAKS,
    "template": frozenset("{}%$<>#"),
    "xss": frozenset("<>'\"`&:=") | _SPACE,
    "log": _LINE_BREAKS,
    "ldap": frozenset("*()\\\x00&|=!<>~,"),
    "xpath": frozenset("'\"[]()/=@|*:$"),
    "nosql": frozenset(),  # a str that matched is a string, not an operator dict
    "trust-boundary": frozenset(),
}
_FLAGS = {
    "IGNORECASE": re.I,
    "I": re.I,
    "MULTILINE": re.M,
    "M": re.M,
    "DOTALL": re.S,
    "S": re.S,
    "VERBOSE": re.X,
    "X": re.X,
    "ASCII": re.A,
    "A": re.A,
    "UNICODE": re.U,
    "U": re.U,
}


@dataclass(frozen=True)
class _Shape:
    """What a sub-pattern can match: its characters, first/last ones, nullability, ".."."""

    chars: frozenset[str]
    first: frozenset[str]
    last: frozenset[str]
    nullable: bool
    dotdot: bool


_ANY = _Shape(_UNIVERSE, _UNIVERSE, _UNIVERSE, True, True)
_EMPTY = _Shape(frozenset(), frozenset(), frozenset(), True, False)


def flags_of(names: list[str]) -> int | None:
    """``re.I | re.M`` as qualified names -> the flags; None if one is not a known flag."""
    out = 0
    for name in names:
        flag = _FLAGS.get(name.rsplit(".", 1)[-1]) if name.startswith("re.") else None
        if flag is None:
            return None
        out |= flag
    return out


def cleared(pattern: str, flags: int, how: str) -> Taint:
    """The kinds a successful ``re.<how>(pattern, value)`` check rules out for ``value``.

    ``how`` is ``fullmatch``, ``match`` or ``search``.
    """
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, RecursionError, OverflowError, ValueError):
        return frozenset()
    flags = parsed.state.flags
    items = list(parsed)
    if how != "fullmatch":
        if flags & re.M or not items or not _at(items[-1], sre_c.AT_END, sre_c.AT_END_STRING):
            return frozenset()
        if how == "search" and not _at(items[0], sre_c.AT_BEGINNING, sre_c.AT_BEGINNING_STRING):
            return frozenset()
    try:
        shape = _sequence(items, flags)
    except RecursionError:  # nested deeper than we follow: proves nothing
        return frozenset()
    chars = shape.chars
    if how != "fullmatch" and _at(items[-1], sre_c.AT_END):
        chars = chars | {"\n"}  # "$" also matches before a final newline
    out = {kind for kind, bad in DANGEROUS.items() if not chars & bad}
    if "path" in out and shape.dotdot:
        out.discard("path")
    if chars <= _SAFE_WORD:  # nothing but letters, digits, "_" and "-": no syntax at all
        out |= {"deserialize", "xxe"}
    return frozenset(out)


def _at(item: tuple[object, object], *codes: object) -> bool:
    op, av = item
    return op is sre_c.AT and av in codes


def _sequence(items: list[tuple[object, object]], flags: int) -> _Shape:
    chars: set[str] = set()
    first: set[str] = set()
    last: set[str] = set()
    nullable, dotdot = True, False
    for item in items:
        s = _item(item, flags)
        if "." in last and "." in s.first:
            dotdot = True
        dotdot = dotdot or s.dotdot
        chars |= s.chars
        if nullable:
            first |= s.first
        last = set(s.last) | (last if s.nullable else set())
        nullable = nullable and s.nullable
    return _Shape(frozenset(chars), frozenset(first), frozenset(last), nullable, dotdot)


def _single(chars: frozenset[str]) -> _Shape:
    return _Shape(chars, chars, chars, False, False)


def _item(item: tuple[object, object], flags: int) -> _Shape:
    op, av = item
    if op is sre_c.LITERAL:
        return _single(_cased(frozenset({chr(av)}), flags))  # type: ignore[arg-type]
    if op is sre_c.NOT_LITERAL:
        return _single(_UNIVERSE - _cased(frozenset({chr(av)}), flags))  # type: ignore[arg-type]
    if op is sre_c.ANY:
        return _single(_UNIVERSE if flags & re.S else _UNIVERSE - {"\n"})
    if op is sre_c.IN:
        return _single(_cased(_in(av), flags))  # type: ignore[arg-type]
    if op is sre_c.AT or op in (sre_c.ASSERT, sre_c.ASSERT_NOT):
        return _EMPTY  # zero-width (lookarounds only restrict: ignoring them over-approximates)
    if op is sre_c.SUBPATTERN:
        _group, add, remove, sub = av  # type: ignore[misc]
        return _sequence(list(sub), (flags | add) & ~remove)
    if op is sre_c.ATOMIC_GROUP:
        return _sequence(list(av), flags)  # type: ignore[arg-type]
    if op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, sre_c.POSSESSIVE_REPEAT):
        low, high, sub = av  # type: ignore[misc]
        s = _sequence(list(sub), flags)
        repeats = high is sre_c.MAXREPEAT or high > 1
        dotdot = s.dotdot or (repeats and "." in s.last and "." in s.first)
        return _Shape(s.chars, s.first, s.last, s.nullable or low == 0, dotdot)
    if op is sre_c.BRANCH:
        arms = [_sequence(list(a), flags) for a in av[1]]  # type: ignore[index]
        return _Shape(
            frozenset().union(*(a.chars for a in arms)),
            frozenset().union(*(a.first for a in arms)),
            frozenset().union(*(a.last for a in arms)),
            any(a.nullable for a in arms),
            any(a.dotdot for a in arms),
        )
    if op is sre_c.GROUPREF_EXISTS:
        _group, yes, no = av  # type: ignore[misc]
        arms = [_sequence(list(yes), flags), _sequence(list(no), flags) if no else _EMPTY]
        return _Shape(
            arms[0].chars | arms[1].chars,
            arms[0].first | arms[1].first,
            arms[0].last | arms[1].last,
            True,
            arms[0].dotdot or arms[1].dotdot,
        )
    return _ANY  # a back reference or an opcode not modelled: anything


def _cased(chars: frozenset[str], flags: int) -> frozenset[str]:
    if not flags & re.I:
        return chars
    return chars | frozenset(c.swapcase() for c in chars if c.swapcase() in _UNIVERSE)


def _in(items: list[tuple[object, object]]) -> frozenset[str]:
    """A character class ``[...]`` over the universe, asked of Python's own ``re``."""
    out: set[str] = set()
    negate = False
    for op, av in items:
        if op is sre_c.NEGATE:
            negate = True
        elif op is sre_c.LITERAL:
            out.add(chr(av))  # type: ignore[arg-type]
        elif op is sre_c.RANGE:
            lo, hi = av  # type: ignore[misc]
            out |= {c for c in _UNIVERSE if lo <= ord(c) <= hi}
        elif op is sre_c.CATEGORY:
            out |= _category(str(av))
        else:
            return _UNIVERSE
    return frozenset(_UNIVERSE - out if negate else out)


_CATEGORY_PATTERNS = {
    "DIGIT": r"\d",
    "NOT_DIGIT": r"\D",
    "SPACE": r"\s",
    "NOT_SPACE": r"\S",
    "WORD": r"\w",
    "NOT_WORD": r"\W",
}


def _category(name: str) -> frozenset[str]:
    """``CATEGORY_WORD`` -> the characters ``\\w`` matches in the universe."""
    short = name.removeprefix("CATEGORY_").removeprefix("UNI_").removeprefix("LOC_")
    pattern = _CATEGORY_PATTERNS.get(short)
    if pattern is None:
        return _UNIVERSE
    return frozenset(c for c in _UNIVERSE if re.fullmatch(pattern, c))
