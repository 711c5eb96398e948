"""A TLS gateway: workers get an https endpoint that boto3 (clients and the container
credentials provider) trusts, with the node's development certificate."""

from __future__ import annotations

import signal
from pathlib import Path

from tests.conftest import RunningNode, make_app

HANDLER = """
import os
import boto3

def handler(event, context):
    arn = boto3.client("sts").get_caller_identity()["Arn"]
    return {"arn": arn, "endpoint": os.environ["AWS_ENDPOINT_URL"]}
"""


def test_boto3_inside_a_handler_on_a_tls_node(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data")
    node.command = lambda: [*RunningNode.command(node), "--tls", "self-signed"]  # type: ignore[method-assign]
    node.start()
    try:
        node.deploy_ok(
            make_app(
                tmp_path / "app",
                "app: tls\nfunctions:\n  f:\n    handler: h.py:handler\n",
                {"h.py": HANDLER},
            )
        )
        r = node.control.post("/v1/functions/f/invoke", json={})
        assert r.status_code == 200, r.text
        out = r.json().get("result", r.json())
        assert out.get("endpoint") == f"https://127.0.0.1:{node.port}", out
        assert "assumed-role/f/" in out.get("arn", ""), out
        # The worker's boto3 keeps its TLS connection open; a graceful stop used to wait
        # 30 s on it for a TLS close_notify that never comes, then be killed.
        assert node.proc is not None
        node.proc.send_signal(signal.SIGTERM)
        assert node.proc.wait(timeout=25) == 0
    finally:
        node.close()
