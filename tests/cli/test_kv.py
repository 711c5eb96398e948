"""``ramparts kv``: put, get and delete from the CLI; a delete is a REMOVE record."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: kvapp
functions:
  on-change:
    handler: h.py:record
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - table: {name: orders, events: [insert, remove]}
"""

HANDLER = """
import json

def record(event, context):
    for rec in event["Records"]:
        context.kv.put("seen", context.aws_request_id + rec["eventID"], {"record": json.dumps(rec)})
"""


@pytest.fixture(scope="module")
def kvnode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("kv")
    node = RunningNode(base / "data")
    node.start()
    try:
        node.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLER}))
        yield node
    finally:
        node.close()


def _records(node: RunningNode, count: int) -> list[dict]:
    deadline = time.monotonic() + 30
    got: list[dict] = []
    while time.monotonic() < deadline:
        items = node.control.get("/v1/kv/seen", params={"app": "kvapp"}).json()["items"]
        got = [json.loads(i["item"]["record"]) for i in items]
        if len(got) >= count:
            return got
        time.sleep(0.2)
    raise AssertionError(f"{len(got)} of {count} records")


def test_kv_delete_sends_a_remove_record(kvnode: RunningNode) -> None:
    out = kvnode.cli("kv", "put", "orders", "o-1", '{"total": 12}', "--app", "kvapp")
    assert out.returncode == 0, out.stderr
    out = kvnode.cli("kv", "delete", "orders", "o-1", "--app", "kvapp")
    assert out.returncode == 0, out.stderr
    assert "deleted orders/o-1" in out.stdout
    records = _records(kvnode, 2)
    remove = next(r for r in records if r["eventName"] == "REMOVE")
    assert remove["eventSource"] == "aws:dynamodb"
    assert remove["dynamodb"]["OldImage"]["total"] == {"N": "12"}
    assert "NewImage" not in remove["dynamodb"]
    gone = kvnode.cli("kv", "get", "orders", "o-1", "--app", "kvapp")
    assert gone.returncode != 0


def test_kv_delete_of_a_missing_item_is_a_clear_error(kvnode: RunningNode) -> None:
    out = kvnode.cli("kv", "delete", "orders", "never-was", "--app", "kvapp")
    assert out.returncode != 0
    assert "not found" in out.stderr and "Traceback" not in out.stderr
    assert all(r["dynamodb"]["Keys"] != {"key": {"S": "never-was"}} for r in _records(kvnode, 2))
