"""The WAF engine: rules applied to a request's decoded values, with anomaly scoring.

``Waf.inspect`` takes a ``WafRequest`` and returns a ``Verdict``.  Each rule
that fires adds its score once (the first location it fired at is the one
reported); the request is to be refused when the total reaches the
threshold (default 5: one critical rule, or a high and a low one, ...).
What the verdict means -- refuse, record, ignore -- is the caller's (the
gateway's mode).

Built once per (app, version) and kept (``WafCache``): construction compiles
and groups the rules, ``inspect`` only matches.  A pattern runs on a value
only when the prefilter (``prefilter.py``: the value's punctuation, the
needles its words and symbols hold) says it could match; ``Waf(_reference=True)``
runs every pattern instead, and the tests hold the two to the same matches.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ramparts.gateway.waf.decode import fold
from ramparts.gateway.waf.detectors import DETECTORS, Found
from ramparts.gateway.waf.location import FieldMatcher, Segments, field_matcher
from ramparts.gateway.waf.prefilter import (
    NeedleFinder,
    also_needed,
    needles,
    only_possible,
    possible,
    signature,
)
from ramparts.gateway.waf.prose import quoted_in_prose
from ramparts.gateway.waf.request import (
    DEFAULT_LIMITS,
    KNOWN_CHARS,
    Limits,
    Target,
    WafRequest,
    extract,
)
from ramparts.gateway.waf.rules import Rule, default_rules

EXCERPT_CHARS = 64
_UNPRINTABLE = re.compile(r"[^\x20-\x7e\u00a0-\uffff]")
_LONG_DIGITS = re.compile(r"\d{8,}")  # card and account numbers never reach the audit log


class WorkLimitReached(Exception):  # noqa: N818 - a signal to the caller, not a failure
    """Inspection stopped at the caller's work limit (``Waf.inspect``); no verdict yet."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"more than {limit} non-plain characters to scan")


@dataclass(frozen=True, slots=True)
class Match:
    rule: str
    category: str
    score: int
    location: str
    excerpt: str
    why: str
    quoted: bool = False  # scored with the rule's ``prose:`` score (a quotation in prose)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "category": self.category,
            "score": self.score,
            "location": self.location,
            "excerpt": self.excerpt,
            "why": self.why,
            "quoted": self.quoted,
        }


