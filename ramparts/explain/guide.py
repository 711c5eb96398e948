"""Regenerate the docs built from the catalogue: the short guide and the rule reference.

    python -m ramparts.explain.guide docs/secure-functions.md docs/rules.md

Each file keeps its hand-written introduction above its marker line; what
follows the marker is generated from the shipped catalogue: below
``ESSENTIALS_MARKER`` the short guide's few rules (``markdown_essentials``),
below ``GUIDE_MARKER`` every rule (``markdown_guide``, the reference).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ramparts.explain.catalog import entries
from ramparts.explain.render import (
    ESSENTIALS_MARKER,
    GUIDE_MARKER,
    markdown_essentials,
    markdown_guide,
)


def regenerate(text: str) -> str:
    """``text`` with its generated part replaced by the current catalogue."""
    for marker, generate in (
        (ESSENTIALS_MARKER, markdown_essentials),
        (GUIDE_MARKER, markdown_guide),
    ):
        intro, found, _ = text.partition(marker)
        if found:
            return f"{intro}{marker}\n\n{generate(entries())}"
    raise ValueError(f"no marker line: {ESSENTIALS_MARKER!r} or {GUIDE_MARKER!r}")


def main(argv: list[str]) -> int:
    if not argv:
        print("usage: python -m ramparts.explain.guide PATH [PATH ...]", file=sys.stderr)
        return 2
    for arg in argv:
        path = Path(arg)
        path.write_text(regenerate(path.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
