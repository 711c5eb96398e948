"""Outbound notifications: alerts (and, later, incidents) POSTed as JSON to a webhook.

Never on the request path and never blocking its caller: ``send`` queues and
returns; one thread delivers, retrying a failed delivery with exponential
backoff.  The queue is bounded: when it is full the oldest notification is
dropped (and counted), so a dead receiver cannot grow the node's memory.
Pending notifications live in memory only: the alerts themselves are stored,
so a restart loses a notification, never an alert.

With a secret, each delivery is signed: ``X-Ramparts-Timestamp`` (Unix
seconds) and ``X-Ramparts-Signature: sha256=<hex>``, the HMAC-SHA256 of
``<timestamp>.<body>`` under the secret (re-signed on each attempt).
"""

from __future__ import annotations

import abc
import hashlib
import hmac
import ipaddress
import logging
import queue
import stat
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from ramparts.errors import ConfigError
from ramparts.observe.redact import redactor

log = logging.getLogger("ramparts.respond")

MAX_PENDING = 1000
MAX_ATTEMPTS = 6
FIRST_DELAY = 0.5
MAX_DELAY = 30.0
MAX_SECRET_BYTES = 4096
MIN_SECRET_BYTES = 16
SIGNATURE_HEADER = "x-ramparts-signature"
TIMESTAMP_HEADER = "x-ramparts-timestamp"


def signature(secret: bytes, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 of ``timestamp.body`` (what a receiver recomputes)."""
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check_webhook_url(url: str, option: str = "--alert-webhook") -> str:
    """An https URL, or http to a loopback address (alerts name principals and addresses)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigError(f"{option}: {url!r} is not a URL") from None
    if parts.scheme not in ("http", "https") or not host:
        raise ConfigError(f"{option}: {url!r} must be an http(s) URL with a host")
    if parts.username or parts.password:
        raise ConfigError(f"{option}: put no credentials in the URL (use a signing secret file)")
    if parts.scheme == "http" and not _loopback(host):
        raise ConfigError(
            f"{option}: plain http is only allowed to a loopback address; use https"
        )
    return url


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_secret_file(path: Path, option: str = "--alert-webhook-secret-file") -> bytes:
    """The signing secret: a private file (no group or other access), 16 to 4096 bytes."""
    try:
        info = path.stat()
        if stat.S_IMODE(info.st_mode) & 0o077:
            raise ConfigError(
                f"{option}: {path} is readable by others; chmod 600 it"
            )
        with open(path, "rb") as f:
            data = f.read(MAX_SECRET_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            f"{option}: cannot read {path} ({exc.strerror or type(exc).__name__})"
        ) from None
    secret = data.strip()
    if len(data) > MAX_SECRET_BYTES or len(secret) < MIN_SECRET_BYTES:
        raise ConfigError(
            f"{option}: {path} must hold a secret of {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes"
        )
    try:
        redactor.add_secret(secret.decode())  # never in a log line or an audit detail
    except UnicodeDecodeError:
        pass
    return secret


class Notifier(abc.ABC):
    """Delivers JSON notifications somewhere outside; ``send`` must never block or raise."""

    @abc.abstractmethod
    def send(self, kind: str, payload: dict[str, Any], *, delivery_id: str) -> None: ...

    @abc.abstractmethod
    def start(self) -> None: ...

    @abc.abstractmethod
    def close(self) -> None: ...


class WebhookNotifier(Notifier):
    """POSTs ``{"type": kind, kind: payload}`` to one URL, retried with backoff on one thread."""

    def __init__(
        self,
        url: str,
        *,
        secret: bytes | None = None,
        timeout: float = 10.0,
        max_pending: int = MAX_PENDING,
        first_delay: float = FIRST_DELAY,
    ) -> None:
        self.url = check_webhook_url(url)
        self._secret = secret
        self._timeout = timeout
        self._first_delay = first_delay
        self._queue: queue.Queue[tuple[str, bytes] | None] = queue.Queue(maxsize=max_pending)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.dropped = 0
        self.failed = 0

    def send(self, kind: str, payload: dict[str, Any], *, delivery_id: str) -> None:
        body = orjson.dumps({"type": kind, kind: payload}, default=str)
        item = (delivery_id, body)
        while True:
            try:
                self._queue.put_nowait(item)
                return
            except queue.Full:
                try:
                    self._queue.get_nowait()  # the oldest goes: a flood keeps the newest
                    self.dropped += 1
                except queue.Empty:
                    pass

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="ramparts-webhook", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        try:
            self._queue.put_nowait(None)
        except queue.Full:
            pass
        if self._thread is not None:
            self._thread.join(timeout=15)
        left = self._queue.qsize()
        if left:
            log.warning("alert webhook: %d notifications not delivered at shutdown", left)

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
            while not self._stop.is_set():
                item = self._queue.get()
                if item is None:
                    return
                self._deliver(client, *item)

    def _deliver(self, client: httpx.Client, delivery_id: str, body: bytes) -> None:
        delay = self._first_delay
        for attempt in range(1, MAX_ATTEMPTS + 1):
            headers = {"content-type": "application/json", "x-ramparts-delivery": delivery_id}
            if self._secret:
                now = str(int(time.time()))
                headers[TIMESTAMP_HEADER] = now
                headers[SIGNATURE_HEADER] = signature(self._secret, now, body)
            outcome = ""
            try:
                response = client.post(self.url, content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    self.delivered += 1
                    return
                outcome = f"HTTP {response.status_code}"
                if response.status_code < 500 and response.status_code not in (408, 429):
                    break  # the receiver refuses this body: retrying cannot help
            except httpx.HTTPError as exc:
                outcome = type(exc).__name__
            if attempt < MAX_ATTEMPTS and self._stop.wait(delay):
                break
            delay = min(delay * 2, MAX_DELAY)
        self.failed += 1
        log.warning(
            "alert webhook: delivery %s failed (%s)", delivery_id, outcome or "stopped"
        )


def open_notifier(url: str, secret_file: Path | None) -> Notifier | None:
    """The alert notifier ``--alert-webhook`` and its secret file ask for, checked (or None)."""
    if secret_file and not url:
        raise ConfigError("--alert-webhook-secret-file needs --alert-webhook")
    if not url:
        return None
    return WebhookNotifier(url, secret=read_secret_file(secret_file) if secret_file else None)
