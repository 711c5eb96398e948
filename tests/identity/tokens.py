"""Test-side token minting: joserfc for well-formed tokens, raw crypto for hostile ones."""

from __future__ import annotations

import base64
import json
import time
import warnings
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc import jwt
from joserfc.jwk import ECKey, Key, OKPKey, RSAKey

warnings.filterwarnings("ignore", message="EdDSA is deprecated")

LOCAL_ISS = "https://local.example/"
AUD = "idt-api"


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def keys() -> dict[str, Key]:
    return {
        "RS256": RSAKey.generate_key(2048, parameters={"kid": "r1"}),
        "ES256": ECKey.generate_key("P-256", parameters={"kid": "e1"}),
        "EdDSA": OKPKey.generate_key("Ed25519", parameters={"kid": "d1"}),
    }


def claims(**over: Any) -> dict[str, Any]:
    now = int(time.time())
    base: dict[str, Any] = {
        "iss": LOCAL_ISS,
        "aud": AUD,
        "sub": "user-1",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "scope": "orders:read orders:write",
        "tier": "gold",
    }
    base.update(over)
    return {k: v for k, v in base.items() if v is not None}


def mint(key: Key, alg: str, header: dict[str, Any] | None = None, **over: Any) -> str:
    head = {"alg": alg, "kid": key.kid, **(header or {})}
    return jwt.encode(head, claims(**over), key, algorithms=[alg])


def raw_rs256(key: RSAKey, header: dict[str, Any], body: dict[str, Any]) -> str:
    """Sign whatever header we like with RS256 (joserfc refuses to make hostile headers)."""
    signing = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(body).encode())}"
    sig = key.private_key.sign(signing.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing}.{b64(sig)}"
