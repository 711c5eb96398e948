"""The two seams where user data is sealed on its way to disk: the state store and the bus.

``SealedStore`` wraps the node's ``Store``: KV values, object blobs, outbox
bodies, invocations' logs and error text and dead letters' error text are
sealed on write and opened on read, each bound to its resource identity.
``SealedBus`` wraps the node's ``Bus``: every message body is sealed on
enqueue (bound to its queue and message id) and opened on receive.  The
broker, the control API, the dispatcher and the relay keep handling
plaintext and never know; a backend, its files and its write-ahead logs
only ever see ciphertext.

A record that fails to open raises ``DecryptionError`` (reads) or, for a bus
message, is handed on with an empty body, which the dispatcher dead-letters
as malformed: it is never delivered as garbage.
"""

from __future__ import annotations

import abc
import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from ramparts.bus.base import Bus, Message, OutgoingMessage
from ramparts.crypto.envelope import Sealer, aad
from ramparts.errors import BackendError, DecryptionError
from ramparts.store.base import (
    KvChange,
    KvRef,
    MultipartStore,
    ObjectRecord,
    OutboxEntry,
    PartRecord,
    Store,
    UploadRecord,
)

log = logging.getLogger("ramparts.crypto")


def kv_context(app: str, table: str, key: str) -> bytes:
    return aad("kv", app, table, key)


def object_context(app: str, bucket: str, key: str) -> bytes:
    return aad("obj", app, bucket, key)


def object_metadata_context(app: str, bucket: str, key: str) -> bytes:
    return aad("objmeta", app, bucket, key)


def part_context(app: str, upload_id: str, number: int) -> bytes:
    return aad("part", app, upload_id, str(number))


def upload_context(app: str, upload_id: str) -> bytes:
    return aad("upload", app, upload_id)


# User metadata travels through the inner store as this one sealed entry.
_SEALED_META = "_sealed"


def message_context(queue: str, message_id: str) -> bytes:
    return aad("msg", queue, message_id)


def invocation_context(request_id: str, field: str) -> bytes:
    return aad("inv", request_id, field)


SEALED_INVOCATION_FIELDS = ("logs", "error_message")


def dead_letter_context(function: str, message_id: str) -> bytes:
    return aad("dlq", function, message_id)


