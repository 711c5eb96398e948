"""The node and its sandbox: fail closed, status, egress through the gateway, anomalies."""

from __future__ import annotations

import http.server
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningNode, make_app

# The node under a seccomp filter that refuses unshare(2): user namespaces are
# then unavailable to it, as on a kernel or container that forbids them.
_NO_NAMESPACES = (
    "import os, sys; from ramparts.sandbox import seccomp; seccomp.install_filter(); "
    "os.execv(sys.executable, [sys.executable, '-m', 'ramparts.cli.main', *sys.argv[1:]])"
)


class _NodeWithoutNamespaces(RunningNode):
    def __init__(self, data_dir: Path, *flags: str) -> None:
        super().__init__(data_dir)
        self.flags = flags

    def command(self) -> list[str]:
        return [sys.executable, "-c", _NO_NAMESPACES, *super().command()[3:], *self.flags]


def test_node_refuses_to_start_without_a_required_layer(tmp_path: Path) -> None:
    node = _NodeWithoutNamespaces(tmp_path / "data")
    with pytest.raises(RuntimeError) as exc:
        node.start()
    text = str(exc.value)
    assert "refusing to start" in text and "user_namespace" in text
    assert "--allow-degraded-sandbox" in text
    assert node.proc is not None and node.proc.returncode not in (0, None)
    assert not (tmp_path / "data" / "admin-token").exists()  # nothing was opened


def test_degraded_start_is_loud_in_status_and_audit(tmp_path: Path) -> None:
    node = _NodeWithoutNamespaces(tmp_path / "data", "--allow-degraded-sandbox")
    node.start()
    try:
        assert "DEGRADED SANDBOX" in node.log_text()
        status = node.control.get("/v1/status").json()["sandbox"]
        assert status["degraded"] is True
        missing = {x["name"] for x in status["layers"] if x["required"] and not x["available"]}
        assert "user_namespace" in missing
        cli = node.cli("status")
        assert cli.returncode == 0 and "DEGRADED SANDBOX" in cli.stderr
        assert "MISSING" in cli.stdout
        events = [e for e in node.audit() if e["kind"] == "sandbox.layers"]
        assert events and events[0]["decision"] == "deny"
        assert "user_namespace" in events[0]["detail"]["missing"]
    finally:
        node.close()


def test_status_lists_every_layer(node: RunningNode) -> None:
    status = node.control.get("/v1/status").json()["sandbox"]
    assert status["complete"] is True and status["degraded"] is False
    on = {x["name"] for x in status["layers"] if x["available"]}
    assert {
        "user_namespace",
        "pid_namespace",
        "mount_namespace",
        "network_namespace",
        "seccomp",
        "landlock",
        "no_new_privs",
        "limits",
    } <= on
    cli = node.cli("status")
    assert cli.returncode == 0 and "landlock" in cli.stdout and "MISSING" not in cli.stdout
    events = [e for e in node.audit() if e["kind"] == "sandbox.layers"]
    assert events and events[0]["decision"] == "allow"


@pytest.fixture()
def web() -> Iterator[int]:
    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            body = b"hello from the host"
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    # 127.0.0.2: a loopback address outside NO_PROXY, so urllib goes through the proxy
    server = http.server.ThreadingHTTPServer(("127.0.0.2", 0), Hello)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


FETCH = """
import os
import urllib.request

def handler(event, context):
    # urllib reads HTTP_PROXY from the environment the sandbox sets (127.0.0.1:3128);
    # nothing in the sandbox can go anywhere but through that proxy.
    try:
        with urllib.request.urlopen(os.environ["TARGET"], timeout=10) as r:
            return {"ok": True, "body": r.read().decode()}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
"""


def test_egress_allowlist_through_the_proxy(node: RunningNode, tmp_path: Path, web: int) -> None:
    target = f"http://127.0.0.2:{web}/"
    app = make_app(
        tmp_path / "egress",
        f"""
        app: egress-app
        functions:
          fetcher:
            handler: fetch.py:handler
            environment: {{TARGET: "{target}"}}
            egress: ["10.0.0.1:{web}", "*.example.org:443"]
          fetcher-allowed:
            handler: fetch.py:handler
            environment: {{TARGET: "{target}"}}
            egress: ["127.0.0.2:{web}"]
        """,
        {"fetch.py": FETCH},
    )
    node.deploy_ok(app)

    def call(fn: str) -> dict[str, Any]:
        r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": {}})
        return r.json()["result"]

    allowed = call("fetcher-allowed")
    assert allowed == {"ok": True, "body": "hello from the host"}, allowed
    denied = call("fetcher")
    assert denied["ok"] is False and "403" in denied["error"], denied
    deadline = time.monotonic() + 20
    kinds: set[tuple[str, str]] = set()
    while time.monotonic() < deadline:
        events = [
            e
            for e in node.audit()
            if e["kind"] in ("egress.allow", "egress.deny") and e["resource"] == f"127.0.0.2:{web}"
        ]
        kinds = {(e["kind"], e["detail"]["function"]) for e in events}
        if {("egress.allow", "fetcher-allowed"), ("egress.deny", "fetcher")} <= kinds:
            break
        time.sleep(0.2)
    assert {("egress.allow", "fetcher-allowed"), ("egress.deny", "fetcher")} <= kinds


