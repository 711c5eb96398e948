"""App archives: a small upload may not unpack into a huge artifact."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import pytest

from ramparts.errors import InvalidRequest
from ramparts.registry.artifacts import expansion_limit, pack_app, unpack_archive
from tests.conftest import RunningNode, make_app

MANIFEST = """
app: bomb
functions:
  bomb-fn:
    handler: main.py:handler
"""
HANDLER = "def handler(event, context):\n    return 'ok'\n"


def _bomb(padding: int) -> bytes:
    """A valid app whose ``pad.bin`` is ``padding`` zero bytes: tiny once gzipped."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(
        fileobj=gz, mode="w"
    ) as tar:
        for name, data in (("ramparts.yaml", MANIFEST.encode()), ("main.py", HANDLER.encode())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("pad.bin")
        info.size = padding

        class Zeros(io.RawIOBase):
            left = padding

            def readable(self) -> bool:
                return True

            def readinto(self, b: bytearray) -> int:  # type: ignore[override]
                n = min(len(b), self.left)
                b[:n] = bytes(n)
                self.left -= n
                return n

        tar.addfile(info, io.BufferedReader(Zeros()))
    return buf.getvalue()


def test_archive_bomb_is_refused_and_nothing_is_stored(node: RunningNode) -> None:
    archive = _bomb(64 * 1024 * 1024)
    assert len(archive) < 256 * 1024  # a small upload ...
    before = sorted(p.name for p in (node.data_dir / "artifacts").iterdir())
    r = node.control.post(
        "/v1/deploy", content=archive, headers={"content-type": "application/gzip"}
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "archive_too_large"
    assert "MiB" in body["message"] and str(node.data_dir) not in body["message"]
    assert node.control.get("/v1/functions/bomb-fn/versions").status_code == 404
    assert sorted(p.name for p in (node.data_dir / "artifacts").iterdir()) == before
    assert not list(node.data_dir.glob("deploy-*"))  # the unpack dir is gone too


def test_ordinary_app_still_deploys(node: RunningNode, tmp_path: Path) -> None:
    app = make_app(tmp_path / "fine", MANIFEST.replace("bomb", "fine"), {"main.py": HANDLER})
    # 4 MiB that gzip shrinks a thousandfold: under the floor, so the ratio does not apply
    (app / "blank.bin").write_bytes(bytes(4 * 1024 * 1024))
    node.deploy_ok(app)


def test_expansion_is_bounded_before_it_is_written(tmp_path: Path) -> None:
    archive = _bomb(expansion_limit(0) + 1024)
    with pytest.raises(InvalidRequest) as exc:
        unpack_archive(archive, tmp_path / "out")
    assert exc.value.code == "archive_too_large"
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
    # just under the floor is an ordinary app
    dest = tmp_path / "ok"
    dest.mkdir()
    unpack_archive(_bomb(1024 * 1024), dest)
    assert (dest / "pad.bin").stat().st_size == 1024 * 1024
    assert pack_app(dest)  # and it round-trips
