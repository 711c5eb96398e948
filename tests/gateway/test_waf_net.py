"""The WAF's network rules on a real node: run-time blocks, address lists, methods, sizes.

The node trusts 127.0.0.1 as its reverse proxy (``--forwarded-allow-ips``), so a
test speaks from another address by sending ``X-Forwarded-For``; without one a
request comes from 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import RunningNode, make_app


class _ProxiedNode(RunningNode):
    def command(self) -> list[str]:
        return [*super().command(), "--forwarded-allow-ips", "127.0.0.1"]


HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "body": "ok " + event["requestContext"]["http"]["method"]}
"""

# An app with static lists, a method allowlist and size limits.
LISTED = """
app: listed
waf:
  mode: detect  # the signature rules only report; the lists and limits still block
  deny: ["203.0.113.0/24", "2001:db8:bad::/48"]
  allow: ["198.51.100.0/24", "203.0.113.0/24", "127.0.0.1", "2001:db8::/32"]
  methods: [GET, POST, DELETE]  # HEAD is a method of its own here
  limits: {url_bytes: 200, header_bytes: 2Ki, body_bytes: 1Ki}
functions:
  listed:
    handler: h.py:handler
    triggers:
      - http: {method: GET, path: /listed, auth: none}
      - http: {method: GET, path: /listed-off, auth: none, waf: "off"}
      - http: {method: POST, path: /listed, auth: none}
      - http: {method: PUT, path: /listed/put, auth: none}
      - http: {method: GET, path: "/items/{id}", auth: none}
      - http: {method: POST, path: /listed-private, auth: api_key}
"""

# An app that says nothing about the WAF: only the run-time block list and the
# standard methods apply.
PLAIN = """
app: plain
functions:
  plain:
    handler: h.py:handler
    triggers:
      - http: {method: GET, path: /plain, auth: none}
      - http: {method: GET, path: /plain-private, auth: api_key}
      - webhook: {path: /hooks/plain, scheme: stripe, secret: nope}
"""


@pytest.fixture(scope="module")
def waf_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("wafnet")
    node = _ProxiedNode(base / "data", {"RAMPARTS_MAX_BODY_BYTES": str(1024 * 1024)}).start()
    try:
        node.deploy_ok(make_app(base / "listed", LISTED, {"h.py": HANDLER}))
        node.deploy_ok(make_app(base / "plain", PLAIN, {"h.py": HANDLER}))
        yield node
    finally:
        node.close()


def frm(ip: str) -> dict[str, str]:
    return {"X-Forwarded-For": ip}


def wait_for(condition: Callable[[], bool], timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def waf_denials(node: RunningNode, after: int = 0) -> list[dict[str, Any]]:
    return [
        e for e in node.audit()
        if e["kind"] == "gateway.waf" and e["decision"] == "deny" and e["seq"] > after
    ]


def last_seq(node: RunningNode) -> int:
    events = node.audit()
    return events[-1]["seq"] if events else 0


def blocked(r: httpx.Response) -> bool:
    return r.status_code == 403 and r.json()["code"] == "waf_blocked"


# -- run-time block list ------------------------------------------------------------------------
def test_block_refuses_every_endpoint_before_authentication_and_unblock_restores(
    waf_node: RunningNode,
) -> None:
    node = waf_node
    bad, good = "192.0.2.9", "192.0.3.1"
    assert node.gateway.get("/plain", headers=frm(bad)).status_code == 200
    assert node.gateway.get("/plain-private", headers=frm(bad)).status_code == 401
    seq = last_seq(node)
    done = node.cli("waf", "block", "192.0.2.0/24", "--reason", "credential stuffing")
    assert done.returncode == 0, done.stderr
    assert "blocked 192.0.2.0/24" in done.stdout
    assert wait_for(lambda: blocked(node.gateway.get("/plain", headers=frm(bad))))
    attempts = {
        "public": node.gateway.get("/plain", headers=frm(bad)),
        "private, refused before authentication": node.gateway.get(
            "/plain-private", headers=frm(bad)
        ),
        "token endpoint": node.gateway.post(
            "/oauth/token", data={"grant_type": "client_credentials"}, headers=frm(bad)
        ),
        "jwks": node.gateway.get("/.well-known/jwks.json", headers=frm(bad)),
        "webhook": node.gateway.post("/hooks/plain", content=b"{}", headers=frm(bad)),
        "aws endpoint (SigV4)": node.gateway.get(
            "/",
            headers={
                **frm(bad),
                "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/"
                "s3/aws4_request, SignedHeaders=host, Signature=00",
            },
        ),
        "unknown path": node.gateway.get("/nowhere", headers=frm(bad)),
        "an IPv4-mapped IPv6 form": node.gateway.get("/plain", headers=frm("::ffff:192.0.2.77")),
    }
    for what, r in attempts.items():
        assert blocked(r), (what, r.status_code, r.text)
        assert set(r.json()) == {"code", "message", "request_id"}
    assert node.gateway.get("/plain", headers=frm(good)).status_code == 200
    assert node.gateway.get("/plain").status_code == 200  # loopback itself
    listed = node.cli("waf", "blocks", "--format", "json")
    assert listed.returncode == 0, listed.stderr
    [entry] = [b for b in json.loads(listed.stdout) if b["cidr"] == "192.0.2.0/24"]
    assert entry["reason"] == "credential stuffing" and entry["expires_at"] is None
    assert entry["source_ip"] == "127.0.0.1" and entry["created_at"] > 0
    assert entry["actor"]  # the CLI's user name, as claimed
    table = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "waf", "blocks"],
        env={**node.env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=60,
    )
    assert "192.0.2.0/24" in table.stdout and "credential stuffing" in table.stdout
    denials = [e for e in waf_denials(node, seq) if e["detail"]["reason"] == "ip-runtime-block"]
    assert len(denials) >= len(attempts)
    assert {e["detail"]["source_ip"] for e in denials} == {bad, "192.0.2.77"}
    assert all(e["detail"]["network"] == "192.0.2.0/24" for e in denials)
    assert any(e["resource"] == "route:GET /plain-private" for e in denials) is False
    admin = [e for e in node.audit() if e["kind"] == "waf.block" and e["seq"] > seq]
    assert admin[-1]["decision"] == "allow" and admin[-1]["principal"] == "admin"
    assert admin[-1]["resource"] == "network:192.0.2.0/24"

    done = node.cli("waf", "unblock", "192.0.2.0/24")
    assert done.returncode == 0, done.stderr
    assert wait_for(lambda: node.gateway.get("/plain", headers=frm(bad)).status_code == 200)
    assert node.gateway.get("/plain-private", headers=frm(bad)).status_code == 401
    unblocks = [e for e in node.audit() if e["kind"] == "waf.unblock" and e["seq"] > seq]
    assert unblocks and unblocks[-1]["decision"] == "allow"


