"""Where secret values come from, behind one small contract.

The node's secret source is the encrypted, versioned ``SecretStore``
(``ramparts.secrets.store``): values are sealed with envelope encryption in
the state store, set and rotated with ``ramparts secrets ...``, and reach a
handler only through ``context.secrets.get`` after its role allows
``secrets:GetSecretValue``.  Webhook signing secrets are read by the gateway
the same way and never leave the node.  Values travel wrapped in
``SecretValue`` whose ``repr`` is masked.
"""

from __future__ import annotations

import abc


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


__all__ = ["SecretSource", "SecretValue"]
