"""The second held-out WAF corpus stays frozen, well-formed and independent of the first.

The corpus in waf_corpora/heldout2/ measures the WAF's detection and false-positive
rates; it is only worth anything if nobody edits it after seeing the rules. So its
files are pinned by sha256 in its README, and any edit fails here. The set must
also be independent of waf_corpora/heldout/: no request may appear in both.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.frozen_corpus import (
    CORPUS_FILES,
    assert_pinned,
    check_attack,
    check_benign,
    load_jsonl,
    repeated_ids,
    shared_ids,
    short_categories,
)

_CORPORA = Path(__file__).parent / "waf_corpora"
_DIR = _CORPORA / "heldout2"
_MIN_PER_ATTACK_CATEGORY = 100
_MIN_ATTACKS = 900
_MIN_BENIGN = 1000


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_file_matches_the_sha256_frozen_in_the_readme(name: str) -> None:
    assert_pinned(_DIR, name)


def test_attacks_are_well_formed_and_meet_the_minimums() -> None:
    items = load_jsonl(_DIR / "attacks.jsonl")
    for item in items:
        check_attack(item)
    assert len(items) >= _MIN_ATTACKS
    short = short_categories(items, _MIN_PER_ATTACK_CATEGORY)
    assert not short, f"categories under {_MIN_PER_ATTACK_CATEGORY}: {short}"


def test_benign_items_are_well_formed_and_meet_the_minimum() -> None:
    items = load_jsonl(_DIR / "benign.jsonl")
    for item in items:
        check_benign(item)
    assert len(items) >= _MIN_BENIGN


def test_ids_and_requests_are_unique_within_the_set() -> None:
    items = load_jsonl(_DIR / "attacks.jsonl") + load_jsonl(_DIR / "benign.jsonl")
    assert not repeated_ids(items)


def test_shares_no_request_with_the_first_heldout_set() -> None:
    mine = load_jsonl(_DIR / "attacks.jsonl") + load_jsonl(_DIR / "benign.jsonl")
    shared = shared_ids(mine, _CORPORA / "heldout")
    assert not shared, f"heldout2 items also in heldout: {shared[:20]}"
