"""OpenTelemetry traces against a real node and a real OTLP/HTTP receiver started here:
one trace follows an HTTP request into the topic message its handler publishes and the
subscriber's invocation, a caller's traceparent is honoured, and no span carries a secret."""

from __future__ import annotations

import gzip
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)

from tests.conftest import RunningNode, free_port, make_app

SECRET = "sk_live_TRACEDnotTOleak_4f9a2c"  # noqa: S105 - the value no span may carry

MANIFEST = """
app: trc
functions:
  front:
    handler: h.py:front
    secrets: [api-token]
    role:
      statements:
        - {effect: allow, actions: ["topics:Publish"], resources: ["topic:orders"]}
    triggers:
      - http: {method: POST, path: /orders, auth: none}
  back:
    handler: h.py:back
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - topic: {name: orders}
  uploader:
    handler: h.py:uploader
    role:
      statements:
        - {effect: allow, actions: ["objects:PutObject"], resources: ["objects:up/*"]}
    triggers:
      - http: {method: POST, path: /upload, auth: none}
  thumb:
    handler: h.py:undertaker
    triggers:
      - object: {bucket: up, events: [created]}
  doomed:
    handler: h.py:doomed
    triggers:
      - topic: {name: orders, retries: 0, dead_letter: failures}
  undertaker:
    handler: h.py:undertaker
    triggers:
      - topic: {name: failures}
"""

HANDLERS = """
import json


def front(event, context):
    token = context.secrets.get("api-token")
    body = json.loads(event["body"])
    context.publish("orders", {"id": body["id"], "auth": token})
    return {"statusCode": 202, "body": "queued"}


def uploader(event, context):
    context.objects.put("up", "img/a.png", b"png", content_type="image/png")
    return {"statusCode": 201, "body": "stored"}


def doomed(event, context):
    raise RuntimeError("always fails")


def undertaker(event, context):
    return "buried"


def back(event, context):
    body = json.loads(event["Records"][0]["body"])
    context.kv.put("seen", body["id"], {"ok": True})
    return "done"
"""


