"""Deploys, immutable versions, aliases and rollback against a real node."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from ramparts.registry.service import match_version
from ramparts.store import VersionRecord
from tests.conftest import RunningNode, make_app

MANIFEST = """
app: reg
functions:
  greet:
    handler: greet.py:handler
    triggers:
      - http: {method: GET, path: /greet, auth: none}
"""


def greet(word: str, delay: float = 0.0) -> str:
    return f"""
import time

def handler(event, context):
    if (event.get("queryStringParameters") or {{}}).get("slow"):
        time.sleep({delay})
    return {{"word": "{word}", "version": context.function_version}}
"""


def _app(root: Path, word: str, delay: float = 0.0) -> Path:
    return make_app(root, MANIFEST, {"greet.py": greet(word, delay)})


def test_versions_are_content_addressed(node: RunningNode, tmp_path: Path) -> None:
    app = _app(tmp_path / "a", "one")
    first = node.deploy_ok(app)["functions"][0]
    assert first["created"] is True
    again = node.deploy_ok(app)["functions"][0]
    assert again["version"] == first["version"]
    assert again["created"] is False and again["changed"] is False
    versions = node.control.get("/v1/functions/greet/versions").json()["versions"]
    assert len(versions) == 1

    _app(tmp_path / "a", "two")
    second = node.deploy_ok(app)["functions"][0]
    assert second["version"] != first["version"]
    assert second["created"] is True and second["previous"] == first["version"]
    assert node.gateway.get("/greet").json()["word"] == "two"

    # rollback moves live back atomically; the gateway follows
    r = node.control.post("/v1/functions/greet/rollback", json={})
    assert r.status_code == 200, r.text
    assert r.json()["to"] == first["version"]
    assert node.gateway.get("/greet").json() == {"word": "one", "version": first["version"]}
    # redeploying the newer code moves live forward again without a new version
    third = node.deploy_ok(app)["functions"][0]
    assert third["version"] == second["version"] and third["created"] is False
    assert len(node.control.get("/v1/functions/greet/versions").json()["versions"]) == 2


def test_alias_and_qualified_invoke(node: RunningNode, tmp_path: Path) -> None:
    app = _app(tmp_path / "b", "alpha")
    v1 = node.deploy_ok(app)["functions"][0]["version"]
    _app(tmp_path / "b", "beta")
    node.deploy_ok(app)
    r = node.control.put("/v1/functions/greet/aliases/stable", json={"version": v1[:12]})
    assert r.status_code == 200 and r.json()["version"] == v1
    r = node.control.post("/v1/functions/greet/invoke", json={"event": {}, "qualifier": "stable"})
    assert r.json()["result"]["word"] == "alpha"
    r = node.control.post("/v1/functions/greet/invoke", json={"event": {}})
    assert r.json()["result"]["word"] == "beta"
    r = node.control.put("/v1/functions/greet/aliases/stable", json={"version": "ffffffffffff"})
    assert r.status_code == 404 and r.json()["code"] == "version_not_found"


def test_in_flight_call_finishes_on_its_version(node: RunningNode, tmp_path: Path) -> None:
    app = _app(tmp_path / "c", "old", delay=1.5)
    old = node.deploy_ok(app)["functions"][0]["version"]
    result: dict[str, object] = {}

    def slow_call() -> None:
        result["body"] = node.gateway.get("/greet", params={"slow": "1"}).json()

    t = threading.Thread(target=slow_call)
    t.start()
    time.sleep(0.5)  # the slow call is now running on the old version
    _app(tmp_path / "c", "new", delay=1.5)
    new = node.deploy_ok(app)["functions"][0]["version"]
    assert node.gateway.get("/greet").json()["version"] == new
    t.join(timeout=10)
    assert result["body"] == {"word": "old", "version": old}


def test_import_error_refuses_deploy_and_changes_nothing(node: RunningNode, tmp_path: Path) -> None:
    app = _app(tmp_path / "d", "stable")
    live = node.deploy_ok(app)["functions"][0]["version"]
    (app / "greet.py").write_text("import no_such_module_xyz\n\ndef handler(e, c):\n    return 1\n")
    r = node.deploy(app)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "handler_import_failed"
    assert "no_such_module_xyz" in body["message"]
    assert str(node.data_dir) not in body["message"]
    assert node.gateway.get("/greet").json()["version"] == live
    (app / "greet.py").write_text("def handler(e, c:\n")
    r = node.deploy(app)
    assert r.status_code == 422 and "greet.py" in r.json()["message"]
    (app / "greet.py").write_text("def other(e, c):\n    return 1\n")
    r = node.deploy(app)
    assert r.status_code == 422
    assert node.gateway.get("/greet").json()["version"] == live


def test_bad_manifest_and_bad_archive_are_refused(node: RunningNode, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "e",
        """
        app: reg
        functions:
          greet:
            handler: greet.py:handler
            timout: 5s
            triggers:
              - schedule: {cron: "not a cron"}
        """,
        {"greet.py": greet("x")},
    )
    r = node.deploy(app)
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "invalid_manifest" and body["file"] == "ramparts.yaml"
    fields = {p["field"] for p in body["problems"]}
    assert "functions.greet.timout" in fields
    assert "functions.greet.triggers[0].schedule.cron" in fields
    r = node.control.post("/v1/deploy", content=b"not a tarball")
    assert r.status_code == 400 and r.json()["code"] == "invalid_archive"


def test_function_names_belong_to_one_app(node: RunningNode, tmp_path: Path) -> None:
    node.deploy_ok(_app(tmp_path / "f", "mine"))
    other = make_app(
        tmp_path / "g", MANIFEST.replace("app: reg", "app: other"), {"greet.py": greet("theirs")}
    )
    r = node.deploy(other)
    assert r.status_code == 409 and r.json()["code"] == "conflict"


def _wheel(root: Path, name: str, body: str) -> Path:
    import base64
    import hashlib
    import zipfile

    path = root / f"{name}-1.0-py3-none-any.whl"
    files = {
        f"{name}/__init__.py": body,
        f"{name}-1.0.dist-info/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{name}-1.0.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: test\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for fname, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{fname},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{name}-1.0.dist-info/RECORD,,")
    files[f"{name}-1.0.dist-info/RECORD"] = "\n".join(record) + "\n"
    with zipfile.ZipFile(path, "w") as zf:
        for fname, text in files.items():
            zf.writestr(fname, text)
    return path


DEPS_MANIFEST = """
app: deps
functions:
  with-dep:
    handler: a/main.py:handler
  without-dep:
    handler: b/main.py:handler
