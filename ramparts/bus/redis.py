"""Redis Streams bus: durable queues shared by every node of a cluster.

URL: ``redis://[user:password@]host:6379/0`` or ``rediss://`` (TLS), with an
optional ``?key_prefix=ramparts:q:`` (the default).  Chosen when the node runs
beside other nodes; the dispatcher sees only the ``Bus`` contract.

Layout, per queue ``Q`` (the ``{Q}`` hash tag keeps a queue's keys in one
Redis Cluster slot so the Lua scripts below may touch them together):

* ``<prefix>{Q}``               the stream; consumer group ``ramparts``;
  entry fields ``id``, ``body``, ``headers`` (JSON), ``attempt``, ``enqueued_at``
* ``<prefix>{Q}:delayed``       sorted set: message id -> due time
* ``<prefix>{Q}:delayed-data``  hash: message id -> the packed message
* ``<prefix>{Q}:ids``           set of the ids not yet acked (idempotent enqueue)

How the guarantees of ``ramparts.bus.base`` are met:

* Durability is the Redis server's: run it with ``appendonly yes`` (and
  ``appendfsync always`` for no loss on power failure); ``open`` warns if AOF is off.
* Leases: a delivery sits in the group's pending list; ``receive`` first takes
  over (``XAUTOCLAIM``) entries idle for longer than its ``lease``, so the
  messages of a crashed consumer are redelivered.  Each receive uses its own
  ``lease`` as the idle threshold, so a queue should be read with one lease.
* ``retry`` atomically acks and deletes the entry and parks the message with
  ``attempt + 1`` in the delayed set; ``receive`` moves due messages back into
  the stream with a Lua script, so two nodes never move one message twice.
  All server-side times come from the Redis clock (``TIME``), not the nodes'.
* ``attempt`` counts deliveries: the entry's ``attempt`` plus the redeliveries
  the pending list recorded (a lease that ran out counts, as on the other backends).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from ramparts.bus._common import (
    check_consumer,
    check_delay,
    check_outgoing,
    check_queue,
    check_receive_args,
    dump_headers,
    load_headers,
    redact_url,
)
from ramparts.bus.base import Bus, Message, OutgoingMessage
from ramparts.errors import BackendError, ConfigError, InvalidRequest

log = logging.getLogger(__name__)

GROUP = "ramparts"
DEFAULT_PREFIX = "ramparts:q:"
# A blocked XREADGROUP only wakes for new stream entries; this bounds how late
# a due delayed message or an expired lease of another consumer is noticed.
_MAX_BLOCK = 0.5
_PROMOTE_BATCH = 100

# KEYS: 4 per message (stream, delayed, delayed-data, ids).
# ARGV: n, then 5 per message (id, body, headers, delay seconds, enqueued_at).
_ENQUEUE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local stream, delayed, data, ids = KEYS[i*4+1], KEYS[i*4+2], KEYS[i*4+3], KEYS[i*4+4]
  local id, body, headers = ARGV[i*5+2], ARGV[i*5+3], ARGV[i*5+4]
  local delay, enq = tonumber(ARGV[i*5+5]), ARGV[i*5+6]
  if redis.call('SADD', ids, id) == 1 then
    if delay > 0 then
      redis.call('HSET', data, id, cmsgpack.pack(body, headers, 1, enq))
      redis.call('ZADD', delayed, now + delay, id)
    else
      redis.call('XADD', stream, '*', 'id', id, 'body', body, 'headers', headers,
                 'attempt', 1, 'enqueued_at', enq)
    end
  end
end
return n
"""

# KEYS: stream, delayed, delayed-data.  ARGV: batch size.
# Returns seconds until the next delayed message is due (as a string), or nil.
_PROMOTE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
for _, id in ipairs(due) do
  local packed = redis.call('HGET', KEYS[3], id)
  if packed then
    local body, headers, attempt, enq = cmsgpack.unpack(packed)
    redis.call('XADD', KEYS[1], '*', 'id', id, 'body', body, 'headers', headers,
               'attempt', attempt, 'enqueued_at', enq)
    redis.call('HDEL', KEYS[3], id)
  end
  redis.call('ZREM', KEYS[2], id)
