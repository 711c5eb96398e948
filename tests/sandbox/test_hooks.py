"""Runtime detection with audit hooks, each scenario in a fresh ``python -I -S``.

Audit hooks cannot be removed, so nothing here installs one in the pytest
process: every scenario runs in a child interpreter that installs the hooks,
tries things, and prints what happened as JSON.  Reports are appended to a
file by the report callback (which also exercises the re-entrancy guard: that
``open`` is outside ``writable``), so a forked child's reports arrive too.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ramparts.sandbox.hooks import HookPolicy, install

REPO = Path(__file__).resolve().parents[2]

PRELUDE = """\
import ctypes, json, os, socket, subprocess, sys
_conf = json.loads(sys.argv[1])
sys.path.insert(0, _conf["repo"])
from ramparts.errors import RuntimeViolation
from ramparts.sandbox import hooks

cfg = _conf["cfg"]
results = {}

def report(event):
    with open(_conf["sink"], "a") as fh:
        fh.write(json.dumps(event) + "\\n")

def attempt(name, fn):
    try:
        value = fn()
    except RuntimeViolation as exc:
        results[name] = {"blocked": [exc.rule, exc.target]}
    except Exception as exc:
        results[name] = {"error": type(exc).__name__}
    else:
        plain = value is None or isinstance(value, (bool, int, str))
        results[name] = {"ok": value if plain else repr(value)}

def exec_in_fork(path, argv):
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(path, argv)
        finally:
            os._exit(99)
    return os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])

_policy = {k: tuple(tuple(x) if isinstance(x, list) else x for x in v)
           if isinstance(v, list) else v for k, v in _conf["policy"].items()}
if _conf["install"]:
    hooks.install(hooks.HookPolicy(**_policy), report)
