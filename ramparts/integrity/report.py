"""What an integrity check found: one ``Problem`` per failed check, gathered in a ``Report``."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ramparts.errors import DataIntegrityError


@dataclass(frozen=True)
class Problem:
    """One failed check of one file, in words an operator can act on."""

    file: Path
    check: str  # "quick_check", "accepted-count"
    detail: str  # what the check said
    lost: str  # what is gone, as far as the check can tell
    advice: str  # what to do next
    missing_messages: int = 0  # accepted bus messages counted as lost

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": str(self.file),
            "check": self.check,
            "detail": self.detail,
            "lost": self.lost,
            "advice": self.advice,
            "missing_messages": self.missing_messages,
        }

    def describe(self) -> str:
        return (
            f"{self.file}: check {self.check} failed: {self.detail}\n"
            f"  lost: {self.lost}\n"
            f"  what to do: {self.advice}"
        )


@dataclass
class Report:
    """Every check that ran, what failed, and whether the last stop was clean."""

    clean_stop: bool
    passed: list[str] = field(default_factory=list)  # "state.db: quick_check ok"
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def error(self) -> DataIntegrityError:
        lines = "\n".join(p.describe() for p in self.problems)
        return DataIntegrityError(
            "refusing to start: the data dir failed its integrity check\n"
            + lines
            + "\nTo start anyway with what is left, run 'ramparts up --accept-data-loss' "
            "(the loss is recorded in the audit log); 'ramparts doctor' repeats these checks.",
            [p.to_dict() for p in self.problems],
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "clean_stop": self.clean_stop,
            "passed": list(self.passed),
            "problems": [p.to_dict() for p in self.problems],
            "notes": list(self.notes),
        }
