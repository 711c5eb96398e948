"""How many refusals one audit record stands for.

Under a flood, a check may record its refusals aggregated (the rate limits
do: ``ramparts.ratelimit.aggregate``): one record per group and second whose
detail has ``aggregated: true`` and ``count``, the refusals it stands for.
Whatever counts denials -- the metrics, the detection rules' thresholds --
counts such a record as ``count``, so an aggregated flood weighs what it was.
"""

from __future__ import annotations

from typing import Any

MAX_COUNT = 1 << 31  # a sanity bound: a count is ours, but a corrupt record must not overflow


def represented(record: dict[str, Any]) -> int:
    """The number of events ``record`` stands for: its ``count`` if aggregated, else 1."""
    detail = record.get("detail")
    if not isinstance(detail, dict) or detail.get("aggregated") is not True:
        return 1
    count = detail.get("count")
    if isinstance(count, int) and not isinstance(count, bool) and 1 <= count <= MAX_COUNT:
        return count
    return 1
