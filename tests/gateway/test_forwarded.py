"""X-Forwarded-For is not trusted unless the operator names the proxy.

Every sandbox reaches the node's gateway from 127.0.0.1 (its own endpoint is
relayed from loopback), so trusting forwarding headers from loopback would let
any handler claim any client address for another function's ``aws:SourceIp``.
"""

from __future__ import annotations

import time
from collections import Counter
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


class _ProxiedNode(RunningNode):
    """A node that trusts 127.0.0.1 as its reverse proxy."""

    def command(self) -> list[str]:
        return [*super().command(), "--forwarded-allow-ips", "127.0.0.1"]


# what a trusted proxy forwards -> the address the node records (None: not an address,
# so the proxy's own address stands, as if it had sent no header)
FORWARDED = {
    "203.0.113.9": "203.0.113.9",
    "::ffff:8.8.8.8": "8.8.8.8",
    "2001:DB8:0::1": "2001:db8::1",
    "2001:db8::1%eth0": "2001:db8::1",
    "[2001:db8::2]": "2001:db8::2",
    "garbage act=allow": None,
    "08.8.8.8": None,
    "10.0.0.1 src=1.2.3.4": None,
}


def test_forwarded_addresses_are_canonical_ips_or_not_trusted(tmp_path: Path) -> None:
    node = _ProxiedNode(tmp_path / "data").start()
    try:
        app = make_app(
            tmp_path / "xff",
            """
            app: xff-app
            functions:
              whoami-ip:
                handler: h.py:handler
                triggers:
                  - http: {method: GET, path: /whoami-ip, auth: none}
                  - http: {method: GET, path: /keyed-ip, auth: api_key}
            """,
            {"h.py": SOURCE_IP},
        )
        node.deploy_ok(app)
        for sent, want in FORWARDED.items():
            expected = want or "127.0.0.1"
            seen = node.gateway.get("/whoami-ip", headers={"X-Forwarded-For": sent})
            assert seen.text == expected, sent
            denied = node.gateway.get("/keyed-ip", headers={"X-Forwarded-For": sent})
            assert denied.status_code == 401
        # Refusals from one address within a second are one record with a count
        # (ramparts.ratelimit.aggregate): every address is recorded as often as refused.
        deadline = time.monotonic() + 30
        while True:
            recorded: Counter[str] = Counter()
            for e in node.audit():
                if e["kind"] == "gateway.auth" and e["resource"] == "route:GET /keyed-ip":
                    recorded[e["detail"]["source_ip"]] += e["detail"].get("count", 1)
            if sum(recorded.values()) >= len(FORWARDED) or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert recorded == Counter(want or "127.0.0.1" for want in FORWARDED.values())
    finally:
        node.close()


FORGER = """
import os
import urllib.request


def handler(event, context):
    # The handler's own way to the node: the endpoint its AWS SDK would use.
    request = urllib.request.Request(
        os.environ["AWS_ENDPOINT_URL"] + "/whoami-ip",
        headers={"X-Forwarded-For": "203.0.113.77"},
    )
    with urllib.request.urlopen(request, timeout=20) as answer:
        return answer.read().decode()
"""


def test_a_handler_cannot_choose_its_address_through_a_trusted_loopback_proxy(
    tmp_path: Path,
) -> None:
    """Attack: the node trusts a reverse proxy on 127.0.0.1; handlers reach it from there too.

    A handler that sent X-Forwarded-For could then pick the address another
    app's rate limits, block lists, detections and audit records see.  Its
    connections come from 127.0.0.2, whose forwarding headers are never taken.
    """
    node = _ProxiedNode(tmp_path / "data").start()
    try:
        app = make_app(
            tmp_path / "forger",
            """
            app: forger
            functions:
              whoami-ip:
                handler: h.py:handler
                triggers:
                  - http: {method: GET, path: /whoami-ip, auth: none}
              forger:
                handler: f.py:handler
            """,
            {"h.py": SOURCE_IP, "f.py": FORGER},
        )
        node.deploy_ok(app)
        r = node.control.post("/v1/functions/forger/invoke", json={"event": {}}, timeout=120)
        seen = r.json()
        assert r.status_code == 200, seen
        assert seen["result"] == "127.0.0.2", "a handler chose its own client address"
        # A real proxy on loopback is still trusted.
        proxied = node.gateway.get("/whoami-ip", headers={"X-Forwarded-For": "203.0.113.77"})
        assert proxied.text == "203.0.113.77"
    finally:
        node.close()
