"""Floods of refusals are audited aggregated, on a real node (adv-dos F5).

Before: WAF blocks, sub-threshold WAF findings, undeclared and non-standard
methods, failed API keys and token requests wrote one durable audit record per
request (~1.2 KiB each), and the node's 413 and ``too_deeply_nested`` refusals
wrote none.  Now a group's first ``WHOLE`` refusals are one record each
(``count`` 1), then one record per second counts the rest; the counts add up
to the requests refused.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ramparts.ratelimit.aggregate import WHOLE
from tests.conftest import RunningNode, make_app

MANIFEST = """
app: fl
functions:
  echo:
    handler: h.py:echo
    triggers:
      - http: {method: GET, path: /echo, auth: none}
      - http: {method: POST, path: /echo, auth: none}
      - http: {method: GET, path: /watch, auth: none, waf: detect}
      - http: {method: GET, path: /keyed, auth: api_key}
"""

HANDLER = """
def echo(event, context):
    return {"ok": 1}
"""

FLOOD = 120
XSS = "<script>alert(document.cookie)</script>"


@pytest.fixture(scope="module")
def fl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("fl")
    node = RunningNode(base / "data", {"RAMPARTS_MAX_BODY_BYTES": "4096"}).start()
    try:
        node.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLER}))
        yield node
    finally:
        node.close()


def _records(node: RunningNode, kind: str, reason: str) -> list[dict[str, Any]]:
    return [
        e for e in node.audit()
        if e["kind"] == kind and e["detail"].get("reason") == reason
    ]


def _flood(
    node: RunningNode, kind: str, reason: str, send: Callable[[], httpx.Response], status: int
) -> list[dict[str, Any]]:
    """Send FLOOD requests; the records of (kind, reason) once their counts add up."""
    before = sum(e["detail"].get("count", 1) for e in _records(node, kind, reason))
    started = time.monotonic()
    codes = [send().status_code for _ in range(FLOOD)]
    elapsed = time.monotonic() - started
    assert codes == [status] * FLOOD
    deadline = time.monotonic() + 30
    while True:
        found = _records(node, kind, reason)
        total = sum(e["detail"].get("count", 1) for e in found)
        if total >= before + FLOOD or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert total == before + FLOOD, (kind, reason, total)
    assert before == 0, "each flood is its own kind and reason"
    # The first WHOLE one record each, then at most one per second of flood (and one at the end).
    assert len(found) <= WHOLE + int(elapsed) + 3, (kind, reason, len(found), elapsed)
    assert all(e["detail"]["aggregated"] is True for e in found)
    found.sort(key=lambda e: e["seq"])
    assert [e["detail"]["count"] for e in found[:WHOLE]] == [1] * WHOLE  # written whole
    assert sum(e["detail"]["count"] for e in found[WHOLE:]) == FLOOD - WHOLE
    return found


def test_waf_blocks_are_aggregated_and_the_first_is_whole(fl: RunningNode) -> None:
    found = _flood(fl, "gateway.waf", "waf_blocked",
                   lambda: fl.gateway.get("/echo", params={"q": XSS}), 403)
    first = found[0]
    assert first["decision"] == "deny" and first["resource"] == "route:GET /echo"
    assert first["detail"]["matches"] and first["detail"]["score"] >= 5
    assert first["detail"]["source_ip"] == "127.0.0.1"


def test_waf_detect_findings_are_aggregated(fl: RunningNode) -> None:
    found = _flood(fl, "waf.detect", "waf_detect",
                   lambda: fl.gateway.get("/watch", params={"q": XSS}), 200)
    assert found[0]["decision"] == "allow" and found[0]["detail"]["matches"]


def test_undeclared_and_non_standard_methods_are_aggregated(fl: RunningNode) -> None:
    found = _flood(fl, "gateway.waf", "method-not-declared",
                   lambda: fl.gateway.delete("/echo"), 405)
    assert found[0]["detail"]["allowed"] == ["GET", "HEAD", "POST"]
    _flood(fl, "gateway.waf", "method-not-standard",
           lambda: fl.gateway.request("TRACE", "/echo"), 403)


def _auth_failures(node: RunningNode) -> float:
    for line in node.control.get("/metrics").text.splitlines():
        if line.startswith('ramparts_auth_failures_total{surface="gateway"}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_failed_api_keys_are_aggregated_even_when_each_key_differs(fl: RunningNode) -> None:
    before = _auth_failures(fl)
    keys = iter(range(FLOOD))
    found = _flood(
        fl, "gateway.auth", "api_key_unknown",
        lambda: fl.gateway.get("/keyed", headers={"x-api-key": f"rk_{next(keys):012x}_{'b' * 43}"}),
        401,
    )
    assert found[0]["detail"]["source_ip"] == "127.0.0.1"
    # an unknown key proved nothing: the address is the principal, the id only claimed
    assert found[0]["principal"] == "ip:127.0.0.1"
    assert found[0]["detail"]["claimed_key"] == "000000000000"  # the first, as it came
    # the metric weighs each record's count: every refusal is counted once
    deadline = time.monotonic() + 20
    while _auth_failures(fl) < before + FLOOD and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _auth_failures(fl) == before + FLOOD


def test_node_size_and_nesting_refusals_are_audited_aggregated(fl: RunningNode) -> None:
    found = _flood(fl, "gateway.body", "payload_too_large",
                   lambda: fl.gateway.post("/echo", content=b"x" * 5000), 413)
    assert found[0]["resource"] == "route:POST /echo" and found[0]["detail"]["limit"] == 4096
    deep = json.dumps({"a": [[[[{}]]]]}).replace("[", "[" * 20).replace("]", "]" * 20)
    _flood(fl, "gateway.body", "too_deeply_nested",
           lambda: fl.gateway.post("/echo", content=deep,
                                   headers={"content-type": "application/json"}), 400)


def test_token_endpoint_refusals_are_aggregated(fl: RunningNode) -> None:
    body = {"grant_type": "client_credentials"}
    # Under the endpoint's own per-address limit (60/minute): 50 refused secrets.
    global FLOOD
    saved, FLOOD = FLOOD, 50
    try:
        _flood(fl, "oauth.token", "client_unknown",
               lambda: fl.gateway.post("/oauth/token", data=body,
                                       auth=("rc_" + "0" * 16, "rcs_wrong")), 401)
    finally:
        FLOOD = saved
