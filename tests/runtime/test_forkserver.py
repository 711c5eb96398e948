"""The zygote template: zygotes fork from it, and losing it loses no function."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import pytest

from ramparts.runtime.supervisor import Supervisor
from ramparts.runtime.types import FunctionSpec
from tests.runtime.test_runtime_supervisor import FakeHost, make_spec

pytestmark = pytest.mark.timeout(60)

HANDLER = "import os\ndef handler(event, context):\n    return os.getppid()\n"


def _zygote_parent(sup: Supervisor, spec: FunctionSpec) -> int:
    """The pid of the process the zygote was started as (the template's child, or ours)."""
    z = sup._versions[spec.key].zygote
    assert z is not None
    return z.proc.pid


def _parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat", "rb") as f:
        return int(f.read().rsplit(b")", 1)[1].split()[1])


def test_zygotes_fork_from_the_template(tmp_path: Path) -> None:
    async def main() -> None:
        sup = Supervisor(tmp_path / "runtime", FakeHost())
        try:
            spec = make_spec(tmp_path, {"h.py": HANDLER}, "h.py:handler")
            out = await sup.invoke(spec, {})
            assert out.status == "ok", out
            template = sup._forkserver._proc
            assert template is not None and template.returncode is None
            assert _parent_of(_zygote_parent(sup, spec)) == template.pid
        finally:
            await sup.close()
        assert template.returncode is not None  # closed with the supervisor

    asyncio.run(main())


def test_a_dead_template_costs_a_restart_not_a_function(tmp_path: Path) -> None:
    async def main() -> None:
        sup = Supervisor(tmp_path / "runtime", FakeHost())
        try:
            spec = make_spec(tmp_path, {"h.py": HANDLER}, "h.py:handler")
            assert (await sup.invoke(spec, {})).status == "ok"
            template = sup._forkserver._proc
            assert template is not None
            old_zygote = _zygote_parent(sup, spec)
            os.kill(template.pid, signal.SIGKILL)
            await template.wait()
            # Its zygotes die with it (PR_SET_PDEATHSIG); the next call starts new ones.
            for _ in range(300):
                if not os.path.exists(f"/proc/{old_zygote}"):
                    break
                await asyncio.sleep(0.05)
            assert not os.path.exists(f"/proc/{old_zygote}"), "the zygote outlived its template"
            for _ in range(50):
                out = await sup.invoke(spec, {})
                if out.status == "ok":
                    break
                await asyncio.sleep(0.1)
            assert out.status == "ok", out
            new = sup._forkserver._proc
            assert new is not None and new.pid != template.pid
        finally:
            await sup.close()

    asyncio.run(main())
