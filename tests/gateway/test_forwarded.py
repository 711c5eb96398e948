"""X-Forwarded-For is not trusted unless the operator names the proxy.

Every sandbox reaches the node's gateway from 127.0.0.1 (its own endpoint is
relayed from loopback), so trusting forwarding headers from loopback would let
any handler claim any client address for another function's ``aws:SourceIp``.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import RunningNode, make_app

SOURCE_IP = """
def handler(event, context):
    return {"statusCode": 200, "body": event["requestContext"]["http"]["sourceIp"]}
"""


def test_forwarded_for_from_loopback_is_ignored(node: RunningNode, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "xff",
        """
        app: xff-app
        functions:
          whoami-ip:
            handler: h.py:handler
            triggers:
              - http: {method: GET, path: /whoami-ip, auth: none}
        """,
        {"h.py": SOURCE_IP},
    )
    node.deploy_ok(app)
    plain = node.gateway.get("/whoami-ip")
    forged = node.gateway.get("/whoami-ip", headers={"X-Forwarded-For": "10.1.2.3"})
    assert plain.text == "127.0.0.1"
    assert forged.text == "127.0.0.1", "a loopback client chose its own source address"
