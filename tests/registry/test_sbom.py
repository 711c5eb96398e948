"""Per-version SBOMs on a real node: what they list, how they are read, and tampering.

Each app installs a small wheel it ships (``requirements.txt`` names the
file), so the node's real ``pip --target`` install is what the SBOM reads.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from tests.conftest import RunningNode, make_app
from tests.registry.test_service import _wheel

MANIFEST = """
app: {app}
functions:
  {fn}:
    handler: a/main.py:handler
"""
HANDLER = """
def handler(event, context):
    import {dep}
    return {dep}.VALUE
"""


def deps_app(root: Path, app: str, fn: str, *deps: str) -> Path:
    """An app whose function installs the wheels ``deps`` (each version 1.0) it ships."""
    path = make_app(root, MANIFEST.format(app=app, fn=fn), {"a/main.py": HANDLER.format(
        dep=deps[0] if deps else "json")})
    for dep in deps:
        _wheel(path / "a", dep, f"VALUE = {dep!r}\n")
    if deps:
        (path / "a" / "requirements.txt").write_text(
            "".join(f"./{d}-1.0-py3-none-any.whl\n" for d in deps)
        )
    return path


@pytest.fixture(scope="module")
def sbom_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("sbom")
    node = RunningNode(base / "data", {"RAMPARTS_ADVISORIES": "off",
                                       "RAMPARTS_ADVISORY_CHECK_INTERVAL": "0"}).start()
    try:
        yield node
    finally:
        node.close()


def sbom(node: RunningNode, fn: str, **params: str) -> dict[str, Any]:
    r = node.control.get(f"/v1/functions/{fn}/sbom", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


def test_the_sbom_validates_and_lists_what_was_installed(
    sbom_node: RunningNode, tmp_path: Path
) -> None:
    app = deps_app(tmp_path / "a", "bom", "bom-fn", "alphadep", "betadep")
    version = sbom_node.deploy_ok(app)["functions"][0]["version"]
    doc = sbom(sbom_node, "bom-fn")
    assert JsonStrictValidator(SchemaVersion.V1_5).validate_str(json.dumps(doc)) is None
    assert doc["bomFormat"] == "CycloneDX" and doc["specVersion"] == "1.5"
    meta = doc["metadata"]["component"]
    assert (meta["type"], meta["name"], meta["version"]) == ("application", "bom/bom-fn", version)
    assert meta["hashes"][0]["alg"] == "SHA-256" and len(meta["hashes"][0]["content"]) == 64
    libs = {c["name"]: c for c in doc["components"]}
    assert set(libs) == {"alphadep", "betadep"}
    for name in ("alphadep", "betadep"):
        comp = libs[name]
        assert comp["version"] == "1.0"
        assert comp["purl"] == f"pkg:pypi/{name}@1.0"
        wheel = app / "a" / f"{name}-1.0-py3-none-any.whl"
        assert comp["hashes"] == [
            {"alg": "SHA-256", "content": hashlib.sha256(wheel.read_bytes()).hexdigest()}
        ]
        assert {"name": "ramparts:hash-source", "value": "wheel"} in comp["properties"]
    # pip's report (its URLs could name a private index) is not kept in the install
    assert not list((sbom_node.data_dir / "deps").glob("*/.pip-report.json"))


def test_without_pips_report_the_record_file_is_hashed(tmp_path: Path) -> None:
    """An install made before reports were kept: the RECORD pip wrote is the evidence."""
    import subprocess
    import sys

    from ramparts.registry.sbom import installed_packages

    wheel = _wheel(tmp_path, "iotadep", "VALUE = 1\n")
    target = tmp_path / "target"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps",
                    "--no-index", "--target", str(target), str(wheel)], check=True)
    (pkg,) = installed_packages(target)
    record = target / "iotadep-1.0.dist-info" / "RECORD"
    assert (pkg.name, pkg.version, pkg.hash_source) == ("iotadep", "1.0", "record")
    assert pkg.sha256 == hashlib.sha256(record.read_bytes()).hexdigest()


def test_a_version_without_requirements_lists_only_the_app(
    sbom_node: RunningNode, tmp_path: Path
) -> None:
    sbom_node.deploy_ok(deps_app(tmp_path / "n", "bare", "bare-fn"))
    doc = sbom(sbom_node, "bare-fn")
    assert doc["metadata"]["component"]["name"] == "bare/bare-fn"
    assert doc.get("components", []) == []


def test_versions_sbom_prints_the_live_or_the_named_version(
    sbom_node: RunningNode, tmp_path: Path
) -> None:
    first = sbom_node.deploy_ok(deps_app(tmp_path / "v1", "cli", "cli-fn", "gammadep"))
    second = sbom_node.deploy_ok(deps_app(tmp_path / "v2", "cli", "cli-fn", "deltadep"))
    v1, v2 = first["functions"][0]["version"], second["functions"][0]["version"]
    live = sbom_node.cli("versions", "cli-fn", "--sbom")
    assert live.returncode == 0, live.stderr
    doc = json.loads(live.stdout)
    assert doc["metadata"]["component"]["version"] == v2
    assert [c["name"] for c in doc["components"]] == ["deltadep"]
    for qualifier in (v1[:12], "1", "#1"):
        old = sbom_node.cli("versions", "cli-fn", "--sbom", "--version", qualifier)
        assert old.returncode == 0, old.stderr
        assert json.loads(old.stdout)["metadata"]["component"]["version"] == v1
    assert json.loads(old.stdout) == sbom(sbom_node, "cli-fn", version=v1)


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("versions", "no-such-fn", "--sbom"), "function_not_found"),
        (("versions", "cli-none", "--sbom", "--version", "ffffffffffff"), "not found"),
        (("versions", "cli-none", "--version", "1"), "--version goes with --sbom"),
        (("versions", "cli-none", "--sbom", "--version", "../x"), "invalid_argument"),
    ],
)
def test_bad_sbom_requests_exit_non_zero_naming_why(
    sbom_node: RunningNode, args: tuple[str, ...], words: str
) -> None:
    done = sbom_node.cli(*args)
    assert done.returncode != 0
    assert words in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_bad_sbom_api_requests_answer_stable_codes(
    sbom_node: RunningNode, tmp_path: Path
) -> None:
    sbom_node.deploy_ok(deps_app(tmp_path / "q", "api", "api-fn"))
    cases = [
        ("/v1/functions/nope/sbom", {}, 404, "function_not_found"),
        ("/v1/functions/api-fn/sbom", {"version": "abcdef0123"}, 404, "version_not_found"),
        ("/v1/functions/api-fn/sbom", {"version": "a/../b"}, 400, "invalid_argument"),
        ("/v1/functions/api-fn/sbom", {"version": "x" * 200}, 400, "invalid_argument"),
    ]
    for path, params, status, code in cases:
        r = sbom_node.control.get(path, params=params)
        assert (r.status_code, r.json()["code"]) == (status, code), (path, params, r.text)
    r = sbom_node.control.get("/v1/functions/api-fn/sbom", headers={"authorization": "Bearer x"})
    assert r.status_code == 401


def _db(node: RunningNode) -> sqlite3.Connection:
    return sqlite3.connect(node.data_dir / "state.db")


def test_an_edited_sbom_is_refused_and_audited(sbom_node: RunningNode, tmp_path: Path) -> None:
    sbom_node.deploy_ok(deps_app(tmp_path / "t", "tamper", "tamper-fn", "epsilondep"))
    doc = sbom(sbom_node, "tamper-fn")
    # Hide the package from every later advisory check: the attack the digest stops.
    doc["components"] = []
    forged = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    with _db(sbom_node) as db:
        changed = db.execute(
            "UPDATE version_sboms SET document = ? WHERE function = 'tamper-fn'", (forged,)
        ).rowcount
    assert changed == 1
    r = sbom_node.control.get("/v1/functions/tamper-fn/sbom")
    assert (r.status_code, r.json()["code"]) == (409, "sbom_tampered")
    cli = sbom_node.cli("versions", "tamper-fn", "--sbom")
    assert cli.returncode != 0 and "sbom_tampered" in cli.stderr
    denials = [
        e for e in sbom_node.audit()
        if e["kind"] == "registry.verify" and e["decision"] == "deny"
        and e["resource"] == "function:tamper-fn"
    ]
    assert denials and denials[-1]["detail"]["reason"] == "sbom_tampered"


def test_a_record_pointing_at_another_sbom_fails_its_signature(
    sbom_node: RunningNode, tmp_path: Path
) -> None:
    sbom_node.deploy_ok(deps_app(tmp_path / "s", "swap", "swap-fn", "zetadep"))
    doc = sbom(sbom_node, "swap-fn")
    doc["components"] = []
    forged = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    # Both the document and the digest in the version row: only the signature can tell.
    with _db(sbom_node) as db:
        db.execute("UPDATE version_sboms SET document = ? WHERE function = 'swap-fn'", (forged,))
        db.execute(
            "UPDATE versions SET sbom = ? WHERE function = 'swap-fn'",
            (hashlib.sha256(forged).hexdigest(),),
        )
    r = sbom_node.control.get("/v1/functions/swap-fn/sbom")
    assert (r.status_code, r.json()["code"]) == (409, "version_signature_invalid")


def test_garbage_collection_drops_a_collected_versions_sbom(
    sbom_node: RunningNode, tmp_path: Path
) -> None:
    old = sbom_node.deploy_ok(deps_app(tmp_path / "g1", "gcd", "gcd-fn", "etadep"))
    sbom_node.deploy_ok(deps_app(tmp_path / "g2", "gcd", "gcd-fn", "thetadep"))
    old_version = old["functions"][0]["version"]

    def rows() -> set[str]:
        with _db(sbom_node) as db:
            return {r[0] for r in db.execute(
                "SELECT version FROM version_sboms WHERE function = 'gcd-fn'")}

    assert old_version in rows() and len(rows()) == 2
    r = sbom_node.control.post("/v1/gc", json={"retention": 0})
    assert r.status_code == 200, r.text
    assert old_version not in rows() and len(rows()) == 1
    assert sbom(sbom_node, "gcd-fn")["components"][0]["name"] == "thetadep"


def test_what_the_signature_covers_keeps_older_signatures_valid() -> None:
    from ramparts.errors import VersionIntegrityError
    from ramparts.registry import signing
    from ramparts.registry.sbom import verify_sbom
    from ramparts.store import VersionRecord

    rec = VersionRecord("f", "a" * 64, 1, "app", "b" * 64, None, {"handler": "h.py:h"}, 0.0)
    assert b'"sbom"' not in signing.payload(rec)  # a version from before SBOMs: unchanged
    with_sbom = VersionRecord(**{**rec.__dict__, "sbom": "c" * 64})
    assert b'"sbom":"' + b"c" * 64 + b'"' in signing.payload(with_sbom)
    with pytest.raises(VersionIntegrityError) as info:
        verify_sbom(rec, None)
    assert info.value.code == "sbom_not_found"
    with pytest.raises(VersionIntegrityError) as info:
        verify_sbom(with_sbom, b"{}")
    assert info.value.code == "sbom_tampered"
