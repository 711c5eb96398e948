"""Fixed UTC windows (hour, day) and the budget fields that count in them.

A window is named by its start (``h:2026120311`` is 11:00-12:00 UTC on
3 December 2026, ``d:20261203`` that whole day); usage resets when the
next window starts, whatever happened in the last one.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass
from typing import Any

# field -> (metric, period): what a manifest's ``budget:`` and ``ramparts budget set`` name
FIELDS: dict[str, tuple[str, str]] = {
    "invocations_per_hour": ("invocations", "hour"),
    "invocations_per_day": ("invocations", "day"),
    "compute_seconds_per_hour": ("compute_seconds", "hour"),
    "compute_seconds_per_day": ("compute_seconds", "day"),
}


@dataclass(frozen=True)
class Windows:
    """The hour and the day an instant falls in, with when each ends (epoch seconds)."""

    hour: str
    hour_ends: float
    day: str
    day_ends: float

    @classmethod
    def at(cls, now: float) -> Windows:
        second = int(now)
        cached = _LAST
        if cached[0] == second:  # the hot path asks many times a second
            return cached[1]
        t = time.gmtime(second)
        hour_start = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, 0, 0))
        day_start = calendar.timegm((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0))
        windows = cls(
            hour=time.strftime("h:%Y%m%d%H", t),
            hour_ends=float(hour_start + 3600),
            day=time.strftime("d:%Y%m%d", t),
            day_ends=float(day_start + 86400),
        )
        _LAST[:] = [second, windows]
        return windows

    def of(self, period: str) -> tuple[str, float]:
        """(window name, end) of ``hour`` or ``day``."""
        return (self.hour, self.hour_ends) if period == "hour" else (self.day, self.day_ends)


_LAST: list[Any] = [None, None]  # (whole second, its Windows): one loop thread reads and writes