@dataclass(slots=True)
class Verdict:
    score: int
    threshold: int
    matches: list[Match] = field(default_factory=list)
    cost: int = 0  # characters the full rule set looked at (``Limits.max_cost``)

    @property
    def blocked(self) -> bool:
        """Whether the score reaches the threshold (the gateway refuses in block mode)."""
        return self.score >= self.threshold

    def audit_detail(self) -> dict[str, Any]:
        """What an audit record carries: rule ids, categories, score, locations, excerpts."""
        return {
            "rules": [m.rule for m in self.matches],
            "categories": sorted({m.category for m in self.matches}),
            "score": self.score,
            "threshold": self.threshold,
            "locations": sorted({m.location for m in self.matches}),
            "matches": [
                {"rule": m.rule, "location": m.location, "excerpt": m.excerpt} for m in self.matches
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "blocked": self.blocked,
            "score": self.score,
            "threshold": self.threshold,
            "matches": [m.to_dict() for m in self.matches],
        }


def excerpt(value: str, start: int = 0, end: int | None = None) -> str:
    """At most 64 characters around a match, printable, long digit runs masked."""
    end = len(value) if end is None else end
    if end - start >= EXCERPT_CHARS:
        piece = value[start : start + EXCERPT_CHARS]
    else:
        pad = (EXCERPT_CHARS - (end - start)) // 2
        lo = max(0, start - pad)
        piece = value[lo : lo + EXCERPT_CHARS]
    piece = _UNPRINTABLE.sub("?", piece)
    return _LONG_DIGITS.sub(lambda m: "#" * len(m.group()), piece)


@dataclass(frozen=True, slots=True)
class _Exclusion:
    method: str | None
    path: str | None
    field: FieldMatcher | None  # exact segments, not the location string (location.py)
    rules: frozenset[str]  # ids or categories; empty: every rule

    def route_matches(self, method: str, route: str) -> bool:
        route_method, _, route_path = route.partition(" ")
        if self.path is not None and self.path != route_path:
            return False
        return self.method is None or self.method in (method, route_method)

    def covers(self, rule: Rule) -> bool:
        return not self.rules or rule.id in self.rules or rule.category in self.rules


def compile_exclusion(route: str, field_spec: str | None, rules: Iterable[str]) -> _Exclusion:
    route = route.strip()
    method: str | None = None
    path: str | None = None
    if route != "*":
        first, _, rest = route.partition(" ")
        if rest:
            method, path = first.upper(), rest.strip()
            if method in ("*", "ANY"):
                method = None
        else:
            path = first
    return _Exclusion(
        method, path, field_matcher(field_spec) if field_spec else None, frozenset(rules)
    )


# A pattern, the strings one of which it cannot match without (None: always run), and
# their markers in the group's NeedleFinder (what ``NeedleFinder.markers`` reports).
# The last item: the pattern's other required sets, one needle of each must be there too.
_Checked = tuple[
    re.Pattern[str], frozenset[str] | None, frozenset[str] | None, tuple[frozenset[str], ...]
]
_Rules = list[tuple[Rule, tuple[_Checked, ...]]]


@dataclass(slots=True)
class _Patterns:
    """Pattern rules of one kind (folded or decoded) with the index the prefilter needs."""

    rules: _Rules
    finder: NeedleFinder | None  # shared with the signature subsets; None: no needles at all
    bare: tuple[str, ...] | None = None  # the finder's needles without letters worth a look
    # rule positions by marker, and those with a pattern that has no needles (always tried)
    by_marker: dict[str, tuple[int, ...]] = field(default_factory=dict)
    always: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        index: dict[str, set[int]] = {}
        always = []
        for i, (_rule, checked) in enumerate(self.rules):
            for _pattern, _required, markers, _also in checked:
                if markers is None:
                    always.append(i)
                    break
                for m in markers:
                    index.setdefault(m, set()).add(i)
        self.by_marker = {m: tuple(sorted(ix)) for m, ix in index.items()}
        self.always = tuple(always)

    def candidates(self, found: set[str]) -> _Rules:
        """The rules, in order, that have a pattern the markers ``found`` do not rule out."""
        chosen = set(self.always)
        for m in found:
            chosen.update(self.by_marker.get(m, ()))
        return [self.rules[i] for i in sorted(chosen)]


@dataclass(slots=True)
class _Group:
    """The rules that apply to one kind of target, ready to run."""

    folded: _Patterns
    decoded: _Patterns
    detectors: list[tuple[Rule, Any]]
    plain: _Group | None = None  # the subset for values of plain words
    # subsets for the punctuation a value holds (see prefilter.signature), bounded
    by_signature: dict[frozenset[str], _Group] = field(default_factory=dict)

    def for_signature(self, sig: frozenset[str]) -> _Group:
        sub = self.by_signature.get(sig)
        if sub is None:

            def keep(patterns: _Patterns) -> _Patterns:
                out = []
                for rule, checked in patterns.rules:
                    left = tuple(c for c in checked if possible(c[1], sig))
                    if left:
                        out.append((rule, left))
                finder = patterns.finder
                used = {n for _, checked in out for c in checked for n in c[1] or ()}
                bare = (
                    None
                    if finder is None
                    else only_possible(tuple(n for n in finder.bare if n in used), sig)
                )
                return _Patterns(out, finder, bare)

            sub = _Group(keep(self.folded), keep(self.decoded), self.detectors)
            if len(self.by_signature) >= _SIGNATURES:
                self.by_signature.clear()
            self.by_signature[sig] = sub
        return sub


_SIGNATURES = 512  # distinct punctuation sets remembered per group


# A value of plain words: most of any request, and only ``plain: true`` rules apply.
_PLAIN = re.compile(r"[\w .,!?@-]*")


def _make_group(rules: list[Rule]) -> _Group:
    pattern_rules = [r for r in rules if r.patterns]
    required = {p: needles(p) for r in pattern_rules for p in r.patterns}
    # one finder for folded and decoded patterns: a value's words are looked up once
    finder = NeedleFinder(list(required.values())) if required else None

    def markers(req: frozenset[str] | None) -> frozenset[str] | None:
        return None if req is None or finder is None else frozenset(finder.marker[n] for n in req)

    def checks(p: re.Pattern[str]) -> _Checked:
        return p, required[p], markers(required[p]), also_needed(p)

    def patterns(rules: list[Rule]) -> _Patterns:
        used = {n for r in rules for p in r.patterns for n in required[p] or ()}
        bare = None if finder is None else tuple(n for n in finder.bare if n in used)
        return _Patterns([(r, tuple(checks(p) for p in r.patterns)) for r in rules], finder, bare)

    folded = patterns([r for r in pattern_rules if not r.decoded])
    decoded = patterns([r for r in pattern_rules if r.decoded])
    detectors = [
        (r, DETECTORS[r.detector]) for r in rules if r.detector and r.detector != "inspection_limit"
    ]
    return _Group(folded, decoded, detectors)


class Waf:
    """One app version's WAF: the default rules minus ``disable``, plus the app's own."""

    def __init__(
        self,
        *,
        threshold: int = 5,
        disable: Iterable[str] = (),
        exclusions: Iterable[_Exclusion] = (),
        extra_rules: Iterable[Rule] = (),
        base_rules: Iterable[Rule] | None = None,
        limits: Limits = DEFAULT_LIMITS,
        _reference: bool = False,
    ) -> None:
        off = set(disable)
        rules = list(default_rules() if base_rules is None else base_rules) + list(extra_rules)
        self.rules: list[Rule] = [r for r in rules if r.id not in off and r.category not in off]
        self.threshold = threshold
        self.exclusions = list(exclusions)
        self.limits = limits
        # Tests only: no memo, no prefilter, every pattern tried on every value -- what the
        # fast path must agree with, match for match (tests/gateway/waf/test_waf_reference.py).
        self._reference = _reference
        self._limit_rules = [r for r in self.rules if r.detector == "inspection_limit"]
        # Rules may name single headers, or custom ones (header:x-*); groups are keyed by
        # those names and one "x-*" class, so an attacker's invented header names cannot
        # grow the group table.
        named = {t.partition(":")[2] for r in self.rules for t in r.targets if ":" in t}
        self._header_names = {n for n in named if not n.endswith("*")}
        self._header_wildcard = any(n.endswith("*") for n in named)
        self._groups: dict[tuple[str, str], _Group] = {}
        self._memo: OrderedDict[tuple[str, str, str], tuple[_Hit, ...]] = OrderedDict()

    def _group(self, kind: str, header: str) -> _Group:
        if header in self._header_names:
            key = (kind, header)
        elif header.startswith("x-") and self._header_wildcard:
            key = (kind, "x-*")
        else:
            key = (kind, "")
        group = self._groups.get(key)
        if group is None:
            rules = [r for r in self.rules if r.applies_to(kind, key[1])]
            group = _make_group(rules)
            group.plain = _make_group([r for r in rules if r.plain])
            self._groups[key] = group
        return group

    def inspect(self, req: WafRequest, work_limit: int | None = None) -> Verdict:
        """The verdict on ``req``.

        ``work_limit``: the most non-plain characters the caller lets this call
        scan (the gateway's inline budget, ramparts.gateway.offload); a request
        that needs more raises WorkLimitReached before the value that would
        exceed it is scanned, and is inspected again without the limit elsewhere.
        The verdict never depends on it.
        """
        targets, overflow = extract(req, self.limits, None if self._reference else self._memo)
        exclusions = [e for e in self.exclusions if e.route_matches(req.method, req.route)]
        found: dict[str, Match] = {}
        cost = fields = 0
        for target in targets:
            # a body read both field by field and as text: the text is charged for what
            # its fields did not already cost (scanning it costs at most that again)
            credit = fields if target.overlaps else 0
            budget = self.limits.max_cost - cost + credit
            if work_limit is not None and work_limit - cost + credit < budget:
                spent = self._inspect_target(target, exclusions, found, work_limit - cost + credit)
                if spent is None:
                    raise WorkLimitReached(work_limit)
            else:
                spent = self._inspect_target(target, exclusions, found, budget)
            if spent is None:
                overflow = overflow or f"more than {self.limits.max_cost} non-plain characters"
                break
            if target.segments[:1] == ("$",):
                fields += spent
            cost += max(0, spent - credit)
        if overflow is not None:
            for rule in self._limit_rules:
                if rule.id not in found and not _excluded(rule, ("request",), exclusions):
                    found[rule.id] = Match(
                        rule.id, rule.category, rule.score, "request", "", overflow
                    )
        matches = list(found.values())
        return Verdict(_total(matches, self.threshold), self.threshold, matches, cost)

    def _inspect_target(
        self, target: Target, exclusions: list[_Exclusion], found: dict[str, Match], budget: int
    ) -> int | None:
        """Inspect one value; its cost, or None when it exceeds ``budget`` (not inspected).

        The cost is what the full rule set (detectors included) must scan: a value of
        plain words or one remembered from an earlier request costs nothing.  Crafted
        punctuation costs far more CPU per character than prose, so it is bounded
        apart from the byte limit (fail closed beyond it).
        """
        # Headers, paths, JSON keys and short values repeat across requests (every request
        # of a client sends the same user agent): their hits are remembered, bounded, by
        # the value as sent.  extract() looks them up first: a value remembered clean never
        # becomes a target, one with findings arrives with them (``target.hits``).
        hits = target.hits
        cost = 0
        if hits is None:
            value = target.value
            group = self._group(target.kind, target.header)
            if group.plain is not None and _PLAIN.fullmatch(value):
                group = group.plain
            else:
                cost = len(value)
                if cost > budget:
                    return None
            if self._reference:
                hits = _hits(group, value, reference=True)
            else:
                hits = _hits(group.for_signature(signature(value)), value)
            if len(target.raw) <= _MEMO_CHARS and not self._reference:
                self._memo[(target.kind, target.header, target.raw)] = hits
                if len(self._memo) > _MEMO_ENTRIES:
                    self._memo.popitem(last=False)
        for rule, score, piece, why in hits:
            known = found.get(rule.id)
            if known is not None and score <= known.score:
                continue  # the same rule again; only an unquoted reading replaces a quoted one
            if not _excluded(rule, target.segments, exclusions):
                found[rule.id] = Match(
                    rule.id, rule.category, score, target.location, piece, why, score != rule.score
                )
        return cost


_MEMO_CHARS = KNOWN_CHARS  # values longer than this are not remembered
_MEMO_ENTRIES = 4096  # x at most 256 characters: a few MB per app at worst


def _total(matches: list[Match], threshold: int) -> int:
    """The request's score: quotations in prose together stay below the threshold.

    Each quoted match scores its rule's ``prose:`` score, and all of them together
    at most ``threshold - 1``: a support comment that quotes three commands is still
    a comment.  One unquoted match on top of them can tip it over.
    """
    quoted = sum(m.score for m in matches if m.quoted)
    return sum(m.score for m in matches if not m.quoted) + min(quoted, max(threshold - 1, 0))


_PROSE_TRIES = 8  # matches of one pattern looked at before the quoted reading is taken
_Hit = tuple[Rule, int, str, str]  # rule, score, excerpt, why


def _hits(group: _Group, value: str, reference: bool = False) -> tuple[_Hit, ...]:
    """Every rule of ``group`` that fires on ``value``: (rule, score, excerpt, why).

    ``reference``: try every pattern, no prefilter (what tests hold the fast path to).
    """
    out: list[_Hit] = []
    words: set[str] | None = None
    if group.folded.rules:
        folded = fold(value)
        if not reference and group.folded.finder is not None:
            words = group.folded.finder.word_markers(folded)
        out.extend(_patterns_on(group.folded, folded, folded, reference, words))
    if group.decoded.rules:
        lower = value.lower()
        # folding changes whitespace, not runs of letters, unless it removed a comment
        same = words if "/*" not in lower else None
        out.extend(_patterns_on(group.decoded, value, lower, reference, same))
    for rule, detector in group.detectors:
        result = detector(value)
        if not result:
            continue
        score = rule.score
        if isinstance(result, Found):
            why, piece = result.why, excerpt(result.text, result.start, result.end)
            quoted = quoted_in_prose(result.text, result.start, result.end, rule.category == "sqli")
        else:
            why, piece = result, excerpt(value)
            quoted = quoted_in_prose(value, -1, -1, rule.category == "sqli")
        if rule.prose is not None and quoted:
            score, why = rule.prose, f"{why} (quoted in prose)"
        out.append((rule, score, piece, why))
    return tuple(out)


def _patterns_on(
    patterns: _Patterns, text: str, lower: str, reference: bool, words: set[str] | None = None
) -> list[_Hit]:
    """The hits of ``patterns`` on ``text``: only the rules whose needles ``lower`` may hold.

    ``words``: the finder's word markers of a text with the same runs of letters as
    ``lower``, when the caller has them.
    """
    if reference:
        return _pattern_hits(patterns.rules, text, lower, check=False)
    if patterns.finder is None:
        return _pattern_hits(patterns.rules, text, lower)
    found = patterns.finder.markers(lower, patterns.bare, words)
    if not found and not patterns.always:
        return []
    return _pattern_hits(patterns.candidates(found), text, lower, found)


def _pattern_hits(
    rules: _Rules,
    text: str,
    lower: str,
    found: set[str] | None = None,
    check: bool = True,
) -> list[_Hit]:
    """Rules whose patterns match ``text``; ``lower`` (its lower case) feeds the prefilter.

    ``found`` (``NeedleFinder.markers``) rules out at once every pattern none of whose
    needles can be in ``lower``; the rest are checked needle by needle.  ``check=False``
    tries every pattern (the reference the prefilter is tested against).
    """
    out: list[_Hit] = []
    for rule, patterns in rules:
        best: _Hit | None = None
        sql = rule.category == "sqli"  # a whole SQL statement reads as a quotation to these
        for pattern, required, markers, also in patterns:
            if check and required is not None:
                if found is not None and markers is not None and markers.isdisjoint(found):
                    continue
                if not any(n in lower for n in required):
                    continue
                if also and not all(any(n in lower for n in need) for need in also):
                    continue
            matches = pattern.finditer(text) if rule.prose is not None else (pattern.search(text),)
            for n, m in enumerate(matches):
                if m is None or n >= _PROSE_TRIES:
                    break
                piece = excerpt(text, m.start(), m.end())
                if rule.prose is None or not quoted_in_prose(text, m.start(), m.end(), sql):
                    best = (rule, rule.score, piece, f"matched {rule.description}")
                    break
                if best is None:
                    why = f"matched {rule.description} (quoted in prose)"
                    best = (rule, rule.prose, piece, why)
                if m.end() - m.start() == 0:
                    break
            if best is not None and best[1] == rule.score:
                break
        if best is not None:
            out.append(best)
    return out


def _excluded(rule: Rule, segments: Segments, exclusions: list[_Exclusion]) -> bool:
    for e in exclusions:
        if not e.covers(rule):
            continue
        if e.field is None or e.field.match(segments):
            return True
    return False
