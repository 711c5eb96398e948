"""Imported SAM apps deployed unchanged to a real node, then called.

Each test imports a template with ``ramparts import`` (the CLI), deploys the
directory as it is, and calls the app the way its clients would.  Apps whose
handlers call AWS services through boto3 need those services on the node;
they skip, naming the module, only while it is absent.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.aws.sam import templates as T
from tests.conftest import RunningNode


def _needs(*modules: str) -> pytest.MarkDecorator:
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    return pytest.mark.skipif(
        bool(missing),
        reason=f"needs {', '.join(missing)} (merged separately)",
    )


@pytest.fixture(scope="module")
def samnode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("samnode")
    running = RunningNode(base / "data")
    running.start()
    try:
        yield running
    finally:
        running.close()


def _import_and_deploy(node: RunningNode, root: Path, template: str,
                       code: dict[str, str], *args: str) -> dict:
    root.mkdir(parents=True)
    (root / "template.yaml").write_text(template)
    for rel, text in code.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text))
    r = node.cli("import", str(root / "template.yaml"), *args)
    assert r.returncode == 0, r.stderr
    return node.deploy_ok(root)


def _logs(node: RunningNode, function: str) -> str:
    return "\n".join(str(row.get("logs") or "") for row in node.invocations(function))


def test_hello_world_rest_api(samnode: RunningNode, tmp_path: Path) -> None:
    _import_and_deploy(samnode, tmp_path / "sam-app", T.HELLO_WORLD, T.HELLO_WORLD_CODE)
    r = samnode.gateway.get("/hello")
    assert r.status_code == 200, r.text
    assert r.json() == {"message": "hello world", "method": "GET", "path": "/hello",
                        "resource": "/hello"}


def test_http_api_routes(samnode: RunningNode, tmp_path: Path) -> None:
    _import_and_deploy(samnode, tmp_path / "items", T.HTTP_API, T.HTTP_API_CODE)
    r = samnode.gateway.get("/things/abc")
    assert r.status_code == 200, r.text
    assert r.json() == {"version": "2.0", "routeKey": "GET /things/{id}", "id": "abc"}
    r = samnode.gateway.post("/some/where", content=b"x")
    assert r.status_code == 200, r.text
    assert r.text == "/some/where"


def test_sqs_consumer_retries_only_the_reported_failure(
    samnode: RunningNode, tmp_path: Path
) -> None:
    _import_and_deploy(samnode, tmp_path / "orders", T.SQS_CONSUMER, T.SQS_CONSUMER_CODE)
    for message in ({"order": "o-1"}, {"fail": True}, {"order": "o-2"}):
        r = samnode.control.post("/v1/topics/orders-queue/publish",
                                 json={"message": message, "app": "orders"})
        assert r.status_code == 200, r.text
    deadline = time.monotonic() + 90
    logs = ""
    while time.monotonic() < deadline:
        logs = _logs(samnode, "consumer-function")
        failed = [line.split() for line in logs.splitlines() if line.startswith("failed ")]
        if {"o-1", "o-2"} <= set(logs.split()) and any(f[2] == "2" for f in failed):
            break
        time.sleep(0.3)
    else:
        raise AssertionError(f"consumer logs: {logs}")
    # the failed record came back (receive count 2); the processed ones were acked
    assert logs.count("processed o-1") == 1 and logs.count("processed o-2") == 1
    assert len({f[1] for f in failed}) == 1


def test_schedules_deploy_and_fire(samnode: RunningNode, tmp_path: Path) -> None:
    _import_and_deploy(samnode, tmp_path / "jobs", T.SCHEDULE, T.SCHEDULE_CODE)
    r = samnode.control.post("/v1/functions/nightly-function/schedule")
    assert r.status_code == 200, r.text
    rows = samnode.wait_invocations("nightly-function", 1, timeout=60, status="ok")
    assert rows, rows


def test_secret_references_reach_the_environment(samnode: RunningNode, tmp_path: Path) -> None:
    values = {"webhook-signing": "whsec-Zq8vN3xR7pL2mK9tAb", "shop.db.password": "pw-8Yt3Lq"}
    for name, value in values.items():
        r = samnode.control.put(f"/v1/secrets/{name}", params={"app": "hooks"},
                                json={"value": value})
        assert r.status_code == 200, r.text
    _import_and_deploy(samnode, tmp_path / "hooks", T.SECRETS, T.SECRETS_CODE)
    r = samnode.control.post("/v1/functions/webhook-function/invoke", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok", body
    assert body["result"] == {
        "webhook": hashlib.sha256(values["webhook-signing"].encode()).hexdigest(),
        "db": hashlib.sha256(values["shop.db.password"].encode()).hexdigest(),
        "mode": "live",
    }
    for value in values.values():
        assert value not in json.dumps(body)


@_needs("ramparts.aws.dynamodb", "ramparts.aws.endpoint", "ramparts.policy.aws")
def test_dynamodb_crud_through_boto3(samnode: RunningNode, tmp_path: Path) -> None:
    _import_and_deploy(samnode, tmp_path / "crud", T.DYNAMODB_CRUD, T.DYNAMODB_CRUD_CODE)
    key = {"x-api-key": "unused"}  # the routes are public, as the template declares them
    r = samnode.gateway.put("/items", json={"id": "i-1", "name": "lamp"}, headers=key)
    assert r.status_code == 200, r.text
    r = samnode.gateway.get("/items/i-1")
    assert r.status_code == 200, r.text
    assert r.json() == {"id": "i-1", "name": "lamp"}
    assert samnode.gateway.get("/items/nope").status_code == 404


@_needs("ramparts.aws.s3", "ramparts.aws.endpoint", "ramparts.policy.aws")
def test_s3_upload_processor_reads_the_object(samnode: RunningNode, tmp_path: Path) -> None:
    _import_and_deploy(samnode, tmp_path / "pics", T.S3_PROCESSOR, T.S3_PROCESSOR_CODE)
    r = samnode.control.put("/v1/objects/pics-uploads/incoming/a.csv",
                            params={"app": "pics"}, content=b"a,b\n1,2\n")
    assert r.status_code == 200, r.text
    rows = samnode.wait_invocations("processor-function", 1, timeout=60)
    assert rows[0]["status"] == "ok", rows[0]
    assert "processed incoming/a.csv 8" in _logs(samnode, "processor-function")


@_needs("ramparts.aws.sns", "ramparts.aws.endpoint", "ramparts.policy.aws")
def test_sns_fan_out_through_boto3(samnode: RunningNode, tmp_path: Path) -> None:
    _import_and_deploy(samnode, tmp_path / "fan", T.SNS_FANOUT, T.SNS_FANOUT_CODE)
    r = samnode.control.post("/v1/functions/publisher-function/invoke",
                             json={"event": {"id": "o-9"}})
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ok", r.json()
    for sub in ("billing-function", "shipping-function"):
        samnode.wait_invocations(sub, 1, timeout=60, status="ok")
        assert "o-9" in _logs(samnode, sub)


