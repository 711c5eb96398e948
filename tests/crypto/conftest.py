"""Fixtures for the encryption tests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest

from tests.crypto.servers import TransitServer


@pytest.fixture()
def transit() -> Iterator[str]:
    """A running Transit server; yields the ``RAMPARTS_KMS_URL`` that points at it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), TransitServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"vault+http://127.0.0.1:{server.server_address[1]}/transit/ramparts"
    server.shutdown()
    server.server_close()
