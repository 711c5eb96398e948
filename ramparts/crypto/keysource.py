"""What wraps KEKs: the one interface the local master key and KMS plugins share.

Its own module so that ``masterkey`` (which picks a source, possibly a KMS
plugin) and ``kms`` (whose plugins implement it) both import it from below.
"""

from __future__ import annotations

import abc


class MasterKey(abc.ABC):
    """Wraps and unwraps KEK material; ``key_id`` names the key, never reveals it."""

    key_id: str

    @abc.abstractmethod
    def wrap(self, plaintext: bytes, context: bytes) -> bytes:
        """Encrypt ``plaintext`` bound to ``context`` (the KEK id)."""

    @abc.abstractmethod
    def unwrap(self, blob: bytes, context: bytes) -> bytes:
        """Decrypt; raise ``MasterKeyError`` if the key or context is wrong."""
