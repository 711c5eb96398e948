"""The app-owned secret store and the migration of the old global one, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, inspect, text, update

from ramparts.crypto.envelope import Sealer
from ramparts.crypto.keyring import Keyring
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.errors import Conflict, DecryptionError, InvalidRequest, NotFound
from ramparts.secrets import legacy
from ramparts.secrets.store import (
    UNASSIGNED,
    SecretStore,
    secret_shares_t,
    secret_versions_t,
)
from ramparts.store.sql import SQLStore
from tests.postgres import state_url as temporary_state_url


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with temporary_state_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture()
def parts(state_url: str, tmp_path: Path) -> Iterator[tuple[SQLStore, Sealer]]:
    store = SQLStore(state_url)
    keyring = Keyring(store.engine, resolve_master_key(tmp_path, create=True, environ={}))
    yield store, Sealer(keyring)
    store.close()


@pytest.fixture()
def secrets(parts: tuple[SQLStore, Sealer]) -> SecretStore:
    return SecretStore(parts[0].engine, parts[1])


def test_same_name_in_two_apps_is_two_secrets(secrets: SecretStore) -> None:
    secrets.put("x", "db", "x-value")
    secrets.put("y", "db", "y-value")
    secrets.put("y", "only-y", "only-y-value")
    assert secrets.get("db", app="x").reveal() == "x-value"
    assert secrets.get("db", app="y").reveal() == "y-value"
    assert secrets.get("only-y", app="x") is None
    assert secrets.owned_elsewhere("only-y", app="x")
    assert not secrets.owned_elsewhere("nowhere", app="x")
    assert [(s["app"], s["name"]) for s in secrets.list()] == [
        ("x", "db"),
        ("y", "db"),
        ("y", "only-y"),
    ]
    assert [s["name"] for s in secrets.list("x")] == ["db"]
    secrets.delete("y", "db", force=True)
    assert secrets.get("db", app="x").reveal() == "x-value"  # the other app's is untouched


def test_a_version_copied_to_another_apps_row_does_not_open(secrets: SecretStore) -> None:
    secrets.put("x", "db", "x-value")
    secrets.put("y", "db", "y-value")
    with secrets._engine.begin() as conn:
        stolen = conn.execute(
            text("SELECT value FROM app_secret_versions WHERE app = 'y'")
        ).scalar_one()
        conn.execute(
            update(secret_versions_t).where(secret_versions_t.c.app == "x").values(value=stolen)
        )
    with pytest.raises(DecryptionError):
        secrets.get("db", app="x")


def test_share_unshare_and_its_rules(secrets: SecretStore) -> None:
    secrets.put("y", "api", "y-api")
    assert secrets.share("y", "api", "x")["shared_with"] == ["x"]
    assert secrets.share("y", "api", "x")["shared_with"] == ["x"]  # idempotent
    assert secrets.get("api", app="x").reveal() == "y-api"
    assert secrets.resolve("api", app="x") == "y"
    assert secrets.get("api", app="z") is None
    # a second owner of the same name cannot share it with x too
    secrets.put("w", "api", "w-api")
    with pytest.raises(Conflict):
        secrets.share("w", "api", "x")
    # the reader's own secret wins over a share
    secrets.put("x", "api", "x-api")
    assert secrets.get("api", app="x").reveal() == "x-api"
    secrets.delete("x", "api", force=True)
    # a deleted owner secret is readable by nobody
    secrets.delete("y", "api")
    assert secrets.get("api", app="x") is None
    secrets.restore("y", "api")
    assert secrets.unshare("y", "api", "x")["shared_with"] == []
    assert secrets.get("api", app="x") is None
    with pytest.raises(NotFound):
        secrets.unshare("y", "api", "x")
    with pytest.raises(InvalidRequest):
        secrets.share("y", "api", UNASSIGNED)
    secrets.share("y", "api", "x")
    secrets.delete("y", "api", force=True)  # a purge removes its shares too
    assert secrets.list("y") == [] and secrets.get("api", app="x") is None


def test_readers_view_is_what_resolve_decides_between(
    secrets: SecretStore, parts: tuple[SQLStore, Sealer]
) -> None:
    """The owners ``rotate_secret`` reaches (irp6) are the ones a function's read decides
    between: the reader's own active secret first, else the one active share; two shares
    under one name (``share`` refuses it, a race or a direct write does not) read none."""
    secrets.put("y", "api", "y-api")
    secrets.share("y", "api", "x")
    assert secrets.readers_view("api", app="x") == ["y"]
    secrets.put("x", "api", "x-api")  # put does not refuse a name shared with x
    assert secrets.readers_view("api", app="x") == ["x"]  # its own wins, as get reads
    assert secrets.get("api", app="x").reveal() == "x-api"
    secrets.delete("x", "api")  # its own pending deletion: the share is read again
    assert secrets.readers_view("api", app="x") == ["y"]
    assert secrets.get("api", app="x").reveal() == "y-api"
    secrets.put("w", "api", "w-api")
    with parts[0].engine.begin() as conn:
        conn.execute(
            insert(secret_shares_t).values(owner="w", name="api", reader="x", created_at=0.0)
        )
    assert secrets.readers_view("api", app="x") == ["w", "y"]
    assert secrets.resolve("api", app="x") is None and secrets.get("api", app="x") is None
    assert secrets.readers_view("api", app=UNASSIGNED) == []


def test_nothing_is_ever_stored_under_the_reserved_owner(secrets: SecretStore) -> None:
    with pytest.raises(InvalidRequest) as exc:
        secrets.put(UNASSIGNED, "s", "value")
    assert exc.value.code == "reserved_app"
    for bad in ("Bad", "a/b", "", "-x"):
        with pytest.raises(InvalidRequest):
            secrets.put(bad, "s", "value")
    assert secrets.list() == []


def write_old_store(engine: Any, sealer: Sealer, rows: dict[str, list[str]]) -> None:
    """Write the global tables as nodes kept them before secrets were per app."""
    legacy._legacy.create_all(engine)
    with engine.begin() as conn:
        for name, values in rows.items():
            for version, value in enumerate(values, start=1):
                conn.execute(
                    insert(legacy.legacy_versions_t).values(
                        name=name,
                        version=version,
                        value=sealer.seal(value.encode(), legacy.legacy_context(name, version)),
                        source="set",
                        created_at=1000.0 + version,
                    )
                )
            conn.execute(
                insert(legacy.legacy_names_t).values(
                    name=name, current=len(values), created_at=1000.0, updated_at=1009.0
                )
            )


def test_migration_of_the_global_store(parts: tuple[SQLStore, Sealer]) -> None:
    store, sealer = parts
    rows = {"one": ["one-v1"], "both": ["both-v1", "both-v2"], "orphan": ["orphan-v1"]}
    write_old_store(store.engine, sealer, rows)
    secrets = SecretStore(store.engine, sealer)
    assert legacy.pending(store.engine)
    refs = [("first", {"one", "both"}), ("second", {"both"}), ("third", set())]
    report = legacy.migrate(store.engine, sealer, refs)
    assert report == {
        "owners": {"both": "first", "one": "first", "orphan": UNASSIGNED},
        "shared": {"both": ["second"]},
        "unassigned": ["orphan"],
    }
    assert not legacy.pending(store.engine)
    assert not inspect(store.engine).has_table("secret_versions")
    assert legacy.migrate(store.engine, sealer, refs) is None  # once only
    assert secrets.get("both", app="first").reveal() == "both-v2"
    assert secrets.get("both", app="second").reveal() == "both-v2"
    assert [v["version"] for v in secrets.versions("first", "both")] == [1, 2]
    assert secrets.get("one", app="second") is None
    # unassigned: kept, readable by no app, until moved
    assert secrets.get("orphan", app="first") is None
    assert secrets.owned_elsewhere("orphan", app="first")
    assert secrets.value(UNASSIGNED, "orphan")[1].reveal() == "orphan-v1"
    moved = secrets.move(UNASSIGNED, "orphan", "third")
    assert moved == {"app": "third", "name": "orphan", "from": UNASSIGNED, "unshared": []}
    assert secrets.get("orphan", app="third").reveal() == "orphan-v1"
    assert secrets.list(UNASSIGNED) == []
    secrets.put("first", "orphan", "other")
    with pytest.raises(Conflict):
        secrets.move("first", "orphan", "third")
    # moving a shared secret drops its shares: the new owner decides again
    out = secrets.move("first", "both", "fourth")
    assert out["unshared"] == ["second"]
    assert secrets.get("both", app="second") is None
    assert secrets.get("both", app="fourth").reveal() == "both-v2"
    assert [v["version"] for v in secrets.versions("fourth", "both")] == [1, 2]


@pytest.mark.parametrize("check", ["secret", "api_key", "scope"])
def test_a_name_with_a_trailing_newline_is_refused(check: str) -> None:
    """``$`` also matches before a final newline: names are checked to their very end."""
    from ramparts.identity import apikeys
    from ramparts.secrets.store import check_name

    with pytest.raises(InvalidRequest):
        if check == "secret":
            check_name("db-password\n")
        elif check == "api_key":
            apikeys.check_name("ci key\n")
        else:
            apikeys.check_scopes(["read\n"])
