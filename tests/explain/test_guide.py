"""docs/secure-functions.md (the short guide) and docs/rules.md (every rule) are generated
from the catalogue below their hand-written introductions, and must match it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ramparts.explain.catalog import entries
from ramparts.explain.guide import regenerate
from ramparts.explain.render import ESSENTIALS, ESSENTIALS_MARKER, GUIDE_MARKER, anchor

DOCS = Path(__file__).resolve().parents[2] / "docs"
GUIDE = DOCS / "secure-functions.md"
RULES = DOCS / "rules.md"
MAX_GUIDE_LINES = 400  # the issue asks for a short guide


@pytest.mark.parametrize("doc", [GUIDE, RULES], ids=lambda p: p.name)
def test_the_doc_is_up_to_date_with_the_catalogue(doc: Path) -> None:
    text = doc.read_text(encoding="utf-8")
    assert text == regenerate(text), (
        f"docs/{doc.name} is stale: run python -m ramparts.explain.guide "
        "docs/secure-functions.md docs/rules.md"
    )


def test_the_reference_has_its_introduction_and_every_entry() -> None:
    intro, marker, generated = RULES.read_text(encoding="utf-8").partition(GUIDE_MARKER)
    assert marker and "ramparts explain" in intro and "secure-functions.md" in intro
    for rule_id, entry in entries().items():
        assert f"### {rule_id}: {entry.title}\n" in generated
        assert f"<{entry.owasp}>" in generated


def test_the_guide_is_short_and_covers_start_fix_and_links() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= MAX_GUIDE_LINES
    intro, marker, generated = text.partition(ESSENTIALS_MARKER)
    assert marker and GUIDE_MARKER not in text  # not the whole reference again
    for needed in ("ramparts init", "ramparts explain", "--accept-risk", "(rules.md)"):
        assert needed in intro, needed
    # each essential rule, in order, with its fix and a link that lands on its reference entry
    headings = {
        anchor(e) for e in entries().values() if f"### {e.id}: {e.title}\n" in RULES.read_text()
    }
    catalog = entries()
    positions = []
    for n, rule_id in enumerate(ESSENTIALS, 1):
        entry = catalog[rule_id]
        positions.append(generated.index(f"### {n}. {rule_id}: {entry.title}\n"))
        link = f"(rules.md#{anchor(entry)})"
        assert link in generated and anchor(entry) in headings, rule_id
    assert positions == sorted(positions)
    assert generated.count("Fixed:") == len(ESSENTIALS)


def test_links_to_the_guide_and_the_reference_resolve() -> None:
    link = re.compile(r"\]\(((?:docs/)?(?:secure-functions|rules)\.md)[)#]")
    for doc in [DOCS.parent / "README.md", *DOCS.glob("*.md")]:
        for target in link.findall(doc.read_text()):
            assert (doc.parent / target).is_file(), (doc, target)
