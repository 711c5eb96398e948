"""The node's own log: one record per line, JSON or text, redacted, unforgeable.

Every log record of a node goes through one handler on the root logger with
one of the two formatters here.  Both guarantee that a record is exactly one
line (a text-mode traceback adds continuation lines that start with ``  | ``,
never a line that parses as a record), whatever its message or fields hold:
worker output, exception messages, function names, request values.  That is
the guarantee a handler cannot break by printing or raising a line that looks
like the node's own (see docs/logging.md).

Structured fields travel on a record as ``extra={"ramparts": {...}}`` (see
:func:`fields`); both formatters redact their string values with the node's
redactor before writing them, as the record factory already does for the
message (``ramparts.observe.redact.install_log_redaction``).
"""

from __future__ import annotations

import atexit
import copy
import json
import logging
import logging.handlers
import queue
import re
import sys
import time
from collections.abc import Mapping
from typing import IO, Any

import orjson

from ramparts.errors import ConfigError
from ramparts.observe.redact import redact_text, redactor

#: The record attribute that carries structured fields (``extra={FIELDS: {...}}``).
FIELDS = "ramparts"
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
#: The logger of the one line per finished invocation (INFO, on by default).
INVOCATION_LOGGER = "ramparts.invocation"
_CORE = ("ts", "level", "logger", "message")
_CONTINUATION = "  | "
# Fields whose text a handler produced: personal data is masked there too, as in
# invocation records; elsewhere (principals may be e-mail addresses) only secrets.
HANDLER_FIELDS = frozenset({"output", "error_message"})
# Fields the node fills with names and ids it made or validated (function names,
# content hashes, request and trace ids): written as they are when they look like
# one, which spares the redactor's patterns on every invocation line.
_NODE_FIELDS = frozenset({"request_id", "trace_id", "function", "version", "trigger", "outcome"})
_IDENTIFIER = re.compile(r"[A-Za-z0-9._-]{1,128}")
_QUEUE_RECORDS = 10_000  # records waiting for the writer thread before new ones drop


def fields(**values: Any) -> dict[str, dict[str, Any]]:
    """``extra=`` for a log call: structured fields the formatters write as such."""
    return {FIELDS: values}


def _timestamp(created: float) -> str:
    """RFC 3339 UTC with milliseconds: sortable, and the same on every node."""
    whole = int(created)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)) + (
        f".{int((created - whole) * 1000):03d}Z"
    )


def _clean(value: Any, pii: bool = False) -> Any:
    """A field value made JSON-safe and redacted (strings, nested lists and dicts):
    secrets always, personal data too when ``pii`` (handler-produced text)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): _clean(v, pii) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v, pii) for v in value]
    text = value if isinstance(value, str) else str(value)
    return redact_text(text) if pii else redactor.redact(text)


def _field(key: str, value: Any) -> Any:
    if key in _NODE_FIELDS and isinstance(value, str) and _IDENTIFIER.fullmatch(value):
        return value
    return _clean(value, key in HANDLER_FIELDS)


def escape_line(text: str, *, keep: str = "") -> str:
    """``text`` on one line: every non-printable character (newlines, CR, ESC and other
    C0/C1 controls, NUL, U+2028/2029, bidi overrides) as a backslash escape, except
    those in ``keep`` (a terminal view keeps tabs)."""
    if text.isprintable():
        return text
    out = []
    for c in text:
        if c.isprintable() or c in keep:
            out.append(c)
        else:
            code = ord(c)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, ASCII only.

    Every control character (C0, DEL, C1) and everything outside ASCII is
    written as a ``\\uXXXX`` escape, so no byte a terminal or a line splitter
    acts on (CR, ESC, NEL, U+2028) is ever written raw; the values read back
    unchanged by any JSON parser.
    """

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": _timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        extra = getattr(record, FIELDS, None)
        if isinstance(extra, dict):
            for key, value in extra.items():
                if key not in _CORE:
                    out[str(key)] = _field(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = redactor.redact(self.formatException(record.exc_info))
        if record.exc_text:
            out["exc_info"] = record.exc_text
        # orjson for speed; a line it wrote with any non-ASCII character is written
        # again by json with every such character escaped (orjson cannot).
        try:
            line = orjson.dumps(out, default=str).decode()
            if not line.isascii():
                line = json.dumps(out, ensure_ascii=True, default=str)
        except TypeError:  # a lone surrogate (surrogateescape'd bytes): json escapes it
            line = json.dumps(out, ensure_ascii=True, default=str)
        # DEL is ASCII but a control character; outside strings JSON never has one.
        return line.replace("\x7f", "\\u007f") if "\x7f" in line else line


class TextFormatter(logging.Formatter):
    """``TS LEVEL logger: message key=value ...`` on one line.

    The message is escaped to one line; field values that are not plain words
    are written JSON-quoted, so a value cannot end the record or pose as a
    field of its own.  Traceback lines follow, each prefixed with ``  | `` and
    escaped, so none starts like a record.
    """

    def format(self, record: logging.LogRecord) -> str:
        parts = [
            f"{_timestamp(record.created)} {record.levelname} {record.name}: "
            + escape_line(record.getMessage())
        ]
        extra = getattr(record, FIELDS, None)
        if isinstance(extra, Mapping):
            for key, value in extra.items():
                value = _field(key, value)
                parts.append(f"{escape_line(str(key))}={_text_value(value)}")
        line = " ".join(parts)
        if record.exc_info and not record.exc_text:
            record.exc_text = redactor.redact(self.formatException(record.exc_info))
        if record.exc_text:
            line += "".join(
                f"\n{_CONTINUATION}{escape_line(part)}" for part in record.exc_text.split("\n")
            )
        return line


def _text_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool | int | float):
        return json.dumps(value)
    if isinstance(value, str) and value and all(c.isalnum() or c in "-_.:@/" for c in value):
        return value if value.isascii() else json.dumps(value, ensure_ascii=True)
    return json.dumps(value, ensure_ascii=True, default=str)


