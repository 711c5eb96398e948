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


_LIMITS_APP = """
app: limited
{top}
functions:
  f:
    handler: h.py:handler
{fn}
    triggers:
      - http: {{method: POST, path: /c, auth: none{trigger}}}
"""


def _limits_app(tmp_path: Path, top: str = "", fn: str = "", trigger: str = "") -> Path:
    return make_app(
        tmp_path,
        _LIMITS_APP.format(top=top, fn=fn, trigger=trigger),
        {"h.py": "def handler(e, c):\n    return {}\n"},
    )


def test_dos_sections_load_and_are_carried_only_when_set(tmp_path: Path) -> None:
    m = load_manifest(
        _limits_app(
            tmp_path,
            top="waf: {mode: detect, deny: [10.0.0.0/8, '2001:db8::/32'], "
            "limits: {body_bytes: 64Ki},\n"
            "  exclusions: [{route: POST /c, field: $.comment, rules: [xss]}]}\n"
            "app_limits: {concurrency: 5, budget: {invocations_per_day: 100}}",
            fn="    budget: {invocations_per_hour: 10, compute_seconds_per_hour: 60}",
            trigger=", rate: [10/second, 1000/hour], rate_key: ip, waf: off",
        )
    )
    http = m.functions["f"].triggers[0].http
    assert http.rates == ["10/second", "1000/hour"] and http.rate_key == "ip"
    assert http.waf == "off"
    assert m.functions["f"].budget.invocations_per_hour == 10
    stored = m.app_config()
    assert stored["waf"]["limits"] == {"body_bytes": 65536}
    assert stored["app_limits"] == {"concurrency": 5, "budget": {"invocations_per_day": 100}}
    # An app that sets neither section stores nothing: its version ids stay as they were.
    assert load_manifest(_limits_app(tmp_path / "plain")).app_config() is None


@pytest.mark.parametrize(
    ("where", "text", "says"),
    [
        ("trigger", ", rate: 10/fortnight", "is not a rate such as 100/minute"),
        ("trigger", ", rate: 0/second", "is not a rate"),
        ("trigger", ", rate: []", "one to five limits"),
        ("trigger", ", rate_key: cookie", "rate_key"),
        ("trigger", ", waf: maybe", "waf"),
        ("fn", "    budget: {}", "a budget sets at least one of"),
        ("fn", "    budget: {invocations_per_day: 0}", "budget.invocations_per_day"),
        ("fn", "    budget: {invocations_per_week: 5}", "invocations_per_week"),
        ("top", "app_limits: {concurrency: 0}", "app_limits.concurrency"),
        ("top", "waf: {deny: [10.0.0.300/8]}", "is not an IP address or CIDR block"),
        ("top", "waf: {allow: ['example.com']}", "is not an IP address or CIDR block"),
        ("top", "waf: {methods: [GET, BREW]}", "'BREW' is not one of"),
        ("top", "waf: {limits: {body_bytes: lots}}", "is not a size such as 64Ki"),
        ("top", "waf: {mode: block, threshold: 0}", "waf.threshold"),
        ("top", "waf: {exclusions: [{route: '*', feild: $.x}]}", "feild"),
    ],
)
def test_bad_dos_sections_name_the_field(tmp_path: Path, where: str, text: str, says: str) -> None:
    with pytest.raises(ManifestError) as err:
        load_manifest(_limits_app(tmp_path, **{where: text}))
    assert says in str(err.value)
