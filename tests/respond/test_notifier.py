"""The alert webhook against a real local HTTP receiver: retried, signed, bounded."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from ramparts.errors import ConfigError
from ramparts.respond.notifier import WebhookNotifier, check_webhook_url, read_secret_file


class Receiver:
    """A webhook receiver on a free loopback port; fails the first ``failures`` deliveries."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.attempts = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["content-length"]))
                receiver.attempts += 1
                if receiver.attempts <= receiver.failures:
                    self.send_response(503)
                else:
                    receiver.received.append(({k.lower(): v for k, v in self.headers.items()},
                                              body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def wait(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.received) >= count, f"{len(self.received)} of {count} deliveries"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver(failures=2)
    yield r
    r.close()


def test_a_refused_delivery_is_retried_and_signed(receiver: Receiver) -> None:
    secret = b"s3cret-signing-key-0123456789"
    notifier = WebhookNotifier(receiver.url, secret=secret, first_delay=0.05)
    notifier.start()
    try:
        notifier.send("alert", {"id": "a1", "rule": "failed-auth-burst"}, delivery_id="a1")
        receiver.wait(1)
    finally:
        notifier.close()
    assert receiver.attempts == 3  # two 503s, then accepted
    headers, body = receiver.received[0]
    assert json.loads(body) == {"type": "alert", "alert": {"id": "a1", "rule": "failed-auth-burst"}}
    assert headers["x-ramparts-delivery"] == "a1"
    expected = hmac.new(
        secret, headers["x-ramparts-timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    assert hmac.compare_digest(headers["x-ramparts-signature"], f"sha256={expected}")
    assert notifier.delivered == 1 and notifier.failed == 0


def test_a_full_queue_drops_the_oldest_and_send_never_blocks() -> None:
    notifier = WebhookNotifier("http://127.0.0.1:9/hook", max_pending=2)  # never started
    for i in range(5):
        notifier.send("alert", {"id": str(i)}, delivery_id=str(i))
    assert notifier.dropped == 3


@pytest.mark.parametrize(
    "url",
    ["http://alerts.example.com/hook", "ftp://127.0.0.1/x", "https://user:pw@h.example/x",
     "not a url", "https:///nohost"],
)
def test_unsafe_or_malformed_webhook_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="--alert-webhook"):
        check_webhook_url(url)


def test_the_secret_file_must_be_private_and_long_enough(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    path.write_text("x" * 32 + "\n")
    os.chmod(path, 0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        read_secret_file(path)
    os.chmod(path, 0o600)
    assert read_secret_file(path) == b"x" * 32
    path.write_text("short")
    with pytest.raises(ConfigError, match="16 to 4096 bytes"):
        read_secret_file(path)
    with pytest.raises(ConfigError, match="cannot read"):
        read_secret_file(tmp_path / "missing")
