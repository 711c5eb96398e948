"""The dispatcher on a real node over the shared-bus backends."""

from __future__ import annotations

import re
import socket
import time
import uuid
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app

IDLE_MANIFEST = """
app: idle
functions:
  waiter:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:got/*"]}
    triggers:
      - topic: {name: rarely}
"""

IDLE_HANDLER = """
def handler(event, context):
    context.kv.put("got", context.aws_request_id, {"n": 1})
"""


def _nats_url() -> str:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=0.5):
            pass
    except OSError:
        pytest.skip("NATS not reachable on 127.0.0.1:4222")
    tag = uuid.uuid4().hex[:8]
    return f"nats://127.0.0.1:4222?stream=RTIDLE{tag}&subjects=rtidle{tag}.q"


# An ERROR line of ours or of a bus driver (the node log's format: "<time> ERROR <logger>:").
_ERROR_LINE = re.compile(r"^\S+ \S+ ERROR (ramparts|nats|asyncio)\b.*$", re.M)


@pytest.mark.nats
def test_an_idle_nats_queue_logs_no_errors(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data", {"RAMPARTS_BUS_URL": _nats_url()}).start()
    try:
        node.deploy_ok(make_app(tmp_path / "app", IDLE_MANIFEST, {"h.py": IDLE_HANDLER}))
        # The consumer fetches with a one-second wait: let several idle cycles pass.
        time.sleep(6)
        r = node.control.post("/v1/topics/rarely/publish", json={"message": {"n": 1}})
        assert r.status_code == 200, r.text
        node.wait_invocations("waiter", 1, timeout=30)
        time.sleep(3)
    finally:
        node.close()
    log = (tmp_path / f"node-{node.admin_port}.log").read_text(errors="replace")
    errors = [m.group(0) for m in _ERROR_LINE.finditer(log)]
    assert errors == [], log[-4000:]
