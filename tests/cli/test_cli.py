"""The ``ramparts`` command line against a real node."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: cli
functions:
  adder:
    handler: calc.py:add
    triggers:
      - http: {method: POST, path: /add, auth: none}
"""

CALC = """
import logging

def add(event, context):
    print("adding", event["a"], event["b"])
    logging.getLogger().warning("careful")
    return {"sum": event["a"] + event["b"]}
"""


@pytest.fixture(scope="module")
def cli_app(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> Path:
    app = make_app(tmp_path_factory.mktemp("cli") / "app", MANIFEST, {"calc.py": CALC})
    out = node.cli("deploy", str(app))
    assert out.returncode == 0, out.stderr
    assert "adder" in out.stdout and "new version" in out.stdout
    assert "route POST /add is public" in out.stderr
    return app


def test_invoke_with_event_file_and_logs(node: RunningNode, cli_app: Path, tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"a": 2, "b": 3}))
    out = node.cli("invoke", "adder", "--event", str(event))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {"sum": 5}
    out = node.cli("logs", "adder")
    assert out.returncode == 0, out.stderr
    assert "adding 2 3" in out.stdout
    assert "[WARNING]" in out.stdout and "careful" in out.stdout
    req_line = next(line for line in out.stdout.splitlines() if "ok" in line)
    assert len(req_line.split()[3]) == 36  # the request id is on every invocation line


