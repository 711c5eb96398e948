"""Garbage collection of unaliased versions, by hand (``ramparts gc``) and by the node."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app
from tests.registry.test_service import _wheel

MANIFEST = """
app: {app}
functions:
  {app}-fn:
    handler: main.py:handler
"""


def _handler(word: str) -> str:
    return f"def handler(event, context):\n    return {word!r}\n"


def _deploy(node: RunningNode, root: Path, app: str, word: str) -> str:
    make_app(root, MANIFEST.format(app=app), {"main.py": _handler(word)})
    return str(node.deploy_ok(root)["functions"][0]["version"])


def _versions(node: RunningNode, fn: str) -> list[str]:
    r = node.control.get(f"/v1/functions/{fn}/versions")
    assert r.status_code == 200, r.text
    return [v["version"] for v in r.json()["versions"]]


def _artifact_dirs(node: RunningNode) -> set[str]:
    return {p.name for p in (node.data_dir / "artifacts").iterdir() if not p.name.startswith(".")}


@pytest.fixture(scope="module")
def quiet_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """Default retention (7 days) and no automatic run during the test."""
    base = tmp_path_factory.mktemp("gc")
    node = RunningNode(base / "data", {"RAMPARTS_GC_INTERVAL": "0"}).start()
    try:
        yield node
    finally:
        node.close()


def test_gc_removes_unaliased_versions_after_retention_only(
    quiet_node: RunningNode, tmp_path: Path
) -> None:
    node, root, fn = quiet_node, tmp_path / "app", "keep-fn"
    v1 = _deploy(node, root, "keep", "one")
    v2 = _deploy(node, root, "keep", "two")
    v3 = _deploy(node, root, "keep", "three")
    r = node.control.put(f"/v1/functions/{fn}/aliases/stable", json={"version": v1})
    assert r.status_code == 200, r.text
    dirs = _artifact_dirs(node)
    assert len(dirs) >= 3

    # within the retention (the node's default, 7 days): nothing goes
    out = node.cli("gc", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["versions"] == []
    assert _versions(node, fn) == [v1, v2, v3]

    # past it: only v2, which no alias points to; v1 (stable) and v3 (live) stay
    out = node.cli("gc", "--retention", "0")
    assert out.returncode == 0, out.stderr
    assert "1 version(s)" in out.stdout and v2[:12] in out.stdout
    assert _versions(node, fn) == [v1, v3]
    left = _artifact_dirs(node)
    assert len(left) == len(dirs) - 1 and left < dirs
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {}})
    assert r.json()["result"] == "three"
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {}, "qualifier": "stable"})
    assert r.json()["result"] == "one"
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {}, "qualifier": v2})
    assert r.status_code == 404  # gone, not half there

    events = [e for e in node.audit() if e["kind"] == "registry.gc"]
    assert len(events) == 2 and all(e["principal"] == "admin" for e in events)
    assert events[-1]["detail"]["removed"] == {f"{fn}:{v2[:12]}": 2}

    # redeploying the collected code makes it again
    again = _deploy(node, root, "keep", "two")
    assert again == v2 and _versions(node, fn) == [v1, v3, v2]


def test_gc_refuses_a_bad_retention(quiet_node: RunningNode) -> None:
    for bad in (-1, "soon", True):
        r = quiet_node.control.post("/v1/gc", json={"retention": bad})
        assert r.status_code == 400 and r.json()["code"] == "invalid_argument", r.text
    out = quiet_node.cli("gc", "--retention", "-5")
    assert out.returncode != 0 and "--retention" in (out.stderr + out.stdout)
    assert "Traceback" not in out.stderr


def test_the_node_collects_on_its_own(tmp_path: Path) -> None:
    node = RunningNode(
        tmp_path / "data", {"RAMPARTS_VERSION_RETENTION": "2", "RAMPARTS_GC_INTERVAL": "0.5"}
    ).start()
    try:
        fn = "auto-fn"
        old = _deploy(node, tmp_path / "app", "auto", "old")
        new = _deploy(node, tmp_path / "app", "auto", "new")
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and old in _versions(node, fn):
            time.sleep(0.5)
        assert _versions(node, fn) == [new]
        events = [e for e in node.audit() if e["kind"] == "registry.gc"]
        assert events and events[0]["principal"].startswith("node:")
        assert f"{fn}:{old[:12]}" in events[0]["detail"]["removed"]
        r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {}})
        assert r.json()["result"] == "new"  # the live version is never collected
    finally:
        node.close()


DEPS_MANIFEST = """
app: depgc
functions:
  depgc-fn:
    handler: a/main.py:handler
"""
IMPORTER = "def handler(event, context):\n    import tinydep\n    return tinydep.VALUE\n"


def _deps_dirs(node: RunningNode) -> set[str]:
    return {p.name for p in (node.data_dir / "deps").iterdir() if not p.name.startswith(".")}


def test_one_run_removes_the_installs_of_the_versions_it_deletes(
    quiet_node: RunningNode, tmp_path: Path
) -> None:
    """Issue 11 F9: warm zygotes of deleted versions no longer keep their installs alive."""
    node, fn = quiet_node, "depgc-fn"
    before = _deps_dirs(node)
    for word in ("one", "two", "three"):
        root = make_app(tmp_path / word, DEPS_MANIFEST, {"a/main.py": IMPORTER})
        _wheel(root / "a", "tinydep", f"VALUE = {word!r}\n")
        (root / "a" / "requirements.txt").write_text("./tinydep-1.0-py3-none-any.whl\n")
        node.deploy_ok(root)
        r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {}})
        assert r.json()["result"] == word, r.text  # its zygote is warm
    assert len(_deps_dirs(node) - before) == 3

    out = node.cli("gc", "--retention", "0", "--json")
    assert out.returncode == 0, out.stderr
    assert len(_versions(node, fn)) == 1
    assert len(_deps_dirs(node) - before) == 1  # in this one run, not the next
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {}})
    assert r.json()["result"] == "three"  # the live version's install is kept
