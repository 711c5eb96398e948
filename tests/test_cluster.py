"""Two stateless nodes sharing PostgreSQL state and a Redis or NATS bus.

Runs against the services this machine starts; skipped with a reason where
they are absent.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app
from tests.postgres import reachable as _reachable
from tests.postgres import temporary_database


@pytest.fixture
def pg_url() -> Iterator[str]:
    with temporary_database() as url:
        yield url


# Nodes sharing a store must share the master key that wraps its KEKs.
SHARED_MASTER_KEY = {"RAMPARTS_MASTER_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode()}


def _bus_url(kind: str) -> str:
    if kind == "redis":
        if not _reachable(6379):
            pytest.skip("Redis not reachable on 127.0.0.1:6379")
        return f"redis://127.0.0.1:6379/0?key_prefix=rt{uuid.uuid4().hex[:8]}:"
    if not _reachable(4222):
        pytest.skip("NATS not reachable on 127.0.0.1:4222")
    suffix = uuid.uuid4().hex[:8]
    return f"nats://127.0.0.1:4222?stream=RT{suffix}&subjects=rt{suffix}.q"


MANIFEST = """
app: clu
functions:
  hello:
    handler: h.py:hello
    triggers:
      - http: {method: GET, path: /hello, auth: none}
  worker:
    handler: h.py:work
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:done/*"]}
    triggers:
      - topic: {name: jobs}
"""

HANDLERS = """
import json, os

def hello(event, context):
    return {"node_pid_parent": os.getppid()}

def work(event, context):
    for r in event["Records"]:
        context.kv.put("done", json.loads(r["body"])["id"], {"ok": True})
"""


@pytest.mark.postgres
@pytest.mark.parametrize("bus", ["redis", "nats"])
def test_two_nodes_share_state_and_bus(pg_url: str, bus: str, tmp_path: Path) -> None:
    bus_url = _bus_url(bus)
    env = {"RAMPARTS_STATE_URL": pg_url, "RAMPARTS_BUS_URL": bus_url, **SHARED_MASTER_KEY}
    a = RunningNode(tmp_path / "a", env).start()
    b = RunningNode(tmp_path / "b", env).start()
    try:
        a.deploy_ok(make_app(tmp_path / "app", MANIFEST, {"h.py": HANDLERS}))
        # b learns about the deploy from the shared store, without being told
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and b.gateway.get("/hello").status_code != 200:
            time.sleep(0.2)
        assert b.gateway.get("/hello").status_code == 200
        assert b.control.get("/v1/status").json()["state"] == "postgresql"
        ids = [f"j{i}" for i in range(20)]
        for i, job in enumerate(ids):
            node = a if i % 2 else b
            r = node.control.post("/v1/topics/jobs/publish", json={"message": {"id": job}})
            assert r.status_code == 200, r.text
        deadline = time.monotonic() + 20
        done: list[str] = []
        while time.monotonic() < deadline:
            done = [i["key"] for i in a.control.get("/v1/kv/done", params={"limit": 100})
                    .json()["items"]]
            if len(done) == len(ids):
                break
            time.sleep(0.2)
        assert sorted(done) == sorted(ids)
        # rollback on one node is seen by the other
        a.deploy_ok(make_app(tmp_path / "app", MANIFEST, {"h.py": HANDLERS + "\n# v2\n"}))
        assert b.control.post("/v1/functions/hello/rollback", json={}).status_code == 200
        versions = a.control.get("/v1/functions/hello/versions").json()["versions"]
        assert versions[0]["aliases"] == ["live"]
    finally:
        a.close()
        b.close()
        asyncio.run(_drop_bus(bus_url))


async def _drop_bus(url: str) -> None:
    """Remove what the test created on the shared Redis or NATS server."""
    from urllib.parse import parse_qs, urlsplit

    query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    if url.startswith("redis"):
        import redis.asyncio as aioredis

        client = aioredis.Redis(host="127.0.0.1", port=6379)
        async for key in client.scan_iter(match=query["key_prefix"] + "*"):
            await client.delete(key)
        await client.aclose()
    else:
        import nats

        nc = await nats.connect("nats://127.0.0.1:4222")
        await nc.jetstream().delete_stream(query["stream"])
        await nc.close()


@pytest.mark.postgres
def test_schedule_tick_fires_once_per_cluster(pg_url: str, tmp_path: Path) -> None:
    """Two schedulers (as on two nodes) race for the same ticks; each tick fires once."""
    from ramparts.bus import open_bus
    from ramparts.events.scheduler import Scheduler
    from ramparts.events.subscriptions import Subscription, Subscriptions
    from ramparts.manifest import ScheduleTrigger
    from ramparts.store import open_store

    sub = Subscription("cron-fn", "clu", 0, "schedule", ScheduleTrigger(cron="* * * * *"))

    class OneSchedule(Subscriptions):
        def __init__(self) -> None:
            super().__init__([])
            self.schedules = [sub]

    async def race() -> int:
        bus = open_bus(f"embedded://{tmp_path / 'bus.db'}")
        await bus.open()
        stores = [open_store(pg_url), open_store(pg_url)]
        subs = OneSchedule()
        schedulers = [Scheduler(store=s, bus=bus, subscriptions=lambda: subs) for s in stores]
        start = 1_800_000_000.0  # a minute boundary
        for sch in schedulers:
            await sch.tick(start)  # learn the next fire time
        fired = 0
        for minute in range(1, 6):
            results = await asyncio.gather(*(sch.tick(start + 60 * minute + 1)
                                             for sch in schedulers))
            fired += sum(results)
        depth = await bus.depth("fn.cron-fn")
        await bus.close()
        for s in stores:
            s.close()
        assert depth == fired
        return fired

    assert asyncio.run(race()) == 5


KEY_MANIFEST = """
app: clu
functions:
  hello:
    handler: h.py:hello
    triggers:
      - http: {method: GET, path: /private, auth: api_key}
"""


@pytest.mark.postgres
def test_key_revoked_on_one_node_is_refused_by_the_next_request_on_another(
    pg_url: str, tmp_path: Path
) -> None:
    """`keys revoke` takes effect on the next request on every node sharing the store."""
    env = {"RAMPARTS_STATE_URL": pg_url, **SHARED_MASTER_KEY}
    a = RunningNode(tmp_path / "a", env).start()
    b = RunningNode(tmp_path / "b", env).start()
    try:
        a.deploy_ok(make_app(tmp_path / "app", KEY_MANIFEST, {"h.py": HANDLERS}))
        r = a.control.post("/v1/keys", json={"name": "clu", "scopes": []})
        assert r.status_code == 200, r.text
        key, key_id = r.json()["key"], r.json()["id"]
        headers = {"x-api-key": key}
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and b.gateway.get("/private", headers=headers
                                                            ).status_code != 200:
            time.sleep(0.2)
        for _ in range(3):  # warm b's caches with the valid key
            assert b.gateway.get("/private", headers=headers).status_code == 200
        assert a.control.post(f"/v1/keys/{key_id}/revoke", json={}).status_code == 200
        r = b.gateway.get("/private", headers=headers)  # the very next request on b
        assert r.status_code == 401 and r.json()["code"] == "invalid_api_key"
    finally:
        a.close()
        b.close()
