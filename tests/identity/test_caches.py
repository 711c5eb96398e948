"""The identity caches in-process against real components: a JWKS server and a SQLite store."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import create_engine

from ramparts.crypto.envelope import Sealer
from ramparts.crypto.keyring import Keyring, has_keks
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.identity.apikeys import ApiKeys
from ramparts.identity.errors import AuthFailed
from ramparts.identity.issuer import BuiltinIssuer
from ramparts.identity.jwks import RemoteJwks
from ramparts.identity.jwt import IssuerVerifier, JwtVerifier
from ramparts.identity.records import IdentityRecords
from ramparts.identity.service import AppAuth, IdentityService
from ramparts.secrets import SecretSource, SecretValue
from ramparts.store.sql import SQLStore
from tests.identity.servers import IdpServer
from tests.identity.tokens import AUD, LOCAL_ISS, mint


def _engine_and_sealer(url: Any, tmp_path: Path) -> tuple[Any, Sealer]:
    """An engine on ``url`` and a real sealer whose keyring lives in the same database."""
    engine = url if not isinstance(url, str) else create_engine(url)
    master = resolve_master_key(tmp_path, create=not has_keks(engine), environ={})
    return engine, Sealer(Keyring(engine, master))



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
    records = IdentityRecords(*_engine_and_sealer(f"sqlite:///{tmp_path / 'id.db'}", tmp_path))
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


# -- revocation across nodes, and the verified-token cache -------------------------------------
def test_revoke_on_one_node_is_refused_by_the_next_request_on_another(tmp_path: Path) -> None:
    """Two nodes = two engines and two warm key caches over one SQLite file."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    node_a = IdentityRecords(*_engine_and_sealer(url, tmp_path))
    node_b = IdentityRecords(*_engine_and_sealer(url, tmp_path))
    secret = b"s" * 32
    keys_a, keys_b = ApiKeys(node_a, secret), ApiKeys(node_b, secret)
    key, rec = keys_a.create("k", ["x"], None, None)

    async def run() -> None:
        for _ in range(3):  # warm node B's cache
            assert (await keys_b.authenticate(key)).id == f"key:{rec.id}"
        assert node_a.revoke_api_key(rec.id) is not None
        with pytest.raises(AuthFailed) as caught:
            await keys_b.authenticate(key)  # the very next request on the other node
        assert caught.value.reason == "api_key_revoked"

    asyncio.run(run())
    keys_a._counter.close()
    keys_b._counter.close()


def test_generation_read_waits_out_a_locked_store_instead_of_answering_stale(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state.db"
    records = IdentityRecords(*_engine_and_sealer(f"sqlite:///{path}", tmp_path))
    reader = records.generation_reader()
    start = records.generation()
    # Another process holds the database exclusively (WAL readers get SQLITE_BUSY), bumps
    # the counter, and lets go a moment later: the read must wait and see the bump.
    locker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    locker.execute("PRAGMA locking_mode=EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("UPDATE identity_meta SET num = num + 1 WHERE key = 'identity_generation'")

    def release() -> None:
        time.sleep(0.3)
        locker.execute("COMMIT")
        locker.execute("PRAGMA locking_mode=NORMAL")
        locker.execute("SELECT num FROM identity_meta").fetchall()  # drops the exclusive lock
        locker.close()

    async def run() -> int:
        thread = threading.Thread(target=release)
        thread.start()
        try:
            return await reader.get()
        finally:
            thread.join()

    assert asyncio.run(run()) == start + 1
    reader.close()


class _NoSecrets(SecretSource):
    def get(self, name: str, *, app: str) -> SecretValue | None:
        return None


def test_cached_jwt_is_refused_once_its_key_is_gone_or_it_expires(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    service = IdentityService(store, _NoSecrets(), _engine_and_sealer(store.engine, tmp_path)[1])
    key = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    published: dict[str, Any] = {"k1": key}  # the issuer's JWKS, as the node last saw it

    async def lookup(kid: str | None) -> Any:
        return published.get(kid or "")

    issuer = IssuerVerifier(
        issuer=LOCAL_ISS, audiences=[AUD], algorithms=["RS256"], leeway=0, keys=lookup
    )
    app = AppAuth("app", JwtVerifier([issuer]), None, None)  # type: ignore[arg-type]

    async def run() -> None:
        await service.start()
        try:
            token = mint(key, "RS256")
            first = await service._token(app, "jwt", token)
            assert await service._token(app, "jwt", token) is first  # served from the cache
            assert len(service._verified) == 1
            del published["k1"]  # the issuer dropped the key: cached tokens stop verifying
            with pytest.raises(AuthFailed) as caught:
                await service._token(app, "jwt", token)
            assert caught.value.reason == "unknown_kid"
            published["k1"] = key
            short = mint(key, "RS256", exp=int(time.time()) + 1)
            await service._token(app, "jwt", short)
            await asyncio.sleep(1.2 + (1 - time.time() % 1))  # past exp, whatever the rounding
            with pytest.raises(AuthFailed) as caught:
                await service._token(app, "jwt", short)
            assert caught.value.code == "token_expired"
        finally:
            await service.close()

    asyncio.run(run())
    store.close()


def test_signing_keys_and_the_server_secret_are_sealed_at_rest(tmp_path: Path) -> None:
    """A copy of the database alone yields neither the issuer's private key nor the HMAC key."""
    from ramparts.errors import DecryptionError
    from ramparts.identity.issuer import generate_signing_key

    path = tmp_path / "id.db"
    records = IdentityRecords(*_engine_and_sealer(f"sqlite:///{path}", tmp_path))
    secret = records.server_secret()
    assert records.server_secret() == secret  # read back through the sealer
    key = generate_signing_key()
    records.add_signing_key(key, retire_others=True)
    assert [k.private_pem for k in records.signing_keys()] == [key.private_pem]

    with sqlite3.connect(path) as raw:
        (pem,) = raw.execute("SELECT private_pem FROM signing_keys").fetchone()
        (stored,) = raw.execute(
            "SELECT text FROM identity_meta WHERE text IS NOT NULL"
        ).fetchone()
        assert "PRIVATE KEY" not in pem and pem.startswith("enc1:")
        assert secret.hex() not in stored and stored.startswith("enc1:")
        # the sealed key bound to its kid: moved under another kid, it does not open
        raw.execute("INSERT INTO signing_keys SELECT 'other', alg, private_pem, public_jwk, "
                    "created_at + 1, NULL FROM signing_keys")
    with pytest.raises(DecryptionError):
        records.signing_keys()