def parse_log_format(value: str | None, stream: IO[str] | None = None) -> str:
    """``json`` or ``text``; unset means json unless ``stream`` (stderr) is a terminal."""
    if value is None or value == "":
        target = stream if stream is not None else sys.stderr
        try:
            return "text" if target.isatty() else "json"
        except (AttributeError, ValueError):
            return "json"
    choice = value.strip().lower()
    if choice not in LOG_FORMATS:
        raise ConfigError(f"--log-format: {value!r} is not one of {', '.join(LOG_FORMATS)}")
    return choice


def parse_log_level(value: str) -> int:
    """A level name for ``--log-level``; anything else is a ``ConfigError`` naming it."""
    choice = str(value).strip().lower()
    if choice not in LOG_LEVELS:
        raise ConfigError(f"--log-level: {value!r} is not one of {', '.join(LOG_LEVELS)}")
    return int(getattr(logging, choice.upper()))


class _OffThreadHandler(logging.handlers.QueueHandler):
    """Hands records to the writer thread; never waits on a slow stderr reader.

    A full queue drops the record and counts it; the next record that fits is
    preceded by a WARNING saying how many were dropped, so a gap is visible.
    """

    def __init__(self, q: queue.Queue[logging.LogRecord]) -> None:
        super().__init__(q)
        self.dropped = 0

    def prepare(self, record: logging.LogRecord) -> logging.LogRecord:
        # Keep the traceback apart from the message (the formatters place it), but
        # render it now: exc_info holds frames that must not cross threads.
        record = copy.copy(record)
        record.msg = record.getMessage()
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = redactor.redact(
                logging.Formatter().formatException(record.exc_info)
            )
        record.exc_info = None
        return record

    def enqueue(self, record: logging.LogRecord) -> None:
        try:
            if self.dropped:
                note = logging.LogRecord(
                    "ramparts.observe", logging.WARNING, __file__, 0,
                    "dropped %d log records: the log writer fell behind", (self.dropped,), None,
                )
                self.queue.put_nowait(self.prepare(note))
                self.dropped = 0
            self.queue.put_nowait(record)
        except queue.Full:
            self.dropped += 1


_listener: logging.handlers.QueueListener | None = None


def configure_logging(log_format: str, level: int = logging.WARNING) -> None:
    """Send every record of this process to stderr through the chosen formatter.

    Records are formatted and written on a thread of their own (a bounded
    queue in between), so a slow reader of stderr never stalls the event loop.
    Libraries log at ``level`` (default WARNING, as before); the one line per
    invocation (``ramparts.invocation``) is INFO and shows unless ``level`` is
    above WARNING.  Replaces handlers a previous call (or ``basicConfig``) set.
    """
    global _listener
    if _listener is not None:
        _listener.stop()
    stream = logging.StreamHandler(sys.stderr)
    stream.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    records: queue.Queue[logging.LogRecord] = queue.Queue(_QUEUE_RECORDS)
    _listener = logging.handlers.QueueListener(records, stream)
    _listener.start()
    atexit.register(_listener.stop)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(_OffThreadHandler(records))
    root.setLevel(level)
    logging.getLogger(INVOCATION_LOGGER).setLevel(
        logging.INFO if level <= logging.WARNING else level
    )
