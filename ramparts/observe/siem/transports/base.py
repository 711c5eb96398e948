"""The one contract every SIEM transport keeps.

A transport formats and sends one batch of audit records; it returns only
when the destination accepted the batch as far as its protocol can tell,
and raises ``DeliveryFailed`` otherwise (the batch then stays spooled and is
sent again: receivers dedup on the record id).  It runs on its
destination's own sender thread, so it may block, with timeouts.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Any

from ramparts.observe.siem.targets import Target

TIMEOUT = 10.0  # seconds for a connect, a write or an HTTP exchange

TokenSource = Callable[[], str | None]  # the HEC/bearer token, read when needed; None: missing


class Transport(abc.ABC):
    def __init__(self, target: Target, *, version: str, token: TokenSource | None) -> None:
        self.target = target
        self.version = version
        self.token = token

    @abc.abstractmethod
    def send(self, records: list[dict[str, Any]]) -> None:
        """Deliver ``records`` (oldest first) or raise ``DeliveryFailed``."""

    def close(self) -> None:  # noqa: B027 - most transports hold nothing between batches
        """Release any connection held between batches."""
