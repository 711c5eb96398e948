"""The loop inside one forked worker process.

A worker is forked from its version's zygote with the handler's dependencies
already imported; it imports the handler's own module itself (its execution
environment's init, once), and then serves invocations one at a time over its
single socket:

    host -> {"op": "invoke", "request_id", "event", "timeout_ms", "function", "version"}
    worker -> {"op": "call", "method", "args"}        (zero or more, each answered by)
    host -> {"op": "reply", "value"} | {"op": "reply", "error": {...}}
    worker -> {"op": "result", "status": "ok"|"error", ...}
    worker -> {"op": "violation", "events": [...]}   (any time: runtime protection)

The worker holds no storage handle and no credential: everything a handler
does to the outside goes through ``context`` and this socket.  It does not
enforce the timeout either; the host kills it when the deadline passes.

Output is captured per invocation: ``print`` verbatim, ``logging`` records in
Lambda's text format, together capped at 64 KiB.
"""

from __future__ import annotations

import logging
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from ramparts.errors import (
    AccessDenied,
    BackendError,
    Conflict,
    InvalidRequest,
    NotFound,
    RampartsError,
)
from ramparts.runtime import ipc
from ramparts.runtime.context import LambdaContext

MAX_LOGS = 64 * 1024
MAX_RESULT = 6 * 1024 * 1024  # Lambda's synchronous response limit

Handler = Callable[[Any, Any], Any]

# Codes the host may send back, re-raised as the matching class in the handler.
_ERRORS: dict[str, type[RampartsError]] = {
    "not_found": NotFound,
    "invalid_request": InvalidRequest,
    "conflict": Conflict,
    "backend_unavailable": BackendError,
}

# Error classes the host may name in "kind", for codes not listed above.
_KINDS: dict[str, type[RampartsError]] = {cls.__name__: cls for cls in _ERRORS.values()}


_MAX_VIOLATIONS = 100
_violations: list[dict[str, Any]] = []
_violations_lock = threading.Lock()


# The worker's channel while it serves: a violation during an invocation is sent at
# once, so that a handler which then crashes or runs out its time cannot erase it.
_live: _Channel | None = None


# The zygote's control socket while it imports the handler: violations at import
# time go to the host at once too (a module that then crashes cannot erase them).
_import_ctl: socket.socket | None = None


def record_violation(event: dict[str, Any]) -> None:
    """Runtime protection's report callback: to the host at once where possible.

    In a worker, on its socket (between invocations marked ``outside_invocation``:
    a thread or process the handler left behind); in the zygote while it imports
    the handler, on its control socket.  Otherwise kept for the next frame.
    """
    channel = _live
    if channel is not None:
        if not channel.active:
            event = {**event, "outside_invocation": True}
        if channel.notify({"op": "violation", "events": [event]}):
            return
    elif _import_ctl is not None:
        try:
            ipc.send_frame(_import_ctl, {"op": "violation", "events": [event]})
            return
        except (OSError, TypeError, ValueError):
            pass
    with _violations_lock:
        if len(_violations) < _MAX_VIOLATIONS:
            _violations.append(event)


def take_violations() -> list[dict[str, Any]]:
    with _violations_lock:
        out = list(_violations)
        _violations.clear()
    return out


class LogSink:
    """Collects everything a handler prints or logs during one invocation.

    Installed once as both ``sys.stdout`` and ``sys.stderr`` so that the two
    interleave in the order they were written, as they do in Lambda's log
    stream.  Threads a handler leaves running write into whichever
    invocation is current.
    """

    encoding = "utf-8"
    errors = "replace"

    def __init__(self, limit: int = MAX_LOGS) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._parts: list[str] = []
        self._size = 0
        self._dropped = 0
        self.request_id = ""

    def begin(self, request_id: str) -> None:
        with self._lock:
            self._parts, self._size, self._dropped = [], 0, 0
            self.request_id = request_id

    def end(self) -> str:
        with self._lock:
            text = "".join(self._parts)
            if self._dropped:
                text += f"\n[ramparts] log output truncated: {self._dropped} bytes dropped\n"
            self._parts, self._size, self._dropped = [], 0, 0
            self.request_id = ""
        return text

    def write(self, s: str) -> int:
        if not isinstance(s, str):
            raise TypeError(f"write() argument must be str, not {type(s).__name__}")
        data = s.encode("utf-8", "replace")
        with self._lock:
            room = self._limit - self._size
            if len(data) <= room:
                self._parts.append(s)
                self._size += len(data)
            else:
                if room > 0:
                    self._parts.append(data[:room].decode("utf-8", "ignore"))
                    self._size = self._limit
                self._dropped += len(data) - max(room, 0)
        return len(s)

    def writelines(self, lines: Any) -> None:
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def fileno(self) -> int:
        import io

        raise io.UnsupportedOperation("captured stream has no file descriptor")


