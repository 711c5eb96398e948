"""Helpers shared by the handlers in this folder. They move values around; none sanitises."""

from __future__ import annotations


def clean(value: str) -> str:
    """Trim surrounding whitespace (not a sanitiser)."""
    return value.strip()


def field(data: dict, name: str, default: str = "") -> str:
    """One field of a decoded JSON body, as text."""
    return str(data.get(name, default))


def words(*parts: str) -> str:
    """Join the non-empty parts with single spaces."""
    return " ".join(p for p in parts if p)


def build_filter(column: str, value: str) -> str:
    """A SQL condition built by string formatting."""
    return f"{column} = '{value}'"


class Lookup:
    """Carries a search term between layers."""

    def __init__(self, term: str) -> None:
        self.term = term
