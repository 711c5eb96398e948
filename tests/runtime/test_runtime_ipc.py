"""Framing and the context client's argument checks (no processes needed)."""

from __future__ import annotations

import asyncio
import socket

import pytest

from ramparts.aws.accounts import account_id
from ramparts.runtime import ipc
from ramparts.runtime.context import LambdaContext


def test_frame_roundtrip_sync() -> None:
    a, b = socket.socketpair()
    with a, b:
        ipc.send_frame(a, {"x": "é", "data": b"\x00\xff"})
        got = ipc.recv_frame(b)
        assert got == {"x": "é", "data": {"$b64": "AP8="}}
        assert ipc.unb64(got["data"]) == b"\x00\xff"
        a.close()
        assert ipc.recv_frame(b) is None


def test_oversized_frames_are_refused_both_ways() -> None:
    with pytest.raises(ipc.FrameTooLarge, match="exceeds"):
        ipc.frame(b"x" * (ipc.MAX_FRAME + 1))
    a, b = socket.socketpair()
    with a, b:
        a.sendall((ipc.MAX_FRAME + 1).to_bytes(4, "big"))
        with pytest.raises(ipc.FrameTooLarge):
            ipc.recv_frame(b)


def test_malformed_body_is_a_frame_error() -> None:
    a, b = socket.socketpair()
    with a, b:
        a.sendall(ipc.frame(b"{not json"))
        with pytest.raises(ipc.FrameError):
            ipc.recv_frame(b)


def test_async_helpers_roundtrip() -> None:
    async def main() -> None:
        a, b = socket.socketpair()
        reader, writer = await asyncio.open_unix_connection(sock=a)
        try:
            ipc.write_frame(writer, {"op": "x", "blob": b"hi"})
            await writer.drain()
            assert ipc.recv_frame(b) == {"op": "x", "blob": {"$b64": "aGk="}}
            ipc.send_frame(b, {"op": "y", "n": 1})
            assert await ipc.read_frame(reader) == {"op": "y", "n": 1}
            b.close()
            assert await ipc.read_frame(reader) is None
        finally:
            writer.close()

    asyncio.run(main())


def test_context_validates_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    # The ARN names the worker's AWS_REGION (the node's --region), us-east-1 without it.
    monkeypatch.delenv("AWS_REGION", raising=False)
    calls: list[tuple[str, dict]] = []

    def call(method: str, args: dict) -> object:
        calls.append((method, args))
        return None

    ctx = LambdaContext(
        app="a",
        function_name="f",
        function_version="v",
        memory_limit_in_mb=128,
        request_id="r",
        deadline=0.0,
        log_stream_name="s",
        call=call,
    )
    with pytest.raises(TypeError, match="data must be bytes"):
        ctx.objects.put("b", "k", "text")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="item must be a dict"):
        ctx.kv.put("t", "k", [1])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ctx.kv.get("t", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        ctx.kv.query("t", limit=0)
    assert calls == []
    ctx.objects.put("b", "k", b"\x01", content_type="image/png")
    assert calls == [
        (
            "objects.put",
            {"bucket": "b", "key": "k", "data": {"$b64": "AQ=="}, "content_type": "image/png"},
        )
    ]
    assert ctx.invoked_function_arn == f"arn:aws:lambda:us-east-1:{account_id('a')}:function:f"
    monkeypatch.setenv("AWS_REGION", "eu-west-3")
    assert LambdaContext(
        app="a", function_name="f", function_version="1", memory_limit_in_mb=128,
        request_id="r", deadline=0.0, log_stream_name="s", call=lambda m, a: None,
    ).invoked_function_arn == f"arn:aws:lambda:eu-west-3:{account_id('a')}:function:f"
    assert ctx.get_remaining_time_in_millis() == 0
