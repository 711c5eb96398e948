"""JSON request bodies: what one may cost the gateway before a handler sees it.

The attack (adversarial review F1): a few MB of empty containers (``[[],[],...]``)
sent to any public POST route cost the node seconds of event-loop time and ~150
MiB per request, stalling every other client and the control API, with the WAF
on or off.  Now a body holding more than ``max_json_values`` values is refused
(413 ``too_many_json_values``, audited) before it is parsed, and a large body is
measured and parsed off the event loop.  Also here: duplicate object keys (F3 of
the WAF's duties: every value must be the inspected one) and the client's
``X-Request-Id`` (replaced by the gateway's id).
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator

import orjson
import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: jsonbody
functions:
  sink:
    handler: h.py:sink
    triggers:
      - http: {method: POST, path: /sink, auth: none}
  sinkoff:
    handler: h.py:sink
    triggers:
      - http: {method: POST, path: /sinkoff, auth: none, waf: "off"}
  echo:
    handler: h.py:echo
    triggers:
      - http: {method: ANY, path: /echo, auth: none}
"""

HANDLERS = """
import json

def sink(event, context):
    return {"statusCode": 200, "body": json.dumps({"ok": 1})}

def echo(event, context):
    return {"statusCode": 200, "body": json.dumps({"headers": event["headers"]})}
"""

JSON = {"content-type": "application/json"}


def _empties(count: int, pair: bytes = b"[]") -> bytes:
    return b"[" + b",".join([pair] * count) + b"]"


@pytest.fixture(scope="module")
def app(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    root = tmp_path_factory.mktemp("jsonbody") / "app"
    node.deploy_ok(make_app(root, MANIFEST, {"h.py": HANDLERS}))
    return node


@pytest.mark.parametrize("route", ["/sink", "/sinkoff"])
@pytest.mark.parametrize("pair", [b"[]", b"{}"])
def test_a_body_of_many_empty_containers_is_refused_unparsed(
    app: RunningNode, route: str, pair: bytes
) -> None:
    function = route.strip("/")
    before = len(app.invocations(function))
    bomb = _empties(300_000, pair)  # 900 KB, under the node's 1 MiB body limit
    r = app.gateway.post(route, content=bomb, headers=JSON)
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "too_many_json_values"
    request_id = r.json()["request_id"]
    events = [e for e in app.audit() if e.get("request_id") == request_id]
    assert [(e["kind"], e["decision"], e["detail"]["reason"]) for e in events] == [
        ("gateway.body", "deny", "too_many_json_values")
    ], events
    r = app.gateway.post(route, content=_empties(20_000, pair), headers=JSON)
    assert r.status_code == 200, r.text  # under the limit: served
    assert len(app.wait_invocations(function, before + 1)) == before + 1


def test_duplicate_keys_are_refused(app: RunningNode) -> None:
    before = len(app.invocations("sink"))
    for body in (
        b'{"text": "${jndi:ldap://x.example/a}", "text": "hello"}',
        b'{"a": {"b": 1, "b": 2}}',
    ):
        r = app.gateway.post("/sink", content=body, headers=JSON)
        assert r.status_code == 400 and r.json()["code"] == "duplicate_json_key", r.text
        rid = r.json()["request_id"]
        assert [
            (e["kind"], e["detail"]["reason"]) for e in app.audit() if e.get("request_id") == rid
        ] == [("gateway.body", "duplicate_json_key")]
    # The same key in two objects, and colons inside strings, are not duplicates.
    r = app.gateway.post(
        "/sink", content=b'{"a": {"b": 1}, "c": {"b": "http://x:1"}}', headers=JSON
    )
    assert r.status_code == 200, r.text
    assert len(app.wait_invocations("sink", before + 1)) == before + 1


@pytest.mark.parametrize("value", ["${jndi:ldap://x.example/a}", "<script>alert(1)</script>"])
def test_the_clients_request_id_never_reaches_the_handler(app: RunningNode, value: str) -> None:
    r = app.gateway.get("/echo", headers={"x-request-id": value})
    assert r.status_code == 200, r.text
    seen = r.json()["headers"]
    assert value not in orjson.dumps(seen).decode()
    assert seen["x-request-id"] == r.headers["x-request-id"]  # the gateway's own id


@pytest.fixture(scope="module")
def roomy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """A node whose value limit lets the 6 MB bomb through to the parser."""
    base = tmp_path_factory.mktemp("roomy")
    running = RunningNode(base / "data", {"RAMPARTS_MAX_JSON_VALUES": "10000000"})
    running.start()
    try:
        running.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLERS}))
        yield running
    finally:
        running.close()


def test_a_large_body_is_parsed_off_the_event_loop(roomy: RunningNode) -> None:
    """Another client's request is served while the bomb is still being parsed.

    Before the fix the bomb held the event loop until its handler was invoked,
    so every request that arrived meanwhile started after it: the condition is
    that one of them reaches its handler first.
    """
    bomb = _empties(2_000_000)  # 6 MB: 2 M lists, under the default 6 MiB body limit
    with socket.create_connection(("127.0.0.1", roomy.port), timeout=120) as sock:
        sock.sendall(
            b"POST /sinkoff HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(bomb)}\r\n\r\n".encode()
            + bomb
        )
        time.sleep(0.3)  # let the node read the body's last bytes before the probes start
        probes = 0
        while not select.select([sock], [], [], 0)[0]:
            assert roomy.gateway.get("/echo").status_code == 200
            probes += 1
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    bomb_started = roomy.wait_invocations("sinkoff", 1)[0]["started_at"]
    probe_starts = [r["started_at"] for r in roomy.wait_invocations("echo", probes)]
    assert min(probe_starts) < bomb_started, (probes, probe_starts, bomb_started)
