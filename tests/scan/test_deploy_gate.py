"""The gate at deploy time, against a real ``ramparts up`` node.

The node is the enforcement point: a raw archive POSTed to the control API
is scanned there too, whatever the client did.  The node runs with
``RAMPARTS_ADVISORIES`` pointing at the shared OSV snapshot (when present)
so the dependency check never needs the network.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ramparts.registry.artifacts import pack_app
from ramparts.scan.baseline import today
from tests.conftest import OSV_SNAPSHOT, REPO, RunningNode, make_app
from tests.scan.apps import (
    CLEAN_HANDLER,
    VULN_HANDLER,
    VULN_LINE,
    clean_app,
    manifest,
    vulnerable_app,
)

SNAPSHOT = OSV_SNAPSHOT


@pytest.fixture(scope="module")
def gate_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("gate")
    env = {"RAMPARTS_ADVISORIES": str(SNAPSHOT) if SNAPSHOT.is_dir() else "off"}
    node = RunningNode(base / "data", env).start()
    try:
        yield node
    finally:
        node.close()


def functions(node: RunningNode) -> set[str]:
    return {f["name"] for f in node.control.get("/v1/functions").json()["functions"]}


def audit_of(node: RunningNode, kind: str) -> list[dict[str, Any]]:
    return [e for e in node.audit() if e["kind"] == kind]


def test_a_high_finding_refuses_the_deploy_on_the_node(gate_node: RunningNode,
                                                       tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app", app="raw", path="/raw")
    r = gate_node.deploy(app)  # the raw archive: no client-side scan happened
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["code"] == "scan_failed"
    found = {(f["rule_id"], f["path"], f["line"], f["severity"]) for f in body["findings"]}
    assert ("RP-T002", "h.py", VULN_LINE, "high") in found
    assert ("B605", "h.py", VULN_LINE, "high") in found
    assert all(len(f["id"]) == 12 for f in body["findings"])
    assert str(gate_node.data_dir) not in r.text and "/deploy-" not in r.text  # no server paths
    assert "raw-fn" not in functions(gate_node)  # nothing deployed
    denied = audit_of(gate_node, "scan.gate")[-1]
    assert denied["decision"] == "deny" and denied["resource"] == "app:raw"
    assert {b["rule_id"] for b in denied["detail"]["blocking"]} == {"RP-T002", "B605"}


def test_the_cli_refuses_before_uploading(gate_node: RunningNode, tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app", app="cli", path="/cli")
    before = len(audit_of(gate_node, "scan.gate"))
    done = gate_node.cli("deploy", str(app), "--offline")
    assert done.returncode == 1
    text = " ".join(done.stderr.split())
    assert "RP-T002" in text and "nothing was uploaded" in text and "Traceback" not in text
    assert len(audit_of(gate_node, "scan.gate")) == before  # the node never saw it
    assert "cli-fn" not in functions(gate_node)


def test_accept_risk_needs_a_reason(gate_node: RunningNode, tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app", app="noreason", path="/noreason")
    done = gate_node.cli("deploy", str(app), "--offline", "--accept-risk", "0123456789ab")
    assert done.returncode == 2
    assert "--accept-risk needs --reason" in done.stderr
    # and the node refuses a request that tries it without the CLI
    r = gate_node.control.post("/v1/deploy", json={
        "archive": base64.b64encode(pack_app(app)).decode(),
        "accept_risk": [{"id": "0123456789ab"}],
    })
    assert r.status_code == 400 and r.json()["code"] == "reason_required"
    assert "noreason-fn" not in functions(gate_node)


def test_accepted_risks_deploy_and_are_audited(gate_node: RunningNode, tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app", app="accepted", path="/accepted")
    refused = gate_node.deploy(app).json()
    ids = [f["id"] for f in refused["findings"]]
    args = ["deploy", str(app), "--offline", "--json"]
    for fid in ids:
        args += ["--accept-risk", fid]
    done = gate_node.cli(*args, "--reason", "internal tool: the name is checked by the WAF")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["scan"]["passed"] is True
    assert sorted(a["id"] for a in report["scan"]["accepted"]) == sorted(ids)
    assert "accepted-fn" in functions(gate_node)
    events = {e["detail"]["id"]: e for e in audit_of(gate_node, "scan.risk_accepted")}
    for fid in ids:
        e = events[fid]
        assert e["decision"] == "allow" and e["resource"] == "app:accepted"
        assert e["detail"]["reason"] == "internal tool: the name is checked by the WAF"
        assert e["detail"]["source"] == "accept-risk"
        assert e["detail"]["rule"] in ("RP-T002", "B605")
        assert e["detail"]["claimed_actor"] and "actor" not in e["detail"]
    assert audit_of(gate_node, "scan.gate")[-1]["decision"] == "allow"


def test_the_apps_baseline_is_honoured_on_the_node(gate_node: RunningNode, tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app", app="based", path="/based")
    ids = [f["id"] for f in gate_node.deploy(app).json()["findings"]]
    baseline = app / ".ramparts-baseline.json"
    expired = (today() - timedelta(days=1)).isoformat()
    baseline.write_text(json.dumps({"version": 1, "accepted": [
        {"id": i, "reason": "legacy admin tool", "expires": expired} for i in ids]}))
    r = gate_node.deploy(app)
    assert r.status_code == 422  # expired entries no longer suppress
    assert any("expired on" in n for n in r.json()["notes"])
    future = (today() + timedelta(days=30)).isoformat()
    baseline.write_text(baseline.read_text().replace(expired, future))
    r = gate_node.deploy(app)
    assert r.status_code == 200, r.text
    accepted = {e["detail"]["id"]: e["detail"] for e in audit_of(gate_node, "scan.risk_accepted")}
    assert accepted[ids[0]]["source"] == "baseline:.ramparts-baseline.json"
    assert accepted[ids[0]]["expires"] == future


def test_a_baseline_from_outside_the_app_travels_with_the_cli(gate_node: RunningNode,
                                                              tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app", app="outside", path="/outside")
    ids = [f["id"] for f in gate_node.deploy(app).json()["findings"]]
    bl = tmp_path / "team-baseline.yaml"
    soon = (today() + timedelta(days=60)).isoformat()
    bl.write_text("accepted:\n" + "".join(
        f'  - id: "{i}"\n    reason: reviewed in SEC-42\n    expires: {soon}\n' for i in ids))
    done = gate_node.cli("deploy", str(app), "--offline", "--baseline", str(bl))
    assert done.returncode == 0, done.stderr
    assert "outside-fn" in functions(gate_node)
    bad = tmp_path / "bad.json"
    bad.write_text('{"accepted": [{"id": "0123456789ab", "reason": "r"}]}')
    done = gate_node.cli("deploy", str(app), "--offline", "--baseline", str(bad))
    assert done.returncode == 2
    assert "bad.json: accepted[0].expires" in " ".join(done.stderr.split())


def test_a_clean_app_deploys_without_accepting_anything(gate_node: RunningNode,
                                                        tmp_path: Path) -> None:
    done = gate_node.cli("deploy", str(clean_app(tmp_path / "app")), "--json")
    assert done.returncode == 0, done.stderr
    scan = json.loads(done.stdout)["scan"]
    assert scan["passed"] and scan["accepted"] == []


def test_the_example_app_deploys_cleanly(gate_node: RunningNode) -> None:
    done = gate_node.cli("deploy", str(REPO / "examples" / "orders"), "--offline", "--json")
    assert done.returncode == 0, done.stderr
    scan = json.loads(done.stdout)["scan"]
    assert scan["passed"] and scan["counts"]["high"] == 0 and scan["accepted"] == []


@pytest.mark.skipif(not SNAPSHOT.is_dir(), reason=f"the shared OSV snapshot is not at {SNAPSHOT}")
def test_a_vulnerable_dependency_is_refused_with_its_fixed_version(gate_node: RunningNode,
                                                                   tmp_path: Path) -> None:
    app = make_app(tmp_path / "dep", """
        app: dep
        functions:
          dep-fn:
            handler: h.py:handler
            timeout: 5s
            triggers:
              - http: {method: GET, path: /dep, auth: api_key}
        """, {"h.py": "def handler(event, context):\n    return {'statusCode': 200}\n",
              "requirements.txt": "jinja2==2.10\n"})
    r = gate_node.deploy(app)
    assert r.status_code == 422, r.text
    deps = [f for f in r.json()["findings"] if f["rule_id"] == "RP-D001"]
    assert deps and all(f["path"] == "requirements.txt" and f["line"] == 1 for f in deps)
    assert any("upgrade jinja2 to 2.10.1" in f["remediation"] for f in deps)
    assert "dep-fn" not in functions(gate_node)


# -- fail closed: what the scan cannot read refuses the deploy; what it leaves out is listed
EXCLUDE = "scan:\n  exclude: ['vendor/**']\n"


def test_unparsable_code_refuses_the_deploy_on_the_node(gate_node: RunningNode,
                                                        tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", manifest("garbage", "/garbage"),
                   {"h.py": CLEAN_HANDLER, "lib.py": "x = 1\ndef broken(:\n    pass\n"})
    r = gate_node.deploy(app)  # the raw archive: the node's own gate decides
    assert r.status_code == 422, r.text
    body = r.json()
    (g,) = [f for f in body["findings"] if f["rule_id"] == "RP-G001"]
    assert (g["path"], g["line"], g["severity"]) == ("lib.py", 2, "high")
    assert "does not parse" in g["message"]
    assert "garbage-fn" not in functions(gate_node)
    denied = audit_of(gate_node, "scan.gate")[-1]
    assert denied["decision"] == "deny" and denied["resource"] == "app:garbage"
    assert {b["rule_id"] for b in denied["detail"]["blocking"]} == {"RP-G001"}


def test_exclusions_are_listed_in_the_deploy_report_and_its_audit_event(
    gate_node: RunningNode, tmp_path: Path
) -> None:
    app = make_app(tmp_path / "app", manifest("excl", "/excl") + EXCLUDE,
                   {"h.py": CLEAN_HANDLER, "vendor/tool.py": VULN_HANDLER})
    (app / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    done = gate_node.cli("deploy", str(app), "--offline", "--json")
    assert done.returncode == 0, done.stderr  # the vulnerable vendor file was excluded
    report = {g["reason"]: g for g in json.loads(done.stdout)["scan"]["excluded"]}
    assert report["excluded by scan.exclude 'vendor/**'"]["paths"] == ["vendor/tool.py"]
    assert report["binary data: not text, no scanner reads it"]["paths"] == ["logo.png"]
    allowed = audit_of(gate_node, "scan.gate")[-1]
    assert allowed["decision"] == "allow" and allowed["resource"] == "app:excl"
    audited = {g["reason"]: g for g in allowed["detail"]["excluded"]}
    assert audited == report
    assert "excl-fn" in functions(gate_node)
    # a refused deploy lists them too: in its 422 answer and its deny audit event
    (app / "h.py").write_text(VULN_HANDLER)
    r = gate_node.deploy(app)
    assert r.status_code == 422, r.text
    assert {g["reason"]: g for g in r.json()["excluded"]} == report
    denied = audit_of(gate_node, "scan.gate")[-1]
    assert denied["decision"] == "deny" and denied["resource"] == "app:excl"
    assert {g["reason"]: g for g in denied["detail"]["excluded"]} == report


# -- F0: the node scans exactly what it installs: an archive holding what the packer never ships
def _raw_archive(files: dict[str, bytes]) -> bytes:
    """A hand-built tar.gz, the way ``tar czf`` makes one: directory entries included."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        dirs = sorted({"/".join(n.split("/")[:i])
                       for n in files for i in range(1, n.count("/") + 1)})
        for d in dirs:
            info = tarfile.TarInfo(d)
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
            tar.addfile(info)
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


