"""The same boto3 calls against moto (the reference AWS) and Ramparts: same answers, same errors.

Each scenario step runs on both; answers are compared without ResponseMetadata
(Scan and BatchGetItem order is unspecified in DynamoDB, so their items are
sorted first), errors by their code (and CancellationReasons).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from tests.aws.conftest import BOTO_CONFIG, boto_client
from tests.conftest import RunningNode, make_app

MANIFEST = """
app: cmp
tables:
  items: {partition_key: pk, sort_key: {name: sk, type: N}}
functions:
  fn:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["kv:*"], resources: ["kv:items/*"]}
"""


@pytest.fixture(scope="module")
def clients(
    aws_node: RunningNode, moto_server: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Any, Any]:
    root = make_app(
        tmp_path_factory.mktemp("cmp") / "cmp",
        MANIFEST,
        {"h.py": "def handler(e, c):\n  return 1\n"},
    )
    aws_node.deploy_ok(root)
    ours = boto_client(aws_node, "dynamodb", "fn", app="cmp")
    moto = boto3.session.Session().client(
        "dynamodb",
        endpoint_url=moto_server,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=BOTO_CONFIG,
    )
    moto.create_table(
        TableName="items",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return moto, ours


def outcome(fn: Callable[[], Any]) -> Any:
    try:
        out = fn()
    except ClientError as exc:
        err = {"error": exc.response["Error"]["Code"]}
        if "CancellationReasons" in exc.response:
            err["reasons"] = exc.response["CancellationReasons"]
        if "Item" in exc.response:
            err["item"] = exc.response["Item"]
        return err
    out.pop("ResponseMetadata", None)
    # moto reports capacity and collection metrics unasked; DynamoDB (and Ramparts) only
    # when ReturnConsumedCapacity / ReturnItemCollectionMetrics ask for them
    out.pop("ConsumedCapacity", None)
    out.pop("ItemCollectionMetrics", None)
    return _sorted_sets(out)


def _sorted_sets(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS") else _sorted_sets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_sorted_sets(v) for v in value]
    return value


def _by_key(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda i: (i["pk"]["S"], int(i["sk"]["N"])))


def same(clients: tuple[Any, Any], call: Callable[[Any], Any]) -> Any:
    moto, ours = clients
    expected, got = outcome(lambda: call(moto)), outcome(lambda: call(ours))
    assert got == expected
    return got


def S(v: str) -> dict[str, str]:
    return {"S": v}


def N(v: str) -> dict[str, str]:
    return {"N": v}


def key(pk: str, sk: int) -> dict[str, Any]:
    return {"pk": S(pk), "sk": N(str(sk))}


def test_items_conditions_and_return_values(clients: tuple[Any, Any]) -> None:
    item = {
        **key("a", 1),
        "n": N("5"),
        "l": {"L": [S("x")]},
        "m": {"M": {"k": {"BOOL": True}}},
        "s": {"SS": ["p", "q"]},
        "z": {"NULL": True},
    }
    same(clients, lambda c: c.put_item(TableName="items", Item=item))
    out = same(
        clients,
        lambda c: c.put_item(
            TableName="items", Item=item, ConditionExpression="attribute_not_exists(pk)"
        ),
    )
    assert out == {"error": "ConditionalCheckFailedException"}
    same(
        clients,
        lambda c: c.put_item(
            TableName="items",
            Item=item,
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
    )
    same(clients, lambda c: c.put_item(TableName="items", Item=item, ReturnValues="ALL_OLD"))
    same(clients, lambda c: c.get_item(TableName="items", Key=key("a", 1)))
    same(clients, lambda c: c.get_item(TableName="items", Key=key("a", 2)))
    same(
        clients,
        lambda c: c.get_item(
            TableName="items",
            Key=key("a", 1),
            ProjectionExpression="#m.k, n",
            ExpressionAttributeNames={"#m": "m"},
        ),
    )
    for rv in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW", "ALL_OLD", "NONE"):
        same(
            clients,
            lambda c, rv=rv: c.update_item(
                TableName="items",
                Key=key("a", 1),
                UpdateExpression="SET n = n + :one, l = list_append(l, :l) REMOVE z ADD c :one",
                ExpressionAttributeValues={":one": N("1"), ":l": {"L": [S("y")]}},
                ReturnValues=rv,
            ),
        )
    same(
        clients,
        lambda c: c.update_item(
            TableName="items",
            Key=key("a", 1),
            UpdateExpression="SET n = :v",
            ConditionExpression="n < :v",
            ExpressionAttributeValues={":v": N("2")},
        ),
    )
    same(
        clients,
        lambda c: c.update_item(
            TableName="items",
            Key=key("new", 1),
            UpdateExpression="SET v = if_not_exists(v, :d)",
            ExpressionAttributeValues={":d": N("7")},
            ReturnValues="ALL_NEW",
        ),
    )
    same(
        clients,
        lambda c: c.delete_item(
            TableName="items",
            Key=key("a", 1),
            ConditionExpression="n = :v",
            ExpressionAttributeValues={":v": N("100")},
        ),
    )
    same(
        clients, lambda c: c.delete_item(TableName="items", Key=key("a", 1), ReturnValues="ALL_OLD")
    )
    same(clients, lambda c: c.get_item(TableName="items", Key=key("a", 1)))


def test_query_scan_and_pagination(clients: tuple[Any, Any]) -> None:
    for sk in (3, 1, 20, 2, 10):
        same(
            clients,
            lambda c, sk=sk: c.put_item(
                TableName="items", Item={**key("q", sk), "v": N(str(sk % 3))}
            ),
        )
    same(clients, lambda c: c.put_item(TableName="items", Item={**key("r", 1)}))
    cond = {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": S("q")}}
    same(clients, lambda c: c.query(TableName="items", **cond))
    same(clients, lambda c: c.query(TableName="items", ScanIndexForward=False, **cond))
    same(clients, lambda c: c.query(TableName="items", Select="COUNT", **cond))
    same(
        clients,
        lambda c: c.query(
            TableName="items",
            KeyConditionExpression="pk = :p AND sk BETWEEN :a AND :b",
            ExpressionAttributeValues={":p": S("q"), ":a": N("2"), ":b": N("10")},
        ),
    )
    same(
        clients,
        lambda c: c.query(
            TableName="items",
            KeyConditionExpression="pk = :p AND sk > :a",
            FilterExpression="v <> :zero",
            ExpressionAttributeValues={":p": S("q"), ":a": N("1"), ":zero": N("0")},
        ),
    )
    start = None
    for _ in range(4):
        page = same(
            clients,
            lambda c, start=start: c.query(
                TableName="items",
                Limit=2,
                **cond,
                **({"ExclusiveStartKey": start} if start else {}),
            ),
        )
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    moto, ours = clients
    for flt in (
        {},
        {"FilterExpression": "v = :one", "ExpressionAttributeValues": {":one": N("1")}},
    ):
        a, b = moto.scan(TableName="items", **flt), ours.scan(TableName="items", **flt)
        assert _by_key(b["Items"]) == _by_key(a["Items"]) and b["Count"] == a["Count"]


def test_resource_api(clients: tuple[Any, Any]) -> None:
    moto, ours = clients
    results = []
    for client in (moto, ours):
        table = boto3.resource(
            "dynamodb",
            endpoint_url=client.meta.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=client._request_signer._credentials.access_key,
            aws_secret_access_key=client._request_signer._credentials.secret_key,
            aws_session_token=client._request_signer._credentials.token,
            config=BOTO_CONFIG,
        ).Table("items")
        table.put_item(Item={"pk": "res", "sk": 1, "tags": {"a", "b"}, "price": 9})
        table.put_item(Item={"pk": "res", "sk": 2, "price": 11})
        out = table.query(
            KeyConditionExpression=Key("pk").eq("res") & Key("sk").gte(1),
            FilterExpression=Attr("price").gt(10),
        )
        upd = table.update_item(
            Key={"pk": "res", "sk": 1},
            UpdateExpression="ADD tags :t",
            ExpressionAttributeValues={":t": {"c"}},
            ReturnValues="ALL_NEW",
        )
        results.append((out["Items"], out["Count"], upd["Attributes"]))
    assert results[1] == results[0]


def test_batches_and_transactions(clients: tuple[Any, Any]) -> None:
    same(
        clients,
        lambda c: c.batch_write_item(
            RequestItems={"items": [{"PutRequest": {"Item": key("b", i)}} for i in range(5)]}
        ),
    )
    moto, ours = clients
    keys = [key("b", i) for i in range(7)]
    a = moto.batch_get_item(RequestItems={"items": {"Keys": keys}})
    b = ours.batch_get_item(RequestItems={"items": {"Keys": keys}})
    assert _by_key(b["Responses"]["items"]) == _by_key(a["Responses"]["items"])
    assert b["UnprocessedKeys"] == a["UnprocessedKeys"] == {}
    same(
        clients,
        lambda c: c.batch_write_item(
            RequestItems={"items": [{"DeleteRequest": {"Key": key("b", i)}} for i in range(3)]}
        ),
    )
    same(clients, lambda c: c.batch_get_item(RequestItems={"items": {"Keys": [key("b", 0)]}}))
    transact = [
        {"Put": {"TableName": "items", "Item": {**key("t", 1), "v": N("1")}}},
        {
            "Update": {
                "TableName": "items",
                "Key": key("b", 4),
                "UpdateExpression": "SET w = :w",
                "ExpressionAttributeValues": {":w": S("x")},
            }
        },
        {
            "ConditionCheck": {
                "TableName": "items",
                "Key": key("b", 3),
                "ConditionExpression": "attribute_exists(pk)",
            }
        },
        {"Delete": {"TableName": "items", "Key": key("b", 0)}},
    ]
    same(clients, lambda c: c.transact_write_items(TransactItems=transact))
    failing = [
        {"Put": {"TableName": "items", "Item": {**key("t", 2)}}},
        {
            "ConditionCheck": {
                "TableName": "items",
                "Key": key("t", 1),
                "ConditionExpression": "v = :two",
                "ExpressionAttributeValues": {":two": N("2")},
            }
        },
    ]
    out = same(clients, lambda c: c.transact_write_items(TransactItems=failing))
    assert out["error"] == "TransactionCanceledException"
    same(clients, lambda c: c.get_item(TableName="items", Key=key("t", 2)))


@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_item(TableName="nope", Key=key("a", 1)),
        lambda c: c.get_item(TableName="items", Key={"pk": S("a")}),
        lambda c: c.put_item(TableName="items", Item={"pk": S("a")}),
        lambda c: c.update_item(
            TableName="items",
            Key=key("a", 1),
            UpdateExpression="SET pk = :v",
            ExpressionAttributeValues={":v": S("b")},
        ),
        lambda c: c.query(
            TableName="items",
            KeyConditionExpression="sk = :v",
            ExpressionAttributeValues={":v": N("1")},
        ),
    ],
)
def test_error_codes_match(clients: tuple[Any, Any], call: Callable[[Any], Any]) -> None:
    moto, ours = clients
    a, b = outcome(lambda: call(moto)), outcome(lambda: call(ours))
    assert "error" in a and b == {"error": a["error"]}


@pytest.mark.parametrize(
    "call",
    [
        # moto answers {} where DynamoDB refuses a key of the wrong type
        lambda c: c.get_item(TableName="items", Key={"pk": S("a"), "sk": S("1")}),
        # moto fails with a 500 on a malformed expression
        lambda c: c.put_item(TableName="items", Item=key("a", 1), ConditionExpression="a ="),
        # moto accepts unused placeholders, which DynamoDB refuses
        lambda c: c.put_item(
            TableName="items", Item=key("a", 1), ExpressionAttributeValues={":x": S("unused")}
        ),
    ],
)
def test_validation_where_moto_is_lenient(
    clients: tuple[Any, Any], call: Callable[[Any], Any]
) -> None:
    _, ours = clients
    assert outcome(lambda: call(ours)) == {"error": "ValidationException"}
