"""The supervisor's queue wait: a call that finds every worker busy is throttled at once
(before the busy worker is free), while a cold start below the cap is never cut short."""

from __future__ import annotations

import asyncio
from pathlib import Path

from ramparts.runtime.supervisor import Supervisor
from tests.runtime.test_runtime_supervisor import FakeHost, make_spec

BUSY = """
import time

def handler(event, context):
    time.sleep(2.0)
    return "done"
"""


def test_a_call_finding_every_worker_busy_is_throttled_while_it_is_still_busy(
    tmp_path: Path,
) -> None:
    spec = make_spec(tmp_path, {"busy.py": BUSY}, "busy.py:handler", concurrency=1, timeout=20.0)

    async def main() -> None:
        sup = Supervisor(tmp_path / "runtime", FakeHost(), queue_wait=0.05)
        try:
            # cold: the zygote and the worker start far slower than the queue wait
            first = asyncio.ensure_future(sup.invoke(spec, {}))
            while sup.stats().get(spec.key, {}).get("busy", 0) < 1:
                await asyncio.sleep(0.01)
            second = await sup.invoke(spec, {})
            assert second.status == "throttled" and second.error_type == "Throttled"
            assert not first.done()  # answered while the only worker was still busy
            result = await first
            assert result.ok and result.cold and result.result == "done"
            assert sup.stats()[spec.key]["waiting"] == 0
            assert (await sup.invoke(spec, {})).ok  # the worker is free again
        finally:
            await sup.close()

    asyncio.run(main())