class SealedStore(Store, MultipartStore):
    """A ``Store`` whose user data is sealed before it reaches the inner store.

    Object user metadata and multipart parts (S3) are sealed like object blobs.
    """

    def __init__(self, inner: Store, sealer: Sealer) -> None:
        self.inner = inner
        self.sealer = sealer

    def __getattr__(self, name: str) -> Any:
        # Methods other issues add to the store pass through untouched.
        return getattr(self.inner, name)

    # -- outbox ---------------------------------------------------------------------------------
    def _seal_events(self, events: list[OutboxEntry]) -> list[OutboxEntry]:
        return [
            replace(e, body=self.sealer.seal(e.body, message_context(e.queue, e.message_id)))
            for e in events
        ]

    def add_outbox(self, events: list[OutboxEntry]) -> None:
        self.inner.add_outbox(self._seal_events(events))

    def outbox_take(self, limit: int) -> list[OutboxEntry]:
        return [
            replace(e, body=self.sealer.open(e.body, message_context(e.queue, e.message_id)))
            for e in self.inner.outbox_take(limit)
        ]

    # -- KV -----------------------------------------------------------------------------------
    def _open_kv(self, app: str, table: str, key: str, value: bytes | None) -> bytes | None:
        return None if value is None else self.sealer.open(value, kv_context(app, table, key))

    def kv_put(
        self, app: str, table: str, key: str, value: bytes, events: list[OutboxEntry]
    ) -> bytes | None:
        sealed = self.sealer.seal(value, kv_context(app, table, key))
        old = self.inner.kv_put(app, table, key, sealed, self._seal_events(events))
        return self._open_kv(app, table, key, old)

    def kv_get(self, app: str, table: str, key: str) -> bytes | None:
        return self._open_kv(app, table, key, self.inner.kv_get(app, table, key))

    def kv_delete(self, app: str, table: str, key: str, events: list[OutboxEntry]) -> bytes | None:
        old = self.inner.kv_delete(app, table, key, self._seal_events(events))
        return self._open_kv(app, table, key, old)

    def kv_query(self, app: str, table: str, prefix: str, limit: int) -> list[tuple[str, bytes]]:
        return [
            (k, self.sealer.open(v, kv_context(app, table, k)))
            for k, v in self.inner.kv_query(app, table, prefix, limit)
        ]

    def kv_atomic(
        self,
        app: str,
        refs: list[KvRef],
        step: Callable[[dict[KvRef, bytes | None]], KvChange],
    ) -> None:
        def sealed_step(old: dict[KvRef, bytes | None]) -> KvChange:
            opened = {ref: self._open_kv(app, ref[0], ref[1], v) for ref, v in old.items()}
            change = step(opened)
            writes = {
                ref: None if v is None else self.sealer.seal(v, kv_context(app, ref[0], ref[1]))
                for ref, v in change.writes.items()
            }
            return KvChange(writes, self._seal_events(change.events))

        self.inner.kv_atomic(app, refs, sealed_step)

    # -- objects ------------------------------------------------------------------------------
    def object_put(
        self,
        app: str,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str,
        events: list[OutboxEntry],
        *,
        size: int | None = None,
        etag: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectRecord:
        sealed = self.sealer.seal(data, object_context(app, bucket, key))
        meta = self._seal_meta(metadata, object_metadata_context(app, bucket, key))
        rec = self.inner.object_put(
            app,
            bucket,
            key,
            sealed,
            content_type,
            self._seal_events(events),
            size=len(data) if size is None else size,
            etag=hashlib.md5(data, usedforsecurity=False).hexdigest() if etag is None else etag,
            **({"metadata": meta} if meta else {}),
        )
        return replace(rec, metadata=dict(metadata or {}))

    def _seal_meta(self, metadata: dict[str, str] | None, context: bytes) -> dict[str, str]:
        if not metadata:
            return {}
        return {_SEALED_META: self.sealer.seal_text(json.dumps(metadata), context)}

    def _open_meta(self, metadata: dict[str, str], context: bytes) -> dict[str, str]:
        if _SEALED_META not in metadata:
            return {}
        opened = json.loads(self.sealer.open_text(metadata[_SEALED_META], context))
        return {str(k): str(v) for k, v in opened.items()}

    def object_get(self, app: str, bucket: str, key: str) -> tuple[ObjectRecord, bytes] | None:
        found = self.inner.object_get(app, bucket, key)
        if found is None:
            return None
        rec = replace(
            found[0],
            metadata=self._open_meta(found[0].metadata, object_metadata_context(app, bucket, key)),
        )
        return rec, self.sealer.open(found[1], object_context(app, bucket, key))

    def object_list(
        self, app: str, bucket: str, prefix: str, limit: int, *, after: str = ""
    ) -> list[ObjectRecord]:
        # Listings carry no user metadata (S3's do not either): nothing to open.
        rows = self.inner.object_list(app, bucket, prefix, limit, after=after)
        return [replace(r, metadata={}) for r in rows]

    # -- multipart uploads ----------------------------------------------------------------------
    def _multipart(self) -> MultipartStore:
        if not isinstance(self.inner, MultipartStore):
            raise BackendError(
                "this state store keeps no multipart uploads", code="multipart_unsupported"
            )
        return self.inner

    def upload_create(self, app: str, upload: UploadRecord) -> None:
        meta = self._seal_meta(upload.metadata, upload_context(app, upload.upload_id))
        self._multipart().upload_create(app, replace(upload, metadata=meta))

    def _open_upload(self, app: str, upload: UploadRecord) -> UploadRecord:
        return replace(
            upload, metadata=self._open_meta(upload.metadata, upload_context(app, upload.upload_id))
        )

    def upload_get(self, app: str, upload_id: str) -> UploadRecord | None:
        found = self._multipart().upload_get(app, upload_id)
        return None if found is None else self._open_upload(app, found)

    def upload_list(self, app: str, bucket: str, limit: int) -> list[UploadRecord]:
        return [
            self._open_upload(app, u) for u in self._multipart().upload_list(app, bucket, limit)
        ]

    def upload_delete(self, app: str, upload_id: str) -> bool:
        return self._multipart().upload_delete(app, upload_id)

    def part_put(
        self, app: str, upload_id: str, number: int, data: bytes, *, size: int, etag: str
    ) -> None:
        sealed = self.sealer.seal(data, part_context(app, upload_id, number))
        self._multipart().part_put(app, upload_id, number, sealed, size=size, etag=etag)

    def part_get(self, app: str, upload_id: str, number: int) -> bytes | None:
        found = self._multipart().part_get(app, upload_id, number)
        return (
            None if found is None else self.sealer.open(found, part_context(app, upload_id, number))
        )

    def part_list(self, app: str, upload_id: str) -> list[PartRecord]:
        return self._multipart().part_list(app, upload_id)

    def object_delete(
        self, app: str, bucket: str, key: str, events: list[OutboxEntry]
    ) -> ObjectRecord | None:
        return self.inner.object_delete(app, bucket, key, self._seal_events(events))

    # -- invocation records ------------------------------------------------------------------------
    def add_invocations(self, rows: list[dict[str, Any]]) -> None:
        sealed = []
        for row in rows:
            if any(row.get(field) for field in SEALED_INVOCATION_FIELDS):
                row = dict(row)  # copy only rows that carry text to seal (the hot path has none)
                for field in SEALED_INVOCATION_FIELDS:
                    if row.get(field):
                        row[field] = self.sealer.seal_text(
                            row[field], invocation_context(row["request_id"], field)
                        )
            sealed.append(row)
        self.inner.add_invocations(sealed)

    def list_invocations(
        self,
        function: str,
        after: int,
        limit: int,
        *,
        request_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[dict[str, Any]]:
        rows = self.inner.list_invocations(
            function, after, limit, request_id=request_id, since=since, until=until
        )
        for row in rows:
            for field in SEALED_INVOCATION_FIELDS:
                if row.get(field):
                    try:
                        row[field] = self.sealer.open_text(
                            row[field], invocation_context(row["request_id"], field)
                        )
                    except DecryptionError:
                        # One bad record must not hide the others; its text is withheld.
                        log.error(
                            "invocation %s: its %s failed to decrypt", row["request_id"], field
                        )
                        row[field] = f"<{field} unavailable: decryption failed>"
        return rows

    def delete_invocations_before(self, cutoff: float, limit: int) -> int:
        return self.inner.delete_invocations_before(cutoff, limit)

    # -- dead letters ------------------------------------------------------------------------------
    # The error summary of a dead letter is the handler's exception text, which can quote
    # the event it failed on: sealed like an invocation's error_message.
    def add_dead_letter(self, row: dict[str, Any]) -> None:
        row = dict(row)
        if row.get("error"):
            row["error"] = self.sealer.seal_text(
                row["error"], dead_letter_context(row["function"], row["message_id"])
            )
        self.inner.add_dead_letter(row)

    def list_dead_letters(self, function: str | None, limit: int) -> list[dict[str, Any]]:
        rows = self.inner.list_dead_letters(function, limit)
        for row in rows:
            if row.get("error"):
                try:
                    row["error"] = self.sealer.open_text(
                        row["error"], dead_letter_context(row["function"], row["message_id"])
                    )
                except DecryptionError:
                    log.error("dead letter %s: its error failed to decrypt", row["message_id"])
                    row["error"] = "<error unavailable: decryption failed>"
        return rows


def _delegate(name: str) -> Any:
    def method(self: SealedStore, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.inner, name)(*args, **kwargs)

    method.__name__ = name
    return method


# Everything else in the contract (registry, audit, schedules...) holds no user
# data and passes straight through, including methods other issues add later.
for _name in sorted(Store.__abstractmethods__):
    if _name not in SealedStore.__dict__:
        setattr(SealedStore, _name, _delegate(_name))
abc.update_abstractmethods(SealedStore)


class SealedBus(Bus):
    """A ``Bus`` whose message bodies are sealed, bound to their queue and id."""

    def __init__(self, inner: Bus, sealer: Sealer) -> None:
        self.inner = inner
        self.sealer = sealer
        self.schemes = inner.schemes

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def open(self) -> None:
        await self.inner.open()

    async def close(self) -> None:
        await self.inner.close()

    async def enqueue_many(self, messages: list[OutgoingMessage]) -> list[str]:
        sealed = []
        for m in messages:
            mid = m.id if m.id is not None else uuid.uuid4().hex
            sealed.append(
                replace(m, id=mid, body=self.sealer.seal(m.body, message_context(m.queue, mid)))
            )
        return await self.inner.enqueue_many(sealed)

    async def receive(
        self, queue: str, *, max_messages: int = 10, lease: float = 30.0, wait: float = 1.0
    ) -> list[Message]:
        out = []
        for m in await self.inner.receive(queue, max_messages=max_messages, lease=lease, wait=wait):
            try:
                body = self.sealer.open(m.body, message_context(m.queue, m.id))
            except DecryptionError as exc:
                log.error("message %s on %s failed to decrypt (%s)", m.id, m.queue, exc.code)
                body = b""
            out.append(replace(m, body=body))
        return out

    async def ack(self, message: Message) -> None:
        await self.inner.ack(message)

    async def ack_many(self, messages: list[Message]) -> None:
        await self.inner.ack_many(messages)

    async def retry(self, message: Message, *, delay: float) -> None:
        await self.inner.retry(message, delay=delay)

    async def extend(self, message: Message, *, lease: float) -> bool:
        return await self.inner.extend(message, lease=lease)

    @property
    def reclaims_leases_at_start(self) -> bool:  # type: ignore[override]
        return self.inner.reclaims_leases_at_start

    async def depth(self, queue: str) -> int:
        return await self.inner.depth(queue)
