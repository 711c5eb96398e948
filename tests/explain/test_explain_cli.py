"""``ramparts explain RULE`` through the real CLI: one rule per family, each format, errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ramparts.explain.catalog import entries


def _explain(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "explain", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "rule_id",
    [
        "RP-T002",
        "RP-L001",
        "RP-S001",
        "B602",
        "RP-D001",
        "RP-M001",
        "RP-P003",
        "RP-I004",
        "RP-G001",
    ],
)
def test_text_shows_risk_both_examples_and_the_owasp_link(rule_id: str) -> None:
    entry = entries()[rule_id]
    done = _explain(rule_id.lower())
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith(f"{rule_id}: {entry.title}")
    assert "Vulnerable:" in out and "Fixed:" in out and f"OWASP: {entry.owasp}" in out
    assert entry.vulnerable.splitlines()[0].strip() in out
    assert entry.fixed.splitlines()[-1].strip() in out


def test_json_and_markdown() -> None:
    done = _explain("RP-T003", "--format", "json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert doc["id"] == "RP-T003" and "?" in doc["fixed"] and doc["owasp"].startswith("https://")
    done = _explain("RP-T003", "--format", "markdown")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("## RP-T003: ") and "```python\n" in done.stdout


def test_unknown_rule_names_close_matches_and_fails() -> None:
    done = _explain("RP-T0002")
    assert done.returncode != 0
    assert "no rule 'RP-T0002'" in done.stderr and "RP-T002" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_format_is_refused() -> None:
    done = _explain("RP-T001", "--format", "html")
    assert done.returncode != 0 and "--format" in done.stderr and "Traceback" not in done.stderr


def test_invisible_characters_in_an_example_are_shown_as_escapes() -> None:
    assert "\u202e" in entries()["B613"].vulnerable  # the real example holds the override
    done = _explain("B613")
    assert done.returncode == 0, done.stderr
    assert "\\u202e" in done.stdout and "\u202e" not in done.stdout
