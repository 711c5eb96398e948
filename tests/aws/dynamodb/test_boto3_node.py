"""boto3's DynamoDB resource API, unchanged, inside handlers on a real node.

The handler is written the way AWS documents it (``boto3.resource("dynamodb")
.Table(os.environ["TABLE"])``, ``Key(...).eq``, conditions, update expressions);
a table trigger sees the boto3 writes as DynamoDB Streams records with the real
key attributes; a function whose role does not allow the write gets botocore's
``AccessDeniedException`` and the audit log shows the decision.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from botocore.exceptions import ClientError

from tests.aws.conftest import boto_client
from tests.conftest import RunningNode, make_app

MANIFEST = """
app: shop
tables:
  orders: {partition_key: pk, sort_key: {name: sk, type: N}}
functions:
  api:
    handler: h.py:handler
    environment: {TABLE: orders}
    role:
      statements:
        - {effect: allow, actions: ["kv:*"], resources: ["kv:orders/*", "kv:seen/*"]}
  readonly:
    handler: h.py:handler
    environment: {TABLE: orders}
    role:
      statements:
        - {effect: allow, actions: ["kv:GetItem", "kv:Query"], resources: ["kv:orders/*"]}
  awsnamed:
    handler: h.py:handler
    environment: {TABLE: orders}
    role:
      statements:
        # AWS action names (aliases of kv:GetItem / kv:Query); the resource stays native
        # because the deploy-time policy lint (aws-core 3446fe6) flags
        # arn:aws:dynamodb:*:*:table/orders as "outside app"
        - effect: allow
          actions: ["dynamodb:GetItem", "dynamodb:Query"]
          resources: ["kv:orders/*"]
  watcher:
    handler: h.py:watch
    role:
      statements:
        - {effect: allow, actions: ["kv:PutItem"], resources: ["kv:seen/*"]}
    triggers:
      - table: {name: orders}
"""

HANDLER = """
import os
from decimal import Decimal

import boto3
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

_table = None


def table_():
    # Created on first use, not at import: with aws-core 524c450 a module-level client
    # fetches container credentials while the version is deployed (not yet live) and
    # the deploy fails; AWS's examples create it at module level.
    global _table
    if _table is None:
        _table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
    return _table


def handler(event, context):
    op = event["op"]
    table = table_()
    try:
        if op == "put":
            table.put_item(
                Item={"pk": event["pk"], "sk": event["sk"], "total": Decimal(event["total"])},
                ConditionExpression=Attr("pk").not_exists(),
            )
            return {"ok": True}
        if op == "get":
            item = table.get_item(Key={"pk": event["pk"], "sk": event["sk"]}).get("Item")
            return {"item": {k: str(v) for k, v in item.items()} if item else None}
        if op == "add":
            out = table.update_item(
                Key={"pk": event["pk"], "sk": event["sk"]},
                UpdateExpression="SET total = total + :d, #st = :s",
                ConditionExpression=Attr("total").gte(Decimal("0")),
                ExpressionAttributeNames={"#st": "status"},
                ExpressionAttributeValues={":d": Decimal(event["delta"]), ":s": "paid"},
                ReturnValues="ALL_NEW",
            )
            return {"item": {k: str(v) for k, v in out["Attributes"].items()}}
        if op == "query":
            out = table.query(KeyConditionExpression=Key("pk").eq(event["pk"]) & Key("sk").gt(1))
            return {"sks": [int(i["sk"]) for i in out["Items"]], "count": out["Count"]}
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"]}
    return {"error": "unknown op"}


def watch(event, context):
    for record in event["Records"]:
        context.kv.put("seen", record["eventName"], {"record": record["dynamodb"]})
