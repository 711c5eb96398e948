"""``ramparts.scan.placeholders``: where the secret detector and RP-L006 draw the line."""

from __future__ import annotations

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
