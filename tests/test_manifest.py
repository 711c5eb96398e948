"""Loading ``ramparts.yaml``: hostile YAML is a manifest error naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.errors import ManifestError
from ramparts.manifest import load_manifest
from tests.conftest import RunningNode, make_app

DEEP = """
app: deep
functions:
  deep-fn:
    handler: main.py:handler
    environment: {nest}
""".format(nest="[" * 5000)
HANDLER = "def handler(event, context):\n    return 'ok'\n"


def test_deeply_nested_yaml_is_a_manifest_error(tmp_path: Path) -> None:
    app = make_app(tmp_path / "deep", DEEP, {"main.py": HANDLER})
    with pytest.raises(ManifestError) as exc:
        load_manifest(app, display_name="ramparts.yaml")
    assert exc.value.file == "ramparts.yaml" and "nested" in exc.value.message


def test_deploy_of_deeply_nested_yaml_is_refused_cleanly(node: RunningNode, tmp_path: Path) -> None:
    before = sorted(p.name for p in (node.data_dir / "artifacts").iterdir())
    r = node.deploy(make_app(tmp_path / "deep", DEEP, {"main.py": HANDLER}))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "invalid_manifest" and body["file"] == "ramparts.yaml", body
    assert "Traceback" not in r.text
    assert node.control.get("/v1/functions/deep-fn/versions").status_code == 404
    assert sorted(p.name for p in (node.data_dir / "artifacts").iterdir()) == before
    log = (node.data_dir.parent / f"node-{node.admin_port}.log").read_text(errors="replace")
    assert "Traceback" not in log and "RecursionError" not in log
