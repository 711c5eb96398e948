"""The WAF's run-time block list: networks an operator blocked with ``ramparts waf block``.

Where it sits: the list lives in the state store (``BlockListStore``), so every
node of a cluster shares it; each node keeps it in memory as a
``NetworkSet`` that the gateway consults for every request, before routing
(``ramparts.gateway.waf_net.NetworkGuard``).

A node learns of a change made on any node by polling the list's own
generation counter every ``POLL_SECONDS`` (a one-row read) and reloading the
list when it moved; a change made through this node applies at once.  An
entry's expiry is checked at lookup, so an expired block stops applying at
its second on every node, reloaded or not; the expired row is then deleted
from the store by whichever node gets there first (at its next poll), and
that deletion is audited.

What it does not guarantee: if the store cannot be read, a node keeps
applying the last list it loaded (logged, and counted as a backend error):
blocks made meanwhile on another node wait for the store to come back.  The
first load at start must succeed, or the node does not start.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from ramparts.gateway.netset import NetworkSet, address_key, parse_network
from ramparts.store.base import BlockListStore, BlockRecord

log = logging.getLogger("ramparts.gateway.blocklist")

POLL_SECONDS = 0.25
"""How often a node reads the list's generation counter (a change applies within this)."""

PRUNE_RETRY_SECONDS = 30.0
"""How long a node waits before pruning again when another node's prune raced it."""

MAX_BLOCKS = 100_000
"""Entries in force at once; more are refused (``too_many_blocks``)."""


class BlockList:
    """This node's copy of the run-time block list, and the operations that change it."""

    def __init__(
        self,
        store: BlockListStore,
        *,
        node_id: str,
        audit: Any = None,
        on_error: Callable[[str], None] | None = None,
        poll: float = POLL_SECONDS,
    ) -> None:
        self._store = store
        self._node_id = node_id
        self._audit = audit
        self._on_error = on_error
        self._poll = poll
        self._set: NetworkSet[BlockRecord] = NetworkSet()
        self._generation: int | None = None
        self._next_expiry: float | None = None  # the soonest expiry in the loaded list
        self._task: asyncio.Task[None] | None = None
        self._reload_lock = asyncio.Lock()

    # -- the hot path ----------------------------------------------------------------------------
    def match(self, source_ip: str, now: float | None = None) -> BlockRecord | None:
        """The block in force that holds ``source_ip`` (most specific), or None."""
        if not self._set:
            return None
        key = address_key(source_ip)
        if key is None:
            return None
        found = self._set.lookup_key(*key)
        if not found:
            return None
        now = time.time() if now is None else now
        for record in found:
            if record.expires_at is None or record.expires_at > now:
                return record
        return None

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        """Load the list (an error here stops the node's start), then follow changes."""
        await self.reload(force=True)
        self._task = asyncio.get_running_loop().create_task(self._follow())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def reload(self, force: bool = False) -> None:
        """Read the list again if its generation moved (or ``force``)."""
        async with self._reload_lock:
            generation = await asyncio.to_thread(self._store.block_generation)
            if generation == self._generation and not force:
                return
            records = await asyncio.to_thread(self._store.block_list)
            entries = []
            for record in records:
                try:
                    entries.append((parse_network(record.network), record))
                except ValueError:  # written by no code of ours: skip it, loudly
                    log.error("ignoring a malformed block list entry %r", record.network[:80])
            self._set = NetworkSet(entries)
            self._generation = generation
            expiries = [r.expires_at for _, r in entries if r.expires_at is not None]
            self._next_expiry = min(expiries) if expiries else None

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            try:
                await self.reload()
                if self._next_expiry is not None and self._next_expiry <= time.time():
                    await self._prune()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reloading the WAF block list failed; the last one loaded applies")
                if self._on_error is not None:
                    self._on_error("waf_blocks")

    async def _prune(self) -> None:
        gone = await asyncio.to_thread(self._store.block_prune, time.time())
        if not gone:  # another node deleted them first; its change reloads the list here
            self._next_expiry = time.time() + PRUNE_RETRY_SECONDS
            return
        for record in gone:
            self._emit(
                "waf.unblock",
                principal=f"node:{self._node_id}",
                network=record.network,
                reason="expired",
                expired_at=record.expires_at,
            )
        await self.reload()

    # -- changes (the control API) ---------------------------------------------------------------
    def active(self, now: float | None = None) -> list[BlockRecord]:
        """The entries in force, as this node applies them, oldest first."""
        now = time.time() if now is None else now
        return sorted(
            (r for r in self._set.values() if r.expires_at is None or r.expires_at > now),
            key=lambda r: (r.created_at, r.network),
        )

    async def count(self) -> int:
        return await asyncio.to_thread(self._store.block_count, time.time())

    async def add(self, record: BlockRecord) -> bool:
        """Store ``record`` (replacing one for the same network) and apply it here at once."""
        replaced = await asyncio.to_thread(self._store.block_put, record)
        await self.reload(force=True)
        return replaced

    async def remove(self, network: str) -> BlockRecord | None:
        """Delete the entry for ``network``; the removed one if it was in force."""
        removed = await asyncio.to_thread(self._store.block_delete, network, time.time())
        await self.reload(force=True)
        return removed

    def _emit(self, kind: str, **fields: Any) -> None:
        if self._audit is None:
            return
        principal = fields.pop("principal")
        network = fields.pop("network")
        self._audit.emit(
            kind,
            decision="allow",
            principal=principal,
            action="waf:Unblock" if kind == "waf.unblock" else "waf:Block",
            resource=f"network:{network}",
            **fields,
        )
