"""The node log's formatters: any message, field or traceback stays one record.

These run the real formatters on real records (the end-to-end attack on a
running node is tests/observe/test_node_log.py); they cover the paths where
worker-controlled text reaches a message or a traceback rather than a field:
an exception message logged with ``%s``, or raised inside the node.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sys
from pathlib import Path

import pytest

from ramparts.errors import ConfigError
from ramparts.observe.invocations import trace_id_of
from ramparts.observe.logs import (
    JsonFormatter,
    TextFormatter,
    _OffThreadHandler,
    escape_line,
    fields,
    parse_log_format,
    parse_log_level,
)
from ramparts.observe.redact import redactor

FORGED = "x\n2026-12-03T08:00:00.000Z WARNING ramparts.control: admin login\r\x1b[2K\u2028\x85"


def _record(msg: str, *args: object, exc: bool = False, **extra: object) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise ValueError(FORGED)
        except ValueError:
            exc_info = sys.exc_info()
    record = logging.LogRecord("ramparts.node", logging.WARNING, __file__, 1, msg, args, exc_info)
    if extra:
        record.__dict__.update(fields(**extra))
    return record


def test_json_record_is_one_ascii_line_whatever_it_holds() -> None:
    line = JsonFormatter().format(
        _record("prewarming %s failed: %s", "fn", FORGED, exc=True, output=FORGED)
    )
    assert "\n" not in line and line.isascii() and "\r" not in line and "\x1b" not in line
    record = json.loads(line)
    assert record["message"] == f"prewarming fn failed: {FORGED}"
    assert record["output"] == FORGED
    assert "ValueError" in record["exc_info"] and "admin login" in record["exc_info"]


def test_text_record_keeps_forged_lines_inside_it() -> None:
    out = TextFormatter().format(
        _record("prewarming %s failed: %s", "fn", FORGED, exc=True, output=FORGED)
    )
    first, *rest = out.split("\n")
    assert first.startswith("20")
    assert " WARNING ramparts.node: prewarming fn failed: x\\x0a" in first
    assert 'output="x\\n2026' in first
    assert rest and all(line.startswith("  | ") for line in rest)
    for bad in ("\r", "\x1b", "\u2028", "\x85"):
        assert bad not in out


def test_fields_are_redacted_before_writing() -> None:
    secret = "sk_live_" + "Q" * 32
    redactor.add_secret("hunter2-hunter2-hunter2")
    for fmt in (JsonFormatter(), TextFormatter()):
        out = fmt.format(_record("m", output=f"{secret} hunter2-hunter2-hunter2", n=[secret]))
        assert secret not in out and "hunter2-hunter2-hunter2" not in out


def test_escape_line_leaves_printable_text() -> None:
    assert escape_line("plain text: é ü") == "plain text: é ü"
    assert escape_line("a\nb\u202ec") == "a\\x0ab\\u202ec"


def test_bad_format_and_level_name_the_option() -> None:
    assert parse_log_format("JSON") == "json"
    with pytest.raises(ConfigError, match="--log-format"):
        parse_log_format("xml")
    with pytest.raises(ConfigError, match="--log-level"):
        parse_log_level("verbose")
    assert parse_log_level("info") == logging.INFO


def test_personal_data_is_masked_in_handler_output_not_in_principals() -> None:
    card = "4111 1111 1111 1111"
    for fmt in (JsonFormatter(), TextFormatter()):
        out = fmt.format(
            _record("m", output=f"card {card}", principal="ops@example.com")
        )
        assert card not in out and "ops@example.com" in out


def test_trace_id_only_from_a_well_formed_traceparent() -> None:
    good = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert trace_id_of({"headers": {"traceparent": good}}) == good[3:35]
    assert trace_id_of({"traceparent": good}) == good[3:35]
    for bad in (
        "00-" + "0" * 32 + "-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-" + "0" * 16 + "-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        good + "\n2026 admin login",
        12,
    ):
        assert trace_id_of({"headers": {"traceparent": bad}}) is None, bad
    assert trace_id_of(["not", "a", "dict"]) is None


def test_a_full_queue_drops_records_and_says_how_many() -> None:
    records: queue.Queue[logging.LogRecord] = queue.Queue(2)
    handler = _OffThreadHandler(records)
    for i in range(5):
        handler.handle(_record("record %d", i))
    assert handler.dropped == 3
    assert [records.get_nowait().getMessage() for _ in range(2)] == ["record 0", "record 1"]
    handler.handle(_record("record %d", 5))
    note, last = records.get_nowait(), records.get_nowait()
    assert note.levelname == "WARNING" and "dropped 3 log records" in note.getMessage()
    assert last.getMessage() == "record 5" and handler.dropped == 0


def test_default_format_is_text_on_a_terminal_else_json(tmp_path: Path) -> None:
    main, side = os.openpty()
    try:
        with open(side, "w", closefd=False) as tty:
            assert parse_log_format(None, tty) == "text"
    finally:
        os.close(main)
        os.close(side)
    with open(tmp_path / "file", "w") as plain:
        assert parse_log_format(None, plain) == "json"


def test_json_escapes_lone_surrogates_and_non_ascii() -> None:
    odd = b"caf\xe9 \xff".decode("utf-8", "surrogateescape") + " \u00e9\u2028"
    line = JsonFormatter().format(_record("m %s", odd, output=odd))
    assert line.isascii() and "\n" not in line
    assert json.loads(line)["output"] == odd