HELPER_IMPORTER = b"""
import os, sys
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".mypy_cache"))
from helper import run
def handler(event, context):
    return {"out": run(event.get("host", "x"))}
"""
HIDDEN_HELPER = b'import os\ndef run(h):\n    return os.popen("echo " + h).read()\n'


@pytest.mark.parametrize("hidden", [
    ".mypy_cache/helper.py", "node_modules/helper.py", ".venv/helper.py", ".git/helper.py",
    "__pycache__/helper.py", "sub/.pytest_cache/helper.py", "evil.pyc", "lib/evil.pyo",
])
def test_an_archive_entry_the_packer_never_ships_refuses_the_deploy(
    gate_node: RunningNode, hidden: str
) -> None:
    app = f"hid{abs(hash(hidden)) % 10_000}"
    data = _raw_archive({
        "ramparts.yaml": manifest(app, f"/{app}").encode(),
        "h.py": HELPER_IMPORTER,
        hidden: HIDDEN_HELPER,
    })
    r = gate_node.control.post("/v1/deploy", content=data)
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["code"] == "unshipped_entries"
    assert hidden in body["entries"] and "h.py" not in body["entries"]
    assert hidden in body["message"]
    assert f"{app}-fn" not in functions(gate_node)
    denied = audit_of(gate_node, "scan.gate")[-1]
    assert denied["decision"] == "deny" and denied["resource"] == "app:?"
    assert denied["detail"]["unshipped"] == body["entries"]


