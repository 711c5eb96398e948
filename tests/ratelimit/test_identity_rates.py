"""Per-key and per-client limits are stored with the record, in stores made before them too."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from ramparts.errors import InvalidRequest
from ramparts.identity.apikeys import ApiKeys, check_rates
from ramparts.identity.records import IdentityRecords
from tests.identity.test_caches import _engine_and_sealer

_OLD_API_KEYS = """
CREATE TABLE api_keys (
    id VARCHAR(32) PRIMARY KEY, name VARCHAR(128) NOT NULL, hash VARCHAR(64) NOT NULL,
    scopes TEXT NOT NULL, app VARCHAR(63), created_at FLOAT NOT NULL, expires_at FLOAT,
    revoked_at FLOAT, last_used_at FLOAT)
"""
_OLD_CLIENTS = """
CREATE TABLE oauth_clients (
    id VARCHAR(64) PRIMARY KEY, name VARCHAR(128) NOT NULL, secret_hash VARCHAR(64) NOT NULL,
    scopes TEXT NOT NULL, app VARCHAR(63), created_at FLOAT NOT NULL, deleted_at FLOAT)
"""


def test_a_store_from_before_rate_limits_gets_the_columns(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'id.db'}")
    with engine.begin() as conn:
        conn.execute(text(_OLD_API_KEYS))
        conn.execute(text(_OLD_CLIENTS))
        conn.execute(text("INSERT INTO api_keys VALUES ('aaaaaaaaaaaa', 'old', 'h', '[]', NULL, "
                          "1.0, NULL, NULL, NULL)"))
    records = IdentityRecords(*_engine_and_sealer(engine, tmp_path))
    for table in ("api_keys", "oauth_clients"):
        assert "rate" in {c["name"] for c in inspect(engine).get_columns(table)}
    old = records.get_api_key("aaaaaaaaaaaa")
    assert old is not None and old.rate == ()
    IdentityRecords(*_engine_and_sealer(engine, tmp_path))  # a second start: nothing to add


def test_key_rate_round_trip_and_update(tmp_path: Path) -> None:
    records = IdentityRecords(*_engine_and_sealer(f"sqlite:///{tmp_path / 'id.db'}", tmp_path))
    keys = ApiKeys(records, b"s" * 32)
    _, rec = keys.create("k", [], None, None, ["50/second", "1000/hour"])
    assert records.get_api_key(rec.id).rate == ("50/second", "1000/hour")
    before = records.generation()
    assert records.set_api_key_rate(rec.id, ("5/minute",)).rate == ("5/minute",)
    assert records.generation() > before  # every node re-reads the key on its next request
    assert records.set_api_key_rate(rec.id, ()).rate == ()
    assert records.set_api_key_rate("000000000000", ("1/second",)) is None

    async def principal_rate() -> tuple[str, ...]:
        key, _ = keys.create("k2", [], None, None, "7/second")
        return (await keys.authenticate(key)).rate

    assert asyncio.run(principal_rate()) == ("7/second",)


@pytest.mark.parametrize("bad", ["5/fortnight", ["1/second"] * 6, [3], "0/minute", {"a": 1}])
def test_bad_rates_are_refused(bad: object) -> None:
    with pytest.raises(InvalidRequest) as info:
        check_rates(bad)
    assert "rate" in info.value.message
