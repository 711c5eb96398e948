"""The sixth held-out WAF corpus stays frozen, well-formed and independent of the others.

The corpus in waf_corpora/heldout6/ was built blind (without seeing the WAF, its
tuning corpus or the earlier held-out sets) to measure detection and false-positive
rates. It is only worth anything if nobody edits it after seeing the rules, so its
files are pinned by sha256 in its README and any edit fails here. It must also be
independent of heldout/, heldout2/ ... heldout5/ and tuning/: no request may appear
in two sets. At least 40% of its benign requests are hard cases (the kinds below),
because those are where false positives come from.
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
_DIR = _CORPORA / "heldout6"
_OTHER_SETS = ("heldout", "heldout2", "heldout3", "heldout4", "heldout5", "tuning")
_MIN_PER_ATTACK_CATEGORY = 205
_MIN_ATTACKS = 1640
_MIN_BENIGN = 2100
_MIN_HARD_SHARE = 0.40
_HARD_KINDS = frozenset(
    {
        "apostrophe-name",
        "keyword-names",
        "code-review-sql",
        "support-shell",
        "error-log",
        "url-in-body",
        "rich-text-html",
        "markdown",
        "base64-image",
        "multilingual",
        "math-text",
        "dotted-path",
        "template-text",
        "regex-string",
        "json-in-json",
        "csv-export",
        "scientific-notation",
        "chat-emoji",
        "config-snippet",
        "search-syntax",
        "sql-like-dsl",
    }
)


def _all_items() -> list[dict]:
    return load_jsonl(_DIR / "attacks.jsonl") + load_jsonl(_DIR / "benign.jsonl")


@pytest.mark.parametrize("name", CORPUS_FILES)
def test_file_matches_the_sha256_frozen_in_the_readme(name: str) -> None:
    assert_pinned(_DIR, name)


def test_attacks_are_well_formed_and_meet_the_minimums() -> None:
    items = load_jsonl(_DIR / "attacks.jsonl")
    for item in items:
        check_attack(item)
        assert item["id"].startswith(f"a6-{item['category'].replace('_', '')}-"), item["id"]
        assert "body" in item["request"], f"{item['id']}: this set never needs body_b64"
    assert len(items) >= _MIN_ATTACKS
    short = short_categories(items, _MIN_PER_ATTACK_CATEGORY)
    assert not short, f"categories under {_MIN_PER_ATTACK_CATEGORY}: {short}"


def test_benign_items_are_well_formed_and_meet_the_minimum() -> None:
    items = load_jsonl(_DIR / "benign.jsonl")
    for item in items:
        check_benign(item)
        assert item["id"].startswith("b6-"), item["id"]
        assert "body" in item["request"], f"{item['id']}: this set never needs body_b64"
    assert len(items) >= _MIN_BENIGN
    hard = sum(1 for item in items if item["kind"] in _HARD_KINDS)
    assert hard >= _MIN_HARD_SHARE * len(items), f"only {hard} of {len(items)} are hard cases"


def test_ids_and_requests_are_unique_within_the_set() -> None:
    assert not repeated_ids(_all_items())


@pytest.mark.parametrize("other", _OTHER_SETS)
def test_shares_no_request_with_another_corpus(other: str) -> None:
    shared = shared_ids(_all_items(), _CORPORA / other)
    assert not shared, f"heldout6 items also in {other}: {shared[:20]}"
