"""Re-checking live versions' SBOMs against the node's advisory source, on real nodes.

The advisory source is a small OSV directory each test writes (records shaped
like pypa/advisory-database's), planted after the deploy: the deploy gate saw
nothing, the re-check must.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningNode, free_port
from tests.registry.test_sbom import deps_app

UNRELATED = {
    "id": "TEST-0000-0001",
    "summary": "an advisory for a package no test app installs",
    "affected": [{"package": {"ecosystem": "PyPI", "name": "not-installed-anywhere"},
                  "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}]}],
}


def plant(directory: Path, adv_id: str, package: str, fixed: str = "1.1") -> None:
    """An OSV record: ``package`` below ``fixed`` is affected, rated HIGH (GHSA style)."""
    record = {
        "id": adv_id,
        "summary": f"{package} lets a remote attacker in",
        "aliases": ["CVE-2026-0001"],
        "affected": [{
            "package": {"ecosystem": "PyPI", "name": package},
            "ranges": [{"type": "ECOSYSTEM",
                        "events": [{"introduced": "0"}, {"fixed": fixed}]}],
        }],
        "database_specific": {"severity": "HIGH"},
    }
    (directory / package).mkdir(parents=True, exist_ok=True)
    (directory / package / f"{adv_id}.json").write_text(json.dumps(record))


def advisory_dir(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "UNRELATED.json").write_text(json.dumps(UNRELATED))
    return root


def events(node: RunningNode, kind: str, match: Callable[[dict[str, Any]], bool] = lambda e: True
           ) -> list[dict[str, Any]]:
    return [e for e in node.audit() if e["kind"] == kind and match(e)]


def wait_for(what: Callable[[], Any], timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"not seen within {timeout}s")


@pytest.fixture(scope="module")
def adv_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return advisory_dir(tmp_path_factory.mktemp("osv") / "vulns")


@pytest.fixture(scope="module")
def check_node(tmp_path_factory: pytest.TempPathFactory, adv_root: Path) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("adv")
    node = RunningNode(base / "data", {"RAMPARTS_ADVISORIES": str(adv_root),
                                       "RAMPARTS_ADVISORY_CHECK_INTERVAL": "0",
                                       "COLUMNS": "200"}).start()  # the CLI's table width
    try:
        yield node
    finally:
        node.close()


def test_a_planted_advisory_is_found_once_and_reported_as_new_once(
    check_node: RunningNode, adv_root: Path, tmp_path: Path
) -> None:
    version = check_node.deploy_ok(deps_app(tmp_path / "a", "vuln", "vuln-fn", "plantdep"))[
        "functions"][0]["version"]
    plant(adv_root, "TEST-2026-0042", "plantdep")
    first = check_node.cli("advisories", "check", "--json")
    assert first.returncode == 1, first.stderr  # a known advisory affects a live version
    data = json.loads(first.stdout)
    mine = [h for h in data["hits"] if h["function"] == "vuln-fn"]
    assert [(h["version"], h["package"], h["installed"], h["advisory"], h["severity"],
             h["fixed_in"], h["new"]) for h in mine] == [
        (version, "plantdep", "1.0", "TEST-2026-0042", "high", "1.1", True)]
    assert data["unavailable"] is None and str(adv_root) in data["source"]
    again = check_node.cli("advisories", "check")
    assert again.returncode == 1
    table = again.stdout.replace("\n", " ")
    for words in ("vuln-fn", version[:12], "plantdep 1.0", "TEST-2026-0042", "high", "1.1"):
        assert words in table, words
    mine_again = [h for h in json.loads(check_node.cli("advisories", "check", "--json").stdout)[
        "hits"] if h["function"] == "vuln-fn"]
    assert [h["new"] for h in mine_again] == [False]
    detected = events(check_node, "advisory.detected",
                      lambda e: e["resource"] == f"function:vuln-fn:{version[:12]}")
    assert len(detected) == 1  # three checks, one event
    detail = detected[0]["detail"]
    assert (detail["advisory"], detail["package"], detail["installed"], detail["fixed_in"]) == (
        "TEST-2026-0042", "plantdep", "1.0", "1.1")
    # The shipped rule turns it into an alert.
    alerts = wait_for(lambda: [
        a for a in check_node.control.get("/v1/alerts").json()["alerts"]
        if a["rule"] == "advisory-hits-live-version" and "vuln-fn" in a["group"]])
    assert alerts[0]["severity"] == "high"


def test_a_version_that_is_no_longer_live_is_not_checked(
    check_node: RunningNode, adv_root: Path, tmp_path: Path
) -> None:
    old = check_node.deploy_ok(deps_app(tmp_path / "o", "moved", "moved-fn", "olddep"))
    check_node.deploy_ok(deps_app(tmp_path / "n", "moved", "moved-fn", "newdep"))
    plant(adv_root, "TEST-2026-0043", "olddep")
    data = json.loads(check_node.cli("advisories", "check", "--json").stdout)
    assert not [h for h in data["hits"] if h["function"] == "moved-fn"]
    assert old["functions"][0]["version"] not in {c["version"] for c in data["checked"]}


def test_a_clean_check_exits_zero(tmp_path: Path) -> None:
    root = advisory_dir(tmp_path / "osv")
    node = RunningNode(tmp_path / "data", {"RAMPARTS_ADVISORIES": str(root),
                                           "RAMPARTS_ADVISORY_CHECK_INTERVAL": "0"}).start()
    try:
        node.deploy_ok(deps_app(tmp_path / "c", "clean", "clean-fn", "cleandep"))
        done = node.cli("advisories", "check")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "1 live version(s) checked" in done.stdout and "0 advisory hit(s)" in done.stdout
        summary = events(node, "advisory.check")
        assert summary and summary[-1]["decision"] == "allow"
    finally:
        node.close()


def test_an_unreachable_source_is_a_notice_and_a_non_zero_exit(tmp_path: Path) -> None:
    # The OSV API "answers" at a loopback port nothing listens on.
    node = RunningNode(tmp_path / "data", {
        "RAMPARTS_ADVISORIES": "osv",
        "RAMPARTS_OSV_API": f"http://127.0.0.1:{free_port()}",
        "RAMPARTS_ADVISORY_CHECK_INTERVAL": "0",
    }).start()
    try:
        node.deploy_ok(deps_app(tmp_path / "u", "unreach", "unreach-fn", "somedep"))
        done = node.cli("advisories", "check")
        assert done.returncode == 3
        assert "notice:" in done.stderr and "advisories were not checked" in done.stderr
        assert "could not be reached" in done.stderr
        assert "Traceback" not in done.stderr
        data = json.loads(node.cli("advisories", "check", "--json").stdout)
        assert data["ok"] is False and data["hits"] == []
        notices = events(node, "advisory.check_unavailable")
        assert len(notices) == 2 and notices[0]["decision"] == "deny"
        assert "could not be reached" in notices[0]["detail"]["reason"]
    finally:
        node.close()


def test_a_removed_advisory_directory_is_a_notice(tmp_path: Path) -> None:
    root = advisory_dir(tmp_path / "osv")
    node = RunningNode(tmp_path / "data", {"RAMPARTS_ADVISORIES": str(root),
                                           "RAMPARTS_ADVISORY_CHECK_INTERVAL": "0"}).start()
    try:
        for child in root.iterdir():
            child.unlink()
        root.rmdir()
        done = node.cli("advisories", "check")
        assert done.returncode == 3 and "no such file or directory" in done.stderr
        assert events(node, "advisory.check_unavailable")
    finally:
        node.close()


def test_a_tampered_sbom_is_reported_not_skipped(tmp_path: Path) -> None:
    import sqlite3

    root = advisory_dir(tmp_path / "osv")
    node = RunningNode(tmp_path / "data", {"RAMPARTS_ADVISORIES": str(root),
                                           "RAMPARTS_ADVISORY_CHECK_INTERVAL": "0"}).start()
    try:
        node.deploy_ok(deps_app(tmp_path / "t", "hide", "hide-fn", "hiddendep"))
        plant(root, "TEST-2026-0044", "hiddendep")
        with sqlite3.connect(node.data_dir / "state.db") as db:
            db.execute("UPDATE version_sboms SET document = ?", (b'{"components":[]}',))
        done = node.cli("advisories", "check", "--json")
        assert done.returncode == 3
        data = json.loads(done.stdout)
        assert [(p["function"], p["code"]) for p in data["problems"]] == [
            ("hide-fn", "sbom_tampered")]
        assert events(node, "advisory.sbom_invalid")
    finally:
        node.close()


def test_the_node_rechecks_on_its_own_schedule(tmp_path: Path) -> None:
    root = advisory_dir(tmp_path / "osv")
    node = RunningNode(tmp_path / "data", {"RAMPARTS_ADVISORIES": str(root),
                                           "RAMPARTS_ADVISORY_CHECK_INTERVAL": "1s"}).start()
    try:
        node.deploy_ok(deps_app(tmp_path / "d", "daily", "daily-fn", "dailydep"))
        plant(root, "TEST-2026-0045", "dailydep")
        found = wait_for(lambda: events(node, "advisory.detected"))
        assert found[0]["principal"].startswith("node:")
        assert found[0]["detail"]["advisory"] == "TEST-2026-0045"
        seen = len(events(node, "advisory.check"))
        wait_for(lambda: len(events(node, "advisory.check")) >= seen + 2)  # two more runs
        assert len(events(node, "advisory.detected")) == 1
    finally:
        node.close()


@pytest.mark.parametrize(
    ("args", "code"),
    [(("advisories", "check", "--bogus"), 2), (("advisories", "check", "extra"), 2)],
)
def test_bad_flags_exit_two(check_node: RunningNode, args: tuple[str, ...], code: int) -> None:
    done = check_node.cli(*args)
    assert done.returncode == code and "Traceback" not in done.stderr


def test_a_malformed_check_request_is_refused(check_node: RunningNode) -> None:
    r = check_node.control.post("/v1/advisories/check", content=b"not json")
    assert (r.status_code, r.json()["code"]) == (400, "invalid_json")
    r = check_node.control.get("/v1/advisories/check")
    assert r.status_code == 405


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"RAMPARTS_ADVISORIES": "/nonexistent/osv"}, "no such file or directory"),
        ({"RAMPARTS_ADVISORY_CHECK_INTERVAL": "soon"}, "RAMPARTS_ADVISORY_CHECK_INTERVAL"),
        ({"RAMPARTS_OSV_API": "ftp://osv.example"}, "RAMPARTS_OSV_API"),
    ],
)
def test_bad_node_settings_stop_the_start(tmp_path: Path, env: dict[str, str],
                                          words: str) -> None:
    node = RunningNode(tmp_path / "data", env)
    with pytest.raises(RuntimeError) as info:
        node.start()
    node.close()
    assert words in str(info.value)


class _Osv(http.server.BaseHTTPRequestHandler):
    """A local stand-in for the OSV API (querybatch, then vulns/ID), answering from RECORDS."""

    RECORDS: dict[str, dict[str, Any]] = {}

    def _send(self, doc: dict[str, Any]) -> None:
        body = json.dumps(doc).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        queries = json.loads(self.rfile.read(int(self.headers["content-length"])))["queries"]
        results = []
        for q in queries:
            ids = [{"id": rid} for rid, rec in self.RECORDS.items()
                   if rec["affected"][0]["package"]["name"] == q["package"]["name"]]
            results.append({"vulns": ids} if ids else {})
        self._send({"results": results})

    def do_GET(self) -> None:  # noqa: N802
        self._send(self.RECORDS[self.path.rsplit("/", 1)[-1]])

    def log_message(self, *args: Any) -> None:
        pass


def test_the_osv_api_as_the_nodes_source(tmp_path: Path) -> None:
    plant(tmp_path / "rec", "TEST-2026-0046", "apidep")
    _Osv.RECORDS = {}  # the advisory is published after the deploy, as for a live version
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Osv)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    node = RunningNode(tmp_path / "data", {
        "RAMPARTS_ADVISORIES": "osv",
        "RAMPARTS_OSV_API": f"http://127.0.0.1:{server.server_address[1]}",
        "RAMPARTS_ADVISORY_CHECK_INTERVAL": "0",
    })
    try:
        node.start()
        node.deploy_ok(deps_app(tmp_path / "o", "osvapp", "osv-fn", "apidep"))
        _Osv.RECORDS = {"TEST-2026-0046": json.loads(
            (tmp_path / "rec" / "apidep" / "TEST-2026-0046.json").read_text())}
        done = node.cli("advisories", "check", "--json")
        assert done.returncode == 1, done.stderr
        data = json.loads(done.stdout)
        assert [(h["package"], h["advisory"], h["fixed_in"], h["new"]) for h in data["hits"]] == [
            ("apidep", "TEST-2026-0046", "1.1", True)]
        assert "OSV API at http://127.0.0.1" in data["source"]
    finally:
        node.close()
        server.shutdown()
        server.server_close()
