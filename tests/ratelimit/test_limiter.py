"""The counter over memory storage, and the header fields (draft -06 form)."""

from __future__ import annotations

import asyncio

import pytest

from ramparts.errors import ConfigError
from ramparts.ratelimit.headers import rate_limit_headers
from ramparts.ratelimit.limiter import RateLimiter, check_storage_url, parse_limits


def test_limits_parse_shortest_window_first() -> None:
    policy = parse_limits(["1000/hour", "10/second", "100/minute"])
    assert [p.text for p in policy] == ["10/second", "100/minute", "1000/hour"]
    assert [p.window for p in policy] == [1, 60, 3600]
    with pytest.raises(ValueError):
        parse_limits(["10/fortnight"])


def test_memory_counter_refuses_past_the_limit_and_reports_the_tightest() -> None:
    async def main() -> None:
        limiter = RateLimiter("memory://")
        policy = parse_limits(["3/minute", "10/hour"])
        seen = [await limiter.hit(policy, ("route", "app", "GET /x", "ip", "a")) for _ in range(4)]
        assert [o.allowed for o in seen] == [True, True, True, False]
        assert [o.remaining for o in seen[:3]] == [2, 1, 0]
        assert seen[3].limit.text == "3/minute"
        assert 1 <= seen[3].reset <= 60
        # The hour limit did not count the refused request.
        other = await limiter.hit(parse_limits(["10/hour"]), ("route", "app", "GET /x", "ip", "a"))
        assert other.remaining == 10 - 3 - 1
        # Another identity has its own counter.
        assert (await limiter.hit(policy, ("route", "app", "GET /x", "ip", "b"))).allowed
        await limiter.close()

    asyncio.run(main())


def test_headers() -> None:
    async def main() -> None:
        limiter = RateLimiter()
        policy = parse_limits(["1/minute", "5/day"])
        ok = await limiter.hit(policy, ("k",))
        no = await limiter.hit(policy, ("k",))
        assert dict(rate_limit_headers(ok)) == {
            b"ratelimit-limit": b"1",
            b"ratelimit-remaining": b"0",
            b"ratelimit-reset": dict(rate_limit_headers(ok))[b"ratelimit-reset"],
            b"ratelimit-policy": b"1;w=60, 5;w=86400",
        }
        refused = dict(rate_limit_headers(no))
        assert int(refused[b"retry-after"]) >= 1
        assert refused[b"ratelimit-remaining"] == b"0"

    asyncio.run(main())


@pytest.mark.parametrize("url", ["mongodb://x/y", "memcached://h", "redis://", "file:///tmp/x", ""])
def test_storage_urls_we_do_not_count_with_are_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="--rate-limit-storage"):
        check_storage_url(url)


def test_storage_urls_we_count_with() -> None:
    for url in ("memory://", "redis://127.0.0.1:6379/0", "rediss://:pw@cache.example:6380/1"):
        assert check_storage_url(url) == url


def test_the_shared_storage_is_out_of_handlers_reach(tmp_path) -> None:
    # Handlers must not reach the counters (they could reset a limit, or read who called).
    from ramparts.config import Settings
    from ramparts.node import forbidden_addresses

    settings = Settings(tmp_path, rate_limit_storage="redis://127.0.0.1:6390/0")
    assert ("127.0.0.1", 6390) in forbidden_addresses(settings)


def test_settings_refuse_a_bad_storage_url(tmp_path) -> None:
    from ramparts.config import Settings

    with pytest.raises(ConfigError, match="--rate-limit-storage"):
        Settings(tmp_path, rate_limit_storage="memcached://127.0.0.1:11211")