class LambdaLogHandler(logging.Handler):
    """``[LEVEL]\\t<iso time>Z\\t<request id>\\t<message>\\n``, as Lambda writes it."""

    def __init__(self, sink: LogSink) -> None:
        super().__init__()
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            millis = int(record.msecs)
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + "".join(traceback.format_exception(*record.exc_info)).rstrip()
            self._sink.write(
                f"[{record.levelname}]\t{stamp}.{millis:03d}Z\t{self._sink.request_id}\t{message}\n"
            )
        except Exception:
            self.handleError(record)


def install_capture() -> LogSink:
    """Route stdout, stderr and the root logger into one sink (zygote, before import)."""
    sink = LogSink()
    sys.stdout = sink  # type: ignore[assignment]
    sys.stderr = sink  # type: ignore[assignment]
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(LambdaLogHandler(sink))
    level = os.environ.get("AWS_LAMBDA_LOG_LEVEL") or os.environ.get("LOG_LEVEL") or "INFO"
    root.setLevel(logging.getLevelName(level.upper()) if level.upper() in _LEVELS else "INFO")
    logging.raiseExceptions = False  # a broken log call must not break the handler
    return sink


_LEVELS = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}


class Scrubber:
    """Rewrites the sandbox's absolute paths out of messages and tracebacks."""

    def __init__(self, prefixes: list[tuple[str, str]]) -> None:
        # longest first, so a code dir inside another prefix wins
        self._prefixes = sorted(
            ((p.rstrip("/") + "/", r) for p, r in prefixes if p), key=lambda x: -len(x[0])
        )

    def __call__(self, text: str) -> str:
        for prefix, repl in self._prefixes:
            text = text.replace(prefix, repl)
        return text