def test_a_hand_built_archive_with_directory_entries_still_deploys(gate_node: RunningNode) -> None:
    data = _raw_archive({
        "ramparts.yaml": manifest("handmade", "/handmade").encode(),
        "h.py": CLEAN_HANDLER.encode(),
        "lib/util.py": b"X = 1\n",
    })
    r = gate_node.control.post("/v1/deploy", content=data)
    assert r.status_code == 200, r.text
    assert "handmade-fn" in functions(gate_node)


def test_code_too_deep_for_the_parser_is_refused_with_a_finding_not_a_500(
    gate_node: RunningNode, tmp_path: Path
) -> None:
    deep = "def handler(event, context):\n    x = event['a']" + " + event['a']" * 5000 + "\n"
    app = make_app(tmp_path / "app", manifest("deep", "/deep"), {"h.py": deep})
    r = gate_node.deploy(app)
    assert r.status_code == 422, r.text
    (g,) = [f for f in r.json()["findings"] if f["rule_id"] == "RP-G001"]
    assert g["path"] == "h.py" and "nested too deeply" in g["message"]
    assert "deep-fn" not in functions(gate_node)
    denied = audit_of(gate_node, "scan.gate")[-1]
    assert denied["decision"] == "deny" and denied["resource"] == "app:deep"


