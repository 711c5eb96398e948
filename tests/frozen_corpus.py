"""Shared checks for the frozen WAF corpora under tests/gateway/waf_corpora/.

Each held-out set has its own test that pins its files and asserts its own minimums;
the parts they share (reading JSON lines, the sha256 sums a README pins, the shape of
one request, the key that says two requests are the same) live here so that every set
is checked by the same rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest

_README_SHA256 = re.compile(r"`([a-z]+\.jsonl)`[^`\n]*`([0-9a-f]{64})`")


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every line of a corpus file as one JSON object; a blank line fails."""
    items = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        assert line.strip(), f"{path.name}:{n}: blank line"
        items.append(json.loads(line))
    return items


def readme_sha256s(folder: Path) -> dict[str, str]:
    """File name -> sha256 as pinned in ``folder/README.md`` (`name` ... `digest`)."""
    text = (folder / "README.md").read_text(encoding="utf-8")
    return dict(_README_SHA256.findall(text))


def request_key(request: dict[str, Any]) -> str:
    """One request (method, path, query, headers, body) as a string, independent of key order."""
    return json.dumps(request, sort_keys=True, ensure_ascii=False)


def check_request(item: dict[str, Any]) -> None:
    """The request of one corpus item has the wire fields, typed, with lower-case header names."""
    req = item["request"]
    assert isinstance(req, dict), item["id"]
    missing = {"method", "path", "query", "headers"} - req.keys()
    assert not missing, f"{item['id']}: request lacks {sorted(missing)}"
    assert isinstance(req["method"], str) and req["method"].isupper(), item["id"]
    assert isinstance(req["path"], str) and req["path"].startswith("/"), item["id"]
    assert isinstance(req["query"], str), item["id"]
    assert isinstance(req["headers"], dict), item["id"]
    headers = req["headers"].items()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in headers), item["id"]
    assert all(k == k.lower() for k, _ in headers), f"{item['id']}: header names not lower-case"
    assert ("body" in req) != ("body_b64" in req), f"{item['id']}: exactly one of body/body_b64"
    assert isinstance(req.get("body", req.get("body_b64")), str), item["id"]


ATTACK_CATEGORIES = (
    "sqli",
    "xss",
    "path_traversal",
    "command_injection",
    "ssrf",
    "ssti",
    "jndi",
    "scanner",
)
CORPUS_FILES = ("attacks.jsonl", "benign.jsonl")
# Benign kinds quoting code, markup, paths or templates: the ones a WAF most often blocks
# wrongly.  The sets from heldout4/ on each hold items of these (and a few kinds of their own).
HARD_BENIGN_KINDS = frozenset(
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
    }
)


def assert_pinned(folder: Path, name: str) -> None:
    """``folder/name`` still has the sha256 its README pinned when the set was frozen."""
    pinned = readme_sha256s(folder)
    assert name in pinned, f"README.md pins no sha256 for {name}"
    actual = hashlib.sha256((folder / name).read_bytes()).hexdigest()
    assert actual == pinned[name], f"{name} was edited after it was frozen"


def check_attack(item: dict[str, Any]) -> None:
    """An attack item names a known category and its source, and carries a well-formed request."""
    for field in ("id", "category", "source", "request"):
        assert field in item, f"attack lacks {field}: {item.get('id')}"
    assert item["category"] in ATTACK_CATEGORIES, item["id"]
    assert item["source"].strip(), item["id"]
    check_request(item)


def check_benign(item: dict[str, Any]) -> None:
    """A benign item says which kind of traffic it is and carries a well-formed request."""
    for field in ("id", "category", "kind", "request"):
        assert field in item, f"benign item lacks {field}: {item.get('id')}"
    assert item["category"] == "benign", item["id"]
    assert item["kind"].strip(), item["id"]
    check_request(item)


def short_categories(items: list[dict[str, Any]], minimum: int) -> dict[str, int]:
    """Attack categories with fewer than ``minimum`` items, with their counts."""
    counts = Counter(item["category"] for item in items)
    return {c: counts[c] for c in ATTACK_CATEGORIES if counts[c] < minimum}


def repeated_ids(items: list[dict[str, Any]]) -> list[str]:
    """Ids used twice, and ids of items whose request also appears elsewhere in ``items``."""
    ids = Counter(item["id"] for item in items)
    keys = Counter(request_key(item["request"]) for item in items)
    twice = [i for i, n in ids.items() if n > 1]
    return twice + [item["id"] for item in items if keys[request_key(item["request"])] > 1]


def shared_ids(mine: list[dict[str, Any]], other: Path) -> list[str]:
    """Ids of items in ``mine`` whose request also appears in the corpus in ``other``."""
    assert all((other / name).is_file() for name in CORPUS_FILES), f"{other.name} is missing"
    theirs = {request_key(i["request"]) for name in CORPUS_FILES for i in load_jsonl(other / name)}
    return [item["id"] for item in mine if request_key(item["request"]) in theirs]


