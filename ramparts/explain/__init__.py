"""``ramparts explain RULE``: what a finding's rule guards against, and how to fix it.

The catalogue (``catalog/*.yaml``, shipped package data) holds one entry per
rule id that the deploy gate (scan and policy lint), the posture audit and the
pentest can report: the risk, a vulnerable and a fixed example, and the OWASP
page.  ``catalog.py`` loads and validates it; ``render.py`` prints an entry as
text, JSON or Markdown (docs/rules.md and the short guide docs/secure-functions.md are
generated from the latter).
"""

from __future__ import annotations

from ramparts.explain.catalog import (
    CatalogError,
    Entry,
    UnknownRule,
    entries,
    load_catalog,
    lookup,
)

__all__ = ["CatalogError", "Entry", "UnknownRule", "entries", "load_catalog", "lookup"]
