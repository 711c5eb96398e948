"""Deploy-time installs against real nodes: what requirements.txt may make the node do.

Each node here installs from a local package index on 127.0.0.1 (a real HTTP
server) and never from anywhere else; an attacker's "other address" is a
second local server that records every request it gets.
"""

from __future__ import annotations

import http.server
import io
import sys
import tarfile
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ramparts.registry.artifacts import pack_app
from tests.conftest import RunningNode, make_app
from tests.registry.test_service import IMPORTER, _wheel
from tests.wheelhouse import IndexNode

MANIFEST = """
app: {app}
functions:
  {app}-fn:
    handler: a/main.py:handler
"""

REPORTER = """
def handler(event, context):
    import libdep
    return {"value": libdep.VALUE, "build": libdep.BUILD}
"""


def _backend(value: str, data_dir: Path, name: str = "libdep") -> str:
    """An in-tree PEP 517 backend: the package's own build code, run at install time."""
    return textwrap.dedent(
        f'''
        import base64, hashlib, os, zipfile

        def get_requires_for_build_wheel(config_settings=None):
            return []

        def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
            seen = {{
                "data_dir_visible": os.path.exists({str(data_dir)!r}),
                "node_env": sorted(k for k in os.environ if k.startswith("RAMPARTS")),
            }}
            files = {{
                "{name}/__init__.py": "VALUE = {value!r}\\nBUILD = " + repr(seen) + "\\n",
                "{name}-1.0.dist-info/METADATA":
                    "Metadata-Version: 2.1\\nName: {name}\\nVersion: 1.0\\n",
                "{name}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\\nGenerator: t\\n"
                    "Root-Is-Purelib: true\\nTag: py3-none-any\\n",
            }}
            record = []
            for fname, text in files.items():
                d = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
                record.append(f"{{fname}},sha256={{d.decode()}},{{len(text.encode())}}")
            record.append("{name}-1.0.dist-info/RECORD,,")
            files["{name}-1.0.dist-info/RECORD"] = "\\n".join(record) + "\\n"
            out = "{name}-1.0-py3-none-any.whl"
            with zipfile.ZipFile(os.path.join(wheel_directory, out), "w") as zf:
                for fname, text in files.items():
                    zf.writestr(fname, text)
            return out
        '''
    )


_PYPROJECT = """
[build-system]
requires = []
build-backend = "backend"
backend-path = ["."]
"""


def _source_tree(root: Path, value: str, data_dir: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(_PYPROJECT)
    (root / "backend.py").write_text(_backend(value, data_dir))
    return root


def _sdist(name: str, data_dir: Path) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for fname, text in {
            "pyproject.toml": _PYPROJECT,
            "backend.py": _backend("from the sdist", data_dir, name),
            "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{name}-1.0/{fname}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class _Index(http.server.BaseHTTPRequestHandler):
    """A PEP 503 simple index: ``files`` by name; every request recorded."""

    files: dict[str, bytes] = {}
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        type(self).hits.append(self.path)
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        body: bytes | None = None
        ctype = "text/html"
        if len(parts) == 2 and parts[0] == "simple":
            links = [f for f in self.files if f.split("-")[0] == parts[1].replace("-", "_")]
            if links:
                body = "".join(f'<a href="/files/{f}">{f}</a>\n' for f in links).encode()
        elif len(parts) == 2 and parts[0] == "files" and parts[1] in self.files:
            body, ctype = self.files[parts[1]], "application/octet-stream"
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def _serve(files: dict[str, bytes]) -> tuple[http.server.ThreadingHTTPServer, list[str]]:
    class Handler(_Index):
        pass

    Handler.files = files
    Handler.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, Handler.hits


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("index")
    files: dict[str, bytes] = {}
    server, hits = _serve(files)
    try:
        yield {"url": f"http://127.0.0.1:{server.server_address[1]}/simple/", "files": files,
               "hits": hits, "base": base}
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def wheels_node(index: dict[str, Any]) -> Iterator[RunningNode]:
    """The default: wheels only."""
    data = index["base"] / "wheels" / "data"
    data.parent.mkdir()
    index["files"]["sdistonly-1.0.tar.gz"] = _sdist("sdistonly", data)
    node = IndexNode(data, index["url"]).start()
    try:
        yield node
    finally:
        node.close()


@pytest.fixture(scope="module")
def builds_node(index: dict[str, Any]) -> Iterator[RunningNode]:
    data = index["base"] / "builds" / "data"
    data.parent.mkdir()
    node = IndexNode(data, index["url"], "--allow-source-builds").start()
    try:
        yield node
    finally:
        node.close()


@pytest.fixture()
def elsewhere() -> Iterator[tuple[int, list[str]]]:
    """Another address on this machine that an app's requirements might name."""
    server, hits = _serve({"evil-1.0-py3-none-any.whl": b"x"})
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def _deploy_accepting(node: RunningNode, app: Path) -> httpx.Response:
    """Deploy, accepting every blocking finding: the install-time checks must hold anyway."""
    r = node.deploy(app)
    if r.status_code != 422 or r.json().get("code") != "scan_failed":
        return r
    accept = [{"id": f["id"], "reason": "testing the install-time check"}
              for f in r.json()["findings"]]
    import base64

    body = {"archive": base64.b64encode(pack_app(app)).decode(), "accept_risk": accept}
    return node.control.post("/v1/deploy", json=body)


def _invoke(node: RunningNode, fn: str) -> Any:
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {}})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok", r.json()
    return r.json()["result"]


