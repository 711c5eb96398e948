"""A budget's usage survives a node restart and resets with its window.

The window is stepped with the test-only RAMPARTS_BUDGET_CLOCK_OFFSET (like the
scheduler's clock offset): a restarted node an hour "later" is in the next window."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: hourly
functions:
  meter:
    handler: h.py:handler
    budget: {invocations_per_hour: 2}
    triggers:
      - http: {method: GET, path: /meter, auth: none}
"""

HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "body": "ran"}
"""


def test_usage_survives_a_restart_and_resets_with_the_window(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", MANIFEST, {"h.py": HANDLER})
    node = RunningNode(tmp_path / "data").start()
    try:
        node.deploy_ok(app)
        assert [node.gateway.get("/meter").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        node.close()  # a clean stop writes what it counted

    node = RunningNode(tmp_path / "data").start()
    try:
        assert node.gateway.get("/meter").status_code == 429  # read back from the store
    finally:
        node.close()

    later = RunningNode(tmp_path / "data", {"RAMPARTS_BUDGET_CLOCK_OFFSET": "3600"}).start()
    try:
        assert later.gateway.get("/meter").status_code == 200  # the next hour's window
        assert later.gateway.get("/meter").status_code == 200
        r = later.gateway.get("/meter")
        assert r.status_code == 429 and r.json()["code"] == "budget_exhausted"
    finally:
        later.close()