def test_ipv6_blocks_and_an_address_without_a_prefix(waf_node: RunningNode) -> None:
    node = waf_node
    r = node.control.post("/v1/waf/blocks", json={"cidr": "2001:DB8:1::/48"})
    assert r.status_code == 200, r.text
    assert r.json()["cidr"] == "2001:db8:1::/48"
    r = node.control.post("/v1/waf/blocks", json={"cidr": "192.0.2.200"})
    assert r.json()["cidr"] == "192.0.2.200/32"
    try:
        assert blocked(node.gateway.get("/plain", headers=frm("2001:db8:1::5")))
        assert blocked(node.gateway.get("/plain", headers=frm("192.0.2.200")))
        assert node.gateway.get("/plain", headers=frm("2001:db8:2::5")).status_code == 200
        assert node.gateway.get("/plain", headers=frm("192.0.2.201")).status_code == 200
    finally:
        for cidr in ("2001:db8:1::/48", "192.0.2.200/32"):
            node.control.delete("/v1/waf/blocks", params={"cidr": cidr})


def test_a_block_for_a_while_expires_without_a_restart(waf_node: RunningNode) -> None:
    node = waf_node
    done = node.cli("waf", "block", "192.0.2.128/25", "--for", "2s")
    assert done.returncode == 0, done.stderr
    assert "until" in done.stdout
    assert blocked(node.gateway.get("/plain", headers=frm("192.0.2.130")))
    assert wait_for(
        lambda: node.gateway.get("/plain", headers=frm("192.0.2.130")).status_code == 200
    )
    listed = node.control.get("/v1/waf/blocks").json()["blocks"]
    assert all(b["cidr"] != "192.0.2.128/25" for b in listed)

    def expired() -> list[dict[str, Any]]:
        return [
            e for e in node.audit()
            if e["kind"] == "waf.unblock" and e["resource"] == "network:192.0.2.128/25"
        ]

    assert wait_for(lambda: bool(expired())), "the expired entry was not pruned"
    [event] = expired()
    assert event["detail"]["reason"] == "expired"
    assert event["principal"].startswith("node:")


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["block", "10.0.0.1/8"], ["CIDR", "10.0.0.0/8"]),
        (["block", "not-a-network"], ["CIDR"]),
        (["block", "300.1.1.1"], ["CIDR"]),
        (["block", "10.9.0.0/16", "--for", "5x"], ["--for"]),
        (["block", "10.9.0.0/16", "--for", "\u0663h"], ["--for"]),
        (["block", "10.9.0.0/16", "--for", "0"], ["--for"]),
        (["block", "10.9.0.0/16", "--for", "400d"], ["--for"]),
        (["unblock", "10.99.0.0/16"], ["not blocked"]),
        (["unblock", "nonsense"], ["CIDR"]),
        (["block", "0.0.0.0/0"], ["--force", "every IPv4"]),
        (["block", "127.0.0.0/8"], ["--force", "loopback"]),
        (["block", "::1"], ["--force", "loopback"]),
        (["blocks", "--format", "xml"], ["--format"]),
    ],
)
def test_bad_cli_input_names_the_argument_and_changes_nothing(
    waf_node: RunningNode, args: list[str], names: list[str]
) -> None:
    before = waf_node.control.get("/v1/waf/blocks").json()["blocks"]
    # in-process: a Python start-up saved per case; the same parser and messages (the
    # waf commands run through the real entry point in the other tests of this file)
    done = waf_node.cli_in_process("waf", *args)
    assert done.returncode != 0
    for name in names:
        assert name in done.stderr, done.stderr
    assert "Traceback" not in done.stderr
    assert waf_node.control.get("/v1/waf/blocks").json()["blocks"] == before
    assert waf_node.gateway.get("/plain").status_code == 200


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"cidr": "10.0.0.1/8"}, "invalid_cidr"),
        ({"cidr": 7}, "invalid_cidr"),
        ({}, "invalid_cidr"),
        ({"cidr": "10.9.0.0/16", "for_seconds": "1h"}, "invalid_duration"),
        ({"cidr": "10.9.0.0/16", "for_seconds": -1}, "invalid_duration"),
        ({"cidr": "10.9.0.0/16", "for_seconds": True}, "invalid_duration"),
        ({"cidr": "10.9.0.0/16", "reason": "x\n\x1b[31m"}, "invalid_reason"),
        ({"cidr": "10.9.0.0/16", "reason": "ok\u2028forged line"}, "invalid_reason"),
        ({"cidr": "10.9.0.0/16", "reason": "\u202edesrever"}, "invalid_reason"),
        ({"cidr": "10.9.0.0/16", "reason": "x\u0085y"}, "invalid_reason"),
        ({"cidr": "10.9.0.0/16", "reason": "x" * 501}, "invalid_reason"),
        ({"cidr": "::/0"}, "force_required"),
        ({"cidr": "::ffff:0:0/96"}, "force_required"),  # every IPv4 address, mapped
        ({"cidr": "127.0.0.1"}, "force_required"),
    ],
)
def test_bad_api_input_is_a_400_with_a_stable_code(
    waf_node: RunningNode, body: dict[str, Any], code: str
) -> None:
    before = waf_node.control.get("/v1/waf/blocks").json()["blocks"]
    r = waf_node.control.post("/v1/waf/blocks", json=body)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == code
    assert waf_node.control.get("/v1/waf/blocks").json()["blocks"] == before
    r = waf_node.control.delete("/v1/waf/blocks", params={"cidr": "10.0.0.1/8"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_cidr"


def test_force_blocks_what_it_must_confirm(waf_node: RunningNode) -> None:
    node = waf_node
    done = node.cli("waf", "block", "::/0", "--force", "--reason", "IPv4 only today")
    assert done.returncode == 0, done.stderr
    try:
        assert blocked(node.gateway.get("/plain", headers=frm("2001:db8:5::1")))
        assert node.gateway.get("/plain", headers=frm("192.0.3.1")).status_code == 200
    finally:
        assert node.cli("waf", "unblock", "::/0").returncode == 0
    refused = [
        e for e in node.audit()
        if e["kind"] == "waf.block" and e["decision"] == "deny"
    ]
    assert refused and refused[-1]["detail"]["reason"] == "force_required"


# -- the app's static lists ---------------------------------------------------------------------
def test_static_deny_wins_and_a_non_empty_allow_admits_only_its_networks(
    waf_node: RunningNode,
) -> None:
    node = waf_node
    seq = last_seq(node)
    assert node.gateway.get("/listed", headers=frm("198.51.100.7")).status_code == 200
    assert node.gateway.get("/listed").status_code == 200  # 127.0.0.1 is allowed
    assert node.gateway.get("/listed", headers=frm("2001:db8:7::1")).status_code == 200
    assert blocked(node.gateway.get("/listed", headers=frm("203.0.113.5")))  # deny and allow
    assert blocked(node.gateway.get("/listed-off", headers=frm("203.0.113.5")))  # waf: off
    assert node.gateway.get("/listed-off", headers=frm("198.51.100.7")).status_code == 200
    assert blocked(node.gateway.get("/listed", headers=frm("2001:db8:bad::1")))
    assert blocked(node.gateway.get("/listed", headers=frm("192.0.2.50")))  # not allowed
    assert blocked(node.gateway.get("/listed", headers=frm("::ffff:192.0.2.50")))
    # before authentication: a denied source never learns whether it had a credential
    assert blocked(node.gateway.post("/listed-private", headers=frm("192.0.2.50")))
    assert node.gateway.post("/listed-private").status_code == 401
    # the lists are the app's: the other app still answers the same address
    assert node.gateway.get("/plain", headers=frm("203.0.113.5")).status_code == 200
    reasons = {
        (e["detail"]["source_ip"], e["detail"]["reason"], e["resource"])
        for e in waf_denials(node, seq)
    }
    assert ("203.0.113.5", "ip-deny", "route:GET /listed") in reasons
    assert ("2001:db8:bad::1", "ip-deny", "route:GET /listed") in reasons
    assert ("192.0.2.50", "ip-not-allowed", "route:GET /listed") in reasons
    assert ("192.0.2.50", "ip-not-allowed", "route:POST /listed-private") in reasons


# -- methods ------------------------------------------------------------------------------------
def test_methods_outside_the_standard_set_or_the_apps_list_are_refused(
    waf_node: RunningNode,
) -> None:
    node = waf_node
    seq = last_seq(node)
    for method, path in [("TRACE", "/plain"), ("CONNECT", "/plain"), ("PROPFIND", "/listed"),
                         ("TRACE", "/nowhere")]:
        r = node.gateway.request(method, path)
        assert blocked(r), (method, path, r.status_code)
    # PUT is declared on /listed/put, but the app accepts only GET, POST and DELETE
    assert blocked(node.gateway.put("/listed/put", content=b"x"))
    assert node.gateway.head("/listed").status_code == 403  # not listed, though GET is
    assert node.gateway.head("/plain").status_code == 200  # the standard methods include it
    # a standard, accepted method the path does not declare: the router's 405, audited
    r = node.gateway.delete("/items/7")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert r.headers["allow"] == "GET"
    r = node.gateway.request("OPTIONS", "/plain")
    assert r.status_code == 405 and r.headers["allow"] == "GET, HEAD"
    # the app's address lists apply to a 405 too
    assert blocked(node.gateway.delete("/items/7", headers=frm("192.0.2.50")))
    rules = [e["detail"]["reason"] for e in waf_denials(node, seq)]

    def counted() -> float:
        metrics = node.control.get("/metrics").text
        return sum(
            float(line.split()[-1]) for line in metrics.splitlines()
            if line.startswith("ramparts_waf_blocks_total")
        )

    assert wait_for(lambda: counted() >= len(rules))  # the 405s included
    assert rules.count("method-not-standard") == 4
    assert rules.count("method-not-allowed") == 2
    assert rules.count("method-not-declared") == 2
    assert "ip-not-allowed" in rules


# -- sizes --------------------------------------------------------------------------------------
def test_url_header_and_body_limits(waf_node: RunningNode) -> None:
    node = waf_node
    seq = last_seq(node)
    assert node.gateway.get("/listed", params={"q": "a" * 150}).status_code == 200
    assert blocked(node.gateway.get("/listed", params={"q": "a" * 200}))
    assert blocked(node.gateway.get("/items/" + "%41" * 70))  # as sent: 210 bytes
    assert node.gateway.get("/listed", headers={"x-note": "n" * 1500}).status_code == 200
    assert blocked(node.gateway.get("/listed", headers={"x-note": "n" * 2100}))
    assert node.gateway.post("/listed", content=b"x" * 1024).status_code == 200
    assert blocked(node.gateway.post("/listed", content=b"x" * 1025))
    # before authentication, by Content-Length
    assert blocked(node.gateway.post("/listed-private", content=b"x" * 2000))

    def chunks() -> Iterator[bytes]:
        for _ in range(8):
            yield b"y" * 200

    # no Content-Length: refused while reading
    assert blocked(node.gateway.post("/listed", content=chunks()))
    # the other app keeps the node's own limit
    assert node.gateway.get("/plain", params={"q": "a" * 400}).status_code == 200
    denials = waf_denials(node, seq)
    rules = [e["detail"]["reason"] for e in denials]
    assert rules.count("url-too-long") == 2
    assert rules.count("headers-too-large") == 1
    assert rules.count("body-too-large") == 3
    body = [e for e in denials if e["detail"]["reason"] == "body-too-large"]
    assert all(e["detail"]["limit"] == 1024 for e in body)


# -- restart: last, it restarts the module's node ------------------------------------------------
def test_blocks_survive_a_restart(waf_node: RunningNode) -> None:
    node = waf_node
    assert node.cli("waf", "block", "192.0.2.64/26", "--reason", "kept").returncode == 0
    node.stop()
    node.start()
    r = node.gateway.get("/plain", headers=frm("192.0.2.65"))
    assert blocked(r), "the first request after a restart was let through"
    listed = node.control.get("/v1/waf/blocks").json()["blocks"]
    assert [b["reason"] for b in listed if b["cidr"] == "192.0.2.64/26"] == ["kept"]