"""

EPILOGUE = """
print(json.dumps(results))
"""

_runs = itertools.count()


@dataclass
class Outcome:
    results: dict[str, dict[str, Any]]
    reports: list[dict[str, Any]]

    def reported(self, rule: str) -> list[dict[str, Any]]:
        return [r for r in self.reports if r["rule"] == rule]


@dataclass
class Env:
    tmp: Path
    true: Path  # a copy of /bin/true in the code dir, allowed by the default policy
    other_true: Path  # the same binary elsewhere, not allowed
    scratch: Path  # the only writable dir (plus /dev/null) by default
    outside: Path  # a dir outside writable
    allowed_port: int
    other_port: int
    libm: str | None  # the system libm's path, if we can find it

    def policy(self, mode: str, **overrides: Any) -> dict[str, Any]:
        policy: dict[str, Any] = {
            "mode": mode,
            "code_dir": str(self.tmp / "task"),
            "deps_dirs": [str(self.tmp / "deps")],
            "allow_exec": [str(self.true)],
            "allowed_connect": [["127.0.0.1", self.allowed_port]],
            "writable": [str(self.scratch), "/dev/null"],
        }
        policy.update(overrides)
        return policy

    def run(
        self,
        body: str,
        *,
        mode: str = "block",
        install: bool = True,
        cfg: dict[str, Any] | None = None,
        env: dict[str, str] | None = None,
        **policy: Any,
    ) -> Outcome:
        sink = self.tmp / f"reports-{next(_runs)}.jsonl"
        conf = {
            "repo": str(REPO),
            "sink": str(sink),
            "install": install,
            "policy": self.policy(mode, **policy),
            "cfg": {
                "outside": str(self.outside / "file.txt"),
                "scratch_file": str(self.scratch / "ok.txt"),
                "true": str(self.true),
                "other_true": str(self.other_true),
                "bin": str(self.true.parent),
                "other_port": self.other_port,
                "allowed_port": self.allowed_port,
                "libm": self.libm,
                "tmp": str(self.tmp),
                **(cfg or {}),
            },
        }
        code = PRELUDE + textwrap.dedent(body) + EPILOGUE
        proc = subprocess.run(
            [sys.executable, "-I", "-S", "-c", code, json.dumps(conf)],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=self.tmp,
            env=env,
        )
        assert proc.returncode == 0, proc.stderr
        lines = sink.read_text().splitlines() if sink.exists() else []
        return Outcome(
            results=json.loads(proc.stdout.strip().splitlines()[-1]),
            reports=[json.loads(line) for line in lines],
        )


def _find_libm() -> str | None:
    for d in (
        "/lib/x86_64-linux-gnu",
        "/usr/lib/x86_64-linux-gnu",
        "/lib/aarch64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/lib64",
        "/usr/lib64",
        "/lib",
        "/usr/lib",
    ):
        path = os.path.join(d, "libm.so.6")
        if os.path.exists(path):
            return path
    return None


def _listener() -> socket.socket:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    return sock


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    task_bin = tmp_path / "task" / "bin"
    task_bin.mkdir(parents=True)
    true = task_bin / "true"
    shutil.copy2(os.path.realpath("/bin/true"), true)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    other_true = elsewhere / "true"
    shutil.copy2(os.path.realpath("/bin/true"), other_true)
    (tmp_path / "deps").mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    allowed, other = _listener(), _listener()
    try:
        yield Env(
            tmp=tmp_path,
            true=true,
            other_true=other_true,
            scratch=scratch,
            outside=outside,
            allowed_port=allowed.getsockname()[1],
            other_port=other.getsockname()[1],
            libm=_find_libm(),
        )
    finally:
        allowed.close()
        other.close()


# (name, code in block mode, code in detect mode, rule, outcome in detect mode)
OPS = [
    (
        "subprocess",
        "subprocess.run(['/bin/sh', '-c', 'exit 3']).returncode",
        "subprocess.run(['/bin/sh', '-c', 'exit 3']).returncode",
        "process.spawn",
        {"ok": 3},
    ),
    (
        "shell_true",
        "subprocess.run('exit 3', shell=True).returncode",
        "subprocess.run('exit 3', shell=True).returncode",
        "process.spawn",
        {"ok": 3},
    ),
    (
        "os_system",
        "os.system('exit 4')",
        "os.waitstatus_to_exitcode(os.system('exit 4'))",
        "process.spawn",
        {"ok": 4},
    ),
    (
        "os_execv",
        "os.execv('/bin/sh', ['sh', '-c', 'exit 5'])",
        "exec_in_fork('/bin/sh', ['sh', '-c', 'exit 5'])",
        "process.spawn",
        {"ok": 5},
    ),
    (
        "posix_spawn",
        "os.posix_spawn('/bin/true', ['true'], dict(os.environ))",
        "os.waitstatus_to_exitcode("
        "os.waitpid(os.posix_spawn('/bin/true', ['true'], dict(os.environ)), 0)[1])",
        "process.spawn",
        {"ok": 0},
    ),
    (
        "posix_spawnp",
        "os.posix_spawnp('true', ['true'], dict(os.environ))",
        "os.waitstatus_to_exitcode("
        "os.waitpid(os.posix_spawnp('true', ['true'], dict(os.environ)), 0)[1])",
        "process.spawn",
        {"ok": 0},
    ),
    (
        "unallowed_copy",
        "subprocess.run([cfg['other_true']]).returncode",
        "subprocess.run([cfg['other_true']]).returncode",
        "process.spawn",
        {"ok": 0},
    ),
    (
        "system_path_lookup",
        "subprocess.run(['true']).returncode",
        "subprocess.run(['true']).returncode",
        "process.spawn",
        {"ok": 0},
    ),
    (
        "connect",
        "socket.create_connection(('127.0.0.1', cfg['other_port']), timeout=5).close()",
        "socket.create_connection(('127.0.0.1', cfg['other_port']), timeout=5).close()",
        "socket.connect",
        {"ok": None},
    ),
    (
        "udp_sendto",
        "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', 9))",
        "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', 9))",
        "socket.connect",
        {"ok": 1},
    ),
    (
        "dlopen_soname",
        "ctypes.CDLL('libm.so.6')",
        "ctypes.CDLL('libm.so.6') is not None",
        "native.load",
        {"ok": True},
    ),
    (
        "write_etc",
        "open('/etc/ramparts-hooks-test-missing/x', 'w')",
        "open('/etc/ramparts-hooks-test-missing/x', 'w')",
        "file.write",
        {"error": "FileNotFoundError"},
    ),
    (
        "write_outside",
        "open(cfg['outside'], 'w')",
        "open(cfg['outside'], 'w').write('x')",
        "file.write",
        {"ok": 1},
    ),
    (
        "os_open_outside",
        "os.open(cfg['outside'], os.O_WRONLY | os.O_CREAT)",
        "os.close(os.open(cfg['outside'], os.O_WRONLY | os.O_CREAT))",
        "file.write",
        {"ok": None},
    ),
    (
        "append_outside",
        "open(cfg['outside'], 'a')",
        "open(cfg['outside'], 'a').close()",
        "file.write",
        {"ok": None},
    ),
]


@pytest.mark.parametrize(
    ("name", "block", "detect", "rule", "outcome"), OPS, ids=[o[0] for o in OPS]
)
def test_block_mode_refuses_and_reports(
    env: Env, name: str, block: str, detect: str, rule: str, outcome: dict[str, Any]
) -> None:
    out = env.run(f"attempt('op', lambda: {block})\n")
    assert "blocked" in out.results["op"], out.results
    assert out.results["op"]["blocked"][0] == rule
    assert [r["rule"] for r in out.reports] == [rule]
    assert out.reports[0]["blocked"] is True
    assert out.reports[0]["mode"] == "block"
    assert out.reports[0]["target"] == out.results["op"]["blocked"][1]
    assert not Path(env.outside / "file.txt").exists()


@pytest.mark.parametrize(
    ("name", "block", "detect", "rule", "outcome"), OPS, ids=[o[0] for o in OPS]
)
def test_detect_mode_lets_it_run_and_reports(
    env: Env, name: str, block: str, detect: str, rule: str, outcome: dict[str, Any]
) -> None:
    out = env.run(f"attempt('op', lambda: {detect})\n", mode="detect")
    assert out.results["op"] == outcome
    assert [r["rule"] for r in out.reports] == [rule]
    assert out.reports[0]["blocked"] is False
    assert out.reports[0]["mode"] == "detect"


def test_targets_name_what_was_refused(env: Env) -> None:
    out = env.run(
        """
        attempt("sh", lambda: os.system("true"))
        attempt("copy", lambda: subprocess.run([cfg["other_true"]]))
        attempt("connect", lambda: socket.create_connection(("127.0.0.1", cfg["other_port"])))
        attempt("write", lambda: open("/etc/ramparts-hooks-test-missing/x", "w"))
        attempt("lib", lambda: ctypes.CDLL("libm.so.6"))
        """
    )
    targets = {name: r["blocked"][1] for name, r in out.results.items()}
    assert targets["sh"].startswith("/bin/sh")
    assert targets["copy"] == str(env.other_true)
    assert targets["connect"] == f"127.0.0.1:{env.other_port}"
    assert targets["write"] == "/etc/ramparts-hooks-test-missing/x"
    assert targets["lib"] == "libm.so.6"


def test_block_mode_allows_what_the_policy_allows(env: Env) -> None:
    deps_lib = None
    if env.libm:
        deps_lib = env.tmp / "deps" / "libm-copy.so"
        shutil.copy2(os.path.realpath(env.libm), deps_lib)
    out = env.run(
        """
        import pathlib
        attempt("write_scratch", lambda: open(cfg["scratch_file"], "w").write("x"))
        attempt("write_pathlib", lambda: pathlib.Path(cfg["scratch_file"]).write_text("yz"))
        attempt("os_open_scratch", lambda: os.close(os.open(cfg["scratch_file"], os.O_RDWR)))
        attempt("devnull", lambda: open("/dev/null", "w").write("x"))
        attempt("read_etc", lambda: open("/etc/passwd").close())
        attempt("connect_allowed",
                lambda: socket.create_connection(("127.0.0.1", cfg["allowed_port"])).close())
        attempt("connect_allowed_v4_mapped", lambda: socket.socket(socket.AF_INET6).connect(
            ("::ffff:127.0.0.1", cfg["allowed_port"])))
        def unix_pair():
            path = os.path.join(os.path.dirname(cfg["scratch_file"]), "s.sock")
            srv = socket.socket(socket.AF_UNIX)
            srv.bind(path)
            srv.listen()
            cli = socket.socket(socket.AF_UNIX)
            cli.connect(path)
            cli.close(); srv.close()
        attempt("unix_socket", unix_pair)
        attempt("bind_loopback", lambda: socket.socket().bind(("127.0.0.1", 0)))
        attempt("exec_allowed", lambda: subprocess.run([cfg["true"]]).returncode)
        attempt("exec_via_path",
                lambda: subprocess.run(["true"], env={"PATH": cfg["bin"]}).returncode)
        attempt("exec_relative", lambda: subprocess.run(["./true"], cwd=cfg["bin"]).returncode)
        attempt("cdll_none", lambda: ctypes.CDLL(None) is not None)
        if cfg["deps_lib"]:
            attempt("deps_lib", lambda: ctypes.CDLL(cfg["deps_lib"]) is not None)
        """,
        cfg={"deps_lib": str(deps_lib) if deps_lib else None},
    )
    assert out.reports == []
    assert out.results["exec_allowed"] == {"ok": 0}
    assert out.results["exec_via_path"] == {"ok": 0}
    assert out.results["exec_relative"] == {"ok": 0}
    assert out.results["connect_allowed_v4_mapped"] in ({"ok": None}, {"error": "OSError"})
    for name, result in out.results.items():
        assert "blocked" not in result, (name, result)
        if name != "connect_allowed_v4_mapped":
            assert "error" not in result, (name, result)
    if deps_lib:
        assert out.results["deps_lib"] == {"ok": True}


def test_the_shell_is_allowed_when_bin_sh_is(env: Env) -> None:
    out = env.run(
        """
        attempt("system", lambda: os.waitstatus_to_exitcode(os.system("exit 4")))
        attempt("shell", lambda: subprocess.run("exit 3", shell=True).returncode)
        """,
        allow_exec=["/bin/sh"],
    )
    assert out.results == {"system": {"ok": 4}, "shell": {"ok": 3}}
    assert out.reports == []


def test_path_tricks_are_refused(env: Env) -> None:
    link = env.scratch / "link"
    link.symlink_to(env.outside / "file.txt")
    out = env.run(
        """
        class Sneaky(str):
            def __str__(self): return "/dev/null"
            def startswith(self, *args): return True
        class Pathish:
            def __fspath__(self): return cfg["outside"]
        attempt("symlink", lambda: open(cfg["link"], "w"))
        attempt("dotdot", lambda: open(cfg["scratch_file"] + "/../../outside/file.txt", "w"))
        attempt("relative", lambda: open("outside/file.txt", "w"))
        attempt("str_subclass", lambda: open(Sneaky(cfg["outside"]), "w"))
        attempt("pathlike", lambda: open(Pathish(), "w"))
        attempt("bytes", lambda: open(os.fsencode(cfg["outside"]), "w"))
        """,
        cfg={"link": str(link)},
    )
    for name, result in out.results.items():
        assert result.get("blocked", [None])[0] == "file.write", (name, result)
    assert out.results["symlink"]["blocked"][1] == f"{link} -> {env.outside / 'file.txt'}"
    assert not (env.outside / "file.txt").exists()


def test_library_path_outside_native_roots_is_refused(env: Env) -> None:
    if env.libm is None:
        pytest.skip("no libm.so.6 found")
    out = env.run("attempt('lib', lambda: ctypes.CDLL(cfg['libm']))\n")
    assert out.results["lib"]["blocked"][0] == "native.load"
    allowed = env.run(
        "attempt('lib', lambda: ctypes.CDLL(cfg['libm']) is not None)\n",
        native_roots=[os.path.dirname(os.path.realpath(env.libm))],
    )
    assert allowed.results["lib"] == {"ok": True}
    assert allowed.reports == []


def test_dynamic_code_is_reported_after_imports_done_never_blocked(env: Env) -> None:
    task = env.tmp / "task"
    (task / "lazy_mod.py").write_text("exec('y = 2')\nY = y  # noqa: F821\n")
    out = env.run(
        """
        import collections, dataclasses, typing
        sys.path.insert(0, cfg["task"])
        early = compile("2 + 2", "<early>", "eval")
        attempt("before", lambda: eval(compile("1 + 1", "<string>", "eval")))
        hooks.imports_done()
        attempt("compile", lambda: eval(compile("1 + 1", "<string>", "eval")))
        attempt("exec", lambda: exec("x = 1"))
        attempt("code_object", lambda: eval(early))
        attempt("dataclass", lambda: dataclasses.make_dataclass("P", ["a", "b"])(1, 2).b)
        def later_dataclass():
            @dataclasses.dataclass(frozen=True)
            class Q:
                a: int
                b: "str" = "x"
            return Q(1).b
        attempt("dataclass_decorator", later_dataclass)
        attempt("namedtuple", lambda: collections.namedtuple("N", "a b")(1, 2).b)
        class F:
            x: "typing.Optional[int]"
        attempt("forward_ref", lambda: str(typing.get_type_hints(F)["x"]))
        attempt("lazy_import", lambda: __import__("lazy_mod").Y)
        """,
        cfg={"task": str(task)},
    )
    assert out.results["compile"] == {"ok": 2}
    assert out.results["exec"] == {"ok": None}
    assert out.results["lazy_import"] == {"ok": 2}
    for result in out.results.values():
        assert "ok" in result, out.results
    dynamic = out.reported("code.dynamic")
    assert [r["blocked"] for r in dynamic] == [False, False]
    assert all(r["target"].startswith("<string> at ") for r in dynamic)
    assert out.reports == dynamic
    # importlib's bytecode cache beside the code is refused quietly, not reported
    assert not list(task.glob("__pycache__/*.pyc"))


def test_sensitive_reads_are_reported_not_blocked(env: Env) -> None:
    secrets_dir = env.tmp / "secrets"
    secrets_dir.mkdir()
    for name in ("master.key", "server.pem", "admin-token", "notes.txt"):
        (secrets_dir / name).write_text("s3cret")
    out = env.run(
        """
        import pathlib
        def read(path):
            try:
                with open(path, "rb") as fh:
                    return len(fh.read(1))
            except OSError as exc:
                return type(exc).__name__
        d = cfg["secrets"]
        attempt("environ_1", lambda: read("/proc/1/environ"))
        attempt("environ_self", lambda: read("/proc/self/environ"))
        attempt("maps_1", lambda: read("/proc/1/maps"))
        attempt("maps_self", lambda: read("/proc/self/maps"))
        attempt("master_key", lambda: read(d + "/master.key"))
        attempt("pem", lambda: pathlib.Path(d, "server.pem").read_bytes()[:1].decode())
        attempt("token", lambda: read(d + "/admin-token"))
        attempt("plain", lambda: read(d + "/notes.txt"))
        attempt("passwd", lambda: read("/etc/passwd"))
        """,
        cfg={"secrets": str(secrets_dir)},
    )
    assert out.results["master_key"] == {"ok": 1}
    assert out.results["pem"] == {"ok": "s"}
    for result in out.results.values():
        assert "blocked" not in result
    reads = out.reported("file.sensitive_read")
    assert out.reports == reads
    assert all(r["blocked"] is False for r in reads)
    assert {r["target"] for r in reads} == {
        "/proc/1/environ",
        "/proc/self/environ",
        "/proc/1/maps",
        f"{secrets_dir}/master.key",
        f"{secrets_dir}/server.pem",
        f"{secrets_dir}/admin-token",
    }


def test_denied_imports_are_reported(env: Env) -> None:
    out = env.run(
        """
        attempt("ftplib", lambda: __import__("ftplib").FTP.__name__)
        attempt("minidom", lambda: __import__("xml.dom.minidom").__name__)
        attempt("json", lambda: __import__("json").__name__)
        """,
        deny_imports=["ftplib", "xml.dom"],
    )
    assert out.results["ftplib"] == {"ok": "FTP"}
    targets = {r["target"] for r in out.reported("import.denied")}
    assert {"ftplib", "xml.dom", "xml.dom.minidom"} <= targets  # and their submodules
    assert all(t == "ftplib" or t.startswith("xml.dom") for t in targets)
    assert all(r["blocked"] is False for r in out.reports)


def test_reports_are_deduplicated_and_capped(env: Env) -> None:
    out = env.run(
        """
        blocked = 0
        for i in range(5):
            try:
                open(cfg["outside"], "w")
            except RuntimeViolation:
                blocked += 1
        for i in range(150):
            try:
                open(f"{cfg['outside']}-{i}", "w")
            except RuntimeViolation:
                blocked += 1
        results["blocked"] = blocked
        """
    )
    assert out.results["blocked"] == 155  # blocking does not stop at the cap
    assert len(out.reports) == 100
    assert sum(r["target"] == str(env.outside / "file.txt") for r in out.reports) == 1
    assert len({r["target"] for r in out.reports}) == 100


def test_a_failing_reporter_never_reaches_user_code(env: Env) -> None:
    body = """
    def broken(event):
        raise SystemExit("reporter down")
    hooks.install(hooks.HookPolicy(**_policy), broken)
    attempt("write", lambda: open(cfg["outside"], "w").close())
    attempt("dynamic", lambda: (hooks.imports_done(), eval("1 + 1"))[1])
    """
    blocked = env.run(body, install=False)
    assert blocked.results["write"]["blocked"][0] == "file.write"
    assert blocked.results["dynamic"] == {"ok": 2}
    detected = env.run(body, install=False, mode="detect")
    assert detected.results == {"write": {"ok": None}, "dynamic": {"ok": 2}}


def test_off_installs_nothing_and_install_is_once_only(env: Env) -> None:
    off = env.run(
        "attempt('sh', lambda: os.waitstatus_to_exitcode(os.system('exit 2')))\n",
        mode="off",
    )
    assert off.results == {"sh": {"ok": 2}}
    assert off.reports == []
    twice = env.run(
        "attempt('again', lambda: hooks.install(hooks.HookPolicy(**_policy), report))\n"
    )
    assert twice.results["again"] == {"error": "RuntimeError"}


def test_unknown_mode_is_refused_before_anything_is_installed() -> None:
    policy = HookPolicy(
        mode="audit", code_dir="/var/task", deps_dirs=(), allow_exec=(), allowed_connect=()
    )
    with pytest.raises(ValueError, match="unknown protection mode"):
        install(policy, lambda event: None)


STDLIB_WORKOUT = """
import asyncio, base64, collections, concurrent.futures, csv, dataclasses, datetime, decimal
import email.message, email.parser, email.policy, email.utils, enum, functools, gzip
import hashlib, hmac, http.client, io, json, logging, logging.handlers, mimetypes, pathlib
import re, secrets, shutil, sqlite3, ssl, string, tempfile, textwrap, typing, urllib.parse
import urllib.request, uuid, warnings, zlib, zoneinfo

