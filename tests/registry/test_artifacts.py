"""App archives: a small upload may not unpack into a huge artifact."""

from __future__ import annotations

import gzip
import io
import os
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
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


# -- crafted entry names (issue 11, F5 and F10) --------------------------------------------------
def _crafted(extra: str, fmt: int = tarfile.GNU_FORMAT) -> bytes:
    """A valid app plus one entry named ``extra`` (any bytes tarfile will write)."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(
        fileobj=gz, mode="w", format=fmt
    ) as tar:
        for name, data in (
            ("ramparts.yaml", MANIFEST.replace("bomb", "crafted").encode()),
            ("main.py", HANDLER.encode()),
            (extra, b"x = 1\n"),
        ):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def _node_log(node: RunningNode) -> str:
    path = node.data_dir.parent / f"node-{node.admin_port}.log"
    return path.read_text(errors="replace")


@pytest.mark.parametrize(
    "name",
    [
        "a/" * 2000 + "x.py",  # deep enough to exhaust tarfile's and makedirs' recursion
        "b" * 1100 + ".py",  # one name longer than any file system takes
        "bad\udcff\n.py",  # not UTF-8 (raw byte 0xff in a GNU header) and a newline
        "tab\there.py",  # a control character
        "/tmp/x/abs.py",  # absolute: refused, not silently made relative
        "../up.py",
    ],
    ids=["deep", "long", "not-utf8", "control-char", "absolute", "dotdot"],
)
def test_crafted_entry_names_are_refused_cleanly(node: RunningNode, name: str) -> None:
    before = sorted(p.name for p in (node.data_dir / "artifacts").iterdir())
    r = node.control.post(
        "/v1/deploy", content=_crafted(name), headers={"content-type": "application/gzip"}
    )
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "invalid_archive", body
    assert "Traceback" not in r.text and str(node.data_dir) not in r.text
    assert node.control.get("/v1/functions/crafted-fn/versions").status_code == 404
    assert sorted(p.name for p in (node.data_dir / "artifacts").iterdir()) == before
    assert not list(node.data_dir.glob("deploy-*"))
    assert "Traceback" not in _node_log(node)


def test_names_within_the_bounds_still_unpack(tmp_path: Path) -> None:
    ok = "d/" * 60 + "é.py"
    unpack_archive(_crafted(ok), tmp_path / "out")
    assert (tmp_path / "out" / ok).read_text() == "x = 1\n"


# -- a full disk is not a bad archive (issue 11, F7) ---------------------------------------------
@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 24 MiB tmpfs to hold a node's data dir, so it can run out of space."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root/CAP_SYS_ADMIN): {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_disk_is_storage_full_and_leaves_nothing(small_disk: Path, tmp_path: Path) -> None:
    node = RunningNode(small_disk / "data", {"RAMPARTS_GC_INTERVAL": "0"})
    (small_disk / "data").mkdir(mode=0o700)
    node.start()
    try:
        app = make_app(tmp_path / "full", MANIFEST.replace("bomb", "full"), {"main.py": HANDLER})
        (app / "noise.bin").write_bytes(os.urandom(2 * 1024 * 1024))  # incompressible
        before = sorted(p.name for p in (node.data_dir / "artifacts").iterdir())
        free = shutil.disk_usage(small_disk).free
        filler = small_disk / "filler"
        filler.write_bytes(bytes(free - 1024 * 1024))  # room for 1 MiB, not 2
        r = node.deploy(app)
        assert r.status_code == 503, r.text
        body = r.json()
        assert body["code"] == "storage_full", body
        assert str(node.data_dir) not in r.text and "Traceback" not in r.text
        assert sorted(p.name for p in (node.data_dir / "artifacts").iterdir()) == before
        assert not list(node.data_dir.glob("deploy-*"))
        assert not list((node.data_dir / "artifacts").glob(".tmp-*"))
        filler.unlink()
        node.deploy_ok(app)  # once there is room, the same upload deploys
    finally:
        node.close()
