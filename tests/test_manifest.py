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


_TABLES_APP = """\
app: shop
tables:
{tables}
functions:
  f: {{handler: h.py:handler}}
"""


def test_tables_declare_key_schemas(tmp_path: Path) -> None:
    tables = (
        "  orders: {partition_key: pk, sort_key: {name: sk, type: N}}\n  plain: {partition_key: id}"
    )
    make_app(tmp_path, _TABLES_APP.format(tables=tables), {"h.py": "def handler(e, c): pass\n"})
    m = load_manifest(tmp_path)
    assert (m.tables["orders"].partition_key.name, m.tables["orders"].partition_key.type) == (
        "pk",
        "S",
    )
    assert (m.tables["orders"].sort_key.name, m.tables["orders"].sort_key.type) == ("sk", "N")
    assert m.tables["plain"].sort_key is None


@pytest.mark.parametrize(
    ("tables", "says"),
    [
        ("  orders: {partition_key: pk, sort_key: pk}", "sort_key must name another attribute"),
        ("  orders: {partition_key: {name: pk, type: SS}}", "tables.orders.partition_key.type"),
        ("  orders: {sort_key: sk}", "tables.orders.partition_key"),
        ("  'bad/name': {partition_key: pk}", "table name"),
    ],
)
def test_bad_table_schemas_name_the_field(tmp_path: Path, tables: str, says: str) -> None:
    make_app(tmp_path, _TABLES_APP.format(tables=tables), {"h.py": "def handler(e, c): pass\n"})
    with pytest.raises(ManifestError) as err:
        load_manifest(tmp_path)
    assert says in str(err.value)
