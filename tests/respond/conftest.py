"""The node the incident-response end-to-end tests share: behind a local reverse proxy.

Detections and playbook steps act on the client address, so these tests send
``X-Forwarded-For`` from loopback and the node must trust it.  ``proxied_node``
starts such a node with one app deployed and closes it when the module ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app


class ProxiedNode(RunningNode):
    """A node that trusts X-Forwarded-For from loopback (as behind a local reverse proxy)."""

    def command(self) -> list[str]:
        return [*super().command(), "--forwarded-allow-ips", "127.0.0.1"]


StartNode = Callable[..., tuple[RunningNode, Path]]


@pytest.fixture(scope="module")
def proxied_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StartNode]:
    """``start(name, manifest, files, env=None)``: a started ProxiedNode and its app folder.

    The app (``manifest`` and ``files``) is deployed before it is returned; every
    node started this way is closed after the module's last test.
    """
    started: list[RunningNode] = []

    def start(
        name: str, manifest: str, files: dict[str, str], env: dict[str, str] | None = None
    ) -> tuple[RunningNode, Path]:
        base = tmp_path_factory.mktemp(name)
        running = ProxiedNode(base / "data", env or {}).start()
        started.append(running)
        app = make_app(base / "app", manifest, files)
        running.deploy_ok(app)
        return running, app

    try:
        yield start
    finally:
        for running in started:
            running.close()
