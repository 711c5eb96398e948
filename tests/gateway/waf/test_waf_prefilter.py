"""The prefilter's needles: stricter where a pattern repeats one character, never wrong."""

from __future__ import annotations

import random
import re

import pytest

from ramparts.gateway.waf.prefilter import NeedleFinder, also_needed, needles, scanner
from ramparts.gateway.waf.rules import default_rules


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"(?<![.])(?:\.{2,}+[/\\]++){2}", {".."}),  # traversal: ".." not "." (prose has dots)
        (r"ab\.{2}cd", {"ab..cd"}),  # an exact count: the run goes on after it
        (r"x\.{2,}cd", {"x.."}),  # more may follow: the run ends at the least count
        (r"q\.{2,}?z", {"q.."}),  # lazy: still at least two
        (r"a{0,3}b", {"b"}),  # optional: no requirement
    ],
)
def test_repeats_of_one_character_extend_the_needle(pattern: str, expected: set[str]) -> None:
    assert needles(re.compile(pattern)) == expected


@pytest.mark.parametrize(
    "pattern",
    [
        r"(?<![.])(?:\.{2,}+[/\\]++){2}",
        r"ab\.{2}cd",
        r"x\.{2,}cd",
        r"q\.{2,}?z",
        r"-{3}>",
        r"(?:\.\.|%2e{2})/",
    ],
)
def test_needles_never_hide_a_match(pattern: str) -> None:
    rx = re.compile(pattern)
    required = needles(rx)
    rnd = random.Random(pattern)
    alphabet = [
        "..",
        ".",
        "/",
        "ab",
        "cd",
        "\\",
        "a",
        "b",
        "c",
        "d",
        "q",
        "x",
        "z",
        "-",
        ">",
        "%2e",
    ]
    matched = 0
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 20)))
        if rx.search(text):
            matched += 1
            assert required is None or any(n in text.lower() for n in required), text
    assert matched > 0


def test_the_scan_never_rules_out_a_needle_that_is_there() -> None:
    required = [needles(p) for rule in default_rules() for p in rule.patterns]
    found = scanner(required)
    assert found is not None
    scan, shortest = found
    every = sorted({n for r in required for n in r or ()})
    rnd = random.Random(11)
    pieces = [*every, " ", "a", "e", ".", "x"]
    present_seen = 0
    for _ in range(3_000):
        # needles cut and glued together: prefixes and overlaps of each other
        text = "".join(rnd.choice(pieces)[: rnd.randint(1, 6)] for _ in range(rnd.randint(1, 12)))
        seen = {m.group(1) for m in scan.finditer(text)}
        for needle in every:
            if needle in text:
                present_seen += 1
                assert shortest[needle] in seen, (needle, text)
    assert present_seen > 1_000


def test_a_shortest_prefix_is_itself_a_needle() -> None:
    found = scanner([frozenset({"union", "un"}), frozenset({"<script", "<s"}), None])
    assert found is not None
    scan, shortest = found
    assert shortest == {"union": "un", "un": "un", "<script": "<s", "<s": "<s"}
    assert {m.group(1) for m in scan.finditer("fun <s union")} == {"un", "<s"}
    assert scanner([None, frozenset()]) is None


def test_a_rare_needle_is_preferred_to_a_common_one() -> None:
    # code-pickle requires both a "c" and a line break: the line break is the key
    assert needles(re.compile(r"(?:^|[(\n])c[a-z_][\w.]{0,40}\n[a-z_]")) == {"\n"}
    # longer still wins among common characters
    assert needles(re.compile(r"\bunion(?: all)? ?select\b")) == {"select"}


def test_other_required_sets_are_listed_and_never_hide_a_match() -> None:
    rx = re.compile(r"(?:^|[\s\"'])(?:j ?a ?v ?a|v ?b ?s|livescript) ?:")
    assert needles(rx) == {":"}
    assert also_needed(rx) == (frozenset({"j", "v", "livescript"}),)
    rnd = random.Random(3)
    patterns = [p for rule in default_rules() for p in rule.patterns if also_needed(p)]
    assert len(patterns) > 50
    pieces = [
        "'",
        ":",
        "j",
        "a",
        "v",
        " ",
        "script",
        "select",
        "union",
        "or",
        "1=1",
        "--",
        "(",
        ")",
        "<",
        ">",
        "=",
        "\n",
        "c",
        "os.",
        "system",
        "${",
        "}",
        "/",
        "..",
        "etc",
    ]
    matched = 0
    for _ in range(4_000):
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 14)))
        for p in patterns:
            if p.search(text):
                matched += 1
                for need in also_needed(p):
                    assert any(n in text.lower() for n in need), (p.pattern, text)
    assert matched > 30


def test_the_needle_finder_never_loses_a_needle_that_is_there() -> None:
    required = [needles(p) for rule in default_rules() for p in rule.patterns]
    finder = NeedleFinder(required)
    every = sorted({n for r in required for n in r or ()})
    rnd = random.Random(12)
    pieces = [*every, " ", "a", "e", ".", "x", "é", "ü", "\t", "_", "1"]
    present_seen = 0
    for _ in range(3_000):
        text = "".join(rnd.choice(pieces)[: rnd.randint(1, 8)] for _ in range(rnd.randint(1, 12)))
        for lower in (text, text + " " + text):  # the second time its words are remembered
            found = finder.markers(lower)
            for needle in every:
                if needle in lower:
                    present_seen += 1
                    assert finder.marker[needle] in found, (needle, lower)
    assert present_seen > 1_000
