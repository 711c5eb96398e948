"""The Lambda-compatible ``context`` object a handler receives.

It lives inside the sandboxed worker.  Besides the usual Lambda attributes it
carries the resource clients (``context.kv``, ``context.objects``,
``context.secrets``, ``context.publish``, ``context.invoke``); none of them
holds a handle to storage: each call becomes one ``{"op": "call"}`` frame on
the worker's socket and blocks for the host's reply, so that the host can
check the function's role, audit and perform it.  Arguments are validated
here so that a handler gets a plain ``TypeError`` for a programming mistake
instead of a round trip and a remote refusal.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from ramparts.aws.accounts import account_id
from ramparts.runtime.ipc import b64, unb64
from ramparts.runtime.nesting import check_nesting

# (method, keyword args) -> reply value; raises the mapped RampartsError.
CallFn = Callable[[str, dict[str, Any]], Any]


def _check_str(name: str, value: Any, *, empty: bool = False) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if not empty and not value:
        raise ValueError(f"{name} must not be empty")
    return value


class KV:
    """``context.kv``: items (JSON objects) in named tables."""

    def __init__(self, call: CallFn) -> None:
        self._call = call

    def put(self, table: str, key: str, item: dict[str, Any]) -> None:
        _check_str("table", table)
        _check_str("key", key)
        if not isinstance(item, dict):
            raise TypeError(f"item must be a dict, not {type(item).__name__}")
        # Before encoding: past its limit the stdlib encoder raises RecursionError.
        check_nesting(item, "the item")
        self._call("kv.put", {"table": table, "key": key, "item": item})

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        _check_str("table", table)
        _check_str("key", key)
        value = self._call("kv.get", {"table": table, "key": key})
        return value if isinstance(value, dict) else None

    def delete(self, table: str, key: str) -> None:
        _check_str("table", table)
        _check_str("key", key)
        self._call("kv.delete", {"table": table, "key": key})

    def query(self, table: str, prefix: str = "", limit: int = 100) -> list[dict[str, Any]]:
        _check_str("table", table)
        _check_str("prefix", prefix, empty=True)
        if not isinstance(limit, int) or isinstance(limit, bool):
            raise TypeError(f"limit must be an int, not {type(limit).__name__}")
        if limit < 1:
            raise ValueError("limit must be at least 1")
        value = self._call("kv.query", {"table": table, "prefix": prefix, "limit": limit})
        return list(value or [])


class Objects:
    """``context.objects``: binary objects in named buckets."""

    def __init__(self, call: CallFn) -> None:
        self._call = call

    def put(
        self,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str = "application/octet-stream",
    ) -> dict[str, Any]:
        _check_str("bucket", bucket)
        _check_str("key", key)
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data must be bytes, not {type(data).__name__} (encode text first)")
        _check_str("content_type", content_type)
        value = self._call(
            "objects.put",
            {"bucket": bucket, "key": key, "data": b64(data), "content_type": content_type},
        )
        return value if isinstance(value, dict) else {}

    def get(self, bucket: str, key: str) -> bytes:
        _check_str("bucket", bucket)
        _check_str("key", key)
        return unb64(self._call("objects.get", {"bucket": bucket, "key": key}))

    def delete(self, bucket: str, key: str) -> None:
        _check_str("bucket", bucket)
        _check_str("key", key)
        self._call("objects.delete", {"bucket": bucket, "key": key})


SECRET_CACHE_TTL = 30.0  # seconds; a rotated secret reaches warm workers within this

# name -> (monotonic expiry, value).  Per worker process, which serves one function
# version, so a value the host allowed once stays allowed for that caller.
_secret_cache: dict[str, tuple[float, str]] = {}


class Secrets:
    """``context.secrets``: the secrets the function's manifest names.

    Values are cached in the worker for ``SECRET_CACHE_TTL`` seconds so a hot
    handler does not cross to the host (and the store) on every call; each
    fetch from the host is policy-checked and audited there.  A refusal is
    never cached.
    """

    def __init__(self, call: CallFn) -> None:
        self._call = call

    def get(self, name: str) -> str:
        _check_str("name", name)
        cached = _secret_cache.get(name)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        value = self._call("secrets.get", {"name": name})
        if not isinstance(value, str):
            raise TypeError("the host returned a non-text secret")
        _secret_cache[name] = (now + SECRET_CACHE_TTL, value)
        return value


class LambdaContext:
    """What ``handler(event, context)`` receives, one per invocation."""

    def __init__(
        self,
        *,
        app: str,
        function_name: str,
        function_version: str,
        memory_limit_in_mb: int,
        request_id: str,
        deadline: float,
        log_stream_name: str,
        call: CallFn,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        # The worker's AWS_REGION is the node's --region, as Lambda's ARN names its region.
        region = os.environ.get("AWS_REGION") or "us-east-1"
        self.invoked_function_arn = (
            f"arn:aws:lambda:{region}:{account_id(app)}:function:{function_name}"
        )
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/ramparts/{app}/{function_name}"
        self.log_stream_name = log_stream_name
        # Lambda exposes these for mobile SDK callers; we never have them.
        self.identity = None
        self.client_context = None
        self._deadline = deadline  # time.monotonic() value
        self._call = call
        self.kv = KV(call)
        self.objects = Objects(call)
        self.secrets = Secrets(call)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def publish(self, topic: str, message: Any) -> str:
        """Publish to a topic; returns the message id."""
        _check_str("topic", topic)
        check_nesting(message, "the message")
        value = self._call("publish", {"topic": topic, "message": message})
        return str(value) if value is not None else ""

    def invoke(self, function: str, payload: Any = None) -> Any:
        """Invoke another function synchronously; returns its result."""
        _check_str("function", function)
        return self._call("invoke", {"function": function, "payload": payload})

    def __repr__(self) -> str:
        return (
            f"LambdaContext(function_name={self.function_name!r}, "
            f"function_version={self.function_version!r}, aws_request_id={self.aws_request_id!r})"
        )
