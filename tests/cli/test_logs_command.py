"""``ramparts logs`` and its control API endpoint: filters by request id, level and time."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: lg
functions:
  lg:
    handler: h.py:handler
"""
HANDLER = """
import logging

def handler(event, context):
    kind = event.get("kind")
    if kind == "warn":
        logging.getLogger().warning("careful")
    if kind == "ansi":
        print("\\x1b[2J\\x1b]0;pwned\\x07 cleared")
    print("ran", kind)
    if kind == "fail":
        raise RuntimeError("bad")
    return kind
"""


@pytest.fixture(scope="module")
def lg(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The function, invoked once per kind: its request ids by kind."""
    node.deploy_ok(make_app(tmp_path_factory.mktemp("lg") / "app", MANIFEST, {"h.py": HANDLER}))
    ids = {}
    for kind in ("ok", "warn", "fail", "ansi"):
        r = node.control.post("/v1/functions/lg/invoke", json={"event": {"kind": kind}})
        assert r.status_code == 200, r.text
        ids[kind] = r.json()["request_id"]
    node.wait_invocations("lg", 4)
    return ids


def _ids(node: RunningNode, **params: object) -> list[str]:
    r = node.control.get("/v1/functions/lg/logs", params={"limit": 1000, **params})
    assert r.status_code == 200, r.text
    return [row["request_id"] for row in r.json()["invocations"]]


def test_api_filters_by_level(node: RunningNode, lg: dict[str, str]) -> None:
    assert _ids(node, level="warning") == [lg["warn"], lg["fail"]]
    assert _ids(node, level="ERROR") == [lg["fail"]]
    assert _ids(node, level="debug") == [lg["ok"], lg["warn"], lg["fail"], lg["ansi"]]
    # the cursor resumes past what the filter skipped
    body = node.control.get("/v1/functions/lg/logs", params={"level": "error"}).json()
    after = body["cursor"]
    assert after >= body["invocations"][-1]["seq"]
    assert _ids(node, level="error", after=after) == []


def test_api_filters_by_request_id_and_time(node: RunningNode, lg: dict[str, str]) -> None:
    assert _ids(node, request_id=lg["warn"]) == [lg["warn"]]
    assert _ids(node, request_id="no-such-request") == []
    everything = [lg["ok"], lg["warn"], lg["fail"], lg["ansi"]]
    assert _ids(node, since="1h") == everything
    assert _ids(node, until="1h") == []
    assert _ids(node, since=str(int(time.time()) - 3600)) == everything
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert _ids(node, since=future) == []
    assert _ids(node, since="2000-01-01T00:00:00Z", until=future) == everything


@pytest.mark.parametrize(
    "params",
    [
        {"level": "loud"},
        {"since": "yesterday"},
        {"until": "12:99"},
        {"since": "nan"},
        {"request_id": "a b"},
        {"request_id": "x" * 65},
    ],
)
def test_api_bad_filters_are_400_with_a_code(node: RunningNode, params: dict[str, str]) -> None:
    r = node.control.get("/v1/functions/lg/logs", params=params)
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument", r.text
    assert list(params)[0] in r.json()["message"]


def test_cli_filters_and_escapes_handler_output(node: RunningNode, lg: dict[str, str]) -> None:
    out = node.cli("logs", "lg", "--level", "error")
    assert out.returncode == 0, out.stderr
    assert lg["fail"] in out.stdout and lg["ok"] not in out.stdout
    out = node.cli("logs", "lg", "--request-id", lg["ansi"], "--since", "10m")
    assert out.returncode == 0, out.stderr
    assert lg["ansi"] in out.stdout and lg["warn"] not in out.stdout
    # the handler's escape sequences are shown, not sent to the terminal
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout
    assert "\\x1b[2J" in out.stdout and "ran ansi" in out.stdout
    out = node.cli("logs", "lg")  # unfiltered: as before
    assert out.returncode == 0 and all(rid in out.stdout for rid in lg.values())
    assert "[WARNING]" in out.stdout  # a handler's log line keeps its tabs as they were
    assert "careful" in out.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--since", "last tuesday"], "--since"),
        (["--until", "1764752400x"], "--until"),
        (["--level", "loud"], "--level"),
        (["--request-id", "a b\x1b[2J"], "--request-id"),
    ],
)
def test_cli_bad_filters_name_the_option(node: RunningNode, args: list[str], named: str) -> None:
    # in-process, as the other parametrized refusals below; the tests above and
    # test_cli_refuses_a_name_that_is_no_function_name go through the real entry point
    out = node.cli_in_process("logs", "lg", *args)
    assert out.returncode != 0 and named in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


@pytest.fixture
def follower(node: RunningNode, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    out = tmp_path / "follow.out"
    with open(out, "wb") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ramparts.cli.main", "logs", "lg", "--follow", "--level",
             "error", "--since", "1m"],
            env=node.env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        yield proc, out
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)


def test_cli_follow_shows_new_matching_invocations(
    node: RunningNode, lg: dict[str, str], follower: tuple[subprocess.Popen[bytes], Path]
) -> None:
    proc, out = follower

    def wait_for(text: str) -> str:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            seen = out.read_text(errors="replace")
            if text in seen:
                return seen
            assert proc.poll() is None, seen
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not shown: {out.read_text(errors='replace')}")

    wait_for(lg["fail"])  # what is already there
    new = {}
    for kind in ("ok", "fail"):
        r = node.control.post("/v1/functions/lg/invoke", json={"event": {"kind": kind}})
        new[kind] = r.json()["request_id"]
    seen = wait_for(new["fail"])
    assert new["ok"] not in seen and lg["ok"] not in seen


@pytest.mark.parametrize("name", ["x\x1b[31m", "../../audit?x=", "Lg", "lg/../x"])
def test_cli_refuses_a_name_that_is_no_function_name(node: RunningNode, name: str) -> None:
    out = node.cli("logs", name)
    assert out.returncode != 0 and "FUNCTION" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and "\x1b" not in out.stderr
    assert out.stdout == ""  # nothing from another endpoint


def test_unknown_function_is_an_error(node: RunningNode, lg: dict[str, str]) -> None:
    r = node.control.get("/v1/functions/no-such-fn/logs")
    assert r.status_code == 404 and r.json()["code"] == "function_not_found", r.text
    out = node.cli("logs", "no-such-fn")
    assert out.returncode != 0, out.stdout
    assert "not found" in out.stderr and "Traceback" not in out.stderr
    # a known function with nothing matching is still an empty answer
    assert node.cli("logs", "lg", "--until", "2000-01-01T00:00:00Z").returncode == 0


@pytest.mark.parametrize(
    "args",
    [
        ["versions", "x\x1b[31m"],
        ["invoke", "../../audit?x="],
        ["rollback", "a b"],
        ["schedule", "run", "x\n"],
        ["alias", "../x", "live", "abc"],
    ],
)
def test_other_commands_refuse_bad_function_names(node: RunningNode, args: list[str]) -> None:
    out = node.cli_in_process(*args)
    assert out.returncode != 0 and "FUNCTION" in out.stderr, out.stderr
    assert "Traceback" not in out.stderr


def test_api_refuses_a_function_name_with_a_trailing_newline(node: RunningNode) -> None:
    # "$" in a name pattern matches before a final newline: "lg\n" is not "lg"
    r = node.control.get("/v1/functions/lg%0a/logs")
    assert r.status_code == 404 and r.json()["code"] == "function_not_found", r.text


@pytest.mark.parametrize(
    "args",
    [
        ["publish", "../../audit?x=", "--data", "{}"],
        ["objects", "list", "../audit?x="],
        ["kv", "get", "../../audit?x=", "k"],
    ],
)
def test_names_cannot_reach_another_endpoint(node: RunningNode, args: list[str]) -> None:
    out = node.cli_in_process(*args)
    assert out.returncode != 0 and "Traceback" not in out.stderr, out.stderr
    assert '"events"' not in out.stdout and "audit" not in out.stdout.lower()
