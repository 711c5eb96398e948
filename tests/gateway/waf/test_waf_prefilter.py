"""The prefilter's needles: stricter where a pattern repeats one character, never wrong."""

from __future__ import annotations

import random
import re

import pytest

from ramparts.gateway.waf.prefilter import needles


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
    [r"(?<![.])(?:\.{2,}+[/\\]++){2}", r"ab\.{2}cd", r"x\.{2,}cd", r"q\.{2,}?z", r"-{3}>",
     r"(?:\.\.|%2e{2})/"],
)
def test_needles_never_hide_a_match(pattern: str) -> None:
    rx = re.compile(pattern)
    required = needles(rx)
    rnd = random.Random(pattern)
    alphabet = ["..", ".", "/", "ab", "cd", "\\", "a", "b", "c", "d", "q", "x", "z", "-", ">",
                "%2e"]
    matched = 0
    for _ in range(20_000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 20)))
        if rx.search(text):
            matched += 1
            assert required is None or any(n in text.lower() for n in required), text
    assert matched > 0
