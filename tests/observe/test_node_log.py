"""The node's log: a handler cannot forge node log lines; one line per invocation.

A real ``ramparts up`` runs with its stderr (the node log) captured apart from
its stdout; a deployed handler prints, at import and on every call, to its
captured stdout, to the raw file descriptors 1 and 2, and in its exception,
lines that look like the node's own records in both formats, with newlines,
CR, ANSI escapes, NUL, U+2028, NEL, invalid UTF-8 and a very long line.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningNode, make_app

MARK = "FORGED"
HANDLER = r'''
import os
import sys

TEXT = "2026-12-03T08:00:00.000Z WARNING ramparts.control: admin login principal=admin FORGED"
JSON = ('{"ts": "2026-12-03T08:00:00.000Z", "level": "WARNING", "logger": "ramparts.control",'
        ' "message": "admin login FORGED"}')
PAYLOAD = (
    ("x\n" + TEXT + "\r" + JSON + "\r\n\x1b[2K\x1b[1A" + TEXT + "\x00" + "\u2028" + JSON
     + "\x85" + TEXT + "\u202e\x7f" + "\n").encode()
    + b"\xff\xfe FORGED-invalid-utf8 \xc3\n"
    + b"FORGED-long " + b"A" * 12000 + b"\n" + JSON.encode() + b"\n"
)

print("import\n" + TEXT + "\n" + JSON + "\x1b[31m")  # the handler's init output


def handler(event, context):
    os.write(2, PAYLOAD)  # below the runtime's capture: the worker's real stderr
    os.write(1, PAYLOAD)
    print(PAYLOAD.decode("utf-8", "replace"))
    print(TEXT, file=sys.stderr)
    if event.get("raise"):
        raise ValueError("boom\n" + TEXT + "\r\n" + JSON)
    return {"ok": True}
'''
MANIFEST = """
app: forge
functions:
  forger:
    handler: h.py:handler
    triggers:
      - http: {method: GET, path: /forge, auth: none}
      - http: {method: GET, path: /forge-keyed, auth: api_key}