# -- review 2: bad YAML values, mislabelled baseline entries, a forged actor -------------
def test_bad_yaml_dates_are_field_errors_and_audited_not_a_500(
    gate_node: RunningNode, tmp_path: Path
) -> None:
    app = clean_app(tmp_path / "m", app="baddate", path="/baddate")
    (app / "ramparts.yaml").write_text(
        (app / "ramparts.yaml").read_text().replace("timeout: 5s", "timeout: 2026-13-45"))
    before = len(audit_of(gate_node, "scan.gate"))
    r = gate_node.deploy(app)
    assert 400 <= r.status_code < 500, r.text
    assert "functions.baddate-fn.timeout" in r.text and "Traceback" not in r.text
    done = gate_node.cli("scan", str(app), "--offline")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "functions.baddate-fn.timeout" in " ".join(done.stderr.split())

    app = clean_app(tmp_path / "b", app="badexp", path="/badexp")
    (app / ".ramparts-baseline.yaml").write_text(
        "accepted:\n  - id: 0123456789ab\n    reason: ok\n    expires: 2026-13-45\n")
    r = gate_node.deploy(app)
    assert r.status_code == 400 and r.json()["code"] == "invalid_baseline", r.text
    assert "accepted[0].expires" in r.json()["message"]
    (app / ".ramparts-baseline.yaml").write_text("[" * 5000 + "]" * 5000 + "\n")
    r = gate_node.deploy(app)
    assert r.status_code == 400 and r.json()["code"] == "invalid_baseline", r.text
    assert "nested too deeply" in r.json()["message"]
    denied = audit_of(gate_node, "scan.gate")[before:]
    assert len(denied) >= 2 and all(e["decision"] == "deny" for e in denied)


