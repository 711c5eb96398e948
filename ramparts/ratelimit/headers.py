"""The rate-limit response fields, in the form of draft-ietf-httpapi-ratelimit-headers-06.

That draft (December 2022) is the last one with the three separate fields
most clients parse today (later drafts merged them into ``RateLimit``):

* ``RateLimit-Limit``: the request quota of the limit reported;
* ``RateLimit-Remaining``: requests left in its window;
* ``RateLimit-Reset``: seconds (delta, not a date) until that limit admits
  one more request: with a moving window, when the oldest counted request
  leaves the window;
* ``RateLimit-Policy``: every limit that applied, ``amount;w=seconds``.

A refusal also carries ``Retry-After`` (RFC 9110 §10.2.3, whole seconds, at
least 1).  The limit reported is the one that refused the request, else the
one with the fewest requests left.
"""

from __future__ import annotations

from ramparts.ratelimit.limiter import Outcome


def rate_limit_headers(outcome: Outcome) -> list[tuple[bytes, bytes]]:
    policy = ", ".join(f"{limit.amount};w={limit.window}" for limit in outcome.policy)
    headers = [
        (b"ratelimit-limit", str(outcome.limit.amount).encode()),
        (b"ratelimit-remaining", str(max(outcome.remaining, 0)).encode()),
        (b"ratelimit-reset", str(max(outcome.reset, 0)).encode()),
        (b"ratelimit-policy", policy.encode()),
    ]
    if not outcome.allowed:
        headers.append((b"retry-after", str(max(outcome.reset, 1)).encode()))
    return headers


def tighter(a: Outcome | None, b: Outcome) -> Outcome:
    """Of two admitted outcomes (route and principal limits), the one to report."""
    if a is None:
        return b
    return b if (b.remaining, -b.limit.window) < (a.remaining, -a.limit.window) else a
