"""Two nodes sharing PostgreSQL apply each other's run-time blocks without being told."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app
from tests.postgres import temporary_database


class _ProxiedNode(RunningNode):
    def command(self) -> list[str]:
        return [*super().command(), "--forwarded-allow-ips", "127.0.0.1"]


MANIFEST = """
app: clu
functions:
  hello:
    handler: h.py:handler
    triggers:
      - http: {method: GET, path: /hello, auth: none}
"""
HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "body": "hi"}
"""


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


@pytest.mark.postgres
def test_a_block_made_on_one_node_applies_on_the_other(tmp_path: Path) -> None:
    master = base64.urlsafe_b64encode(os.urandom(32)).decode()
    with temporary_database() as pg_url:
        env = {"RAMPARTS_STATE_URL": pg_url, "RAMPARTS_MASTER_KEY": master}
        a = _ProxiedNode(tmp_path / "a", env).start()
        b = _ProxiedNode(tmp_path / "b", env).start()
        try:
            a.deploy_ok(make_app(tmp_path / "app", MANIFEST, {"h.py": HANDLER}))
            src = {"X-Forwarded-For": "198.51.100.20"}
            assert wait_for(lambda: b.gateway.get("/hello", headers=src).status_code == 200)
            done = a.cli("waf", "block", "198.51.100.0/24", "--reason", "seen on a")
            assert done.returncode == 0, done.stderr
            assert wait_for(lambda: b.gateway.get("/hello", headers=src).status_code == 403)
            assert b.gateway.get("/hello", headers=src).json()["code"] == "waf_blocked"
            listed = b.control.get("/v1/waf/blocks").json()["blocks"]
            assert [x["reason"] for x in listed] == ["seen on a"]
            done = b.cli("waf", "unblock", "198.51.100.0/24")
            assert done.returncode == 0, done.stderr
            assert wait_for(lambda: a.gateway.get("/hello", headers=src).status_code == 200)
        finally:
            a.close()
            b.close()
