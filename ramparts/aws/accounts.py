"""A stable 12-digit AWS account id per app.

ARNs, queue URLs and ``sts.get_caller_identity()`` need an account; each app
gets its own, derived from its name alone so that every node of a cluster,
``ramparts import`` (offline) and the API agree without storing anything.
It identifies, it does not authorize: a request's caller always comes from
its verified credentials.
"""

from __future__ import annotations

import hashlib


def account_id(app: str) -> str:
    """``account_id("shop")`` -> twelve digits, the same on every node, never starting with 0."""
    digest = int.from_bytes(hashlib.sha256(b"ramparts-account:" + app.encode()).digest()[:8])
    return str(100_000_000_000 + digest % 900_000_000_000)