def test_manifest_refuses_bad_egress_entries(node: RunningNode, tmp_path: Path) -> None:
    for entry, words in (
        ("*", "bare"),
        ("api.example.com", "port"),
        ("https://api.example.com:443", "scheme"),
        ("a.*.com:443", "leftmost"),
    ):
        app = make_app(
            tmp_path / f"bad{abs(hash(entry))}",
            f"""
            app: bad-egress
            functions:
              f:
                handler: h.py:handler
                egress: ["{entry}"]
            """,
            {"h.py": "def handler(e, c):\n    return 1\n"},
        )
        r = node.deploy(app)
        assert r.status_code == 400 or r.status_code == 422, r.text
        body = r.json()
        assert "egress" in body["message"] and entry in body["message"], body


BEHAVES = """
def handler(event, context):
    try:
        context.kv.get(event["table"], "k")
    except Exception:
        pass
    return "done"
"""


def test_anomaly_baseline_reports_new_behaviour_after_the_window(
    node: RunningNode, tmp_path: Path
) -> None:
    app = make_app(
        tmp_path / "anomaly",
        """
        app: anomaly-app
        functions:
          creature-of-habit:
            handler: h.py:handler
            anomaly_window: {duration: 0s, invocations: 3}
        """,
        {"h.py": BEHAVES},
    )
    node.deploy_ok(app)

    def call(table: str) -> None:
        r = node.control.post(
            "/v1/functions/creature-of-habit/invoke", json={"event": {"table": table}}
        )
        assert r.json()["result"] == "done"

    for _ in range(3):
        call("usual")  # learned during the window
    call("usual")  # after the window, but nothing new
    call("unusual")  # new resource after the window
    deadline = time.monotonic() + 20
    found: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        found = [
            e
            for e in node.audit()
            if e["kind"] == "anomaly.new_behavior"
            and e["detail"].get("function") == "creature-of-habit"
        ]
        if found:
            break
        time.sleep(0.2)
    resources = {e["resource"] for e in found}
    assert any("unusual" in r for r in resources), found
    assert not any("usual/" in r and "unusual" not in r for r in resources), found
    assert all(e["detail"]["severity"] == "low" for e in found)


CALL_NODE = """
import os
import urllib.request

def handler(event, context):
    with urllib.request.urlopen(os.environ["NODE_URL"] + "/sbx-hello", timeout=10) as r:
        return r.read().decode()
"""


def test_the_nodes_own_endpoint_is_reachable_at_its_public_url(
    node: RunningNode, tmp_path: Path
) -> None:
    app = make_app(
        tmp_path / "self",
        f"""
        app: self-caller
        functions:
          sbx-hello:
            handler: hello.py:handler
            triggers:
              - http: {{method: GET, path: /sbx-hello, auth: none}}
          caller:
            handler: call.py:handler
            environment: {{NODE_URL: "http://127.0.0.1:{node.port}"}}
        """,
        {
            "hello.py": "def handler(e, c):\n    return {'statusCode': 200, 'body': 'hi'}\n",
            "call.py": CALL_NODE,
        },
    )
    node.deploy_ok(app)
    assert node.gateway.get("/sbx-hello").text == "hi"  # the same URL, from outside
    out = node.control.post("/v1/functions/caller/invoke", json={"event": {}}).json()
    assert out["status"] == "ok" and out["result"] == "hi", out


def test_loader_variables_are_refused_in_a_manifest(node: RunningNode, tmp_path: Path) -> None:
    for name in ("LD_PRELOAD", "LD_AUDIT", "PYTHONPATH", "GCONV_PATH", "GLIBC_TUNABLES"):
        app = make_app(
            tmp_path / name,
            f"""
            app: loader-vars
            functions:
              f:
                handler: h.py:handler
                environment: {{{name}: ./evil.so}}
            """,
            {"h.py": "def handler(e, c):\n    return 1\n"},
        )
        r = node.deploy(app)
        assert r.status_code in (400, 422), r.text
        assert name in r.text and "loaded" in r.text, r.text


ENV_ECHO = """
import os

def handler(event, context):
    return os.environ.get("RP_MARKER_VAR")
"""


def test_function_environment_never_reaches_an_exec(node: RunningNode, tmp_path: Path) -> None:
    """The dynamic loader reads the environment before any layer exists: the function's
    variables are applied inside the sandbox, never handed to an exec."""
    marker = f"rp-{os.getpid()}-{time.monotonic_ns()}"
    app = make_app(
        tmp_path / "envapp",
        f"""
        app: env-app
        functions:
          env-echo:
            handler: h.py:handler
            environment: {{RP_MARKER_VAR: "{marker}"}}
        """,
        {"h.py": ENV_ECHO},
    )
    node.deploy_ok(app)
    out = node.control.post("/v1/functions/env-echo/invoke", json={"event": {}}).json()
    assert out["result"] == marker, out
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        assert marker.encode() not in environ, f"pid {pid} was exec'd with the function's env"


