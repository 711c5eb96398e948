"""The third held-out WAF corpus stays frozen, well-formed and independent of the others.

The corpus in waf_corpora/heldout3/ was built blind (without seeing the WAF, its
tuning corpus or the earlier held-out sets) to measure detection and false-positive
rates. It is only worth anything if nobody edits it after seeing the rules, so its
files are pinned by sha256 in its README and any edit fails here. It must also be
independent of heldout/, heldout2/ and tuning/: no request may appear in two sets.
"""

from __future__ import annotations

from pathlib import Path

from tests.frozen_corpus import CorpusSpec, corpus_tests

SPEC = CorpusSpec(
    folder=Path(__file__).parent / "waf_corpora" / "heldout3",
    min_per_category=185,
    min_attacks=1500,
    min_benign=2000,
    attack_prefix="a3",
    benign_prefix="b3",
    body_only=True,
    other_sets=("heldout", "heldout2", "tuning"),
)
_TESTS = corpus_tests(SPEC)

test_file_matches_the_sha256_frozen_in_the_readme = _TESTS.pinned
test_attacks_are_well_formed_and_meet_the_minimums = _TESTS.attacks
test_benign_items_are_well_formed_and_meet_the_minimum = _TESTS.benign
test_ids_and_requests_are_unique_within_the_set = _TESTS.unique
test_shares_no_request_with_another_corpus = _TESTS.no_overlap