# -- the cache is keyed on content -------------------------------------------------------------
def test_two_apps_with_the_same_wheel_path_get_their_own_wheel(
    wheels_node: RunningNode, tmp_path: Path
) -> None:
    for app, value in (("same-a", "code of A"), ("same-b", "code of B")):
        root = make_app(tmp_path / app, MANIFEST.format(app=app), {"a/main.py": IMPORTER})
        _wheel(root / "a", "tinydep", f"VALUE = {value!r}\n")
        (root / "a" / "requirements.txt").write_text("./tinydep-1.0-py3-none-any.whl\n")
        wheels_node.deploy_ok(root)
    assert _invoke(wheels_node, "same-a-fn") == "code of A"
    assert _invoke(wheels_node, "same-b-fn") == "code of B"  # not A's install


def test_two_apps_with_the_same_source_path_get_their_own_code(
    builds_node: RunningNode, tmp_path: Path
) -> None:
    for app, value in (("lib-a", "lib of A"), ("lib-b", "lib of B")):
        root = make_app(tmp_path / app, MANIFEST.format(app=app), {"a/main.py": REPORTER})
        _source_tree(root / "a" / "lib", value, builds_node.data_dir)
        (root / "a" / "requirements.txt").write_text("./lib\n")
        r = _deploy_accepting(builds_node, root)
        assert r.status_code == 200, r.text
    assert _invoke(builds_node, "lib-a-fn")["value"] == "lib of A"
    assert _invoke(builds_node, "lib-b-fn")["value"] == "lib of B"


# -- what requirements.txt may not do -----------------------------------------------------------
SECRET = "s3cr3t-Value/never+shown=ok"


def test_include_outside_the_requirements_dir_is_refused_without_its_content(
    wheels_node: RunningNode, tmp_path: Path
) -> None:
    root = make_app(tmp_path / "inc", MANIFEST.format(app="inc"), {"a/main.py": IMPORTER})
    (root / "secret.txt").write_text(SECRET + "\n")
    (tmp_path / "outside.txt").write_text(SECRET + "\n")
    for line in ("-r ../secret.txt", f"-r {tmp_path / 'outside.txt'}", "-c ../secret.txt"):
        (root / "a" / "requirements.txt").write_text(line + "\n")
        gate = wheels_node.deploy(root)
        if str(tmp_path) in line:  # outside the app: the gate says so too; the rest only the node
            assert gate.status_code == 422 and gate.json()["code"] == "scan_failed", gate.text
        r = _deploy_accepting(wheels_node, root)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["code"] == "requirements_refused", body
        assert "a/requirements.txt:1" in body["message"]
        assert SECRET not in r.text and "s3cr3t" not in r.text
        assert str(wheels_node.data_dir) not in r.text
    assert wheels_node.control.get("/v1/functions/inc-fn/versions").status_code == 404


def test_constraints_outside_the_app_are_refused(
    wheels_node: RunningNode, tmp_path: Path
) -> None:
    root = make_app(tmp_path / "con", MANIFEST.format(app="con"), {"a/main.py": IMPORTER})
    (tmp_path / "constraints.txt").write_text(SECRET + "\n")
    (root / "a" / "requirements.txt").write_text(f"-c {tmp_path / 'constraints.txt'}\n")
    r = _deploy_accepting(wheels_node, root)
    assert r.status_code == 422 and r.json()["code"] == "requirements_refused", r.text
    assert "-c names a file outside" in r.json()["message"]
    assert SECRET not in r.text