def test_invoke_errors_exit_non_zero(node: RunningNode, cli_app: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    out = node.cli("invoke", "adder", "--event", str(bad))
    assert out.returncode != 0 and "bad.json is not valid JSON" in out.stderr
    out = node.cli_in_process("invoke", "adder", "--event", str(tmp_path / "missing.json"))
    assert out.returncode != 0 and "missing.json" in out.stderr
    out = node.cli_in_process("invoke", "no-such-fn")
    assert out.returncode != 0 and "function_not_found" in out.stderr
    out = node.cli_in_process("invoke", "adder", "--event", "-", stdin='{"a": 1}')
    assert out.returncode != 0 and "KeyError" in out.stderr
    assert "Traceback" not in out.stderr


def test_registry_commands(node: RunningNode, cli_app: Path) -> None:
    (cli_app / "calc.py").write_text(CALC.replace('"sum"', '"total"'))
    assert node.cli("deploy", str(cli_app)).returncode == 0
    out = node.cli_in_process("functions")
    assert out.returncode == 0 and "adder" in out.stdout
    out = node.cli_in_process("versions", "adder", "--json")
    versions = json.loads(out.stdout)["versions"]
    assert [v["seq"] for v in versions] == [1, 2]
    assert versions[1]["aliases"] == ["live"]
    out = node.cli_in_process("alias", "adder", "canary", "1")
    assert out.returncode == 0 and versions[0]["version"][:12] in out.stdout
    out = node.cli_in_process("rollback", "adder")
    assert out.returncode == 0, out.stderr
    out = node.cli_in_process("invoke", "adder", "--event", "-", stdin='{"a": 1, "b": 1}')
    assert json.loads(out.stdout) == {"sum": 2}
    out = node.cli_in_process("rollback", "adder")
    assert out.returncode != 0 and "no earlier version" in out.stderr


def test_bad_manifest_names_file_and_field(node: RunningNode, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "bad",
        """
        app: cli
        functions:
          adder:
            handler: calc.py:add
            memory: lots
        """,
        {"calc.py": CALC},
    )
    out = node.cli("deploy", str(app))
    assert out.returncode != 0
    assert f"{app / 'ramparts.yaml'}: functions.adder.memory" in out.stderr
    assert "Traceback" not in out.stderr
    out = node.cli("deploy", str(tmp_path / "nowhere"))
    assert out.returncode != 0 and "not a directory" in out.stderr


def test_objects_and_kv_commands(node: RunningNode, cli_app: Path, tmp_path: Path) -> None:
    f = tmp_path / "blob.bin"
    f.write_bytes(b"\x00\x01")
    out = node.cli("objects", "put", "files", "x/blob.bin", str(f), "--app", "cli")
    assert out.returncode == 0 and "2 bytes" in out.stdout
    out = node.cli_in_process("objects", "list", "files", "--app", "cli")
    assert "x/blob.bin" in out.stdout
    assert node.cli_in_process("kv", "put", "t", "k", '{"a": 1}', "--app", "cli").returncode == 0
    out = node.cli_in_process("kv", "get", "t", "k", "--app", "cli")
    assert json.loads(out.stdout) == {"a": 1}
    out = node.cli_in_process("kv", "put", "t", "k", "[1, 2]", "--app", "cli")
    assert out.returncode != 0 and "JSON object" in out.stderr


def test_client_without_node_or_token(node: RunningNode, tmp_path: Path) -> None:
    import subprocess
    import sys

    env = {**node.env, "RAMPARTS_URL": "http://127.0.0.1:9", "RAMPARTS_DATA_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "functions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "no Ramparts node answers" in out.stderr
    env["RAMPARTS_URL"] = node.env["RAMPARTS_URL"]
    out = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "functions"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode != 0 and "admin token" in out.stderr


def test_up_refuses_plain_http_on_public_address(node: RunningNode) -> None:
    out = node.cli("up", "--host", "0.0.0.0", "--port", "0")
    assert out.returncode != 0 and "refusing to serve plain HTTP" in out.stderr


def test_logs_follow_streams_new_invocations(node: RunningNode, cli_app: Path) -> None:
    import subprocess
    import sys
    import time

    proc = subprocess.Popen([sys.executable, "-m", "ramparts.cli.main", "logs", "adder",
                             "--follow"], env=node.env, stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.5)  # let it print the backlog and start polling
        r = node.control.post("/v1/functions/adder/invoke",
                              json={"event": {"a": 40, "b": 2}})
        rid = r.json()["request_id"]
        deadline = time.monotonic() + 15
        seen = ""
        assert proc.stdout is not None
        while time.monotonic() < deadline and rid not in seen:
            seen += proc.stdout.readline()
        assert rid in seen
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_up_refuses_plain_http_control_api_on_public_address(node: RunningNode) -> None:
    for extra in ([], ["--insecure-http"]):
        out = node.cli("up", "--admin-host", "0.0.0.0", "--port", "0", "--admin-port", "0", *extra)
        assert out.returncode != 0, out.stdout
        assert "refusing to serve the control API over plain HTTP" in out.stderr
        assert "Traceback" not in out.stderr


def test_objects_put_takes_the_documented_10_mib(
    node: RunningNode, cli_app: Path, tmp_path: Path
) -> None:
    # The node's gateway body limit (1 MiB in this fixture, 6 MiB by default) is not
    # the object store's: the documented object limit is 10 MiB.
    big = tmp_path / "big.bin"
    big.write_bytes(b"\xab" * (8 * 1024 * 1024))
    out = node.cli("objects", "put", "files", "big.bin", str(big), "--app", "cli")
    assert out.returncode == 0, out.stderr
    assert f"{8 * 1024 * 1024} bytes" in out.stdout
    r = node.control.get("/v1/objects/files/big.bin", params={"app": "cli"})
    assert r.status_code == 200 and r.content == big.read_bytes()
    # Over 10 MiB: refused with a message naming the file and the limit, nothing stored.
    huge = tmp_path / "huge.bin"
    huge.write_bytes(b"\x00" * (10 * 1024 * 1024 + 1))
    out = node.cli("objects", "put", "files", "huge.bin", str(huge), "--app", "cli")
    assert out.returncode != 0 and "Traceback" not in out.stderr
    assert "huge.bin" in out.stderr and "10 MiB" in out.stderr
    # The control API itself says object_too_large, not a body-limit code.
    r = node.control.put(
        "/v1/objects/files/huge.bin", params={"app": "cli"}, content=huge.read_bytes()
    )
    assert r.status_code == 400 and r.json()["code"] == "object_too_large", r.text
    assert node.control.get("/v1/objects/files/huge.bin", params={"app": "cli"}).status_code == 404


def test_object_and_kv_keys_with_control_characters(
    node: RunningNode, cli_app: Path, tmp_path: Path
) -> None:
    f = tmp_path / "small.bin"
    f.write_bytes(b"x")
    bad_keys = ("bad\nkey", "tab\tkey", "nul\x7fkey", "csi\x9b31m", "rtl\u202etxt", "ls\u2028x")
    for key in bad_keys:
        # the first key through the real entry point, the others in-process (18
        # subprocesses took most of this test's time on a loaded machine)
        run = node.cli if key == bad_keys[0] else node.cli_in_process
        for args in (
            ("objects", "put", "files", key, str(f), "--app", "cli"),
            ("kv", "put", "t", key, "{}", "--app", "cli"),
            ("kv", "get", "t", key, "--app", "cli"),
        ):
            out = run(*args)
            assert out.returncode != 0, (args, out.stdout)
            assert "Traceback" not in out.stderr, out.stderr
            assert "control characters" in out.stderr, out.stderr
    # The control API refuses them with a stable code on every key route.
    for method, path in (
        ("PUT", "/v1/objects/files/bad%0Akey"),
        ("GET", "/v1/objects/files/bad%0Akey"),
        ("DELETE", "/v1/objects/files/bad%0Akey"),
        ("PUT", "/v1/kv/t/bad%0Akey"),
        ("GET", "/v1/kv/t/bad%0Akey"),
        ("DELETE", "/v1/kv/t/bad%0Akey"),
    ):
        body = {"json": {"item": {}, "app": "cli"}} if path.startswith("/v1/kv") else {}
        r = node.control.request(method, path, params={"app": "cli"}, **body)
        assert r.status_code == 400 and r.json()["code"] == "invalid_key", (method, path, r.text)
    listed = node.control.get("/v1/objects/files", params={"app": "cli"}).json()["objects"]
    assert not any("\n" in o["key"] for o in listed)
    # C1 controls and bidi overrides are refused by the control API too.
    for path in ("/v1/objects/files/csi%C2%9B31m", "/v1/objects/files/rtl%E2%80%AEtxt"):
        r = node.control.put(path, params={"app": "cli"}, content=b"x")
        assert r.status_code == 400 and r.json()["code"] == "invalid_key", (path, r.text)
    # Dot segments are part of the key, never resolved into another key's path.
    out = node.cli_in_process("objects", "put", "files", "victim", str(f), "--app", "cli")
    assert out.returncode == 0, out.stderr
    f2 = tmp_path / "other.bin"
    f2.write_bytes(b"y")
    out = node.cli_in_process("objects", "put", "files", "sub/../victim", str(f2), "--app", "cli")
    assert out.returncode == 0, out.stderr
    assert node.control.get("/v1/objects/files/victim", params={"app": "cli"}).content == b"x"
    listed = node.control.get("/v1/objects/files", params={"app": "cli"}).json()["objects"]
    assert "sub/../victim" in {o["key"] for o in listed}
    # Keys with characters that mean something in a URL still round-trip.
    out = node.cli_in_process("objects", "put", "files", "odd?name#1%.bin", str(f), "--app", "cli")
    assert out.returncode == 0, out.stderr
    listed = node.control.get("/v1/objects/files", params={"app": "cli"}).json()["objects"]
    assert "odd?name#1%.bin" in {o["key"] for o in listed}
