"""The second held-out WAF corpus stays frozen, well-formed and independent of the first.

The corpus in waf_corpora/heldout2/ measures the WAF's detection and false-positive
rates; it is only worth anything if nobody edits it after seeing the rules. So its
files are pinned by sha256 in its README, and any edit fails here. The set must
also be independent of waf_corpora/heldout/: no request may appear in both.
"""

from __future__ import annotations

from pathlib import Path

from tests.frozen_corpus import CorpusSpec, check_no_overlap, corpus_tests

SPEC = CorpusSpec(
    folder=Path(__file__).parent / "waf_corpora" / "heldout2",
    min_per_category=100,
    min_attacks=900,
    min_benign=1000,
)
_TESTS = corpus_tests(SPEC)

test_file_matches_the_sha256_frozen_in_the_readme = _TESTS.pinned
test_attacks_are_well_formed_and_meet_the_minimums = _TESTS.attacks
test_benign_items_are_well_formed_and_meet_the_minimum = _TESTS.benign
test_ids_and_requests_are_unique_within_the_set = _TESTS.unique


def test_shares_no_request_with_the_first_heldout_set() -> None:
    check_no_overlap(SPEC, "heldout")