end
local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if nxt[2] then return tostring(tonumber(nxt[2]) - now) end
return false
"""

# KEYS: stream.  ARGV: group, consumer, min idle ms, count.
# Returns {entry id, fields, times delivered} for each entry taken over.
_CLAIM = """
local res = redis.call('XAUTOCLAIM', KEYS[1], ARGV[1], ARGV[2], ARGV[3], '0-0',
                       'COUNT', ARGV[4])
local out = {}
for _, e in ipairs(res[2]) do
  if type(e) == 'table' and type(e[2]) == 'table' then
    local p = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
    local n = 1
    if p[1] then n = p[1][4] end
    out[#out + 1] = {e[1], e[2], n}
  end
end
return out
"""

# KEYS: stream.  ARGV: group, consumer, start id, count.
# Hands this consumer back its own pending entries (left by its previous process),
# counting a delivery each.  Returns {entries looked at, last id, {entry id, fields, n}}.
_RECLAIM_OWN = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], '+', tonumber(ARGV[4]), ARGV[2])
local out = {}
local last = ''
for _, e in ipairs(p) do
  last = e[1]
  local c = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, e[1])
  if c[1] and type(c[1][2]) == 'table' then
    local q = redis.call('XPENDING', KEYS[1], ARGV[1], e[1], e[1], 1)
    out[#out + 1] = {e[1], c[1][2], q[1][4]}
  end
end
return {#p, last, out}
"""

# KEYS: stream.  ARGV: group, consumer, entry id, times delivered (from the receipt).
# Restarts the entry's idle time if this delivery is still the live one (JUSTID: not
# counted as a delivery).  Returns 1 if extended, 0 if the delivery is stale.
_EXTEND = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not p[1] or p[1][2] ~= ARGV[2] or tostring(p[1][4]) ~= ARGV[4] then return 0 end
redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[3], 'JUSTID')
return 1
"""

# KEYS: stream, ids.  ARGV: group, entry id, message id.
_ACK = """
if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 1 then
  redis.call('XDEL', KEYS[1], ARGV[2])
  redis.call('SREM', KEYS[2], ARGV[3])
end
return 1
"""

# KEYS: stream, delayed, delayed-data.
# ARGV: group, consumer, entry id, times delivered (from the receipt), delay seconds.
# Returns 1 if applied, 0 if this delivery is stale (taken over by another receive).
_RETRY = """
local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)
if not p[1] or p[1][2] ~= ARGV[2] or tostring(p[1][4]) ~= ARGV[4] then return 0 end
local e = redis.call('XRANGE', KEYS[1], ARGV[3], ARGV[3])
redis.call('XACK', KEYS[1], ARGV[1], ARGV[3])
redis.call('XDEL', KEYS[1], ARGV[3])
if not e[1] then return 0 end
local f = {}
for i = 1, #e[1][2], 2 do f[e[1][2][i]] = e[1][2][i + 1] end
local attempt = tonumber(f['attempt']) + tonumber(ARGV[4])
local delay = tonumber(ARGV[5])
if delay > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  redis.call('HSET', KEYS[3], f['id'], cmsgpack.pack(f['body'], f['headers'], attempt,
                                                     f['enqueued_at']))
  redis.call('ZADD', KEYS[2], now + delay, f['id'])
else
  redis.call('XADD', KEYS[1], '*', 'id', f['id'], 'body', f['body'], 'headers', f['headers'],
             'attempt', attempt, 'enqueued_at', f['enqueued_at'])
