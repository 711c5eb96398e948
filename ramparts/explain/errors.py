"""The errors of ``ramparts.explain``, under one root.

ExplainError
├── CatalogError   a catalogue file is malformed (the file and entry are named)
└── UnknownRule    no entry for the asked id (``suggestions`` holds close ids)
"""

from __future__ import annotations

from ramparts.errors import RampartsError


class ExplainError(RampartsError):
    code = "explain_error"
    status = 400


class CatalogError(ExplainError):
    """A shipped catalogue file is malformed: a test fails on it, never a user."""

    code = "catalog_invalid"
    status = 500


class UnknownRule(ExplainError):
    code = "unknown_rule"
    status = 404

    def __init__(self, rule_id: str, suggestions: list[str]) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"no rule {rule_id!r} in the catalogue{hint}")
        self.rule_id = rule_id
        self.suggestions = suggestions
