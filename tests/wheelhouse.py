"""Third-party wheels for test apps, from PyPI once, then from a local index.

Test apps written the way AWS documents them import libraries such as
aws-lambda-powertools.  ``wheelhouse`` downloads the wheels once into
``.venv/wheelhouse`` (ignored, reused across runs) and ``serve_index`` serves
that directory as a PEP 503 simple index on 127.0.0.1, the index a node is
started with (``ramparts up --package-index URL``).  Tests skip, saying why,
when PyPI cannot be reached and the wheels are not cached yet.
"""

from __future__ import annotations

import hashlib
import http.server
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO, RunningNode

CACHE = REPO / ".venv" / "wheelhouse"


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def wheelhouse(*requirements: str) -> Path:
    """The directory holding wheels for ``requirements`` (and their dependencies)."""
    key = hashlib.sha256("\n".join(sorted(requirements)).encode()).hexdigest()[:16]
    marker = CACHE / f".done-{key}"
    if marker.exists():
        return CACHE
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--only-binary", ":all:",
         "--dest", str(CACHE), *requirements],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot download {', '.join(requirements)} from PyPI: {done.stderr[-300:]}")
    marker.write_text("\n".join(requirements))
    return CACHE


class _Index(http.server.BaseHTTPRequestHandler):
    root: Path = CACHE

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        parts = [p for p in self.path.split("?")[0].split("/") if p]
        body: bytes | None = None
        ctype = "text/html"
        if len(parts) == 2 and parts[0] == "simple":
            wanted = _normalize(parts[1])
            links = [
                f.name for f in sorted(self.root.glob("*.whl"))
                if _normalize(f.name.split("-", 1)[0]) == wanted
            ]
            if links:
                body = "".join(f'<a href="/files/{n}">{n}</a>\n' for n in links).encode()
        elif len(parts) == 2 and parts[0] == "files" and "/" not in parts[1]:
            path = self.root / parts[1]
            if path.is_file() and path.suffix == ".whl":
                body, ctype = path.read_bytes(), "application/octet-stream"
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


def serve_index(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``root``'s wheels as a simple index; returns the server and its URL."""

    class Handler(_Index):
        pass

    Handler.root = root
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/simple/"


class IndexNode(RunningNode):
    """A node whose package index is a local server, with extra ``ramparts up`` flags."""

    def __init__(self, data_dir: Path, index: str, *flags: str) -> None:
        super().__init__(data_dir)
        self.flags = ["--package-index", index, *flags]

    def command(self) -> list[str]:
        return [*super().command(), *self.flags]
