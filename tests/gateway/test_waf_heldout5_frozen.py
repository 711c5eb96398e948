"""The fifth held-out WAF corpus stays frozen, well-formed and independent of the others.

The corpus in waf_corpora/heldout5/ was built blind (without seeing the WAF, its
tuning corpus or the earlier held-out sets) to measure detection and false-positive
rates. It is only worth anything if nobody edits it after seeing the rules, so its
files are pinned by sha256 in its README and any edit fails here. It must also be
independent of heldout/, heldout2/, heldout3/, heldout4/ and tuning/: no request may
appear in two sets. At least 35% of its benign requests are hard cases (the kinds
below), because those are where false positives come from.
"""

from __future__ import annotations

from pathlib import Path

from tests.frozen_corpus import HARD_BENIGN_KINDS, CorpusSpec, corpus_tests

_HARD_KINDS = HARD_BENIGN_KINDS | {"sql-like-dsl"}
SPEC = CorpusSpec(
    folder=Path(__file__).parent / "waf_corpora" / "heldout5",
    min_per_category=195,
    min_attacks=1600,
    min_benign=2100,
    attack_prefix="a5",
    benign_prefix="b5",
    body_only=True,
    other_sets=("heldout", "heldout2", "heldout3", "heldout4", "tuning"),
    hard_kinds=_HARD_KINDS,
    min_hard_share=0.35,
)
_TESTS = corpus_tests(SPEC, hard_share_in_benign=True)

test_file_matches_the_sha256_frozen_in_the_readme = _TESTS.pinned
test_attacks_are_well_formed_and_meet_the_minimums = _TESTS.attacks
test_benign_items_are_well_formed_and_meet_the_minimum = _TESTS.benign
test_ids_and_requests_are_unique_within_the_set = _TESTS.unique
test_shares_no_request_with_another_corpus = _TESTS.no_overlap
