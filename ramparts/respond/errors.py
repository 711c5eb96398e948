"""Errors of the response package, under ``ConfigError`` (a bad rule file is bad configuration)."""

from __future__ import annotations

from ramparts.errors import ConfigError, RampartsError


class RuleError(ConfigError):
    """A detection rule file is invalid; the message names the file and the field."""

    code = "invalid_detection_rule"

    def __init__(self, file: str, field: str, reason: str) -> None:
        self.file = file
        self.field = field
        self.reason = reason
        super().__init__(f"invalid detection rule file {file}: {field or '<root>'}: {reason}")


class FunctionQuarantined(RampartsError):
    """A quarantined function was asked to run (``ramparts quarantine``)."""

    code = "function_quarantined"
    status = 503


class PlaybookError(ConfigError):
    """A playbook is invalid; the message names the file and the field."""

    code = "invalid_playbook"

    def __init__(self, file: str, field: str, reason: str) -> None:
        self.file = file
        self.field = field
        self.reason = reason
        super().__init__(f"invalid playbook {file}: {field or '<root>'}: {reason}")

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "file": self.file, "field": self.field}