end
return 1
"""

# KEYS: stream.  ARGV: group, consumer.  Forget our consumer only if it holds
# nothing: deleting a consumer drops its pending entries, which would lose them.
_FORGET_CONSUMER = """
local ok, p = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if ok and #p == 0 then
  redis.pcall('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return 1
"""


class RedisBus(Bus):
    """Durable queues on Redis Streams with one consumer group per queue."""

    schemes = ("redis", "rediss")
    reclaims_leases_at_start = True

    def __init__(self, url: str, *, consumer: str | None = None) -> None:
        self._url, self._prefix = _split_url(url)
        self._safe_url = redact_url(self._url)
        # The node's lasting identity when it has one, so that after a crash the
        # restarted node finds its own pending entries; else unique per process.
        self._consumer = check_consumer(consumer) or (
            f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        )
        # Queues whose leftover pending entries this process has taken back already,
        # and where the scan of the others stands.
        self._reclaimed: set[str] = set()
        self._reclaim_from: dict[str, str] = {}
        self._redis: aioredis.Redis | None = None
        self._scripts: dict[str, Any] = {}
        self._groups: set[str] = set()

    # -- lifecycle --------------------------------------------------------

    async def open(self) -> None:
        if self._redis is not None:
            return
        client = aioredis.Redis.from_url(self._url, protocol=2)
        try:
            async with self._translate("connect"):
                await client.ping()
        except BaseException:
            await client.aclose()
            raise
        self._redis = client
        self._scripts = {
            name: client.register_script(src)
            for name, src in (
                ("enqueue", _ENQUEUE),
                ("promote", _PROMOTE),
                ("claim", _CLAIM),
                ("ack", _ACK),
                ("retry", _RETRY),
                ("reclaim", _RECLAIM_OWN),
                ("extend", _EXTEND),
                ("forget", _FORGET_CONSUMER),
            )
        }
        await self._warn_if_not_durable()

    async def close(self) -> None:
        client, self._redis = self._redis, None
        if client is None:
            return
        try:
            for queue in self._groups:
                # Best effort: an unreachable server must not stop the node from closing.
                try:
                    await self._scripts["forget"](
                        keys=[self._key(queue)], args=[GROUP, self._consumer], client=client
                    )
                except RedisError:
                    break
        finally:
            self._groups.clear()
            self._reclaimed.clear()
            self._reclaim_from.clear()
            await client.aclose()

    # -- contract ---------------------------------------------------------

    async def enqueue_many(self, messages: list[OutgoingMessage]) -> list[str]:
        keys: list[str] = []
        args: list[Any] = [len(messages)]
        ids: list[str] = []
        now = time.time()
        for message in messages:
            message_id, body, headers, delay = check_outgoing(message)
            keys += self._keys(message.queue)
            args += [message_id, body, dump_headers(headers), repr(delay), repr(now)]
            ids.append(message_id)
        if ids:
            # One script: the batch is applied atomically and in order.
            async with self._translate("enqueue"):
                await self._scripts["enqueue"](keys=keys, args=args, client=self._client())
        return ids

    async def receive(
        self, queue: str, *, max_messages: int = 10, lease: float = 30.0, wait: float = 1.0
    ) -> list[Message]:
        check_queue(queue)
        check_receive_args(max_messages, lease, wait)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        await self._ensure_group(queue)
        while True:
            remaining = deadline - loop.time()
            async with self._translate("receive"):
                try:
                    got = await self._receive_once(queue, max_messages, lease, remaining)
                except ResponseError as exc:
                    if "NOGROUP" not in str(exc):
                        raise
                    # The stream was deleted under us (and its group with it).
                    await self._ensure_group(queue, force=True)
                    got = []
            if got or deadline - loop.time() <= 0:
                return got

    async def ack(self, message: Message) -> None:
        entry_id, _delivered = _receipt(message)
        stream, _delayed, _data, ids = self._keys(message.queue)
        async with self._translate("ack"):
            await self._scripts["ack"](
                keys=[stream, ids], args=[GROUP, entry_id, message.id], client=self._client()
            )

    async def extend(self, message: Message, *, lease: float) -> bool:
        entry_id, delivered = _receipt(message)
        check_receive_args(1, lease, 0.0)  # the claim threshold is the queue's receive lease
        async with self._translate("extend"):
            extended = await self._scripts["extend"](
                keys=[self._key(message.queue)],
                args=[GROUP, self._consumer, entry_id, delivered],
                client=self._client(),
            )
        return bool(extended)

    async def retry(self, message: Message, *, delay: float) -> None:
        entry_id, delivered = _receipt(message)
        stream, delayed, data, _ids = self._keys(message.queue)
        async with self._translate("retry"):
            applied = await self._scripts["retry"](
                keys=[stream, delayed, data],
                args=[GROUP, self._consumer, entry_id, delivered, repr(check_delay(delay))],
                client=self._client(),
            )
        if not applied:
            log.debug("redis bus: stale retry of %s ignored", message.id)

    async def depth(self, queue: str) -> int:
        check_queue(queue)
        stream, delayed, _data, _ids = self._keys(queue)
        async with self._translate("depth"):
            async with self._client().pipeline(transaction=True) as pipe:
                pipe.xlen(stream)
                pipe.zcard(delayed)
                length, parked = await pipe.execute()
        return int(length) + int(parked)

    # -- plumbing ---------------------------------------------------------

    def _client(self) -> aioredis.Redis:
        if self._redis is None:
            raise BackendError("redis bus is not open")
        return self._redis

    def _key(self, queue: str) -> str:
        return f"{self._prefix}{{{check_queue(queue)}}}"

    def _keys(self, queue: str) -> list[str]:
        stream = self._key(queue)
        return [stream, f"{stream}:delayed", f"{stream}:delayed-data", f"{stream}:ids"]

    @asynccontextmanager
    async def _translate(self, what: str) -> AsyncIterator[None]:
        try:
            yield
        except RedisError as exc:
            raise BackendError(
                f"redis bus {self._safe_url}: {what} failed: {type(exc).__name__}: {exc}"
            ) from exc
        except OSError as exc:
            raise BackendError(f"redis bus {self._safe_url}: {what} failed: {exc}") from exc

    async def _ensure_group(self, queue: str, *, force: bool = False) -> None:
        if queue in self._groups and not force:
            return
        async with self._translate("create consumer group"):
            try:
                await self._client().xgroup_create(self._key(queue), GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
        self._groups.add(queue)

    async def _receive_once(
        self, queue: str, max_messages: int, lease: float, remaining: float
    ) -> list[Message]:
        stream, delayed, data, _ids = self._keys(queue)
        if queue not in self._reclaimed:
            # First receives after open: what this consumer held when its previous
            # process died comes back now, not after the lease runs out.
            reclaimed = await self._reclaim(queue, stream, max_messages)
            if reclaimed:
                return reclaimed
        next_due = await self._scripts["promote"](
            keys=[stream, delayed, data], args=[_PROMOTE_BATCH], client=self._client()
        )
        got = await self._claim(queue, stream, lease, max_messages)
        if len(got) >= max_messages:
            return got
        block: float | None = None
        if not got and remaining > 0:
            block = min(remaining, _MAX_BLOCK)
            if next_due is not None:
                block = min(block, max(float(next_due), 0.0) + 0.001)
        return got + await self._read(queue, stream, max_messages - len(got), block)

    async def _reclaim(self, queue: str, stream: str, count: int) -> list[Message]:
        start = self._reclaim_from.get(queue, "-")
        seen, last, rows = await self._scripts["reclaim"](
            keys=[stream], args=[GROUP, self._consumer, start, count], client=self._client()
        )
        if int(seen) < count:
            self._reclaimed.add(queue)
            self._reclaim_from.pop(queue, None)
        else:
            # Exclusive start: what was just reclaimed is pending to us again.
            self._reclaim_from[queue] = f"({_decode(last)}"
        if rows:
            log.warning(
                "redis bus: took back %d lease(s) on %s left by this node's previous process",
                len(rows),
                queue,
            )
        return [
            _message(queue, _decode(entry_id), _fields(fields), int(delivered))
            for entry_id, fields, delivered in rows
        ]

    async def _claim(self, queue: str, stream: str, lease: float, count: int) -> list[Message]:
        rows = await self._scripts["claim"](
            keys=[stream],
            args=[GROUP, self._consumer, max(int(lease * 1000), 1), count],
            client=self._client(),
        )
        return [
            _message(queue, _decode(entry_id), _fields(fields), int(delivered))
            for entry_id, fields, delivered in rows
        ]

    async def _read(
        self, queue: str, stream: str, count: int, block: float | None
    ) -> list[Message]:
        # BLOCK 0 would mean "forever", so never send less than 1 ms.
        block_ms = max(int(block * 1000), 1) if block is not None else None
        response = await self._client().xreadgroup(
            GROUP, self._consumer, {stream: ">"}, count=count, block=block_ms
        )
        entries: list[Any] = []
        if isinstance(response, dict):  # RESP3
            for value in response.values():
                entries += value[0] if value and isinstance(value[0], list) else value
        else:
            for _key, stream_entries in response or []:
                entries += stream_entries
        return [
            _message(queue, _decode(entry_id), _fields(fields), 1)
            for entry_id, fields in entries
            if fields  # an entry deleted while pending comes back empty
        ]

    async def _warn_if_not_durable(self) -> None:
        try:
            config = await self._client().config_get("appendonly")
        except RedisError:
            return  # CONFIG is often disabled on managed Redis; nothing to check then
        if str(_decode(config.get("appendonly", b"yes"))).lower() == "no":
            log.warning(
                "redis bus %s: the server runs without AOF (appendonly no); an enqueued"
                " event can be lost if Redis restarts",
                self._safe_url,
            )


def _split_url(url: str) -> tuple[str, str]:
    """Take our own options out of the URL; the rest goes to redis-py."""
    parts = urlsplit(url)
    ours = {"key_prefix"}
    query = parse_qsl(parts.query, keep_blank_values=True)
    prefix = DEFAULT_PREFIX
    for key, value in query:
        if key == "key_prefix":
            prefix = value
    if not prefix or any(c in prefix for c in "{} \r\n"):
        raise ConfigError("redis bus key_prefix must be non-empty without braces or spaces")
    rest = urlencode([(k, v) for k, v in query if k not in ours])
    return urlunsplit(parts._replace(query=rest)), prefix


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(raw: Any) -> dict[str, bytes]:
    if isinstance(raw, dict):
        items = list(raw.items())
    else:  # a flat [k1, v1, k2, v2, ...] list from Lua
        items = list(zip(raw[::2], raw[1::2], strict=True))
    return {_decode(k): v if isinstance(v, bytes) else str(v).encode() for k, v in items}


def _message(queue: str, entry_id: str, fields: dict[str, bytes], delivered: int) -> Message:
    try:
        return Message(
            id=fields["id"].decode(),
            queue=queue,
            body=fields["body"],
            attempt=int(fields["attempt"]) + delivered - 1,
            headers=load_headers(fields.get("headers")),
            enqueued_at=float(fields.get("enqueued_at", b"0")),
            receipt=(entry_id, delivered),
        )
    except (KeyError, ValueError) as exc:
        raise BackendError(f"redis bus: malformed stream entry {entry_id}") from exc


def _receipt(message: Message) -> tuple[str, int]:
    receipt = message.receipt
    if not (
        isinstance(receipt, tuple)
        and len(receipt) == 2
        and isinstance(receipt[0], str)
        and isinstance(receipt[1], int)
    ):
        raise InvalidRequest("message was not received from a redis bus")
    return receipt
