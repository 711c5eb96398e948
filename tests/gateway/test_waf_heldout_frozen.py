"""The held-out WAF corpus is frozen: its bytes match the README, and its lines are well formed.

The corpus measures the WAF on requests its rule author never saw. Any edit (even
"fixing" an item the WAF gets wrong) would leak the rules into the measurement, so
the checksums pinned in the README make every edit fail here.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import pytest

from tests.frozen_corpus import check_request, load_jsonl

HELDOUT = Path(__file__).resolve().parent / "waf_corpora" / "heldout"
FILES = ("attacks.jsonl", "benign.jsonl")
ATTACK_MINIMUMS = {
    "sqli": 100,
    "xss": 100,
    "path_traversal": 100,
    "command_injection": 100,
    "ssrf": 100,
    "ssti": 100,
    "jndi": 100,
    "scanner": 100,
}
_CHECKSUM_LINE = re.compile(r"^([0-9a-f]{64})  (\S+\.jsonl)$", re.MULTILINE)


def _pinned() -> dict[str, str]:
    readme = (HELDOUT / "README.md").read_text(encoding="utf-8")
    return {name: digest for digest, name in _CHECKSUM_LINE.findall(readme)}


@pytest.mark.parametrize("name", FILES)
def test_file_matches_the_checksum_in_the_readme(name: str) -> None:
    pinned = _pinned()
    assert name in pinned, f"README.md pins no sha256 for {name}"
    actual = hashlib.sha256((HELDOUT / name).read_bytes()).hexdigest()
    assert actual == pinned[name], f"{name} changed after it was frozen"


def test_the_readme_pins_exactly_the_corpus_files() -> None:
    assert sorted(_pinned()) == sorted(FILES)
    assert sorted(p.name for p in HELDOUT.iterdir()) == sorted([*FILES, "README.md"])


def test_every_attack_is_well_formed_and_each_category_meets_its_minimum() -> None:
    items = load_jsonl(HELDOUT / "attacks.jsonl")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for item in items:
        assert item["category"] in ATTACK_MINIMUMS, item["id"]
        assert item["id"].startswith(f"a-{item['category']}-"), item["id"]
        assert isinstance(item.get("source"), str) and item["source"], item["id"]
        check_request(item)
    counts = Counter(item["category"] for item in items)
    for category, minimum in ATTACK_MINIMUMS.items():
        assert counts[category] >= minimum, f"{category}: {counts[category]} < {minimum}"
    assert len(items) >= 900


def test_every_benign_request_is_well_formed_and_there_are_enough() -> None:
    items = load_jsonl(HELDOUT / "benign.jsonl")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)), "duplicate ids"
    for item in items:
        assert item["category"] == "benign", item["id"]
        assert item["id"].startswith("b-"), item["id"]
        assert isinstance(item.get("kind"), str) and item["kind"], item["id"]
        check_request(item)
    assert len(items) >= 1200