"""
RECORD = re.compile(
    r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: "
)
TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


class StderrNode(RunningNode):
    """A node whose stderr (the node log) is a file of its own, apart from stdout."""

    def __init__(self, data_dir: Path, log_format: str) -> None:
        super().__init__(data_dir)
        self.log_format = log_format
        self.stderr_path = data_dir.parent / "stderr.log"

    def command(self) -> list[str]:
        # text runs at INFO, where the handler's import-time output is logged too (an
        # INFO record); json at the default level, where only invocation lines are INFO
        level = ["--log-level", "info"] if self.log_format == "text" else []
        return [*super().command(), "--log-format", self.log_format, *level]

    def start(self, **popen: Any) -> RunningNode:
        out = open(self.data_dir.parent / "stdout.log", "ab")  # noqa: SIM115
        err = open(self.stderr_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            self.command(), env=self.env, stdout=out, stderr=err, start_new_session=True
        )
        return self._wait_started()

    def log_text(self) -> str:
        return self.stderr_path.read_bytes().decode("utf-8", "replace")[-4000:]

    def stderr_bytes(self) -> bytes:
        return self.stderr_path.read_bytes()


def _wait_for(node: StderrNode, predicate: Any, what: str, timeout: float = 60.0) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        data = node.stderr_bytes()
        if predicate(data):
            return data
        time.sleep(0.2)
    raise AssertionError(f"{what} not in the node log after {timeout}s:\n{node.log_text()}")


@pytest.fixture(scope="module", params=["json", "text"])
def forged(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
    tuple[StderrNode, bytes]
]:
    """A node in each log format that ran the forger (ok and raising): its node log."""
    base = tmp_path_factory.mktemp(f"forge-{request.param}")
    node = StderrNode(base / "data", request.param)
    node.start()
    try:
        node.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLER}))
        r = node.gateway.get(
            "/forge", headers={"traceparent": f"00-{TRACE}-00f067aa0ba902b7-01"}
        )
        assert r.status_code == 200, r.text
        # an all-zero trace id is invalid: the line says none
        zero = f"00-{'0' * 32}-00f067aa0ba902b7-01"
        r = node.control.post(
            "/v1/functions/forger/invoke", json={"event": {"raise": True, "traceparent": zero}}
        )
        assert r.status_code == 200, r.text
        out = node.cli("keys", "create", "--name", "forge")
        assert out.returncode == 0, out.stderr
        key = out.stdout.strip()
        r = node.gateway.get("/forge-keyed", headers={"x-api-key": key})
        assert r.status_code == 200, r.text
        node.wait_invocations("forger", 3)
        # the calls ended (three invocation lines) and the worker's raw stderr arrived,
        # its invalid-UTF-8 line included
        data = _wait_for(
            node,
            lambda d: d.count(b"ramparts.invocation") >= 3
            and d.count(b"FORGED-invalid-utf8") >= 3
            and (node.log_format == "json" or b"init output of forger" in d),
            "both invocation lines and the worker's stderr",
        )
        yield node, data
    finally:
        node.close()


def test_no_raw_control_bytes_in_the_node_log(forged: tuple[StderrNode, bytes]) -> None:
    _, data = forged
    text = data.decode("utf-8")  # the log itself is valid UTF-8 (ASCII in JSON mode)
    for bad in ("\r", "\x1b", "\x00", "\x7f", "\u2028", "\u2029", "\x85", "\u202e"):
        assert bad not in text, repr(bad)
    # the forged JSON record never appears as it was written (only quoted, as a value)
    assert '{"ts": "2026-12-03T08:00:00.000Z"' not in text


def test_forged_lines_are_field_values_of_records_of_the_function(
    forged: tuple[StderrNode, bytes],
) -> None:
    node, data = forged
    lines = data.decode("utf-8").split("\n")
    assert lines[-1] == ""
    carried = 0
    init = [x for x in lines if "init output of forger" in x]
    if node.log_format == "text":
        assert len(init) == 1 and MARK in init[0] and "stream=init" in init[0]
    else:  # INFO, below the default level
        assert init == []
    if node.log_format == "json":
        for line in lines[:-1]:
            record = json.loads(line)  # every line is one JSON record
            assert set(record) >= {"ts", "level", "logger", "message"}
            if MARK in record["message"] or "admin login" in record["message"]:
                raise AssertionError(f"a forged record: {line[:300]}")
            if MARK in line:
                carried += 1
                assert record["function"] == "forger", line[:300]
                assert record["logger"] in ("ramparts.runtime", "ramparts.invocation")
                assert MARK in (record.get("output") or "") + (record.get("error_message") or "")
    else:
        for line in lines[:-1]:
            # every line is a record's header, or a traceback's marked continuation
            assert RECORD.match(line) or line.startswith("  | "), line[:300]
            if MARK in line:
                carried += 1
                assert not line.startswith("  | "), line[:300]
                header = RECORD.match(line)
                assert header is not None
                assert "admin login" not in line[: header.end()]
                assert " function=forger " in line or line.endswith(" function=forger")
                assert re.search(r" (output|error_message)=\"[^\n]*" + MARK, line), line[:300]
    # stderr lines of three calls, the exception's line (and import output): all as fields
    assert carried >= 3 * 5 + 1


def test_one_info_line_per_invocation(forged: tuple[StderrNode, bytes]) -> None:
    node, data = forged
    if node.log_format != "json":
        lines = [x for x in data.decode().split("\n") if " ramparts.invocation: " in x]
        assert len(lines) == 3 and all(" INFO " in x for x in lines)
        assert f"trace_id={TRACE}" in lines[0] and "trigger=http" in lines[0]
        return
    records = [json.loads(x) for x in data.decode().split("\n") if x]
    ended = [r for r in records if r["logger"] == "ramparts.invocation"]
    assert len(ended) == 3
    ok, failed, keyed = ended
    rows = {r["request_id"]: r for r in node.invocations("forger")}
    for line in ended:
        assert line["level"] == "INFO"
        assert line["request_id"] in rows
        assert line["function"] == "forger"
        assert line["version"] == rows[line["request_id"]]["version"]
        assert isinstance(line["duration_ms"], float) and isinstance(line["cold"], bool)
        assert {"principal", "trace_id", "trigger", "outcome"} <= set(line)
    assert ok["trigger"] == "http" and ok["outcome"] == "ok" and ok["trace_id"] == TRACE
    assert failed["trigger"] == "invoke" and failed["outcome"] == "error"
    assert failed["trace_id"] is None and failed["error_type"] == "ValueError"
    assert failed["error_message"].startswith("boom\n") and failed["principal"] is None
    assert ok["principal"] is None  # a public route
    assert keyed["principal"].startswith("key:") and keyed["trigger"] == "http"
    assert [x["cold"] for x in ended] == [bool(rows[x["request_id"]]["cold"]) for x in ended]
