"""The attack suite: a deployed app with no role tries to own the node.

Every attack in ``apps/attacker/attacks.py`` runs three ways against a real
node: at module scope (in the zygote, at import), in the handler, and from a
child process the manifest allows (a fresh interpreter without the runtime's
audit hooks, so only the kernel layers stand in the way).  Each must fail,
leave the node and other functions serving, and the blocked ones leave
security events in the audit log.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningNode, make_app

APP = Path(__file__).parent / "apps" / "attacker"
NPROC = 32
TMP_MB = 16

VICTIM = """\
app: victim
functions:
  secret-keeper:
    handler: keeper.py:handler
    triggers:
      - http: {method: GET, path: /keeper, auth: none}
"""


def _attacker_manifest(admin_port: int) -> str:
    # Rules that name the node's own listeners: they must be refused all the same.
    egress = (
        f'["0.0.0.0:{admin_port}", "[::]:{admin_port}", "127.0.0.2:{admin_port}", "0.0.0.0:6379"]'
    )
    common = f"""
    timeout: 60s
    memory: 256Mi
    tmp: {TMP_MB}Mi
    egress: {egress}
    limits: {{processes: {NPROC}}}"""
    fns = {
        "in-handler": ("handler.py:handler", "block", ""),
        "in-handler-detect": ("handler.py:handler", "detect", ""),
        "at-import": ("module_scope.py:handler", "block", ""),
        "in-child": ("child.py:handler", "block", "\n    allow_exec: [bin/python]"),
    }
    out = "app: attacker\nfunctions:\n"
    for name, (handler, mode, extra) in fns.items():
        out += f"  {name}:\n    handler: {handler}\n    runtime_protection: {mode}{common}{extra}\n"
    out += (
        "  escape:\n    handler: escape.py:handler\n    timeout: 1s\n"
        "  crash-escape:\n    handler: crash_escape.py:handler\n    timeout: 10s\n"
        "  chain-escape:\n    handler: chain_escape.py:handler\n    timeout: 10s\n"
        "  hog:\n    handler: hog.py:handler\n    memory: 128Mi\n    timeout: 30s\n"
        "  ok:\n    handler: ok.py:handler\n"
    )
    return out


UNPRIVILEGED_UID = 65534
SYSTEM_PYTHON = "/usr/bin/python3.11"


class UnprivilegedNode(RunningNode):
    """``ramparts up`` as an unprivileged uid, as users run it.

    Our own interpreter lives under /root (mode 0700 here), out of reach of
    another uid, so the node runs on the system's Python 3.11 with this
    checkout and the venv's packages on its path (same ABI).
    """

    python = SYSTEM_PYTHON

    def start(self, **popen: Any) -> RunningNode:
        site = next(p for p in sys.path if p.endswith("site-packages") and sys.prefix in p)
        self.env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.data_dir.parent),
            "PYTHONPATH": f"{Path(__file__).resolve().parents[2]}:{site}",
            "RAMPARTS_DATA_DIR": str(self.data_dir),
            "RAMPARTS_URL": f"http://127.0.0.1:{self.admin_port}",
        }
        return super().start(
            user=UNPRIVILEGED_UID,
            group=UNPRIVILEGED_UID,
            extra_groups=[],
            cwd=str(self.data_dir.parent),
        )

    def command(self) -> list[str]:
        return [SYSTEM_PYTHON, *super().command()[1:]]


def _unprivileged_skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "starting a node as another uid needs root; this run is not root"
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"no system {SYSTEM_PYTHON} that uid {UNPRIVILEGED_UID} can run"
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import ramparts.cli.main, orjson, pyseccomp"],
        user=UNPRIVILEGED_UID,
        group=UNPRIVILEGED_UID,
        extra_groups=[],
        capture_output=True,
        env={
            "PYTHONPATH": f"{Path(__file__).resolve().parents[2]}:"
            + next(p for p in sys.path if p.endswith("site-packages") and sys.prefix in p)
        },
        cwd="/",
        check=False,
    )
    if probe.returncode != 0:
        return (
            f"uid {UNPRIVILEGED_UID} cannot import ramparts with {SYSTEM_PYTHON}: "
            + probe.stderr.decode(errors="replace").strip().splitlines()[-1]
        )
    return None


@pytest.fixture(scope="module", params=["root", "unprivileged"])
def arena(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    base = tmp_path_factory.mktemp("arena")
    if request.param == "unprivileged":
        reason = _unprivileged_skip_reason()
        if reason:
            pytest.skip(reason)
        # pytest's own temp root is 0700 root: the node's uid could not reach it
        base = Path(tempfile.mkdtemp(prefix="ramparts-unpriv-"))
        (base / "data").mkdir()
        os.chown(base / "data", UNPRIVILEGED_UID, UNPRIVILEGED_UID)
        os.chown(base, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
        node: RunningNode = UnprivilegedNode(base / "data").start()
        python = SYSTEM_PYTHON
    else:
        node = RunningNode(base / "data").start()
        python = sys.executable
    try:
        victim = make_app(
            base / "victim",
            VICTIM,
            {
                "keeper.py": "def handler(event, context):\n    return {'statusCode': 200, "
                "'body': 'victim ok'}\n",
            },
        )
        node.deploy_ok(victim)
        victim_files = list((base / "data" / "artifacts").rglob("keeper.py"))
        assert victim_files, "the victim's artifact is where the attacker will look for it"
        app = base / "attacker"
        shutil.copytree(APP, app)
        (app / "bin").mkdir()
        shutil.copy(os.path.realpath(python), app / "bin" / "python")
        targets = {
            "data_dir": str(base / "data"),
            "node_pid": node.proc.pid,
            "admin_port": node.admin_port,
            "victim_file": str(victim_files[0]),
            "victim_marker": '"app": "victim"',
            "python_prefix": "/usr"
            if python == SYSTEM_PYTHON
            else os.path.realpath(sys.base_prefix),
            "venv": sys.prefix,
            "nproc": NPROC,
            "tmp_fill_mb": TMP_MB * 4,
        }
        (app / "targets.json").write_text(json.dumps(targets))
        (app / "ramparts.yaml").write_text(_attacker_manifest(node.admin_port))
        node.deploy_ok(app)
        yield node, victim_files[0]
    finally:
        node.close()
        if request.param == "unprivileged" and not os.environ.get("KEEP_ARENA"):
            shutil.rmtree(base, ignore_errors=True)


def _invoke(node: RunningNode, fn: str, event: Any = None) -> dict[str, Any]:
    r = node.control.post(f"/v1/functions/{fn}/invoke", json={"event": event or {}}, timeout=120)
    assert r.status_code == 200, r.text
    return r.json()


def _assert_all_stopped(results: list[dict[str, Any]], where: str) -> None:
    won = [r for r in results if r["succeeded"]]
    assert not won, f"{where}: attacks that succeeded: {won}"
    assert len(results) >= 24, results


def _assert_still_serving(node: RunningNode) -> None:
    assert node.gateway.get("/keeper").text == "victim ok"
    assert _invoke(node, "ok", {"n": 1})["result"] == {"ok": True, "echo": {"n": 1}}


@pytest.mark.parametrize("fn", ["in-handler", "in-handler-detect", "at-import", "in-child"])
def test_every_attack_is_stopped(arena: Any, fn: str) -> None:
    node, victim_file = arena
    before = Path(victim_file).read_bytes()
    out = _invoke(node, fn)
    assert out["status"] == "ok", (out["error_type"], out["error_message"])
    _assert_all_stopped(out["result"], fn)
    assert Path(victim_file).read_bytes() == before
    _assert_still_serving(node)


def test_blocked_attacks_leave_security_events(arena: Any) -> None:
    node, _ = arena
    out = _invoke(
        node,
        "in-handler",
        {
            "attacks": [
                "spawn_shell",
                "connect_control",
                "load_library",
                "read_master_key",
                "egress_not_allowed",
                "load_system_library",
            ]
        },
    )
    system_lib = out["result"][-1]
    assert system_lib["succeeded"] is False and "RuntimeViolation" in system_lib["detail"]
    deadline = time.monotonic() + 20
    want = {"process.spawn", "socket.connect", "native.load", "file.sensitive_read"}
    while time.monotonic() < deadline:
        events = node.audit()
        rules = {
            e["detail"].get("rule")
            for e in events
            if e["kind"] == "runtime.violation" and e["detail"].get("function") == "in-handler"
        }
        egress = [
            e
            for e in events
            if e["kind"] == "egress.deny"
            and e["resource"] == "blocked.example:443"
            and e["detail"].get("function") == "in-handler"
        ]
        if want <= rules and egress:
            break
        time.sleep(0.2)
    assert want <= rules, rules
    assert egress and egress[0]["decision"] == "deny"
    blocked = [
        e
        for e in events
        if e["kind"] == "runtime.violation"
        and e["detail"].get("rule") == "process.spawn"
        and e["detail"].get("function") == "in-handler"
    ]
    assert blocked[0]["decision"] == "deny"
    assert blocked[0]["principal"] == "function:attacker/in-handler"


def test_detect_mode_reports_without_blocking_the_hook(arena: Any) -> None:
    node, _ = arena
    out = _invoke(node, "in-handler-detect", {"attacks": ["spawn_shell"]})
    # The hook lets it through, the kernel layers still stop it (no /bin/sh to execute).
    assert out["result"][0]["succeeded"] is False
    assert "RuntimeViolation" not in out["result"][0]["detail"]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        seen = [
            e
            for e in node.audit()
            if e["kind"] == "runtime.violation"
            and e["detail"].get("function") == "in-handler-detect"
            and e["detail"].get("rule") == "process.spawn"
        ]
        if seen:
            break
        time.sleep(0.2)
    assert seen and seen[0]["decision"] == "detect"


def _wait_event(node: RunningNode, kind: str, function: str) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = [
            e for e in node.audit() if e["kind"] == kind and e["detail"].get("function") == function
        ]
        if found:
            assert found[0]["decision"] == "deny"
            return found[0]
        time.sleep(0.2)
    seen = sorted({e["kind"] for e in node.audit() if e["detail"].get("function") == function})
    raise AssertionError(f"no {kind} event for {function}; its events: {seen}")


def _host_processes_named(name: str) -> list[int]:
    out = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == name:
                out.append(int(pid))
        except OSError:
            continue
    return out


def test_nothing_of_a_timed_out_invocation_survives(arena: Any) -> None:
    node, _ = arena
    marker = "esc" + uuid.uuid4().hex[:8]
    out = _invoke(node, "escape", {"marker": marker})
    assert out["status"] == "timeout", out
    deadline = time.monotonic() + 10
    while _host_processes_named(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _host_processes_named(marker) == []
    _assert_still_serving(node)
    _wait_event(node, "runtime.timeout_kill", "escape")


def test_nothing_survives_a_worker_that_exits_on_its_own(arena: Any) -> None:
    node, _ = arena
    marker = "crs" + uuid.uuid4().hex[:8]
    out = _invoke(node, "crash-escape", {"marker": marker})
    assert out["status"] == "crashed", out
    deadline = time.monotonic() + 15
    while _host_processes_named(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _host_processes_named(marker) == []
    _wait_event(node, "runtime.orphans_killed", "crash-escape")
    _assert_still_serving(node)


def test_a_forking_chain_does_not_outlive_its_worker(arena: Any) -> None:
    node, _ = arena
    marker = "chn" + uuid.uuid4().hex[:8]
    out = _invoke(node, "chain-escape", {"marker": marker})
    assert out["status"] == "crashed", out
    time.sleep(2)  # the reaper runs once the worker is gone
    deadline = time.monotonic() + 15
    while _host_processes_named(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _host_processes_named(marker) == []
    _assert_still_serving(node)


def test_memory_limit_is_enforced(arena: Any) -> None:
    node, _ = arena
    assert _invoke(node, "hog", {"mb": 16})["status"] == "ok"
    out = _invoke(node, "hog", {"mb": 300})
    assert out["status"] == "error", out
    assert out["error_type"] == "Runtime.OutOfMemory", out
    _assert_still_serving(node)
    _wait_event(node, "runtime.oom", "hog")
    assert _invoke(node, "hog", {"mb": 16})["status"] == "ok"
