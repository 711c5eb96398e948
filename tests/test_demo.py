"""``make demo`` as a new user runs it: the example app deployed and every trigger driven.

The demo broke once without any test noticing (a secrets command it used
changed); this runs it whole, on a real node it starts itself.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_demo_runs_every_trigger_to_completion() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "demo complete" in done.stdout, done.stdout[-3000:]
    assert "Traceback" not in done.stdout + done.stderr