# -- the standard test set of a frozen corpus, built from a small spec ----------------------


@dataclass(frozen=True)
class CorpusSpec:
    """What one frozen set promises: where it is, its minimums, id prefixes and neighbours.

    ``attack_prefix`` / ``benign_prefix`` (``"a3"``, ``"b3"``): every attack id starts
    with ``a3-<category without '_'>-`` and every benign id with ``b3-``; empty: no rule.
    ``body_only``: no request needs ``body_b64``.  ``hard_kinds`` with ``min_hard_share``:
    at least that share of benign items are of those kinds (the false-positive traps).
    """

    folder: Path
    min_per_category: int
    min_attacks: int
    min_benign: int
    attack_prefix: str = ""
    benign_prefix: str = ""
    body_only: bool = False
    other_sets: tuple[str, ...] = ()
    hard_kinds: frozenset[str] = frozenset()
    min_hard_share: float = 0.0

    @property
    def name(self) -> str:
        return self.folder.name

    def attacks(self) -> list[dict[str, Any]]:
        return load_jsonl(self.folder / "attacks.jsonl")

    def benign(self) -> list[dict[str, Any]]:
        return load_jsonl(self.folder / "benign.jsonl")

    def all_items(self) -> list[dict[str, Any]]:
        return self.attacks() + self.benign()


def check_attacks_file(spec: CorpusSpec) -> None:
    """Every attack is well formed (id prefix, body) and the set meets its minimums."""
    items = spec.attacks()
    for item in items:
        check_attack(item)
        if spec.attack_prefix:
            prefix = f"{spec.attack_prefix}-{item['category'].replace('_', '')}-"
            assert item["id"].startswith(prefix), item["id"]
        if spec.body_only:
            assert "body" in item["request"], f"{item['id']}: this set never needs body_b64"
    assert len(items) >= spec.min_attacks
    short = short_categories(items, spec.min_per_category)
    assert not short, f"categories under {spec.min_per_category}: {short}"


def check_benign_file(spec: CorpusSpec, *, hard_share: bool = False) -> None:
    """Every benign item is well formed and there are enough (``hard_share``: hard ones too)."""
    items = spec.benign()
    for item in items:
        check_benign(item)
        if spec.benign_prefix:
            assert item["id"].startswith(f"{spec.benign_prefix}-"), item["id"]
        if spec.body_only:
            assert "body" in item["request"], f"{item['id']}: this set never needs body_b64"
    assert len(items) >= spec.min_benign
    if hard_share:
        hard = sum(1 for item in items if item["kind"] in spec.hard_kinds)
        assert hard >= spec.min_hard_share * len(items), (
            f"only {hard} of {len(items)} are hard cases"
        )


def check_hard_kinds(spec: CorpusSpec) -> None:
    """Hard benign kinds are at least the minimum share, and each hard kind has items."""
    items = spec.benign()
    hard = [item for item in items if item["kind"] in spec.hard_kinds]
    assert len(hard) >= spec.min_hard_share * len(items), f"{len(hard)} hard of {len(items)}"
    assert {item["kind"] for item in hard} == spec.hard_kinds, "a hard kind has no items"


def check_unique(spec: CorpusSpec) -> None:
    """No id and no request appears twice within the set."""
    assert not repeated_ids(spec.all_items())


def check_no_overlap(spec: CorpusSpec, other: str) -> None:
    """No request of the set appears in the corpus ``other`` (a sibling folder)."""
    shared = shared_ids(spec.all_items(), spec.folder.parent / other)
    assert not shared, f"{spec.name} items also in {other}: {shared[:20]}"


class CorpusTests(NamedTuple):
    """The standard tests of a frozen set; a test module binds each to its own test name."""

    pinned: Callable[[str], None]
    attacks: Callable[[], None]
    benign: Callable[[], None]
    unique: Callable[[], None]
    no_overlap: Callable[[str], None]


def corpus_tests(spec: CorpusSpec, *, hard_share_in_benign: bool = False) -> CorpusTests:
    """New test functions for ``spec`` (parametrized by file name and by other set).

    ``hard_share_in_benign``: the benign test also checks the hard-case share (sets
    that have no separate ``check_hard_kinds`` test).
    """

    @pytest.mark.parametrize("name", CORPUS_FILES)
    def pinned(name: str) -> None:
        assert_pinned(spec.folder, name)

    def attacks() -> None:
        check_attacks_file(spec)

    def benign() -> None:
        check_benign_file(spec, hard_share=hard_share_in_benign)

    def unique() -> None:
        check_unique(spec)

    @pytest.mark.parametrize("other", spec.other_sets)
    def no_overlap(other: str) -> None:
        check_no_overlap(spec, other)

    return CorpusTests(pinned, attacks, benign, unique, no_overlap)
