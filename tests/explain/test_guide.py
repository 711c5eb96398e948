"""docs/secure-functions.md is generated from the catalogue and must match it."""

from __future__ import annotations

from pathlib import Path

from ramparts.explain.catalog import entries
from ramparts.explain.guide import regenerate
from ramparts.explain.render import GUIDE_MARKER

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "secure-functions.md"


def test_the_guide_is_up_to_date_with_the_catalogue() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    assert text == regenerate(text), (
        "docs/secure-functions.md is stale: run python -m ramparts.explain.guide "
        "docs/secure-functions.md"
    )


def test_the_guide_has_its_introduction_and_every_entry() -> None:
    intro, marker, generated = GUIDE.read_text(encoding="utf-8").partition(GUIDE_MARKER)
    assert marker and "ramparts init" in intro and "ramparts explain" in intro
    for rule_id, entry in entries().items():
        assert f"### {rule_id}: {entry.title}\n" in generated
        assert f"<{entry.owasp}>" in generated
