"""The identity caches in-process against real components: a JWKS server and a SQLite store."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from joserfc.jwk import RSAKey
from sqlalchemy import create_engine

from ramparts.identity.issuer import BuiltinIssuer
from ramparts.identity.jwks import RemoteJwks
from ramparts.identity.records import IdentityRecords
from tests.identity.servers import IdpServer


def test_unknown_kid_refreshes_are_rate_limited() -> None:
    idp = IdpServer().start()
    try:
        key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
        idp.jwks = {"keys": [key.as_dict(private=False)]}
        jwks = RemoteJwks(f"{idp.base}/jwks.json", min_refresh=60)

        async def run() -> None:
            assert await jwks.key("k1") is not None
            for i in range(50):  # a flood of made-up kids
                assert await jwks.key(f"made-up-{i}") is None

        asyncio.run(run())
        assert idp.hits["/jwks.json"] == 1
    finally:
        idp.close()


def test_failed_fetch_keeps_known_keys_and_never_invents_one() -> None:
    idp = IdpServer().start()
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    idp.jwks = {"keys": [key.as_dict(private=False)]}
    jwks = RemoteJwks(f"{idp.base}/jwks.json", min_refresh=0, max_age=0)

    async def run() -> None:
        assert await jwks.key("k1") is not None
        idp.close()  # the issuer goes away
        assert await jwks.key("k1") is not None  # stale but known: still verifies
        assert await jwks.key("k2") is None

    asyncio.run(run())


def test_retired_signing_key_stops_verifying_after_its_tokens_expire(tmp_path: Path) -> None:
    records = IdentityRecords(create_engine(f"sqlite:///{tmp_path / 'id.db'}"))
    issuer = BuiltinIssuer(records, b"k" * 32, token_ttl=1)

    async def run() -> None:
        await issuer.start()
        old = next(iter(issuer.jwks()["keys"]))["kid"]
        await issuer.rotate()
        assert await issuer.key(old) is not None  # still verifying right after rotation
        kids = {k["kid"] for k in issuer.jwks()["keys"]}
        assert old in kids and len(kids) == 2
        issuer.leeway = 0
        await asyncio.sleep(1.2)
        assert await issuer.key(old) is None
        assert old not in {k["kid"] for k in issuer.jwks()["keys"]}

    asyncio.run(run())
    assert time.time() > 0
