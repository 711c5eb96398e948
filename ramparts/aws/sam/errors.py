"""Errors of ``ramparts import``: a template that cannot be read or mapped.

Every error names the template file and the field (``Resources.Fn.Properties.Handler``)
so the CLI can print one line a user acts on; nothing is written when one is raised.
"""

from __future__ import annotations

from ramparts.errors import RampartsError


class TemplateError(RampartsError):
    """The template is not a SAM/CloudFormation template we can import."""

    code = "invalid_template"
    status = 422

    def __init__(self, file: str, field: str, reason: str) -> None:
        self.file = file
        self.field = field
        self.reason = reason
        where = f"{file}: {field}" if field else file
        super().__init__(f"{where}: {reason}")


class Unresolvable(RampartsError):
    """An intrinsic function that has no value offline (``!ImportValue``, a custom resource's
    attribute, ...); the caller drops the field and reports it rather than guessing."""

    code = "unresolvable"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