"""


def invoke(node: RunningNode, function: str, payload: dict[str, Any]) -> Any:
    r = node.control.post(f"/v1/functions/{function}/invoke", json={"event": payload})
    assert r.status_code == 200, r.text
    out = r.json()
    result = out.get("result", out)
    return json.loads(result) if isinstance(result, str) else result


@pytest.fixture(scope="module")
def shop(aws_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    root = make_app(tmp_path_factory.mktemp("shop") / "shop", MANIFEST, {"h.py": HANDLER})
    aws_node.deploy_ok(root)
    return aws_node


def test_resource_api_in_a_handler(shop: RunningNode) -> None:
    assert invoke(shop, "api", {"op": "put", "pk": "alice", "sk": 2, "total": "10.10"}) == {
        "ok": True
    }
    again = invoke(shop, "api", {"op": "put", "pk": "alice", "sk": 2, "total": "1"})
    assert again == {"error": "ConditionalCheckFailedException"}
    invoke(shop, "api", {"op": "put", "pk": "alice", "sk": 10, "total": "0"})
    invoke(shop, "api", {"op": "put", "pk": "alice", "sk": 1, "total": "0"})
    got = invoke(shop, "api", {"op": "get", "pk": "alice", "sk": 2})
    assert got == {"item": {"pk": "alice", "sk": "2", "total": "10.1"}}  # normalized
    added = invoke(shop, "api", {"op": "add", "pk": "alice", "sk": 2, "delta": "0.2"})
    assert added["item"]["total"] == "10.3" and added["item"]["status"] == "paid"
    assert invoke(shop, "api", {"op": "query", "pk": "alice"}) == {"sks": [2, 10], "count": 2}


def test_trigger_sees_keys_and_images_of_boto3_writes(shop: RunningNode) -> None:
    invoke(shop, "api", {"op": "put", "pk": "bob", "sk": 5, "total": "3"})
    invoke(shop, "api", {"op": "add", "pk": "bob", "sk": 5, "delta": "1"})
    client = boto_client(shop, "dynamodb", "api", app="shop")
    deadline = time.monotonic() + 30
    record = None
    while time.monotonic() < deadline:
        item = client.get_item(TableName="seen", Key={"key": {"S": "MODIFY"}}).get("Item")
        # what context.kv wrote (plain JSON) reads back as maps: deserialize as boto3 does
        plain = {k: TypeDeserializer().deserialize(v) for k, v in (item or {}).items()}
        if plain and plain["record"]["Keys"]["pk"] == {"S": "bob"}:
            record = plain["record"]
            break
        time.sleep(0.2)
    assert record is not None, "no MODIFY record for bob"
    assert record["Keys"] == {"pk": {"S": "bob"}, "sk": {"N": "5"}}
    assert record["OldImage"]["total"] == {"N": "3"}
    assert record["NewImage"]["total"] == {"N": "4"}
    assert record["NewImage"]["sk"] == {"N": "5"} and record["NewImage"]["status"] == {"S": "paid"}


def test_a_denied_write_raises_access_denied_and_is_audited(shop: RunningNode) -> None:
    out = invoke(shop, "readonly", {"op": "put", "pk": "eve", "sk": 1, "total": "1"})
    assert out == {"error": "AccessDeniedException"}
    assert invoke(shop, "readonly", {"op": "get", "pk": "eve", "sk": 1}) == {"item": None}
    denied = [
        e
        for e in shop.audit()
        if e.get("decision") == "deny"
        and e.get("action") == "kv:PutItem"
        and "readonly" in e.get("principal", "")
    ]
    assert denied and denied[-1]["resource"].endswith(":table/orders/eve|1")


def test_client_errors_from_outside(shop: RunningNode) -> None:
    client = boto_client(shop, "dynamodb", "api", app="shop")
    with pytest.raises(ClientError) as err:
        client.get_item(TableName="missing", Key={"key": {"S": "x"}})
    assert err.value.response["Error"]["Code"] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as err:
        client.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    assert err.value.response["Error"]["Code"] == "UnsupportedOperation"
    with pytest.raises(ClientError) as err:
        client.transact_write_items(
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": "orders",
                        "Key": {"pk": {"S": "nobody"}, "sk": {"N": "1"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
    assert err.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert err.value.response["CancellationReasons"] == [
        {"Code": "ConditionalCheckFailed", "Message": "The conditional request failed"}
    ]


def test_concurrent_conditional_puts_have_one_winner(shop: RunningNode) -> None:
    import threading

    clients = [boto_client(shop, "dynamodb", "api", app="shop") for _ in range(4)]
    for round_ in range(8):
        barrier = threading.Barrier(len(clients))
        outcomes: list[str] = []

        def put(client: Any, who: int, round_: int = round_, barrier: Any = barrier) -> None:
            barrier.wait()
            try:
                client.put_item(
                    TableName="orders",
                    Item={"pk": {"S": "race"}, "sk": {"N": str(round_)}, "who": {"N": str(who)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
                outcomes.append("won")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])

        threads = [threading.Thread(target=put, args=(c, i)) for i, c in enumerate(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert sorted(outcomes) == ["ConditionalCheckFailedException"] * 3 + ["won"], outcomes


def test_a_role_in_aws_names_decides_the_same_way(shop: RunningNode) -> None:
    invoke(shop, "api", {"op": "put", "pk": "carol", "sk": 1, "total": "5"})
    got = invoke(shop, "awsnamed", {"op": "get", "pk": "carol", "sk": 1})
    assert got == {"item": {"pk": "carol", "sk": "1", "total": "5"}}
    assert invoke(shop, "awsnamed", {"op": "query", "pk": "carol"}) == {"sks": [], "count": 0}
    out = invoke(shop, "awsnamed", {"op": "put", "pk": "carol", "sk": 2, "total": "1"})
    assert out == {"error": "AccessDeniedException"}
