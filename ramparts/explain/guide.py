"""Regenerate docs/secure-functions.md from the catalogue.

    python -m ramparts.explain.guide PATH    # rewrite PATH below its marker line

The hand-written introduction above ``GUIDE_MARKER`` is kept; everything below
it is ``markdown_guide`` over the shipped catalogue.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ramparts.explain.catalog import entries
from ramparts.explain.render import GUIDE_MARKER, markdown_guide


def regenerate(text: str) -> str:
    """``text`` (the guide) with its generated part replaced by the current catalogue."""
    intro, marker, _ = text.partition(GUIDE_MARKER)
    if not marker:
        raise ValueError(f"the guide has no marker line {GUIDE_MARKER!r}")
    return f"{intro}{GUIDE_MARKER}\n\n{markdown_guide(entries())}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m ramparts.explain.guide PATH", file=sys.stderr)
        return 2
    path = Path(argv[0])
    path.write_text(regenerate(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
