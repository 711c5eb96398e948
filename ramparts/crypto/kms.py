"""KMS plugins: a master key that never leaves a key-management service.

A plugin is a ``MasterKey`` chosen by the scheme of ``RAMPARTS_KMS_URL`` from
one explicit registry that refuses duplicate schemes.  Only KEKs (a few
dozen bytes, once per key and node start) are sent to the KMS, never user
data.

Shipped plugin: HashiCorp Vault's Transit secrets engine over HTTP(S)::

    RAMPARTS_KMS_URL=vault+https://vault.example:8200/transit/ramparts
    VAULT_TOKEN=...            (or RAMPARTS_VAULT_TOKEN; VAULT_NAMESPACE optional)

The path is ``/<mount>/<key name>``.  The KEK id is carried inside the
encrypted plaintext and checked on decrypt, so a wrapped KEK moved to
another id fails even on Vault versions without transit associated data.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from urllib.parse import urlsplit

import httpx

from ramparts.crypto.keysource import MasterKey
from ramparts.errors import ConfigError, MasterKeyError

_REGISTRY: dict[str, Callable[[str, Mapping[str, str]], MasterKey]] = {}


def register_kms(scheme: str, factory: Callable[[str, Mapping[str, str]], MasterKey]) -> None:
    """Register a plugin under a URL scheme; a scheme can be claimed once."""
    if scheme in _REGISTRY:
        raise ConfigError(f"KMS scheme {scheme!r} is already registered")
    _REGISTRY[scheme] = factory


def open_kms(url: str, environ: Mapping[str, str]) -> MasterKey:
    scheme = url.split(":", 1)[0].lower()
    factory = _REGISTRY.get(scheme)
    if factory is None:
        known = ", ".join(sorted(_REGISTRY))
        raise ConfigError(f"unknown KMS scheme {scheme!r} in RAMPARTS_KMS_URL (known: {known})")
    return factory(url, environ)


class VaultTransit(MasterKey):
    """Wraps KEKs with a Vault Transit key (``POST /v1/<mount>/encrypt/<key>``)."""

    def __init__(
        self,
        address: str,
        mount: str,
        key: str,
        token: str,
        *,
        namespace: str | None = None,
        timeout: float = 10.0,
        verify: bool | str = True,
    ) -> None:
        if not token:
            raise MasterKeyError("the Vault Transit KMS needs VAULT_TOKEN or RAMPARTS_VAULT_TOKEN")
        headers = {"X-Vault-Token": token}
        if namespace:
            headers["X-Vault-Namespace"] = namespace
        self._http = httpx.Client(base_url=address, headers=headers, timeout=timeout, verify=verify)
        self._mount = mount.strip("/")
        self._key = key
        self.key_id = f"vault:{self._mount}/{key}"

    @classmethod
    def from_url(cls, url: str, environ: Mapping[str, str]) -> VaultTransit:
        parts = urlsplit(url)
        scheme = parts.scheme.lower().removeprefix("vault+")
        segments = [s for s in parts.path.split("/") if s]
        if scheme not in ("http", "https") or not parts.hostname or len(segments) < 2:
            raise ConfigError(
                "RAMPARTS_KMS_URL must look like vault+https://HOST:PORT/<mount>/<key name>"
            )
        return cls(
            f"{scheme}://{parts.netloc}",
            "/".join(segments[:-1]),
            segments[-1],
            environ.get("RAMPARTS_VAULT_TOKEN") or environ.get("VAULT_TOKEN") or "",
            namespace=environ.get("VAULT_NAMESPACE") or None,
            verify=environ.get("VAULT_CACERT") or True,
        )

    def _post(self, op: str, body: dict[str, str]) -> dict[str, str]:
        try:
            r = self._http.post(f"/v1/{self._mount}/{op}/{self._key}", json=body)
        except httpx.HTTPError as exc:
            raise MasterKeyError(
                f"the Vault Transit KMS at {self._http.base_url} is unreachable "
                f"({exc.__class__.__name__})"
            ) from exc
        if r.status_code != 200:
            raise MasterKeyError(
                f"the Vault Transit KMS refused {op} with key {self.key_id} (HTTP {r.status_code})"
            )
        try:
            data = r.json()["data"]
            if not isinstance(data, dict):
                raise TypeError
            return data
        except (ValueError, KeyError, TypeError):
            raise MasterKeyError("the Vault Transit KMS sent a malformed answer") from None

    def wrap(self, plaintext: bytes, context: bytes) -> bytes:
        framed = len(context).to_bytes(2, "big") + context + plaintext
        data = self._post("encrypt", {"plaintext": base64.b64encode(framed).decode()})
        ciphertext = data.get("ciphertext")
        if not isinstance(ciphertext, str) or not ciphertext.startswith("vault:"):
            raise MasterKeyError("the Vault Transit KMS sent a malformed ciphertext")
        return ciphertext.encode()

    def unwrap(self, blob: bytes, context: bytes) -> bytes:
        data = self._post("decrypt", {"ciphertext": blob.decode("ascii", "replace")})
        try:
            framed = base64.b64decode(data.get("plaintext", ""), validate=True)
        except (binascii.Error, ValueError):
            raise MasterKeyError("the Vault Transit KMS sent a malformed plaintext") from None
        n = int.from_bytes(framed[:2], "big")
        if framed[2 : 2 + n] != context or len(framed) < 2 + n:
            raise MasterKeyError(f"a key-encryption key does not belong to {context.decode()!r}")
        return framed[2 + n :]

    def __repr__(self) -> str:
        return f"VaultTransit({self.key_id})"


register_kms("vault+http", VaultTransit.from_url)
register_kms("vault+https", VaultTransit.from_url)