@pytest.mark.parametrize(
    "line",
    [
        "--index-url http://127.0.0.1:{port}/simple/\ntinydep==1.0",
        "--extra-index-url http://127.0.0.1:{port}/simple/\ntinydep==1.0",
        "--find-links http://127.0.0.1:{port}/files/\nevil==1.0",
        "-f http://127.0.0.1:{port}/files/\nevil==1.0",
        "evil @ http://127.0.0.1:{port}/files/evil-1.0-py3-none-any.whl",
        "http://127.0.0.1:{port}/files/evil-1.0-py3-none-any.whl",
        "--trusted-host 127.0.0.1\ntinydep==1.0",
        "--index-url http://${{INDEX_HOST}}/simple/\ntinydep==1.0",
    ],
)
def test_other_addresses_are_refused_before_pip_runs(
    wheels_node: RunningNode, tmp_path: Path, elsewhere: tuple[int, list[str]], line: str
) -> None:
    port, hits = elsewhere
    root = make_app(tmp_path / "url", MANIFEST.format(app="url"), {"a/main.py": IMPORTER})
    (root / "a" / "requirements.txt").write_text(line.format(port=port) + "\n")
    gate = wheels_node.deploy(root)
    assert gate.status_code == 422 and gate.json()["code"] == "scan_failed", gate.text
    assert {f["rule_id"] for f in gate.json()["findings"]} == {"RP-D003"}
    r = _deploy_accepting(wheels_node, root)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "requirements_refused", r.text
    assert hits == []  # the node never asked the other address for anything


def test_the_nodes_own_index_may_be_named(
    wheels_node: RunningNode, index: dict[str, Any], tmp_path: Path
) -> None:
    root = make_app(tmp_path / "own", MANIFEST.format(app="own-idx"), {"a/main.py": IMPORTER})
    index["files"]["tinydep-1.0-py3-none-any.whl"] = _wheel(
        tmp_path, "tinydep", "VALUE = 'from the index'\n"
    ).read_bytes()
    (root / "a" / "requirements.txt").write_text(f"--index-url {index['url']}\ntinydep==1.0\n")
    wheels_node.deploy_ok(root)  # no finding blocks: the node's gate knows its own index
    assert _invoke(wheels_node, "own-idx-fn") == "from the index"


def test_local_source_build_is_refused_by_default(
    wheels_node: RunningNode, tmp_path: Path
) -> None:
    root = make_app(tmp_path / "src", MANIFEST.format(app="src"), {"a/main.py": REPORTER})
    _source_tree(root / "a" / "lib", "built", wheels_node.data_dir)
    (root / "a" / "requirements.txt").write_text("./lib\n")
    r = _deploy_accepting(wheels_node, root)
    assert r.status_code == 422 and r.json()["code"] == "requirements_refused", r.text
    assert "--allow-source-builds" in r.json()["message"]
    assert not list((wheels_node.data_dir / "deps").glob("*/libdep"))


def test_sdist_only_requirement_is_refused_by_default(
    wheels_node: RunningNode, tmp_path: Path
) -> None:
    root = make_app(tmp_path / "sd", MANIFEST.format(app="sd"), {"a/main.py": IMPORTER})
    (root / "a" / "requirements.txt").write_text("sdistonly==1.0\n")
    r = wheels_node.deploy(root)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "dependency_install_failed", r.text
    assert "wheels only" in r.json()["message"]
    assert not list((wheels_node.data_dir / "deps").glob("*/sdistonly"))


def test_source_builds_when_allowed_run_in_the_sandbox(
    builds_node: RunningNode, tmp_path: Path
) -> None:
    root = make_app(tmp_path / "ok", MANIFEST.format(app="built"), {"a/main.py": REPORTER})
    _source_tree(root / "a" / "lib", "built in the sandbox", builds_node.data_dir)
    (root / "a" / "requirements.txt").write_text("./lib\n")
    r = _deploy_accepting(builds_node, root)
    assert r.status_code == 200, r.text
    out = _invoke(builds_node, "built-fn")
    assert out["value"] == "built in the sandbox"
    # the build code ran where the node's data dir and environment are out of sight
    assert out["build"] == {"data_dir_visible": False, "node_env": []}


# -- a node without the sandbox --------------------------------------------------------------------
_NO_NAMESPACES = (
    "import os, sys; from ramparts.sandbox import seccomp; seccomp.install_filter(); "
    "os.execv(sys.executable, [sys.executable, '-m', 'ramparts.cli.main', *sys.argv[1:]])"
)


class _DegradedNode(RunningNode):
    def command(self) -> list[str]:
        return [sys.executable, "-c", _NO_NAMESPACES, *super().command()[3:],
                "--allow-degraded-sandbox"]


def test_degraded_node_does_not_print_its_master_key(tmp_path: Path) -> None:
    """Without the sandbox pip would read the data dir: ``-r ../master.key`` is refused."""
    node = _DegradedNode(tmp_path / "data").start()
    try:
        key = (node.data_dir / "master.key").read_text().strip()
        root = make_app(
            tmp_path / "leak",
            "app: leak\nfunctions:\n  leak-fn:\n    handler: main.py:handler\n",
            {"main.py": IMPORTER},
        )
        (root / "requirements.txt").write_text("-r ../master.key\n")
        r = _deploy_accepting(node, root)
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "requirements_refused", r.text
        assert key not in r.text and key[:12] not in r.text
    finally:
        node.close()
