"""Handler strings as Lambda writes them, loaded by the zygote on a real node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.runtime.zygote import HandlerLoadError, parse_handler
from tests.conftest import RunningNode, make_app


@pytest.mark.parametrize(
    ("handler", "expected"),
    [
        ("app.lambda_handler", ("app", "lambda_handler", "app.py")),
        ("src/app.lambda_handler", ("src.app", "lambda_handler", "src/app.py")),
        ("src/orders/create.handler", ("src.orders.create", "handler", "src/orders/create.py")),
        ("orders.create.handler", ("orders.create", "handler", "orders/create.py")),
        ("src/app.py:handler", ("src.app", "handler", "src/app.py")),
    ],
)
def test_handler_forms(handler: str, expected: tuple[str, str, str]) -> None:
    assert parse_handler(handler) == expected


@pytest.mark.parametrize(
    "handler",
    [
        "/abs/app.handler",
        "../up.handler",
        "src/.handler",
        "a-b/app.handler",
        "app",
        "src//app.handler",
    ],
)
def test_bad_handler_strings(handler: str) -> None:
    from ramparts.errors import ManifestError
    from ramparts.manifest import parse_manifest

    with pytest.raises(HandlerLoadError):
        parse_handler(handler)
    with pytest.raises(ManifestError) as exc:
        parse_manifest({"app": "a", "functions": {"f": {"handler": handler}}})
    assert "functions.f.handler" in str(exc.value)


MANIFEST = """
app: handlers
functions:
  sam-style:
    handler: hello_world/app.lambda_handler
  nested:
    handler: src/orders/create.handler
"""


@pytest.fixture(scope="module")
def hnode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("handlers")
    node = RunningNode(base / "data")
    node.start()
    try:
        yield node
    finally:
        node.close()


def test_dir_module_function_handlers_deploy_and_run(hnode: RunningNode, tmp_path: Path) -> None:
    files = {
        # as `sam init` lays out its hello-world template
        "hello_world/__init__.py": "",
        "hello_world/app.py": """
            import json

            def lambda_handler(event, context):
                return {"statusCode": 200, "body": json.dumps({"message": "hello world"})}
            """,
        "src/orders/create.py": """
            from src.orders.util import tag

            def handler(event, context):
                return tag(event)
            """,
        "src/orders/util.py": "def tag(e):\n    return {'tagged': e}\n",
    }
    hnode.deploy_ok(make_app(tmp_path / "app", MANIFEST, files))
    r = hnode.control.post("/v1/functions/sam-style/invoke", json={"event": {}})
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    assert r.json()["result"]["statusCode"] == 200
    r = hnode.control.post("/v1/functions/nested/invoke", json={"event": {"n": 1}})
    assert r.status_code == 200 and r.json()["result"] == {"tagged": {"n": 1}}, r.text


def test_missing_handler_file_is_named(tmp_path: Path) -> None:
    manifest = "app: h2\nfunctions:\n  f:\n    handler: src/nothere.handler\n"
    app = make_app(tmp_path / "app", manifest, {"other.py": ""})
    out = RunningNode(tmp_path / "data").cli("deploy", str(app))
    assert out.returncode != 0
    assert "functions.f.handler" in out.stderr + out.stdout
    assert "src/nothere.py" in out.stderr + out.stdout


SHADOW_MANIFEST = """
app: shadows
functions:
  colon-form:
    handler: h.py:handler
  dotted-form:
    handler: src/h.handler
"""
# The attack (adversarial review 2, F1): the manifest names h.py, which the gate
# checks; a package h/ next to it is what `import h` would load.  (The review's package
# read any file the caller named; the gate now reports that code too, as it ships, so
# here the package only says that it ran.)
_SHADOW_PACKAGE = """
def _impl(req, ctx):
    return {"ran": "the shadow package"}

handler = _impl
"""


def test_package_beside_the_handler_file_never_runs(hnode: RunningNode, tmp_path: Path) -> None:
    files = {
        "h.py": "def handler(event, context):\n    return {'ran': 'h.py'}\n",
        "h/__init__.py": _SHADOW_PACKAGE,
        "src/__init__.py": "",
        "src/h.py": "def handler(event, context):\n    return {'ran': 'src/h.py'}\n",
        "src/h/__init__.py": _SHADOW_PACKAGE,
    }
    hnode.deploy_ok(make_app(tmp_path / "app", SHADOW_MANIFEST, files))
    for fn, ran in (("colon-form", "h.py"), ("dotted-form", "src/h.py")):
        r = hnode.control.post(
            f"/v1/functions/{fn}/invoke", json={"event": {"body": "/etc/hostname"}}
        )
        assert r.status_code == 200 and r.json()["status"] == "ok", r.text
        assert r.json()["result"] == {"ran": ran}, r.text


def test_module_file_beside_a_namespace_directory_is_refused(
    hnode: RunningNode, tmp_path: Path
) -> None:
    manifest = "app: h3\nfunctions:\n  f:\n    handler: lib/h.py:handler\n"
    files = {
        "lib/h.py": "def handler(event, context):\n    return 1\n",
        # `import lib` would load this file, not the directory lib/ (no __init__.py)
        "lib.py": "raise SystemExit('shadow ran')\n",
    }
    r = hnode.deploy(make_app(tmp_path / "app", manifest, files))
    assert r.status_code == 422, r.text
    assert "ambiguous package 'lib'" in r.text and "shadow ran" not in r.text
