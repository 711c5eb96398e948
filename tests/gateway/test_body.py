"""read_body: whole bodies only, bounded, and nothing for a client that left mid-body."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from ramparts.gateway.body import BodyTooLarge, ClientGone, read_body


def _receiver(*messages: dict[str, Any]) -> Any:
    queue = list(messages)

    async def receive() -> dict[str, Any]:
        return queue.pop(0)

    return receive


def _read(headers: dict[str, str], limit: int, *messages: dict[str, Any]) -> bytes:
    return asyncio.run(read_body(_receiver(*messages), headers, limit))


def test_chunks_are_joined_until_the_last() -> None:
    body = _read(
        {},
        10,
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.request", "body": b"cd", "more_body": False},
    )
    assert body == b"abcd"


def test_a_declared_length_over_the_limit_is_refused_before_reading() -> None:
    with pytest.raises(BodyTooLarge):
        _read({"content-length": "11"}, 10)  # no message is ever received


def test_a_body_growing_past_the_limit_is_refused() -> None:
    with pytest.raises(BodyTooLarge):
        _read(
            {},
            3,
            {"type": "http.request", "body": b"ab", "more_body": True},
            {"type": "http.request", "body": b"cd", "more_body": True},
        )


def test_a_disconnect_mid_body_is_client_gone_not_a_short_body() -> None:
    with pytest.raises(ClientGone):
        _read(
            {"content-length": "100"},
            1000,
            {"type": "http.request", "body": b"abc", "more_body": True},
            {"type": "http.disconnect"},
        )
