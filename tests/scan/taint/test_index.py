"""The per-file index (``index.py``): imports, definitions, instances, consumers."""

from __future__ import annotations

from pathlib import Path

from ramparts.scan.source import load_tree
from ramparts.scan.taint import index, sources


def _index(tmp_path: Path, rel: str, code: str) -> index.ModuleIndex:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(code)
    sf = next(f for f in load_tree(tmp_path).python if f.rel == rel)
    return index.build(sf, sources.SOURCE_WORDS, sources.SOURCE_GLOBALS)


def test_imports_resolve_relative_and_aliased_names(tmp_path: Path) -> None:
    mod = _index(tmp_path, "pkg/sub/app.py", (
        "import os.path\nimport subprocess as sp\nfrom . import helpers\n"
        "from ..store import Repo as R\nfrom flask import request\n"))
    assert mod.aliases == {"os": "os", "sp": "subprocess", "helpers": "pkg.sub.helpers",
                           "R": "pkg.store.Repo", "request": "flask.request"}
    assert mod.imported_roots == {"os", "subprocess", "pkg", "flask"}


def test_definitions_instances_and_consumers(tmp_path: Path) -> None:
    mod = _index(tmp_path, "app.py", (
        "from flask import request\nimport nats\n"
        "REPO = Repo('db')\n"
        "class Repo:\n    engine = Engine()\n    def find(self):\n        return 1\n"
        "def view():\n    return request.args\n"
        "def plain():\n    return 1\n"
        "async def on_msg(msg):\n    pass\n"
        "async def main(nc):\n    await nc.subscribe('orders', cb=on_msg)\n"))
    assert set(mod.functions) == {"view", "plain", "on_msg", "main"}
    assert set(mod.classes["Repo"].methods) == {"find"}
    assert set(mod.classes["Repo"].attrs) == {"engine"} and set(mod.instances) == {"REPO"}
    assert mod.callbacks == {"on_msg"}
    assert mod.reads_sources(mod.functions["view"])
    assert not mod.reads_sources(mod.functions["plain"])
