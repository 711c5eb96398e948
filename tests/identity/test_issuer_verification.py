"""The token endpoint checks every client secret the same way, known client id or not.

adv-dos F12: a wrong secret took ~3x longer to refuse for an existing client id
than for an unknown one.  Timing is not asserted (a shared machine); what is
shown is that an unknown id goes through the same verification as a known one
(against a dummy hash), exactly once per request.
"""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine

from ramparts.crypto.envelope import Sealer
from ramparts.crypto.keyring import Keyring, has_keks
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.identity.issuer import BuiltinIssuer, TokenError
from ramparts.identity.records import IdentityRecords

FORM = {"content-type": "application/x-www-form-urlencoded"}
BODY = b"grant_type=client_credentials"


def _issuer(tmp_path: Path) -> BuiltinIssuer:
    engine = create_engine(f"sqlite:///{tmp_path / 'id.db'}")
    master = resolve_master_key(tmp_path, create=not has_keks(engine), environ={})
    return BuiltinIssuer(IdentityRecords(engine, Sealer(Keyring(engine, master))), b"k" * 32)


def _basic(cid: str, secret: str) -> dict[str, str]:
    raw = base64.b64encode(f"{cid}:{secret}".encode()).decode()
    return {**FORM, "authorization": f"Basic {raw}"}


class _Spy:
    """Records each verification the issuer makes, then lets the real one decide."""

    def __init__(self, issuer: BuiltinIssuer) -> None:
        self.calls: list[str | None] = []
        self._real = issuer._secret_matches
        issuer._secret_matches = self  # type: ignore[method-assign]

    def __call__(self, secret: str, stored: str | None) -> bool:
        self.calls.append(stored)
        return self._real(secret, stored)


def _answer(issuer: BuiltinIssuer, headers: dict[str, str]) -> Any:
    try:
        return asyncio.run(issuer.token(headers, BODY))
    except TokenError as exc:
        return exc


def test_unknown_and_known_client_ids_take_the_same_verification(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    asyncio.run(issuer.start())
    secret, rec = issuer.create_client("c", ["a"], None)
    spy = _Spy(issuer)

    wrong = _answer(issuer, _basic(rec.id, "rcs_wrong"))
    unknown = _answer(issuer, _basic("rc_" + "0" * 16, "rcs_wrong"))
    right = _answer(issuer, _basic(rec.id, secret))

    assert isinstance(wrong, TokenError) and wrong.reason == "client_secret_mismatch"
    assert isinstance(unknown, TokenError) and unknown.reason == "client_unknown"
    assert wrong.status == unknown.status == 401 and wrong.body() == unknown.body()
    assert isinstance(right, dict) and right["access_token"]
    # One verification each; the unknown id's against a hash (the dummy), not skipped.
    assert len(spy.calls) == 3
    assert spy.calls[0] == spy.calls[2] == rec.secret_hash
    assert spy.calls[1] is None


def test_the_dummy_hash_never_matches(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    for secret in ("", "rcs_x", "a" * 200):
        assert issuer._secret_matches(secret, None) is False


def test_a_deleted_client_is_verified_like_an_unknown_one(tmp_path: Path) -> None:
    issuer = _issuer(tmp_path)
    asyncio.run(issuer.start())
    secret, rec = issuer.create_client("c", ["a"], None)
    assert issuer._records.delete_client(rec.id)
    spy = _Spy(issuer)
    refused = _answer(issuer, _basic(rec.id, secret))
    assert isinstance(refused, TokenError) and refused.reason == "client_unknown"
    assert spy.calls == [None]
