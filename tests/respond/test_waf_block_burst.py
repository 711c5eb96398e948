"""The shipped rule waf-block-burst on a real node: a burst of injection payloads from one
address, refused by the WAF and audited aggregated, raises one alert that names the address
and counts every refusal; a few refusals, and refusals spread over addresses under the
threshold each, raise none.  The node trusts X-Forwarded-For from loopback (as behind a local
reverse proxy), so each test's client speaks for its own documentation address."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.conftest import RunningNode
from tests.respond.conftest import StartNode

RULE = "waf-block-burst"
THRESHOLD = 20  # ramparts/respond/rules/waf.yaml
INJECTION = "' or 1=1--"

MANIFEST = """
app: wafdet
functions:
  search:
    handler: h.py:handler
    triggers:
      - http: {method: GET, path: /search, auth: none}
"""
HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "body": "results"}
"""


@pytest.fixture(scope="module")
def node(proxied_node: StartNode) -> RunningNode:
    return proxied_node("wafdet", MANIFEST, {"h.py": HANDLER})[0]


def _search(node: RunningNode, ip: str, q: str) -> int:
    r = node.gateway.get("/search", params={"q": q}, headers={"x-forwarded-for": ip})
    if r.status_code == 403:
        assert r.json()["code"] == "waf_blocked", r.text
    return r.status_code


def _blocks(node: RunningNode, ip: str) -> list[dict[str, Any]]:
    return [
        e for e in node.audit() if e["kind"] == "gateway.waf" and e["detail"].get("source_ip") == ip
    ]


def _refusals(records: list[dict[str, Any]]) -> int:
    """What the records stand for: an aggregated record counts as its ``count``."""
    return sum(e["detail"]["count"] if e["detail"].get("aggregated") else 1 for e in records)


def _all_audited(node: RunningNode, ips: dict[str, int], timeout: float = 60.0) -> None:
    """Wait until each address's refusals are all in the audit log (the aggregator writes
    a flood's counts a second or so later), then until the detections evaluated them."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(_refusals(_blocks(node, ip)) >= n for ip, n in ips.items()):
            break
        time.sleep(0.3)
    for ip, n in ips.items():
        assert _refusals(_blocks(node, ip)) == n, ip  # the counts add up, no more, no less
    while time.monotonic() < deadline:
        stored = len(node.audit())
        stats = node.control.get("/v1/alerts", params={"limit": 1}).json()["detections"]
        if stats["evaluated"] >= stored and stats["pending"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError("the detections did not catch up")


def _alerts(node: RunningNode) -> list[dict[str, Any]]:
    r = node.control.get("/v1/alerts", params={"limit": 1000})
    assert r.status_code == 200, r.text
    return [a for a in r.json()["alerts"] if a["rule"] == RULE]


def test_a_few_blocks_and_spread_blocks_raise_no_alert(node: RunningNode) -> None:
    few, spread = "198.51.100.40", ["198.51.100.41", "198.51.100.42", "198.51.100.43"]
    sent = {few: 3, **{ip: THRESHOLD - 1 for ip in spread}}  # 60 refusals, under 20 each
    for ip, n in sent.items():
        for _ in range(n):
            assert _search(node, ip, INJECTION) == 403
    for _ in range(30):  # benign searches of the burst's volume from one address
        assert _search(node, "198.51.100.44", "blue running shoes") == 200
    _all_audited(node, sent)
    assert _alerts(node) == []


def test_an_injection_burst_raises_one_alert_naming_the_address(node: RunningNode) -> None:
    attacker, sent = "203.0.113.77", 30
    for _ in range(sent):
        assert _search(node, attacker, INJECTION) == 403
    _all_audited(node, {attacker: sent})
    (alert,) = _alerts(node)
    assert alert["group"] == f"detail.source_ip={attacker}"
    assert alert["severity"] == "medium" and alert["category"] == "A1"
    # every refusal counted: past the first ten, the flood was audited in records with a
    # count, so the evidence holds fewer records than the refusals the alert counts
    assert alert["count"] == sent
    records = {e["id"]: e for e in _blocks(node, attacker)}
    assert set(alert["evidence"]) == set(records)
    assert 10 < len(alert["evidence"]) < sent
    assert all(records[i]["detail"]["source_ip"] == attacker for i in alert["evidence"])
    assert all(records[i]["detail"]["reason"] == "waf_blocked" for i in alert["evidence"])
