"""``ramparts.scan.placeholders``: where the secret detector and RP-L006 draw the line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.scan.placeholders import is_placeholder


@pytest.mark.parametrize("value", [
    "", "   ", "********", "xxxxxxxxxxxx", "XXXX-XXXX-XXXX", "<redacted>", "[REDACTED]",
    "REDACTED", "<your-password-here>", "{insert api key}", "${DB_PASSWORD}", "$(cat pw)",
    "{{ secret_key }}", "%(password)s", "$API_TOKEN", "'****'",
])
def test_stand_ins_are_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", [
    "changeme", "password", "admin", "hunter2", "s3cr3t-value", "wJalrXUtnFEMI/K7MDENG",
    "x1x2x3x4", "$ecretP4ss", "<b>bold</b>",
])
def test_values_that_could_log_in_are_not(value: str) -> None:
    assert not is_placeholder(value)


@pytest.mark.parametrize("value", [
    "dummy", "fake-api-key", "your-api-key-here", "test-key-not-real", "example",
    "YOUR_TOKEN_HERE", "sample secret",
])
def test_stand_ins_written_in_words_are_placeholders(value: str) -> None:
    # review 2, FP2: these were RP-S001 high and blocked the deploy
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["test", "secret-key-1234", "dummy-9f8e7d6c5b4a", "pass"])
def test_words_without_a_stand_in_marker_or_with_a_real_part_are_not(value: str) -> None:
    assert not is_placeholder(value)


def test_the_gate_passes_placeholders_and_field_names_but_not_defaults(tmp_path: Path) -> None:
    from ramparts.scan.gate import GateOptions, run_gate

    (tmp_path / "settings.py").write_text(
        'API_KEY_2 = "dummy"\nAPI_KEY_3 = "fake-api-key"\nAPI_KEY_4 = "your-api-key-here"\n'
        'PASSWORD_FIELD = "password"\nPASSWORD_2 = "example"\nPASSWORD_1 = "password"\n')
    result = run_gate(tmp_path, GateOptions(use_app_baseline=False))
    lines = {f.line for f in result.findings if f.rule_id == "RP-S001"}
    assert lines == {6}  # a default password is still one
