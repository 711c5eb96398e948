"""The fourth held-out WAF corpus stays frozen, well-formed and independent of the others.

The corpus in waf_corpora/heldout4/ was built blind (without seeing the WAF, its
tuning corpus or the earlier held-out sets) to measure detection and false-positive
rates. It is only worth anything if nobody edits it after seeing the rules, so its
files are pinned by sha256 in its README and any edit fails here. It must also be
independent of heldout/, heldout2/, heldout3/ and tuning/: no request may appear in two sets.
"""

from __future__ import annotations

from pathlib import Path

from tests.frozen_corpus import HARD_BENIGN_KINDS, CorpusSpec, check_hard_kinds, corpus_tests

_HARD_KINDS = HARD_BENIGN_KINDS | {"ci-cron", "email-thread"}
SPEC = CorpusSpec(
    folder=Path(__file__).parent / "waf_corpora" / "heldout4",
    min_per_category=195,
    min_attacks=1600,
    min_benign=2100,
    attack_prefix="a4",
    benign_prefix="b4",
    body_only=True,
    other_sets=("heldout", "heldout2", "heldout3", "tuning"),
    hard_kinds=_HARD_KINDS,
    min_hard_share=0.35,
)
_TESTS = corpus_tests(SPEC)

test_file_matches_the_sha256_frozen_in_the_readme = _TESTS.pinned
test_attacks_are_well_formed_and_meet_the_minimums = _TESTS.attacks
test_benign_items_are_well_formed_and_meet_the_minimum = _TESTS.benign


def test_hard_benign_cases_are_at_least_the_minimum_share() -> None:
    check_hard_kinds(SPEC)


test_ids_and_requests_are_unique_within_the_set = _TESTS.unique
test_shares_no_request_with_another_corpus = _TESTS.no_overlap
