"""Every file the node writes is owner-only, whatever the umask; key writes are atomic."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ramparts.errors import StorageError
from ramparts.files import tighten, write_private
from tests.conftest import RunningNode, make_app

MANIFEST = """
app: modes
functions:
  echo:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - http: {method: POST, path: /echo, auth: none}
      - topic: {name: things}
"""

HANDLER = """
def handler(event, context):
    context.kv.put("seen", context.aws_request_id, {"ok": True})
    return {"statusCode": 200, "body": "ok"}
"""

# Unpacked code and installed dependencies are read-only trees (0444/0555) that the
# sandboxed workers read under their own uids; the 0700 data dir keeps everyone else out.
CODE_TREES = ("artifacts", "deps", "runtime", "aws-runtime")  # aws-runtime: ramparts.aws


def _modes(data: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for root, dirs, files in os.walk(data):
        rel = Path(root).relative_to(data)
        if rel.parts and rel.parts[0] in CODE_TREES:
            dirs[:] = []
            continue
        for name in [*dirs, *files]:
            path = Path(root) / name
            if not path.is_symlink():
                found[str(path.relative_to(data))] = stat.S_IMODE(path.lstat().st_mode)
    return found


def test_every_file_is_owner_only_under_umask_022(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", MANIFEST, {"h.py": HANDLER})
    node = RunningNode(tmp_path / "data")
    node.command = lambda: [*RunningNode.command(node), "--tls", "self-signed"]  # type: ignore[method-assign]
    node.start(umask=0o022)
    try:
        node.deploy_ok(app)
        r = node.control.post("/v1/functions/echo/invoke", json={"event": {}})
        assert r.status_code == 200, r.text
        r = node.control.post("/v1/topics/things/publish", json={"message": {"n": 1}})
        assert r.status_code == 200, r.text
        node.wait_invocations("echo", 2, timeout=60)
        done = node.cli("secrets", "set", "s1", "--stdin", stdin="value-1")
        assert done.returncode == 0, done.stderr
        modes = _modes(node.data_dir)
        loose = {
            name: oct(mode)
            for name, mode in modes.items()
            if mode != (0o700 if (node.data_dir / name).is_dir() else 0o600)
        }
        assert not loose, loose
        for name in ("admin-token", "master.key", "state.db", "state.db-wal", "state.db-shm",
                     "bus.db", "bus.db-wal", "bus.db-shm", "bus.db.lock", "bus.db.accepted",
                     "tls/self-signed.key", "tls/self-signed.crt"):
            assert name in modes, f"{name} was not written: {sorted(modes)}"
        assert stat.S_IMODE(node.data_dir.stat().st_mode) == 0o700
        for tree in CODE_TREES:  # never writable by group or others
            for root, dirs, files in os.walk(node.data_dir / tree):
                for name in [*dirs, *files]:
                    path = Path(root) / name
                    if not path.is_symlink():
                        assert not stat.S_IMODE(path.lstat().st_mode) & 0o022, path
    finally:
        node.close()
    assert stat.S_IMODE((node.data_dir / "clean-stop").stat().st_mode) == 0o600


def test_loose_files_from_an_older_version_are_tightened(tmp_path: Path) -> None:
    RunningNode(tmp_path / "data").start().close()
    for name in ("state.db", "bus.db"):
        os.chmod(tmp_path / "data" / name, 0o644)
    node = RunningNode(tmp_path / "data").start()
    try:
        for name in ("state.db", "state.db-wal", "bus.db", "bus.db-wal"):
            assert stat.S_IMODE((node.data_dir / name).stat().st_mode) == 0o600, name
    finally:
        node.close()


def test_write_private_replaces_atomically_and_reports_the_cause(tmp_path: Path) -> None:
    target = tmp_path / "key"
    write_private(target, b"one")
    write_private(target, b"two")
    assert target.read_bytes() == b"two"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    with pytest.raises(StorageError, match="it appeared meanwhile"):
        write_private(target, b"three", exclusive=True)
    assert target.read_bytes() == b"two"
    with pytest.raises(StorageError, match=f"cannot write {tmp_path}/nope/key: No such file"):
        write_private(tmp_path / "nope" / "key", b"x")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["key"]  # no temp files left
    os.chmod(target, 0o664)
    tighten(target)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