tmp = cfg["work"]

def workout(tag):
    @dataclasses.dataclass(frozen=True)
    class Point:
        x: int
        y: "int" = 0
    P = collections.namedtuple("P", "a b")
    class TD(typing.TypedDict):
        a: int
    class NT(typing.NamedTuple):
        a: int
        b: "str" = "b"
    class Color(enum.Enum):
        RED = 1
    attempt(tag + "typing", lambda: sorted(typing.get_type_hints(Point)) + [NT(1).b])
    attempt(tag + "dataclass", lambda: dataclasses.asdict(Point(1)) and P(1, 2).b)

    async def main():
        await asyncio.sleep(0)
        q = asyncio.Queue()
        await q.put(1)
        loop = asyncio.get_running_loop()
        total = await loop.run_in_executor(None, sum, [1, 2, 3])
        done = await asyncio.gather(asyncio.sleep(0, result=4), q.get())
        return total + sum(done)
    attempt(tag + "asyncio", lambda: asyncio.run(main()))

    def mail():
        msg = email.message.EmailMessage()
        msg["Subject"] = "hi"
        msg["From"] = "a@example.com"
        msg["Date"] = email.utils.formatdate()
        msg["Message-ID"] = email.utils.make_msgid(domain="example.com")
        msg.set_content("body")
        msg.add_attachment(b"data", maintype="application", subtype="octet-stream",
                           filename="a.bin")
        raw = bytes(msg)
        return email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)["Subject"]
    attempt(tag + "email", mail)

    def web():
        conn = http.client.HTTPConnection("example.com", 80, timeout=1)
        conn.putrequest("GET", "/")
        conn.putheader("X-Test", "1")
        req = urllib.request.Request("https://example.com/x?a=1", data=b"{}", method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.build_opener()
        return req.get_full_url() + urllib.parse.urlencode({"q": "a b"})
    attempt(tag + "web", web)

    def files():
        with tempfile.NamedTemporaryFile("w+") as fh:
            fh.write("x")
        with tempfile.TemporaryDirectory() as d:
            pathlib.Path(d, "f.txt").write_text("hello")
            shutil.copy(os.path.join(d, "f.txt"), os.path.join(d, "g.txt"))
        fd, name = tempfile.mkstemp()
        os.close(fd)
        os.unlink(name)
        with tempfile.SpooledTemporaryFile(max_size=4) as fh:
            fh.write(b"more than four")
        with gzip.open(os.path.join(tmp, tag + "x.gz"), "wt") as fh:
            fh.write("zipped")
        return tempfile.gettempdir() == tmp
    attempt(tag + "tempfile", files)

    def logs():
        log = logging.getLogger("workout" + tag)
        log.addHandler(logging.StreamHandler(io.StringIO()))
        log.addHandler(logging.FileHandler(os.path.join(tmp, tag + "app.log")))
        log.addHandler(logging.handlers.RotatingFileHandler(
            os.path.join(tmp, tag + "rot.log"), maxBytes=100, backupCount=1))
        for i in range(5):
            log.warning("line %d %s", i, "x" * 40)
        try:
            1 / 0
        except ZeroDivisionError:
            log.exception("boom")
        return True
    attempt(tag + "logging", logs)

    def db():
        conn = sqlite3.connect(os.path.join(tmp, tag + "db.sqlite3"))
        conn.execute("create table t (a integer, b text)")
        conn.executemany("insert into t values (?, ?)", [(1, "a"), (2, "b")])
        conn.commit()
        n = conn.execute("select count(*) from t").fetchone()[0]
        conn.close()
        return n
    attempt(tag + "sqlite3", db)

    def misc():
        mimetypes.init()
        out = [mimetypes.guess_type("a.json")[0], mimetypes.guess_extension("text/html")]
        if os.path.exists("/usr/share/zoneinfo/Europe/Berlin"):
            tz = zoneinfo.ZoneInfo("Europe/Berlin")
            out.append(datetime.datetime(2024, 7, 1, tzinfo=tz).utcoffset().seconds)
        out.append(str(uuid.uuid4().version) + str(uuid.uuid5(uuid.NAMESPACE_DNS, "x")))
        with decimal.localcontext() as ctx:
            ctx.prec = 5
            out.append(str(decimal.Decimal("1.1") + decimal.Decimal("2.2") / 3))
        out.append(json.dumps({"a": [1, 2.5, None]}, sort_keys=True))
        out.append(hashlib.sha256(b"x").hexdigest() + hmac.new(b"k", b"m", "sha256").hexdigest())
        out.append(base64.b64encode(zlib.compress(b"x")).decode() + secrets.token_hex(2))
        out.append(re.sub(r"a+", "b", "caat") + string.Template("$x").substitute(x=1))
        buf = io.StringIO()
        csv.writer(buf).writerow([1, "a,b"])
        out.append(buf.getvalue() + textwrap.shorten("a b c d e f", 5))
        ssl.create_default_context()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            out.append(sum(pool.map(abs, [-1, -2])))
        with warnings.catch_warnings(record=True):
            warnings.warn("w")
        functools.lru_cache(maxsize=2)(abs)(-3)
        return len(out)
    attempt(tag + "misc", misc)

workout("import-")
hooks.imports_done()
workout("later-")
"""


def test_stdlib_keeps_working_under_block(env: Env) -> None:
    work = env.tmp / "work"
    work.mkdir()
    out = env.run(
        STDLIB_WORKOUT,
        writable=["/tmp", "/dev/null", "/dev/shm", str(work)],
        cfg={"work": str(work)},
        env={**os.environ, "TMPDIR": str(work)},
    )
    assert out.reports == []
    for name, result in out.results.items():
        assert "ok" in result, (name, result)
    assert out.results["later-asyncio"] == {"ok": 11}
    assert out.results["later-sqlite3"] == {"ok": 2}
    assert out.results["later-tempfile"] == {"ok": True}
