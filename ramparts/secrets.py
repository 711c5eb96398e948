"""Where secret values come from, behind one small contract.

Until the encrypted secret store lands, the node reads a secret named
``billing-signing-secret`` from its own environment variable
``RAMPARTS_SECRET_BILLING_SIGNING_SECRET``.  Workers never inherit the
node's environment, so a secret reaches a handler only through
``context.secrets.get`` after the policy allows it, and webhook secrets never
leave the gateway.  Values travel wrapped in ``SecretValue`` whose ``repr``
is masked.
"""

from __future__ import annotations

import abc
import os
import re

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class SecretValue:
    """A secret string whose repr and str never show the value."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "SecretValue('**********')"

    __str__ = __repr__


class SecretSource(abc.ABC):
    @abc.abstractmethod
    def get(self, name: str) -> SecretValue | None:
        """The current value, or None when there is no such secret."""


class EnvironmentSecrets(SecretSource):
    """Secrets from ``RAMPARTS_SECRET_<NAME>`` variables of the node process."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        self._environ = dict(os.environ if environ is None else environ)

    @staticmethod
    def variable_for(name: str) -> str:
        return "RAMPARTS_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()

    def get(self, name: str) -> SecretValue | None:
        if not _NAME_RE.match(name):
            return None
        value = self._environ.get(self.variable_for(name))
        return SecretValue(value) if value else None
