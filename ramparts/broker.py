"""The host-side resource broker: every ``context.*`` call of a handler lands here.

Workers hold no handles to storage.  A handler's ``context.kv.put(...)``
crosses the worker's socket to the supervisor, which calls this broker.  For
each call the broker (1) validates the arguments, (2) asks the function's
role whether the action on that resource is allowed, (3) records the
decision as an audit event, allow or deny, and only then (4) performs the
action.  A failing check denies: nothing is performed unless a decision of
"Allowed" was reached.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import orjson

from ramparts.bus.base import Bus, OutgoingMessage
from ramparts.errors import AccessDenied, DeployError, InvalidRequest, NotFound, RampartsError
from ramparts.events.subscriptions import Subscriptions, encode_body, queue_for
from ramparts.manifest import RESOURCE_NAME_RE, FunctionConfig
from ramparts.observe.anomaly import AnomalyBaseline
from ramparts.observe.audit import AuditLog
from ramparts.observe.tracing import DISABLED, TRACEPARENT, Tracing
from ramparts.policy.context import request_context
from ramparts.policy.evaluator import RolePolicy, resource_arn
from ramparts.runtime.nesting import check_nesting
from ramparts.runtime.types import FunctionSpec
from ramparts.secrets import SecretSource
from ramparts.store import Store
from ramparts.store.base import KvChange, KvRef, OutboxEntry

MAX_ITEM_BYTES = 400 * 1024
MAX_OBJECT_BYTES = 10 * 1024 * 1024  # context.objects and the control API (IPC frames)
# The object store's own limit: what S3 PutObject and multipart uploads may store.
MAX_STORED_OBJECT_BYTES = 64 * 1024 * 1024
MAX_MESSAGE_BYTES = 256 * 1024
MAX_KEY_CHARS = 1024
# 1 to 1024 characters, none of them a control character (C0, DEL, C1), a line or
# paragraph separator or a bidirectional override: a key is printed in listings and
# logs, where those would break lines or make one key read as another.
KEY_RE = re.compile(
    r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]{1,1024}$"
)
_CONTENT_TYPE = re.compile(r"^[\x21-\x7e][\x20-\x7e]{0,254}$")  # sent back as a header

Invoker = Callable[[str, Any, str], Awaitable[Any]]


def _name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not RESOURCE_NAME_RE.match(value):
        raise InvalidRequest(f"invalid {what} name", code="invalid_argument")
    return value


def _key(value: Any) -> str:
    if not isinstance(value, str) or not KEY_RE.match(value):
        raise InvalidRequest(
            "keys are 1 to 1024 characters without control characters", code="invalid_argument"
        )
    return value


def decode_bytes(value: Any) -> bytes:
    if isinstance(value, dict) and isinstance(value.get("$b64"), str):
        try:
            return base64.b64decode(value["$b64"], validate=True)
        except ValueError as exc:
            raise InvalidRequest("invalid binary data", code="invalid_argument") from exc
    raise InvalidRequest("data must be bytes", code="invalid_argument")


def encode_bytes(data: bytes) -> dict[str, str]:
    return {"$b64": base64.b64encode(data).decode()}


class Broker:
    """Implements ``HostCalls`` for the supervisor."""

    def __init__(
        self,
        *,
        store: Store,
        bus: Bus,
        audit: AuditLog,
        subscriptions: Callable[[], Subscriptions],
        config_for: Callable[[FunctionSpec], FunctionConfig],
        secrets: SecretSource,
        invoker: Invoker,
        relay: Callable[[], None],
        baseline: AnomalyBaseline | None = None,
        tracing: Tracing = DISABLED,
    ) -> None:
        self._store = store
        self._tracing = tracing
        self._bus = bus
        self._audit = audit
        self._subs = subscriptions
        self._config_for = config_for
        self._secrets = secrets
        self._invoker = invoker
        self._relay = relay
        self._baseline = baseline
        self._policies: dict[tuple[str, str], RolePolicy] = {}
        self._requests: dict[str, dict[str, Any]] = {}
        self._ops: dict[str, Callable[[FunctionSpec, str, dict[str, Any]], Awaitable[Any]]] = {
            "kv.put": self._kv_put,
            "kv.get": self._kv_get,
            "kv.delete": self._kv_delete,
            "kv.query": self._kv_query,
            "objects.put": self._obj_put,
            "objects.get": self._obj_get,
            "objects.delete": self._obj_delete,
            "publish": self._publish,
            "secrets.get": self._secret_get,
            "invoke": self._invoke,
        }

    async def __call__(
        self, spec: FunctionSpec, request_id: str, op: str, args: dict[str, Any]
    ) -> Any:
        handler = self._ops.get(op)
        if handler is None or not isinstance(args, dict):
            raise InvalidRequest(f"unknown operation {op!r}", code="invalid_operation")
        if not self._tracing.enabled:
            return await handler(spec, request_id, args)
        # A child of the invocation: this runs on the supervisor's IPC task, not in its
        # context.  The span names the operation only; arguments and values stay out.
        with self._tracing.span(
            f"broker {op}",
            parent=self._tracing.bound(request_id),
            attributes={"ramparts.operation": op, "faas.name": spec.function},
        ):
            return await handler(spec, request_id, args)

    # -- the check every operation goes through --------------------------------------------
    def invalidate(self) -> None:
        """Drop every compiled role and its decision cache (the registry changed)."""
        self._policies = {}

    @contextmanager
    def invocation(self, request_id: str, trigger: str, event: Any) -> Iterator[None]:
        """Make what the host knows about an invocation's caller available to its checks.

        Only what the gateway itself established is used (the HTTP event it
        built: source IP, authenticated principal and scopes); events from
        topics, schedules or other functions carry no caller, so their keys
        stay absent and conditions on them fail closed.
        """
        self._requests[request_id] = request_context(trigger, event)
        try:
            yield
        finally:
            self._requests.pop(request_id, None)

    def _policy_for(self, spec: FunctionSpec) -> RolePolicy:
        key = (spec.function, spec.version)
        policy = self._policies.get(key)
        if policy is None:
            policy = self._policies[key] = RolePolicy(spec.app, self._config_for(spec))
        return policy

    def condition_context(self, spec: FunctionSpec, request_id: str) -> dict[str, Any]:
        """The request context a role's conditions and policy variables read (lower-cased)."""
        now = time.time()
        ctx: dict[str, Any] = {
            "ramparts:app": spec.app,
            "ramparts:function": spec.function,
            "ramparts:version": spec.version,
            "ramparts:requestid": request_id,
            "ramparts:currenttime": _iso(now),
            "ramparts:epochtime": int(now),
            "aws:currenttime": _iso(now),
            "aws:epochtime": int(now),
        }
        ctx.update(self._requests.get(request_id) or {})
        return ctx

    # -- what ramparts.aws builds on (the same checks, under AWS wire protocols) ---------------
    @property
    def store(self) -> Store:
        return self._store

    @property
    def secrets(self) -> SecretSource:
        return self._secrets

    @property
    def audit(self) -> AuditLog:
        return self._audit

    def object_buckets(self, spec: FunctionSpec) -> tuple[set[str], list[dict[str, Any]]]:
        """What the app declares about buckets: its object triggers' buckets, and the
        caller's role documents (IAM JSON) for the bucket names they spell out (S3)."""
        buckets = {bucket for (app, bucket) in self._subs().objects if app == spec.app}
        return buckets, list(self._policy_for(spec).json_documents)

    def authorize(self, spec: FunctionSpec, request_id: str, action: str, resource: str) -> None:
        """Decide and audit ``action`` on ``resource`` for ``spec``; raise ``AccessDenied``."""
        self._authorize(spec, request_id, action, resource)

    async def secret_value(self, spec: FunctionSpec, request_id: str, name: str) -> str:
        """An authorized read of one of the caller's secrets (``secrets:GetSecretValue``)."""
        return await self._secret_get(spec, request_id, {"name": name})

    async def invoke_function(
        self, spec: FunctionSpec, request_id: str, target: str, payload: Any
    ) -> Any:
        """An authorized synchronous invocation (``functions:Invoke``), as ``context.invoke``."""
        return await self._invoke(spec, request_id, {"function": target, "payload": payload})

    def _authorize(
        self,
        spec: FunctionSpec,
        request_id: str,
        action: str,
        resource: str,
        *,
        policy: RolePolicy | None = None,
    ) -> None:
        principal = f"function:{spec.function}@{spec.version[:12]}"
        try:
            policy = policy or self._policy_for(spec)
            decision = policy.decide(action, resource, self.condition_context(spec, request_id))
        except Exception:  # fail closed: a check that cannot run is a denial
            self._audit.emit(
                "resource.access",
                decision="deny",
                principal=principal,
                action=action,
                resource=resource,
                request_id=request_id,
                reason="evaluation_failed",
            )
            raise AccessDenied(action, resource) from None
        if self._baseline is not None:
            self._baseline.observe(spec, "action", action, request_id)
            self._baseline.observe(spec, "resource", resource, request_id)
        self._audit.emit(
            "resource.access",
            decision="allow" if decision.allowed else "deny",
            principal=principal,
            action=action,
            resource=resource,
            request_id=request_id,
            reason=decision.outcome,
            statement=decision.statement,
        )
        if not decision.allowed:
            raise AccessDenied(action, resource)

    def _traced(self, events: list[OutboxEntry]) -> list[OutboxEntry]:
        """Change events carry the current trace to their triggers (tracing on).

        Called where the events are made, also on a worker thread: ``asyncio.to_thread``
        runs it in a copy of the caller's context, so the current span is the caller's.
        """
        if self._tracing.enabled and events:
            parent = self._tracing.traceparent()
            if parent:
                for entry in events:
                    entry.headers[TRACEPARENT] = parent
        return events

    # -- kv ------------------------------------------------------------------------------------
    async def _kv_put(self, spec: FunctionSpec, rid: str, a: dict[str, Any]) -> None:
        table, key, item = _name(a.get("table"), "table"), _key(a.get("key")), a.get("item")
        self._authorize(spec, rid, "kv:PutItem", resource_arn(spec.app, "kv", f"{table}/{key}"))
        await self.kv_write(spec.app, table, key, item)

    async def kv_write(self, app: str, table: str, key: str, item: Any) -> None:
        """Write an item and queue its change record in the same transaction."""
        if not isinstance(item, dict):
            raise InvalidRequest("an item must be a JSON object", code="invalid_argument")
        check_nesting(item, "the item")
        try:
            value = orjson.dumps(item)
        except (TypeError, orjson.JSONEncodeError) as exc:
            raise InvalidRequest(f"the item is not JSON: {exc}", code="invalid_argument") from exc
        if len(value) > MAX_ITEM_BYTES:
            raise InvalidRequest("item larger than 400 KiB", code="item_too_large")
        subs = self._subs()

        def write() -> None:
            old_raw = self._store.kv_get(app, table, key)
            old = orjson.loads(old_raw) if old_raw is not None else None
            events = self._traced(subs.table_events(app, table, key, old, item))
            self._store.kv_put(app, table, key, value, events)

        await asyncio.to_thread(write)
        self._relay()

    async def kv_transact(
        self,
        app: str,
        refs: list[KvRef],
        decide: Callable[[dict[KvRef, Any]], dict[KvRef, Any]],
    ) -> None:
        """Read items, let ``decide`` return new ones (None deletes), write them atomically.

        For conditional and read-modify-write calls (the DynamoDB API): the store
        holds the items' keys between the read and the write (``Store.kv_atomic``),
        and the change records of every write join the same transaction.  ``decide``
        sees and returns plain JSON items and may run more than once.  Nothing is
        authorized here: callers authorize each item first.
        """
        subs = self._subs()

        def step(old_raw: dict[KvRef, bytes | None]) -> KvChange:
            old = {ref: orjson.loads(v) if v is not None else None for ref, v in old_raw.items()}
            change = KvChange()
            for ref, item in decide(old).items():
                if item is None and old[ref] is None:
                    continue
                value = None if item is None else orjson.dumps(item)
                if value is not None and len(value) > MAX_ITEM_BYTES:
                    raise InvalidRequest("item larger than 400 KiB", code="item_too_large")
                change.writes[ref] = value
                change.events.extend(
                    self._traced(subs.table_events(app, ref[0], ref[1], old[ref], item))
                )
            return change

        await asyncio.to_thread(self._store.kv_atomic, app, refs, step)
        self._relay()

    async def _kv_get(self, spec: FunctionSpec, rid: str, a: dict[str, Any]) -> Any:
        table, key = _name(a.get("table"), "table"), _key(a.get("key"))
        self._authorize(spec, rid, "kv:GetItem", resource_arn(spec.app, "kv", f"{table}/{key}"))
        raw = await asyncio.to_thread(self._store.kv_get, spec.app, table, key)
        return orjson.loads(raw) if raw is not None else None

    async def _kv_delete(self, spec: FunctionSpec, rid: str, a: dict[str, Any]) -> None:
        table, key = _name(a.get("table"), "table"), _key(a.get("key"))
        self._authorize(spec, rid, "kv:DeleteItem", resource_arn(spec.app, "kv", f"{table}/{key}"))
        await self.kv_remove(spec.app, table, key)

    async def kv_remove(self, app: str, table: str, key: str) -> bool:
        subs = self._subs()

        def remove() -> bool:
            old_raw = self._store.kv_get(app, table, key)
            if old_raw is None:
                return False
            events = self._traced(
                subs.table_events(app, table, key, orjson.loads(old_raw), None)
            )
            return self._store.kv_delete(app, table, key, events) is not None

        removed = await asyncio.to_thread(remove)
        self._relay()
        return removed

    async def _kv_query(self, spec: FunctionSpec, rid: str, a: dict[str, Any]) -> Any:
        table = _name(a.get("table"), "table")
        prefix = a.get("prefix", "") or ""
        limit = a.get("limit", 100)
        if not isinstance(prefix, str) or len(prefix) > MAX_KEY_CHARS:
            raise InvalidRequest("prefix must be a string", code="invalid_argument")
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 1000:
            raise InvalidRequest("limit must be between 1 and 1000", code="invalid_argument")
        self._authorize(spec, rid, "kv:Query", resource_arn(spec.app, "kv", f"{table}/*"))
        rows = await asyncio.to_thread(self._store.kv_query, spec.app, table, prefix, limit)
        return [{"key": k, "item": orjson.loads(v)} for k, v in rows]

    # -- objects ---------------------------------------------------------------------------------
    async def _obj_put(self, spec: FunctionSpec, rid: str, a: dict[str, Any]) -> Any:
        bucket, key = _name(a.get("bucket"), "bucket"), _key(a.get("key"))
        data = decode_bytes(a.get("data"))
        if len(data) > MAX_OBJECT_BYTES:
            raise InvalidRequest("object larger than 10 MiB", code="object_too_large")
        ctype = a.get("content_type") or "application/octet-stream"
        if not isinstance(ctype, str) or len(ctype) > 255:
            raise InvalidRequest("invalid content type", code="invalid_argument")
        self._authorize(
            spec, rid, "objects:PutObject", resource_arn(spec.app, "objects", f"{bucket}/{key}")
        )
        return await self.object_write(spec.app, bucket, key, data, ctype, rid)

    async def object_write(
        self,
        app: str,
        bucket: str,
        key: str,
        data: bytes,
        ctype: str,
        request_id: str,
        *,
        metadata: dict[str, str] | None = None,
        etag: str | None = None,
    ) -> dict[str, Any]:
        """Store an object and queue its object-trigger events in the same transaction.

        ``etag`` overrides the MD5 of ``data`` (S3's multipart ETag, ``md5-of-md5s-N``).
        """
        if len(data) > MAX_STORED_OBJECT_BYTES:
            raise InvalidRequest("object larger than 64 MiB", code="object_too_large")
        if not _CONTENT_TYPE.match(ctype):
            # it is sent back as a header: one that cannot be sent would break the reader
            raise InvalidRequest(
                "invalid content type: printable ASCII, at most 255 characters",
                code="invalid_argument",
            )
        subs = self._subs()
        import hashlib

        if etag is None:
            etag = hashlib.md5(data, usedforsecurity=False).hexdigest()
        events = self._traced(subs.object_events(
            app, bucket, key, "created", size=len(data), etag=etag, request_id=request_id
        ))
        rec = await asyncio.to_thread(
            functools.partial(
                self._store.object_put,
                app,
                bucket,
                key,
                data,
                ctype,
                events,
                size=len(data),
                etag=etag,
                metadata=metadata,
            )
        )
        self._relay()
        return {"bucket": bucket, "key": key, "size": rec.size, "etag": rec.etag}

    async def _obj_get(self, spec: FunctionSpec, rid: str, a: dict[str, Any]) -> Any:
        bucket, key = _name(a.get("bucket"), "bucket"), _key(a.get("key"))
        self._authorize(
            spec, rid, "objects:GetObject", resource_arn(spec.app, "objects", f"{bucket}/{key}")
        )
        found = await asyncio.to_thread(self._store.object_get, spec.app, bucket, key)
        if found is None:
            raise NotFound(f"no object {key!r} in bucket {bucket!r}", code="not_found")
        if found[0].size > MAX_OBJECT_BYTES:
            # stored through S3 (up to 64 MiB): more than a worker's IPC frame carries
            raise InvalidRequest(
                "object larger than 10 MiB: read it with the S3 API (ranged GETs)",
                code="object_too_large",
            )
        return encode_bytes(found[1])

    async def _obj_delete(self, spec: FunctionSpec, rid: str, a: dict[str, Any]) -> None:
        bucket, key = _name(a.get("bucket"), "bucket"), _key(a.get("key"))
        self._authorize(
            spec, rid, "objects:DeleteObject", resource_arn(spec.app, "objects", f"{bucket}/{key}")
        )
        await self.object_remove(spec.app, bucket, key, rid)

    async def object_remove(self, app: str, bucket: str, key: str, request_id: str) -> bool:
        subs = self._subs()
        found = await asyncio.to_thread(self._store.object_get, app, bucket, key)
        if found is None:
            return False
        events = self._traced(subs.object_events(
            app,
            bucket,
            key,
            "deleted",
            size=found[0].size,
            etag=found[0].etag,
            request_id=request_id,
        ))
        removed = await asyncio.to_thread(self._store.object_delete, app, bucket, key, events)
        self._relay()
        return removed is not None

    # -- topics, secrets, functions ------------------------------------------------------------
    async def _publish(self, spec: FunctionSpec, rid: str, a: dict[str, Any]) -> Any:
        topic = _name(a.get("topic"), "topic")
        self._authorize(spec, rid, "topics:Publish", resource_arn(spec.app, "topic", topic))
        return {"message_ids": await self.publish(spec.app, topic, a.get("message"))}

    def topic_exists(self, app: str, topic: str) -> bool:
        """Whether a live function of ``app`` consumes ``topic`` (an SQS queue or SNS topic)."""
        return self._subs().has_topic(app, topic)

    def function_exists(self, app: str, function: str) -> bool:
        return self._subs().has_function(app, function)

    async def enqueue_invocation(self, app: str, function: str, payload: Any, source: str) -> str:
        """Queue an asynchronous invocation durably (Lambda's ``InvocationType=Event``).

        The caller has already been authorized (``functions:Invoke``); the
        dispatcher delivers it with the default retry settings.
        """
        check_nesting(payload, "the payload")
        mid = uuid.uuid4().hex
        body = encode_body("invoke", None, app, function, source, payload)
        if len(body) > MAX_MESSAGE_BYTES:
            raise InvalidRequest("payload larger than 256 KiB", code="message_too_large")
        ids = await self._bus.enqueue_many(
            [OutgoingMessage(queue_for(function), body, {"kind": "invoke"}, mid)]
        )
        return ids[0]

    async def publish(
        self, app: str, topic: str, message: Any, extra: dict[str, Any] | None = None
    ) -> list[str]:
        """Fan a message out to the topic's subscribers; returns once all are durable.

        ``extra`` (SQS message attributes and the like, see
        ``Subscriptions.topic_messages``) travels with each delivery.
        """
        check_nesting(message, "the message")
        try:
            size = len(message.encode() if isinstance(message, str) else orjson.dumps(message))
        except (TypeError, orjson.JSONEncodeError) as exc:
            raise InvalidRequest(
                f"the message must be JSON: {exc}", code="invalid_argument"
            ) from exc
        if size > MAX_MESSAGE_BYTES:
            raise InvalidRequest("message larger than 256 KiB", code="message_too_large")
        messages = self._subs().topic_messages(app, topic, message, extra)
        if not messages:
            return []
        if not self._tracing.enabled:
            return await self._bus.enqueue_many(messages)
        with self._tracing.span(
            f"publish {topic}",
            kind="producer",
            attributes={"messaging.destination.name": topic, "messaging.batch.message_count":
                        len(messages)},
        ):
            # Subscribers' consumer spans continue from here (see ramparts.observe.tracing).
            parent = self._tracing.traceparent()
            if parent:
                for m in messages:
                    m.headers[TRACEPARENT] = parent
            return await self._bus.enqueue_many(messages)

    async def _secret_get(self, spec: FunctionSpec, rid: str, a: dict[str, Any]) -> Any:
        name = _name(a.get("name"), "secret")
        arn = resource_arn(spec.app, "secret", name)
        self._authorize(spec, rid, "secrets:GetSecretValue", arn)
        return await self._secret_value(spec, rid, name, arn)

    async def secret_environment(
        self, spec: FunctionSpec, config: FunctionConfig
    ) -> dict[str, str]:
        """The values of a version's ``{secret: NAME}`` variables, for a zygote starting now.

        Each read is the same check as ``context.secrets.get`` (the version's role,
        from its signed ``config``; the app's own or a shared secret), audited
        the same way.  Any refusal refuses the whole start, naming the variable.
        """
        policy = RolePolicy(spec.app, config)
        rid = new_request_id()
        values: dict[str, str] = {}
        for var, name in sorted(spec.secret_environment.items()):
            arn = resource_arn(spec.app, "secret", name)
            try:
                self._authorize(spec, rid, "secrets:GetSecretValue", arn, policy=policy)
                values[var] = await self._secret_value(spec, rid, name, arn)
            except AccessDenied:
                raise DeployError(
                    f"environment.{var}: not allowed to read secret {name!r} "
                    f"(secrets:GetSecretValue on {arn}); list it under secrets: or allow it "
                    "in the function's role",
                    code="secret_denied",
                ) from None
            except NotFound:
                raise DeployError(
                    f"environment.{var}: secret {name!r} not found in app {spec.app!r}",
                    code="secret_not_found",
                ) from None
        return values

    async def _secret_value(self, spec: FunctionSpec, rid: str, name: str, arn: str) -> str:
        # The role allowed the name in this function's own app; the value must come from
        # this app too, or from an app that shared it with this one.
        value = await asyncio.to_thread(self._secrets.get, name, app=spec.app)
        if value is not None:
            return value.reveal()
        if await asyncio.to_thread(self._secrets.owned_elsewhere, name, app=spec.app):
            self._audit.emit(
                "resource.access",
                decision="deny",
                principal=f"function:{spec.function}@{spec.version[:12]}",
                action="secrets:GetSecretValue",
                resource=arn,
                request_id=rid,
                reason="not_shared",
            )
            raise AccessDenied("secrets:GetSecretValue", arn)
        raise NotFound(f"secret {name!r} not found", code="secret_not_found")

    async def _invoke(self, spec: FunctionSpec, rid: str, a: dict[str, Any]) -> Any:
        target = a.get("function")
        if not isinstance(target, str) or not re.match(r"^[a-z0-9][a-z0-9-]{0,62}$", target):
            raise InvalidRequest("invalid function name", code="invalid_argument")
        self._authorize(spec, rid, "functions:Invoke", resource_arn(spec.app, "function", target))
        try:
            return await self._invoker(target, a.get("payload"), spec.app)
        except RampartsError:
            raise
        except Exception as exc:
            raise RampartsError("the invocation failed", code="invocation_failed") from exc


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_request_id() -> str:
    return str(uuid.uuid4())
