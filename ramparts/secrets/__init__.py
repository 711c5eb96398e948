"""Where secret values come from, behind one small contract.

The node's secret source is the encrypted, versioned ``SecretStore``
(``ramparts.secrets.store``): values are sealed with envelope encryption in
the state store, set and rotated with ``ramparts secrets ...``, and reach a
handler only through ``context.secrets.get`` after its role allows
``secrets:GetSecretValue``.  Every secret is owned by one app and read only
by that app, or by an app its owner shared it with.  Webhook signing secrets are read by the gateway
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
    """Secrets belong to apps: every read says which app is reading."""

    @abc.abstractmethod
    def get(self, name: str, *, app: str) -> SecretValue | None:
        """The current value of ``name`` as ``app`` sees it, or None.

        ``app``'s own secret of that name, else one another app shared with
        it; never a secret of another app that was not shared.
        """

    def owned_elsewhere(self, name: str, *, app: str) -> bool:
        """Whether another app holds a secret ``name`` that ``app`` may not read."""
        return False


__all__ = ["SecretSource", "SecretValue"]
