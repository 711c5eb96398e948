"""What S3 needs from the store: user metadata, listing after a cursor, multipart parts.

Run against the real SQLite store wrapped in the real sealing seam, and the
raw rows checked: parts and metadata reach the database only as ciphertext,
and an aborted or completed upload leaves no part behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from ramparts.aws.s3.listing import decode_token, list_page
from ramparts.crypto.envelope import Sealer
from ramparts.crypto.keyring import Keyring
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.crypto.seams import SealedStore
from ramparts.errors import DecryptionError
from ramparts.store.base import UploadRecord
from ramparts.store.sql import SQLStore, objects_t, parts_t, uploads_t


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[SealedStore, SQLStore]]:
    raw = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    sealer = Sealer(Keyring(raw.engine, resolve_master_key(tmp_path, create=True, environ={})))
    yield SealedStore(raw, sealer), raw
    raw.close()


def test_metadata_round_trips_sealed(stores: tuple[SealedStore, SQLStore]) -> None:
    store, raw = stores
    store.object_put("a", "b", "k", b"data", "text/plain", [], metadata={"owner": "ann-secret"})
    found = store.object_get("a", "b", "k")
    assert found is not None and found[0].metadata == {"owner": "ann-secret"}
    with raw.engine.connect() as conn:
        stored = conn.execute(select(objects_t.c.metadata)).scalar()
    assert stored and "ann-secret" not in stored
    # an overwrite without metadata drops it
    store.object_put("a", "b", "k", b"data", "text/plain", [])
    found = store.object_get("a", "b", "k")
    assert found is not None and found[0].metadata == {}


def test_metadata_bound_to_its_object(stores: tuple[SealedStore, SQLStore]) -> None:
    store, raw = stores
    store.object_put("a", "b", "k1", b"1", "text/plain", [], metadata={"m": "1"})
    store.object_put("a", "b", "k2", b"2", "text/plain", [], metadata={"m": "2"})
    with raw.engine.begin() as conn:
        sealed = conn.execute(select(objects_t.c.metadata).where(objects_t.c.key == "k1")).scalar()
        conn.execute(objects_t.update().where(objects_t.c.key == "k2").values(metadata=sealed))
    with pytest.raises(DecryptionError):
        store.object_get("a", "b", "k2")


def test_multipart_parts_sealed_and_cleaned(stores: tuple[SealedStore, SQLStore]) -> None:
    store, raw = stores
    up = UploadRecord("u1", "b", "big", "image/png", {"x": "y"}, time.time())
    store.upload_create("app", up)
    store.part_put("app", "u1", 2, b"second-part", size=11, etag="e2")
    store.part_put("app", "u1", 1, b"first", size=5, etag="e1")
    store.part_put("app", "u1", 1, b"first-again", size=11, etag="e1b")  # replaces
    assert store.upload_get("app", "u1") == up
    assert store.upload_get("other-app", "u1") is None
    assert [(p.number, p.size, p.etag) for p in store.part_list("app", "u1")] == [
        (1, 11, "e1b"),
        (2, 11, "e2"),
    ]
    assert store.part_get("app", "u1", 1) == b"first-again"
    assert [u.upload_id for u in store.upload_list("app", "b", 10)] == ["u1"]
    with raw.engine.connect() as conn:
        blobs = [bytes(r) for r in conn.execute(select(parts_t.c.data)).scalars()]
    assert blobs and not any(b"first" in b or b"second" in b for b in blobs)
    assert store.upload_delete("app", "u1") is True
    assert store.upload_delete("app", "u1") is False
    with raw.engine.connect() as conn:
        assert conn.execute(select(parts_t)).first() is None
        assert conn.execute(select(uploads_t)).first() is None


def _fill(store: SealedStore, keys: list[str]) -> None:
    for k in keys:
        store.object_put("a", "b", k, k.encode(), "text/plain", [])


def _fetch(store: SealedStore):  # type: ignore[no-untyped-def]
    return lambda prefix, after, limit: store.object_list("a", "b", prefix, limit, after=after)


def test_listing_pages_with_delimiter(stores: tuple[SealedStore, SQLStore]) -> None:
    store, _ = stores
    keys = ["a.txt", "d/1", "d/2", "d/3", "e/x/1", "e/y", "f.txt", "g/1"]
    _fill(store, keys)
    seen_keys: list[str] = []
    seen_prefixes: list[str] = []
    after = ""
    pages = 0
    while True:
        page = list_page(_fetch(store), "", "/", 2, after)
        pages += 1
        seen_keys += [r.key for r in page.contents]
        seen_prefixes += page.prefixes
        assert page.count <= 2
        if not page.truncated:
            break
        assert page.next_token is not None
        after = decode_token(page.next_token)
    assert seen_keys == ["a.txt", "f.txt"]
    assert seen_prefixes == ["d/", "e/", "g/"]
    assert pages == 3
    sub = list_page(_fetch(store), "e/", "/", 1000, "")
    assert [r.key for r in sub.contents] == ["e/y"] and sub.prefixes == ["e/x/"]
    flat = list_page(_fetch(store), "d/", "", 1000, "d/1")
    assert [r.key for r in flat.contents] == ["d/2", "d/3"] and not flat.truncated


def test_listing_more_than_a_batch(stores: tuple[SealedStore, SQLStore]) -> None:
    store, _ = stores
    keys = [f"k{i:05d}" for i in range(1203)] + [f"p/{i}" for i in range(5)]
    _fill(store, keys)
    page = list_page(_fetch(store), "", "/", 1000, "")
    assert page.truncated and page.count == 1000
    assert page.next_token is not None
    rest = list_page(_fetch(store), "", "/", 1000, decode_token(page.next_token))
    assert [r.key for r in page.contents + rest.contents] == keys[:1203]
    assert rest.prefixes == ["p/"] and not rest.truncated


def test_bad_token_is_invalid_argument() -> None:
    from ramparts.aws.s3.errors import S3Error

    for token in ("!!!", "bm90IGpzb24=", ""):
        with pytest.raises(S3Error) as err:
            decode_token(token)
        assert err.value.code == "InvalidArgument"
