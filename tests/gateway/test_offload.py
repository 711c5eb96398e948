"""Which requests the gateway inspects off its event loop (ramparts.gateway.offload).

The attack (adversarial review, DoS part 2): 16 KB of crafted punctuation
(``{%{%...``) passed the WAF but cost ~25-45 ms of rule-set CPU, spent on the
event loop every other request waits on, because only bodies over 16 KiB went
to a worker thread.  Now what decides is the punctuation a request carries, in
its body, query and headers alike.
"""

from __future__ import annotations

import asyncio
import threading

import pytest

from ramparts.gateway.offload import (
    INLINE_NON_PLAIN_BYTES,
    Offload,
    inspection_is_heavy,
)

BROWSER_HEADERS = [
    b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
    b"text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    b"gzip, deflate, br",
    b"en-US,en;q=0.9",
    b"session=3f2a9c1e-77b4-4c1d-9a0e-5b6c7d8e9f00; theme=dark",
]


@pytest.mark.parametrize(
    "parts",
    [
        [b"/echo", b"q=%7B%25" * 600],  # crafted query
        [b"/echo", b"", b"{%" * 8192],  # the review's 16 KB body
        [b"/echo", b"", *BROWSER_HEADERS, b'{"t": "' + b"<a" * 1000 + b'"}'],
        [b"/echo", b"", b"x-note", b"'\"<>" * 300],  # in a header
        [b"/echo", b"", b"lorem ipsum " * 1500],  # plain, but more than 16 KiB in all
    ],
)
def test_crafted_or_large_requests_are_heavy(parts: list[bytes]) -> None:
    assert inspection_is_heavy(parts)


@pytest.mark.parametrize(
    "parts",
    [
        [b"/echo", b"q=hello+world&page=2", *BROWSER_HEADERS],
        [b"/orders", b"", *BROWSER_HEADERS, b'{"item": "book", "qty": 2, "note": "gift wrap"}'],
        [b"/echo", b"", b"lorem ipsum, dolor sit amet. " * 400],  # 12 KB of prose
    ],
)
def test_ordinary_requests_stay_inline(parts: list[bytes]) -> None:
    assert not inspection_is_heavy(parts)


def test_the_punctuation_budget_is_the_boundary() -> None:
    assert not inspection_is_heavy([b"{" * INLINE_NON_PLAIN_BYTES])
    assert inspection_is_heavy([b"{" * (INLINE_NON_PLAIN_BYTES + 1)])


def test_heavy_work_runs_in_a_worker_thread_and_light_work_inline() -> None:
    async def main() -> tuple[int, int, int]:
        offload = Offload()
        loop_thread = threading.get_ident()
        light = await offload.run(False, threading.get_ident)
        heavy = await offload.run(True, threading.get_ident)
        return loop_thread, light, heavy

    loop_thread, light, heavy = asyncio.run(main())
    assert light == loop_thread and heavy != loop_thread
