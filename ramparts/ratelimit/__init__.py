"""Rate limits: counting requests per route, key, client or address, and refusing the excess.

Where it sits: the gateway's check chain (``ramparts.gateway.ratelimit``) asks
the ``RateLimitService`` (``service.py``) to count each request against the
limits that apply to it; the counting is the ``limits`` library's moving
window over memory (one node) or Redis (shared by nodes), chosen by URL
(``limiter.py``); refusals become aggregated audit records (``aggregate.py``);
the response headers follow the IETF draft (``headers.py``).
"""

from ramparts.ratelimit.limiter import (
    Limit,
    Outcome,
    RateLimiter,
    RateLimitUnavailable,
    parse_limits,
)
from ramparts.ratelimit.service import RateLimitService

__all__ = [
    "Limit",
    "Outcome",
    "RateLimitService",
    "RateLimitUnavailable",
    "RateLimiter",
    "parse_limits",
]
