"""Deploy-time installs run inside the sandbox, not as the node.

``pip install --target`` for an app's requirements.txt runs in a one-shot
sandbox: no data dir, its own uid on a root node, and egress only to the
configured package index through the host's egress gateway.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app
from tests.registry.test_service import IMPORTER, _wheel

MANIFEST = """
app: {app}
functions:
  {app}-fn:
    handler: a/main.py:handler
"""


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def local_index() -> Iterator[tuple[int, list[str]]]:
    class Recorder(_Recorder):
        hits: list[str] = []

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], Recorder.hits
    finally:
        server.shutdown()
        server.server_close()


def test_local_wheel_installs_in_the_sandbox(node: RunningNode, tmp_path: Path) -> None:
    app = make_app(tmp_path / "ok", MANIFEST.format(app="inst-ok"), {"a/main.py": IMPORTER})
    _wheel(app / "a", "tinydep", "VALUE = 'sandboxed install'\n")
    (app / "a" / "requirements.txt").write_text("./tinydep-1.0-py3-none-any.whl\n")
    node.deploy_ok(app)
    r = node.control.post("/v1/functions/inst-ok-fn/invoke", json={"event": {}})
    assert r.json()["result"] == "sandboxed install"
    installed = list((node.data_dir / "deps").glob("*/tinydep/__init__.py"))
    assert installed and oct(installed[0].stat().st_mode & 0o777) == "0o444"
    assert (
        installed[0].stat().st_uid == 0 or installed[0].stat().st_uid == node.data_dir.stat().st_uid
    )


def test_requirements_cannot_reach_another_index(
    node: RunningNode, tmp_path: Path, local_index: tuple[int, list[str]]
) -> None:
    port, hits = local_index
    app = make_app(tmp_path / "idx", MANIFEST.format(app="inst-idx"), {"a/main.py": IMPORTER})
    (app / "a" / "requirements.txt").write_text(
        f"--index-url http://127.0.0.1:{port}/simple/\ntinydep-not-there==1.0\n"
    )
    r = node.deploy(app)
    assert r.status_code == 422, r.text
    # The gate refuses it (RP-D003); with the risk accepted the registry refuses it before
    # pip runs (tests/registry/test_deps.py); the sandbox's egress is the last line.
    assert r.json()["code"] == "scan_failed"
    assert {f["rule_id"] for f in r.json()["findings"]} == {"RP-D003"}
    assert hits == []  # the node never fetched from the address the app named


def test_requirements_cannot_read_the_data_dir(node: RunningNode, tmp_path: Path) -> None:
    key = (node.data_dir / "master.key").read_text().strip()
    app = make_app(tmp_path / "key", MANIFEST.format(app="inst-key"), {"a/main.py": IMPORTER})
    (app / "a" / "requirements.txt").write_text(f"-r {node.data_dir / 'master.key'}\n")
    r = node.deploy(app)
    assert r.status_code == 422, r.text
    assert key not in r.text
    assert key[:16] not in r.text


def test_requirements_beside_the_manifest_install(node: RunningNode, tmp_path: Path) -> None:
    """requirements.txt at the app's root: the deploy's own temp dir is what gets bound."""
    app = make_app(
        tmp_path / "root",
        """
        app: inst-root
        functions:
          inst-root-fn:
            handler: main.py:handler
        """,
        {"main.py": IMPORTER.replace("tinydep", "rootdep")},
    )
    _wheel(app, "rootdep", "VALUE = 'from the root'\n")
    (app / "requirements.txt").write_text("./rootdep-1.0-py3-none-any.whl\n")
    node.deploy_ok(app)
    r = node.control.post("/v1/functions/inst-root-fn/invoke", json={"event": {}})
    assert r.json()["result"] == "from the root"
