"""The second held-out WAF corpus stays frozen, well-formed and independent of the first.

The corpus in waf_corpora/heldout2/ measures the WAF's detection and false-positive
rates; it is only worth anything if nobody edits it after seeing the rules. So its
files are pinned by sha256 in its README, and any edit fails here. The set must
also be independent of waf_corpora/heldout/: no request may appear in both.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

_CORPORA = Path(__file__).parent / "waf_corpora"
_DIR = _CORPORA / "heldout2"
_FILES = ("attacks.jsonl", "benign.jsonl")
_ATTACK_CATEGORIES = (
    "sqli",
    "xss",
    "path_traversal",
    "command_injection",
    "ssrf",
    "ssti",
    "jndi",
    "scanner",
)
_MIN_PER_ATTACK_CATEGORY = 100
_MIN_ATTACKS = 900
_MIN_BENIGN = 1000
_REQUEST_FIELDS = {"method", "path", "query", "headers"}


def _load(path: Path) -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"{path.name}:{n}: blank line"
        items.append(json.loads(line))
    return items


def _readme_sha256s() -> dict[str, str]:
    text = (_DIR / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"`([a-z]+\.jsonl)`[^`\n]*`([0-9a-f]{64})`", text))


def _key(request: dict[str, Any]) -> str:
    return json.dumps(request, sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize("name", _FILES)
def test_file_matches_the_sha256_frozen_in_the_readme(name: str) -> None:
    pinned = _readme_sha256s()
    assert name in pinned, f"README.md pins no sha256 for {name}"
    actual = hashlib.sha256((_DIR / name).read_bytes()).hexdigest()
    assert actual == pinned[name], f"{name} was edited after it was frozen"


def _check_request(item: dict[str, Any]) -> None:
    req = item["request"]
    assert isinstance(req, dict), item["id"]
    missing = _REQUEST_FIELDS - req.keys()
    assert not missing, f"{item['id']}: request lacks {sorted(missing)}"
    assert isinstance(req["method"], str) and req["method"].isupper(), item["id"]
    assert isinstance(req["path"], str) and req["path"].startswith("/"), item["id"]
    assert isinstance(req["query"], str), item["id"]
    assert isinstance(req["headers"], dict), item["id"]
    headers = req["headers"].items()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers), item["id"]
    assert ("body" in req) != ("body_b64" in req), f"{item['id']}: exactly one of body/body_b64"
    assert isinstance(req.get("body", req.get("body_b64")), str), item["id"]


def test_attacks_are_well_formed_and_meet_the_minimums() -> None:
    items = _load(_DIR / "attacks.jsonl")
    for item in items:
        for field in ("id", "category", "source", "request"):
            assert field in item, f"attack lacks {field}: {item.get('id')}"
        assert item["category"] in _ATTACK_CATEGORIES, item["id"]
        assert item["source"].strip(), item["id"]
        _check_request(item)
    counts = Counter(item["category"] for item in items)
    assert len(items) >= _MIN_ATTACKS
    short = {c: counts[c] for c in _ATTACK_CATEGORIES if counts[c] < _MIN_PER_ATTACK_CATEGORY}
    assert not short, f"categories under {_MIN_PER_ATTACK_CATEGORY}: {short}"


def test_benign_items_are_well_formed_and_meet_the_minimum() -> None:
    items = _load(_DIR / "benign.jsonl")
    for item in items:
        for field in ("id", "category", "kind", "request"):
            assert field in item, f"benign item lacks {field}: {item.get('id')}"
        assert item["category"] == "benign", item["id"]
        assert item["kind"].strip(), item["id"]
        _check_request(item)
    assert len(items) >= _MIN_BENIGN


def test_ids_and_requests_are_unique_within_the_set() -> None:
    items = _load(_DIR / "attacks.jsonl") + _load(_DIR / "benign.jsonl")
    ids = Counter(item["id"] for item in items)
    assert not [i for i, n in ids.items() if n > 1]
    keys = Counter(_key(item["request"]) for item in items)
    assert not [item["id"] for item in items if keys[_key(item["request"])] > 1]


def test_shares_no_request_with_the_first_heldout_set() -> None:
    first = _CORPORA / "heldout"
    assert all((first / name).is_file() for name in _FILES), "the first held-out set is missing"
    theirs = {_key(item["request"]) for name in _FILES for item in _load(first / name)}
    mine = _load(_DIR / "attacks.jsonl") + _load(_DIR / "benign.jsonl")
    shared = [item["id"] for item in mine if _key(item["request"]) in theirs]
    assert not shared, f"heldout2 items also in heldout: {shared[:20]}"