class _Channel:
    """The worker's end of its socket, shared by the loop and context calls."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._lock = threading.Lock()  # a handler may call context from several threads
        self.active = False

    def notify(self, message: dict[str, Any]) -> bool:
        """Send a one-way frame (no reply); False if it could not be sent now."""
        if not self._lock.acquire(timeout=5):
            return False
        try:
            ipc.send_frame(self.sock, message)
            return True
        except (OSError, TypeError, ValueError):
            return False
        finally:
            self._lock.release()

    def call(self, method: str, args: dict[str, Any]) -> Any:
        with self._lock:
            if not self.active:
                raise RampartsError("context used outside of an invocation", code="invalid_request")
            try:
                ipc.send_frame(self.sock, {"op": "call", "method": method, "args": args})
            except (TypeError, ValueError) as exc:
                # not JSON-able: a programming error in the handler, say so plainly
                raise TypeError(f"{method}: arguments are not JSON serializable: {exc}") from None
            reply = ipc.recv_frame(self.sock)
        if reply is None:
            # the host went away; nothing sensible left to do in this process
            os._exit(0)
        if not isinstance(reply, dict) or reply.get("op") != "reply":
            raise RampartsError("unexpected message from the host", code="internal_error")
        error = reply.get("error")
        if error is not None:
            raise _to_exception(error)
        return reply.get("value")


def _to_exception(error: Any) -> RampartsError:
    if not isinstance(error, dict):
        return RampartsError("internal error", code="internal_error")
    code = str(error.get("code") or "internal_error")
    message = str(error.get("message") or "")
    if code == "access_denied":
        return AccessDenied(str(error.get("action") or ""), str(error.get("resource") or ""))
    cls = _ERRORS.get(code) or _KINDS.get(str(error.get("kind") or ""))
    if cls is not None:
        return cls(message, code=code)
    return RampartsError(message, code=code)


def serve(
    sock: socket.socket,
    handler: Handler,
    sink: LogSink,
    scrub: Scrubber,
    *,
    app: str,
    memory_mb: int,
) -> None:
    """Serve invocations until the host closes the socket."""
    global _live
    channel = _live = _Channel(sock)
    stream = f"{time.strftime('%Y/%m/%d', time.gmtime())}/[{{version}}]{os.getpid()}"
    while True:
        msg = ipc.recv_frame(sock)
        if msg is None:
            return
        if not isinstance(msg, dict) or msg.get("op") != "invoke":
            return  # the host never does this; a confused peer gets no service
        request_id = str(msg.get("request_id") or "")
        timeout_ms = msg.get("timeout_ms")
        timeout_s = timeout_ms / 1000 if isinstance(timeout_ms, int | float) else 0.0
        version = str(msg.get("version") or "")
        context = LambdaContext(
            app=app,
            function_name=str(msg.get("function") or ""),
            function_version=version,
            memory_limit_in_mb=memory_mb,
            request_id=request_id,
            deadline=time.monotonic() + timeout_s,
            log_stream_name=stream.format(version=version),
            call=channel.call,
        )
        ipc.send_raw(sock, _invoke(handler, msg.get("event"), context, channel, sink, scrub))


def serve_init_error(sock: socket.socket, error_type: str, message: str, logs: str) -> None:
    """The handler did not load in this worker: the next invocation fails with why.

    As on Lambda, an init error is the invocation's error; the worker then ends
    (the host forks a fresh one for the next call).
    """
    msg = ipc.recv_frame(sock)
    if not isinstance(msg, dict) or msg.get("op") != "invoke":
        return
    ipc.send_raw(sock, _error_body(error_type, message, logs))


def _invoke(
    handler: Handler,
    event: Any,
    context: LambdaContext,
    channel: _Channel,
    sink: LogSink,
    scrub: Scrubber,
) -> bytes:
    """Run one invocation and return the encoded result frame body."""
    sink.begin(context.aws_request_id)
    # A handler that swapped the streams last time must not blind this one.
    sys.stdout = sys.stderr = sink  # type: ignore[assignment]
    channel.active = True
    try:
        result = handler(event, context)
    except BaseException as exc:  # noqa: BLE001 - SystemExit too: the worker lives on
        channel.active = False
        return ipc.encode(
            {
                "op": "result",
                "status": "error",
                "error_type": type(exc).__name__,
                "error_message": scrub(str(exc)),
                "traceback": scrub(_format_traceback(exc)),
                "logs": sink.end(),
                "violations": take_violations(),
            }
        )
    channel.active = False
    logs = sink.end()
    try:
        encoded = ipc.encode(result).decode("utf-8")
    except (TypeError, ValueError, UnicodeError) as exc:
        return _error_body(
            "Runtime.MarshalError", f"Unable to marshal response: {scrub(str(exc))}", logs
        )
    if len(encoded) > MAX_RESULT:  # chars <= bytes; the exact check follows
        size = len(encoded.encode("utf-8"))
        if size > MAX_RESULT:
            return _error_body(
                "Function.ResponseSizeTooLarge",
                f"Response payload size ({size} bytes) exceeded maximum allowed "
                f"payload size ({MAX_RESULT} bytes).",
                logs,
            )
    # Splice the already-encoded result in rather than encoding it twice.
    head = ipc.encode(
        {"op": "result", "status": "ok", "logs": logs, "violations": take_violations()}
    )
    return head[:-1] + b',"result":' + encoded.encode("utf-8") + b"}"


def _error_body(error_type: str, message: str, logs: str) -> bytes:
    return ipc.encode(
        {
            "op": "result",
            "status": "error",
            "error_type": error_type,
            "error_message": message,
            "traceback": "",
            "logs": logs,
            "violations": take_violations(),
        }
    )


def _format_traceback(exc: BaseException) -> str:
    # Drop the runtime's own frame: the traceback starts in the handler.
    tb = exc.__traceback__
    if tb is not None and tb.tb_frame.f_code is _invoke.__code__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb))
