"""A node's copy of the run-time block list over a real SQLite store, in-process."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from ramparts.errors import BackendError
from ramparts.gateway.blocklist import BlockList
from ramparts.gateway.waf_net import loopback_or_self
from ramparts.store.base import BlockRecord
from ramparts.store.sql import SQLStore


def rec(network: str, expires_at: float | None = None) -> BlockRecord:
    return BlockRecord(network, time.time(), expires_at, "", "admin", "127.0.0.1", "n1")


def test_a_failed_reload_keeps_the_last_list_and_counts_the_error(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    errors: list[str] = []

    async def run() -> None:
        blocks = BlockList(store, node_id="t", on_error=errors.append, poll=0.02)
        await blocks.start()
        try:
            await blocks.add(rec("192.0.2.0/24"))
            assert blocks.match("192.0.2.9") is not None
            with store.engine.begin() as conn:
                conn.execute(text("ALTER TABLE meta RENAME TO meta_gone"))
            deadline = time.monotonic() + 10
            while not errors and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            assert errors and set(errors) == {"waf_blocks"}
            assert blocks.match("192.0.2.9") is not None, "a store failure lifted the blocks"
        finally:
            await blocks.close()

    try:
        asyncio.run(run())
    finally:
        store.close()


def test_the_first_load_must_succeed(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    with store.engine.begin() as conn:
        conn.execute(text("DROP TABLE waf_blocks"))

    async def run() -> None:
        await BlockList(store, node_id="t").start()

    try:
        with pytest.raises(BackendError):
            asyncio.run(run())
    finally:
        store.close()


@pytest.mark.parametrize(
    ("network", "admin", "why"),
    [
        ("0.0.0.0/0", "127.0.0.1", "every IPv4"),
        ("::/0", "127.0.0.1", "every IPv6"),
        ("127.0.0.0/8", "10.1.1.1", "loopback"),
        ("127.5.0.0/16", "10.1.1.1", "loopback"),
        ("::1/128", "10.1.1.1", "loopback"),
        ("10.0.0.0/8", "10.1.1.1", "10.1.1.1"),
        ("2001:db8::/32", "2001:db8::7", "2001:db8::7"),
        ("10.0.0.0/8", "::ffff:10.1.1.1", "10.1.1.1"),
        ("10.0.0.0/8", "192.0.2.1", None),
        ("2001:db8::/32", "10.1.1.1", None),
        # broader than a /8 (IPv4) or a /32 (IPv6): a large share of the internet
        ("128.0.0.0/1", "10.1.1.1", "broader than /8"),
        ("64.0.0.0/7", "10.1.1.1", "broader than /8"),
        ("2000::/3", "10.1.1.1", "broader than /32"),
        ("2001:d00::/24", "10.1.1.1", "broader than /32"),
        ("11.0.0.0/8", "10.1.1.1", None),
    ],
)
def test_what_needs_force(network: str, admin: str, why: str | None) -> None:
    found = loopback_or_self(ipaddress.ip_network(network), admin)
    if why is None:
        assert found is None
    else:
        assert found is not None and why in found