CRASHER = """
import os
import subprocess

def handler(event, context):
    try:
        subprocess.run(["/usr/bin/rp-crash-marker"])
    except Exception:
        pass
    os._exit(0)
"""


def test_violations_are_audited_even_when_the_worker_crashes(
    node: RunningNode, tmp_path: Path
) -> None:
    app = make_app(
        tmp_path / "crash",
        """
        app: crash-app
        functions:
          crasher:
            handler: h.py:handler
            runtime_protection: detect
        """,
        {"h.py": CRASHER},
    )
    node.deploy_ok(app)
    out = node.control.post("/v1/functions/crasher/invoke", json={"event": {}}).json()
    assert out["status"] == "crashed", out
    deadline = time.monotonic() + 20
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not seen:
        seen = [
            e
            for e in node.audit()
            if e["kind"] == "runtime.violation" and "rp-crash-marker" in e["resource"]
        ]
        time.sleep(0.2)
    assert seen and seen[0]["request_id"] == out["request_id"], seen


def test_allow_exec_must_name_executable_files(node: RunningNode, tmp_path: Path) -> None:
    for entry in ("bin", "bin/missing", "bin/plain.txt"):
        app = make_app(
            tmp_path / f"ae{abs(hash(entry))}",
            f"""
            app: allow-exec-app
            functions:
              f:
                handler: h.py:handler
                allow_exec: [{entry}]
            """,
            {"h.py": "def handler(e, c):\n    return 1\n", "bin/plain.txt": "text\n"},
        )
        r = node.deploy(app)
        assert r.status_code == 422, r.text
        body = r.json()
        assert body["code"] == "invalid_manifest", body
        assert body["problems"][0]["field"] == "functions.f.allow_exec", body


IMPORT_THEN_CRASH = """
import os

try:
    open("/var/task/import-time-mark", "w")
except OSError:
    pass
os._exit(1)


def handler(event, context):
    return 1
"""


def _violation(node: RunningNode, target: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        for e in node.audit():
            if e["kind"] == "runtime.violation" and target in e["resource"]:
                return e
        time.sleep(0.2)
    raise AssertionError(f"no violation event for {target}")


def test_import_time_violations_survive_a_crashing_import(
    node: RunningNode, tmp_path: Path
) -> None:
    app = make_app(
        tmp_path / "impcrash",
        """
        app: imp-crash
        functions:
          imp-crash:
            handler: h.py:handler
        """,
        {"h.py": IMPORT_THEN_CRASH},
    )
    r = node.deploy(app)
    assert r.status_code == 422 and r.json()["code"] == "handler_import_failed", r.text
    event = _violation(node, "import-time-mark")
    assert event["decision"] == "deny" and event["detail"]["rule"] == "file.write"


LEFT_BEHIND = """
import threading
import time


def _later():
    time.sleep(0.3)
    try:
        open("/var/task/left-behind-mark", "w")
    except OSError:
        pass


def handler(event, context):
    if event.get("leave"):
        threading.Thread(target=_later, daemon=True).start()
    return "done"
"""


def test_a_violation_between_invocations_is_not_pinned_on_the_next(
    node: RunningNode, tmp_path: Path
) -> None:
    app = make_app(
        tmp_path / "leftbehind",
        """
        app: left-behind
        functions:
          left-behind:
            handler: h.py:handler
            concurrency: 1
        """,
        {"h.py": LEFT_BEHIND},
    )
    node.deploy_ok(app)

    def call(event: dict[str, Any]) -> dict[str, Any]:
        return node.control.post("/v1/functions/left-behind/invoke", json={"event": event}).json()

    first = call({"leave": True})
    time.sleep(2.0)  # the thread makes its blocked write 0.3 s after the call returned
    second = call({})
    event = _violation(node, "left-behind-mark")
    assert event["detail"].get("outside_invocation") is True, event
    assert event["request_id"] not in (first["request_id"], second["request_id"]), event


LIMITS = """
import os


def handler(event, context):
    out = {}
    try:
        with open("/tmp/big", "wb") as f:
            f.write(b"x" * (2 * 1024 * 1024))
        out["file_size"] = "wrote 2 MiB"
    except OSError as exc:
        out["file_size"] = exc.errno
    finally:
        if os.path.exists("/tmp/big"):
            os.unlink("/tmp/big")
    fds = []
    try:
        for _ in range(200):
            fds.append(os.open("/dev/null", os.O_RDONLY))
        out["open_files"] = "opened 200"
    except OSError as exc:
        out["open_files"] = exc.errno
    finally:
        for fd in fds:
            os.close(fd)
    return out
"""


def test_file_size_and_open_files_limits(node: RunningNode, tmp_path: Path) -> None:
    import errno

    app = make_app(
        tmp_path / "limits",
        """
        app: limits-app
        functions:
          limited:
            handler: h.py:handler
            limits: {file_size: 1Mi, open_files: 64}
        """,
        {"h.py": LIMITS},
    )
    node.deploy_ok(app)
    out = node.control.post("/v1/functions/limited/invoke", json={"event": {}}).json()
    assert out["result"] == {"file_size": errno.EFBIG, "open_files": errno.EMFILE}, out