"""

IMPORTER = """
def handler(event, context):
    try:
        import tinydep
    except ImportError:
        return "missing"
    return tinydep.VALUE
"""


def test_requirements_are_installed_per_function(node: RunningNode, tmp_path: Path) -> None:
    app = make_app(tmp_path / "h", DEPS_MANIFEST, {"a/main.py": IMPORTER, "b/main.py": IMPORTER})
    _wheel(app / "a", "tinydep", "VALUE = 'from the wheel'\n")
    (app / "a" / "requirements.txt").write_text("./tinydep-1.0-py3-none-any.whl\n")
    node.deploy_ok(app)
    r = node.control.post("/v1/functions/with-dep/invoke", json={"event": {}})
    assert r.json()["result"] == "from the wheel"
    r = node.control.post("/v1/functions/without-dep/invoke", json={"event": {}})
    assert r.json()["result"] == "missing"  # nothing of other functions on its path


def test_failed_install_refuses_deploy(node: RunningNode, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "i",
        DEPS_MANIFEST.replace("app: deps", "app: deps2")
        .replace("with-dep", "broken-dep")
        .replace("without-dep", "ok-dep"),
        {"a/main.py": IMPORTER, "b/main.py": IMPORTER},
    )
    (app / "a" / "requirements.txt").write_text("./missing-1.0-py3-none-any.whl\n")
    r = node.deploy(app)
    assert r.status_code == 422
    assert r.json()["code"] == "dependency_install_failed"
    assert "pip" in r.json()["message"]
    assert node.control.get("/v1/functions/ok-dep/versions").status_code == 404


@pytest.mark.parametrize("qualifier", ["nope", "12"])
def test_unknown_function_or_version(node: RunningNode, qualifier: str) -> None:
    r = node.control.post("/v1/functions/does-not-exist/invoke", json={"event": {}})
    assert r.status_code == 404 and r.json()["code"] == "function_not_found"
    r = node.control.post("/v1/functions/greet/invoke", json={"event": {}, "qualifier": qualifier})
    assert r.status_code == 404


def _version(seq: int, vid: str) -> VersionRecord:
    return VersionRecord(function="f", version=vid, seq=seq, app="a", artifact="x",
                         requirements=None, config={}, created_at=0.0)


def test_an_all_digit_id_prefix_names_its_version() -> None:
    """Ids are hex: the 12-character prefix ``ramparts versions`` prints can be all digits."""
    first = _version(1, "764362646882" + "ab" * 26)
    second = _version(2, "a1b2c3d4e5f6" + "cd" * 26)
    versions = [first, second]
    assert match_version(versions, "764362646882") is first
    assert match_version(versions, "7643") is first
    assert match_version(versions, "2") is second  # a sequence number first
    assert match_version(versions, "1") is first
    assert match_version(versions, "A1B2") is second
    assert match_version(versions, "764") is None  # too short for a prefix
    assert match_version(versions, "9999") is None
