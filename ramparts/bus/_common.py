"""Checks and encodings shared by the bus backends.

Every backend validates what it is given the same way, so code that works on
the embedded bus does not fail later on Redis or NATS: a queue name that is a
valid NATS subject token sequence is accepted everywhere, anything else is
refused everywhere.
"""

from __future__ import annotations

import json
import math
import re
import uuid

from ramparts.bus.base import OutgoingMessage
from ramparts.errors import ConfigError, InvalidRequest

# Dot-separated tokens of letters, digits, "_" and "-": safe as a NATS subject
# suffix, a Redis key part (no ":" or braces) and a SQLite value alike.
_QUEUE_RE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
_MAX_QUEUE_LEN = 200
_MAX_ID_LEN = 200
# Visible ASCII only: ids travel in NATS headers, where a CR/LF would let a
# caller-chosen idempotency key inject headers.
_ID_RE = re.compile(r"[\x21-\x7e]+")


def check_queue(queue: str) -> str:
    """Return ``queue`` if it is a valid queue name, else raise ``InvalidRequest``."""
    if (
        not isinstance(queue, str)
        or len(queue) > _MAX_QUEUE_LEN
        or not _QUEUE_RE.fullmatch(queue)
    ):
        raise InvalidRequest(
            f"invalid queue name {queue!r}: use dot-separated tokens of letters, digits,"
            f" '_' and '-' (at most {_MAX_QUEUE_LEN} characters)"
        )
    return queue


def check_outgoing(message: OutgoingMessage) -> tuple[str, bytes, dict[str, str], float]:
    """Validate one outgoing message; return (id, body, headers, delay).

    The id is a fresh uuid4 hex unless the caller gave one (an idempotency key).
    """
    check_queue(message.queue)
    body = message.body
    if not isinstance(body, bytes | bytearray | memoryview):
        raise InvalidRequest(f"message body must be bytes, not {type(body).__name__}")
    headers = message.headers or {}
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in headers.items()):
        raise InvalidRequest("message headers must map str to str")
    delay = float(message.delay or 0.0)
    if not math.isfinite(delay) or delay < 0:
        raise InvalidRequest(f"message delay must be a finite number >= 0, not {message.delay!r}")
    message_id = message.id if message.id is not None else uuid.uuid4().hex
    if (
        not isinstance(message_id, str)
        or len(message_id) > _MAX_ID_LEN
        or not _ID_RE.fullmatch(message_id)
    ):
        raise InvalidRequest(
            f"message id must be 1 to {_MAX_ID_LEN} visible ASCII characters (no spaces)"
        )
    return message_id, bytes(body), dict(headers), delay


def check_receive_args(max_messages: int, lease: float, wait: float) -> None:
    if not isinstance(max_messages, int) or max_messages < 1:
        raise InvalidRequest("max_messages must be an integer >= 1")
    if not (math.isfinite(lease) and lease > 0):
        raise InvalidRequest("lease must be a finite number of seconds > 0")
    if not (math.isfinite(wait) and wait >= 0):
        raise InvalidRequest("wait must be a finite number of seconds >= 0")


def check_delay(delay: float) -> float:
    delay = float(delay)
    if not math.isfinite(delay) or delay < 0:
        raise InvalidRequest(f"retry delay must be a finite number >= 0, not {delay!r}")
    return delay


def dump_headers(headers: dict[str, str]) -> str:
    # ASCII-only JSON survives every transport (NATS header values included).
    return json.dumps(headers, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def load_headers(raw: str | bytes | None) -> dict[str, str]:
    if not raw:
        return {}
    value = json.loads(raw)
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def redact_url(url: str) -> str:
    """``url`` with its credentials replaced by ``***``, safe for errors and logs.

    Done on the raw string, not with ``urlsplit``: a password holding "/" or
    "#" would otherwise be parsed as a path and shown.  A lone user part is
    masked too, since NATS and others take a bare token there.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "***" if "@" in url else url
    if "@" not in rest:
        return url
    userinfo, _, hostpart = rest.rpartition("@")
    user, has_password, _ = userinfo.partition(":")
    if has_password and not any(c in user for c in "/?#"):
        return f"{scheme}://{user}:***@{hostpart}"
    return f"{scheme}://***@{hostpart}"


_CONSUMER_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def check_consumer(consumer: str | None) -> str | None:
    """A node's bus identity: 1 to 64 letters, digits, '_' or '-' (or None)."""
    if consumer is not None and (
        not isinstance(consumer, str) or not _CONSUMER_RE.fullmatch(consumer)
    ):
        raise ConfigError("bus consumer identity must be 1-64 letters, digits, '_' or '-'")
    return consumer
