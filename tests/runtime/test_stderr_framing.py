"""A worker's raw stderr reaches the node log as fields of records, line by line.

``_drain_stderr`` reads a real stream: bytes arrive in arbitrary pieces (a
UTF-8 character or a line split across reads), lines may be long, and output
is capped per zygote.  The end-to-end attack on a running node is
tests/observe/test_node_log.py.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ramparts.runtime import supervisor
from ramparts.runtime.types import FunctionSpec

SPEC = FunctionSpec(app="a", function="fn", version="v" * 64, code_dir=Path("."), handler="h:h")


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def collected() -> Iterator[list[logging.LogRecord]]:
    handler = _Collect()
    logger = logging.getLogger("ramparts.runtime")
    logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        logger.removeHandler(handler)


def _drain(pieces: list[bytes]) -> None:
    async def run() -> None:
        stream = asyncio.StreamReader()
        for piece in pieces:
            stream.feed_data(piece)
        stream.feed_eof()
        await supervisor._drain_stderr(stream, SPEC)

    asyncio.run(run())


def _fields(records: list[logging.LogRecord]) -> list[dict[str, Any]]:
    return [r.ramparts for r in records]  # type: ignore[attr-defined]


def test_lines_split_across_reads_stay_whole(collected: list[logging.LogRecord]) -> None:
    text = "héllo wörld\r\x1b[2K fake\nsecond line\n".encode()
    # one byte at a time: every UTF-8 character and the line are split across reads
    _drain([text[i : i + 1] for i in range(len(text))])
    out = [f["output"] for f in _fields(collected)]
    assert out == ["héllo wörld\r\x1b[2K fake", "second line"]
    assert all(f["function"] == "fn" and f["stream"] == "stderr" for f in _fields(collected))


def test_a_long_line_becomes_marked_pieces(collected: list[logging.LogRecord]) -> None:
    line = "x" * (2 * supervisor._STDERR_LINE + 10)
    _drain([line.encode() + b"\nnext\n"])
    fields = _fields(collected)
    assert "".join(f["output"] for f in fields[:3]) == line
    assert [f.get("continued", False) for f in fields] == [False, True, True, False]
    assert fields[3]["output"] == "next"


def test_output_past_the_cap_is_dropped_with_a_note(collected: list[logging.LogRecord]) -> None:
    line = b"y" * 100 + b"\n"
    _drain([line] * (supervisor._STDERR_CAP // len(line) + 50))
    outputs = [f.get("output") for f in _fields(collected)]
    assert sum(len(o) for o in outputs if o) <= supervisor._STDERR_CAP
    assert "the rest is dropped" in collected[-1].getMessage()
    assert len([r for r in collected if "dropped" in r.getMessage()]) == 1