class Receiver:
    """A local OTLP/HTTP traces endpoint: keeps every span and every raw request body."""

    def __init__(self) -> None:
        self.spans: list[Any] = []
        self.raw: list[bytes] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                data = self.rfile.read(int(self.headers.get("content-length", "0")))
                if self.headers.get("content-encoding") == "gzip":
                    data = gzip.decompress(data)
                request = ExportTraceServiceRequest()
                request.ParseFromString(data)
                with receiver.lock:
                    receiver.raw.append(data)
                    for rs in request.resource_spans:
                        for ss in rs.scope_spans:
                            receiver.spans.extend(ss.spans)
                out = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def trace(self, trace_id: str, names: set[str], timeout: float = 30) -> dict[str, Any]:
        """The spans of ``trace_id`` by name, once every name in ``names`` arrived."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                found = {s.name: s for s in self.spans if s.trace_id.hex() == trace_id}
            if names <= found.keys():
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"trace {trace_id}: missing {names - found.keys()}")
            time.sleep(0.2)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    try:
        yield r
    finally:
        r.close()


@pytest.fixture(scope="module")
def trc(tmp_path_factory: pytest.TempPathFactory, receiver: Receiver) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("tracing")
    running = RunningNode(
        base / "data", {"RAMPARTS_OTLP_ENDPOINT": f"http://127.0.0.1:{receiver.port}"}
    )
    running.start()
    try:
        done = running.cli("secrets", "set", "api-token", "--app", "trc", "--stdin", stdin=SECRET)
        assert done.returncode == 0, done.stderr
        running.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLERS}))
        yield running
    finally:
        running.close()


# ``broker secrets.get`` appears on a worker's first read only: workers cache a secret 30 s.
FLOW = {
    "POST /orders",
    "invoke front",
    "broker publish",
    "publish orders",
    "deliver back",
    "invoke back",
    "broker kv.put",
}


def _check_flow(spans: dict[str, Any]) -> None:
    """Parent links: gateway -> invocation -> broker call -> publish -> delivery -> invocation."""

    def parent(name: str) -> bytes:
        return bytes(spans[name].parent_span_id)

    def sid(name: str) -> bytes:
        return bytes(spans[name].span_id)

    assert parent("invoke front") == sid("POST /orders")
    if "broker secrets.get" in spans:
        assert parent("broker secrets.get") == sid("invoke front")
    assert parent("broker publish") == sid("invoke front")
    assert parent("publish orders") == sid("broker publish")
    assert parent("deliver back") == sid("publish orders")
    assert parent("invoke back") == sid("deliver back")
    assert parent("broker kv.put") == sid("invoke back")


def test_one_trace_follows_a_request_into_its_topic_messages(
    trc: RunningNode, receiver: Receiver
) -> None:
    r = trc.gateway.post("/orders", json={"id": "o-1"})
    assert r.status_code == 202, r.text
    request_id = r.headers["x-request-id"]
    deadline = time.monotonic() + 30
    while True:
        with receiver.lock:
            server = [
                s for s in receiver.spans
                if s.name == "POST /orders"
                and any(a.key == "ramparts.request_id" and a.value.string_value == request_id
                        for a in s.attributes)
            ]
        if server or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert server, "the gateway span did not arrive"
    assert bytes(server[0].parent_span_id) == b""  # no traceparent sent: a new trace
    spans = receiver.trace(server[0].trace_id.hex(), FLOW | {"broker secrets.get"})
    _check_flow(spans)


def test_incoming_traceparent_is_honoured(trc: RunningNode, receiver: Receiver) -> None:
    trace_id, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    r = trc.gateway.post(
        "/orders", json={"id": "o-2"}, headers={"traceparent": f"00-{trace_id}-{caller_span}-01"}
    )
    assert r.status_code == 202, r.text
    spans = receiver.trace(trace_id, FLOW)
    assert spans["POST /orders"].parent_span_id.hex() == caller_span
    _check_flow(spans)


def test_a_dead_letter_stays_in_the_trace(trc: RunningNode, receiver: Receiver) -> None:
    trace_id = "9af92f3577b34da6a3ce929d0e0e4736"
    r = trc.gateway.post(
        "/orders", json={"id": "o-5"}, headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    )
    assert r.status_code == 202
    spans = receiver.trace(
        trace_id,
        {"deliver doomed", "invoke doomed", "dead-letter doomed", "publish failures",
         "deliver undertaker", "invoke undertaker"},
    )
    assert spans["invoke doomed"].status.code == 2  # STATUS_CODE_ERROR
    assert spans["dead-letter doomed"].parent_span_id == spans["publish orders"].span_id
    assert spans["publish failures"].parent_span_id == spans["dead-letter doomed"].span_id
    assert spans["deliver undertaker"].parent_span_id == spans["publish failures"].span_id
    assert spans["invoke undertaker"].parent_span_id == spans["deliver undertaker"].span_id


def test_an_object_write_carries_its_trace_to_the_object_trigger(
    trc: RunningNode, receiver: Receiver
) -> None:
    trace_id = "aaf92f3577b34da6a3ce929d0e0e4736"
    r = trc.gateway.post(
        "/upload", content=b"", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    )
    assert r.status_code == 201, r.text
    spans = receiver.trace(
        trace_id, {"POST /upload", "invoke uploader", "broker objects.put", "deliver thumb",
                   "invoke thumb"},
    )
    # The change event was queued through the outbox, in the write's transaction.
    assert spans["deliver thumb"].parent_span_id == spans["broker objects.put"].span_id
    assert spans["invoke thumb"].parent_span_id == spans["deliver thumb"].span_id


def test_caller_cannot_switch_tracing_off(trc: RunningNode, receiver: Receiver) -> None:
    trace_id = "7cf92f3577b34da6a3ce929d0e0e4736"
    r = trc.gateway.post(  # flags 00: "not sampled"
        "/orders", json={"id": "o-4"}, headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-00"}
    )
    assert r.status_code == 202
    _check_flow(receiver.trace(trace_id, FLOW))


@pytest.mark.parametrize(
    "headers",
    [
        [("traceparent", "00-" + "0" * 32 + "-00f067aa0ba902b7-01")],  # all-zero id: invalid
        [("traceparent", "not-a-traceparent")],
        # two of them: which one is meant is a guess, so neither is
        [("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
         ("traceparent", "00-5bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")],
    ],
)
def test_malformed_traceparent_starts_a_new_trace(
    trc: RunningNode, receiver: Receiver, headers: list[tuple[str, str]]
) -> None:
    r = trc.gateway.post("/orders", json={"id": "o-3"}, headers=headers)
    assert r.status_code == 202
    request_id = r.headers["x-request-id"]
    deadline = time.monotonic() + 30
    while True:
        with receiver.lock:
            mine = [
                s for s in receiver.spans
                if any(a.key == "ramparts.request_id" and a.value.string_value == request_id
                       for a in s.attributes)
            ]
        if mine or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert mine and mine[0].trace_id.hex() != "0" * 32
    assert bytes(mine[0].parent_span_id) == b""
    assert mine[0].trace_id.hex() not in ("4bf92f3577b34da6a3ce929d0e0e4736",
                                          "5bf92f3577b34da6a3ce929d0e0e4736")


def test_invocation_carries_its_trace_id(trc: RunningNode, receiver: Receiver) -> None:
    r = trc.control.post("/v1/functions/back/invoke", json={
        "event": {"Records": [{"body": '{"id": "direct"}'}]}})
    assert r.status_code == 200 and r.json()["status"] == "ok", r.text
    trace_id = r.json()["trace_id"]
    assert isinstance(trace_id, str) and len(trace_id) == 32
    spans = receiver.trace(trace_id, {"invoke back", "broker kv.put"})
    assert bytes(spans["invoke back"].parent_span_id) == b""


def test_spans_carry_no_secret_values(trc: RunningNode, receiver: Receiver) -> None:
    r = trc.gateway.post("/orders", json={"id": "o-secret"})
    assert r.status_code == 202
    rid = r.headers["x-request-id"]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with receiver.lock:
            if any(rid.encode() in raw for raw in receiver.raw) and any(
                s.name == "invoke back" for s in receiver.spans
            ):
                break
        time.sleep(0.2)
    with receiver.lock:
        raw = b"".join(receiver.raw)
    assert rid.encode() in raw  # the export did happen
    assert SECRET.encode() not in raw
    assert b"o-secret" not in raw  # nor the request body or the published message


def test_tracing_off_imports_no_sdk() -> None:
    """Off by default: a node's modules load, and a disabled tracer is made, without the SDK."""
    code = (
        "import sys\n"
        "import ramparts.server, ramparts.node, ramparts.gateway.app, ramparts.broker\n"
        "import ramparts.events.dispatcher\n"
        "from ramparts.observe.tracing import Tracing\n"
        "t = Tracing(None)\n"
        "assert not t.enabled and t.traceparent() is None\n"
        "assert t.extract({'traceparent': 'x'}) is None\n"
        "print(sorted(m for m in sys.modules if m.startswith('opentelemetry.sdk')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, cwd=Path(__file__).resolve().parents[2])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_bad_otlp_endpoint_is_refused_at_start(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data")
    for bad in ("ftp://collector:4318", "http://user:pw@collector:4318", "not a url",
                "http://user:pw@collector:99999"):
        done = node.cli("up", "--port", str(free_port()), "--admin-port", str(free_port()),
                        "--otlp-endpoint", bad)
        out = done.stderr + done.stdout
        assert done.returncode != 0, out
        assert "--otlp-endpoint" in out and "Traceback" not in out
        assert "pw" not in out
    node.gateway.close()
    node.control.close()