def test_a_baseline_entrys_labels_must_match_the_finding(
    gate_node: RunningNode, tmp_path: Path
) -> None:
    app = vulnerable_app(tmp_path / "app", app="labels", path="/labels")
    finding = next(f for f in gate_node.deploy(app).json()["findings"]
                   if f["rule_id"] == "RP-T002")
    soon = (today() + timedelta(days=5)).isoformat()
    (app / ".ramparts-baseline.json").write_text(json.dumps({"accepted": [
        {"id": finding["id"], "rule": "RP-M005", "path": "other.py:1", "reason": "x",
         "expires": soon}]}))
    r = gate_node.deploy(app)
    assert r.status_code == 400 and r.json()["code"] == "invalid_baseline", r.text
    assert f"entry {finding['id']}.rule: says RP-M005" in r.json()["message"]
    done = gate_node.cli("scan", str(app), "--offline")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "RP-M005" in done.stderr


def test_the_claimed_actor_is_recorded_escaped(gate_node: RunningNode, tmp_path: Path) -> None:
    app = vulnerable_app(tmp_path / "app", app="forged", path="/forged")
    ids = [f["id"] for f in gate_node.deploy(app).json()["findings"]]
    body = {"archive": base64.b64encode(pack_app(app)).decode(), "actor": "eve\u001b[31m\nforged",
            "accept_risk": [{"id": i, "reason": "reviewed"} for i in ids]}
    r = gate_node.control.post("/v1/deploy", json=body)
    assert r.status_code == 200, r.text
    events = [e for e in audit_of(gate_node, "scan.risk_accepted")
              if e["resource"] == "app:forged"]
    assert {e["detail"]["id"] for e in events} == set(ids)
    for e in events:
        assert e["detail"]["claimed_actor"] == "eve\\x1b[31m\\nforged"
        assert "actor" not in e["detail"]
    gate = audit_of(gate_node, "scan.gate")[-1]
    assert gate["detail"]["claimed_actor"] == "eve\\x1b[31m\\nforged"


def test_a_deep_table_beside_a_finding_is_rp_g004_on_the_node_not_a_500(
    gate_node: RunningNode, tmp_path: Path
) -> None:
    # review 2, F11: the finding-scope walk recursed: 500 internal_error, no audit event
    deep = ("import os\n\nTABLE = 1" + " + 1" * 1500 + "\n\n\ndef handler(event, context):\n"
            "    return {'statusCode': 200, 'body': os.popen(event['body']).read()}\n")
    app = make_app(tmp_path / "app", manifest("deeptable", "/deeptable"), {"h.py": deep})
    r = gate_node.deploy(app)
    assert r.status_code == 422, r.text
    assert "RP-G004" in {f["rule_id"] for f in r.json()["findings"]}
    denied = audit_of(gate_node, "scan.gate")[-1]
    assert denied["decision"] == "deny" and denied["resource"] == "app:deeptable"
