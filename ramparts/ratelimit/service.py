"""The node's rate limiting: one counter storage and one refusal aggregator, started and closed
with the node (``Node.start``/``close``); the gateway's checks use it for every request."""

from __future__ import annotations

import logging
from collections.abc import Callable

from ramparts.config import mask_url
from ramparts.ratelimit.aggregate import DenialAggregator
from ramparts.ratelimit.limiter import RateLimiter

log = logging.getLogger("ramparts.ratelimit")


class RateLimitService:
    def __init__(self, url: str, emit: Callable[..., None], *, timeout: float = 1.0) -> None:
        self.limiter = RateLimiter(url, timeout=timeout)
        self.refusals = DenialAggregator(emit)

    async def start(self) -> None:
        self.refusals.start()
        if self.limiter.shared and not await self.limiter.check():
            # Not fatal: requests on limited routes get 503 until it answers (fail closed).
            log.warning(
                "rate-limit storage %s does not answer: limited routes refuse requests "
                "(503 rate_limit_unavailable) until it does", mask_url(self.limiter.url),
            )

    async def close(self) -> None:
        await self.refusals.close()
        await self.limiter.close()
