"""The DynamoDB service through ``handle()``: operations, errors, authorization, storage mapping."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.aws.dynamodb.harness import Harness
from tests.conftest import make_app

MANIFEST = """
app: dyn
tables:
  orders: {partition_key: pk, sort_key: sk}
  counters: {partition_key: {name: id, type: N}}
functions:
  fn:
    handler: h.py:handler
    role:
      statements:
        - effect: allow
          actions: ["kv:*"]
          resources: ["kv:orders/*", "kv:counters/*", "kv:plain/*"]
  reader:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["kv:GetItem", "kv:Query"], resources: ["kv:orders/*"]}
"""


@pytest.fixture
def dyn(tmp_path: Path) -> Iterator[Harness]:
    app = make_app(tmp_path / "app", MANIFEST, {"h.py": "def handler(e, c):\n    return 1\n"})
    h = Harness(app, f"sqlite:///{tmp_path / 'state.db'}")
    yield h
    h.close()


def S(v: str) -> dict[str, str]:
    return {"S": v}


def N(v: str) -> dict[str, str]:
    return {"N": v}


def put(h: Harness, pk: str, sk: str, **attrs: dict[str, object]) -> None:
    h.ok("PutItem", {"TableName": "orders", "Item": {"pk": S(pk), "sk": S(sk), **attrs}})


def test_put_get_roundtrip_and_storage_mapping(dyn: Harness) -> None:
    item = {
        "pk": S("alice"),
        "sk": S("2024|01"),
        "total": N("12.345678901234567890123"),
        "qty": N("3"),
        "tags": {"SS": ["a", "b"]},
        "blob": {"B": "AAE="},
        "nested": {"M": {"l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
    }
    dyn.ok("PutItem", {"TableName": "orders", "Item": item})
    got = dyn.ok("GetItem", {"TableName": "orders", "Key": {"pk": S("alice"), "sk": S("2024|01")}})
    assert got["Item"] == item  # exact number text kept, no float round-off
    # the KV store holds plain JSON under an escaped "pk|sk" key, readable by context.kv
    raw = dyn.store.kv_get("dyn", "orders", "alice|2024\\|01")
    assert raw is not None
    stored = orjson.loads(raw)
    assert stored["qty"] == 3 and stored["total"] == {"$n": "12.345678901234567890123"}
    assert stored["blob"] == {"$b64": "AAE="} and stored["tags"] == {"$ss": ["a", "b"]}


def test_item_written_by_context_kv_reads_through_dynamodb(dyn: Harness) -> None:
    dyn.store.kv_put("dyn", "plain", "k1", orjson.dumps({"name": "x", "n": 1.5}), [])
    got = dyn.ok("GetItem", {"TableName": "plain", "Key": {"key": S("k1")}})
    assert got["Item"] == {"key": S("k1"), "name": S("x"), "n": N("1.5")}


def test_projection_and_missing_item(dyn: Harness) -> None:
    put(dyn, "a", "1", x=N("1"), y={"M": {"z": S("q"), "w": S("r")}})
    got = dyn.ok(
        "GetItem",
        {
            "TableName": "orders",
            "Key": {"pk": S("a"), "sk": S("1")},
            "ProjectionExpression": "#y.z, x",
            "ExpressionAttributeNames": {"#y": "y"},
        },
    )
    assert got["Item"] == {"x": N("1"), "y": {"M": {"z": S("q")}}}
    assert dyn.ok("GetItem", {"TableName": "orders", "Key": {"pk": S("a"), "sk": S("2")}}) == {}


def test_conditional_put_and_return_values(dyn: Harness) -> None:
    body = {
        "TableName": "orders",
        "Item": {"pk": S("a"), "sk": S("1"), "v": N("1")},
        "ConditionExpression": "attribute_not_exists(pk)",
    }
    dyn.ok("PutItem", body)
    code, out = dyn.error("PutItem", {**body, "ReturnValuesOnConditionCheckFailure": "ALL_OLD"})
    assert code == "ConditionalCheckFailedException"
    assert out["Item"]["v"] == N("1")
    old = dyn.ok(
        "PutItem",
        {
            "TableName": "orders",
            "Item": {"pk": S("a"), "sk": S("1"), "v": N("2")},
            "ReturnValues": "ALL_OLD",
        },
    )
    assert old["Attributes"]["v"] == N("1")


def test_update_expression_all_clauses(dyn: Harness) -> None:
    put(dyn, "a", "1", cnt=N("5"), lst={"L": [S("x")]}, gone=S("bye"), s={"SS": ["p", "q"]})
    out = dyn.ok(
        "UpdateItem",
        {
            "TableName": "orders",
            "Key": {"pk": S("a"), "sk": S("1")},
            "UpdateExpression": "SET cnt = cnt + :one, lst = list_append(lst, :more), "
            "fresh = if_not_exists(fresh, :zero) REMOVE gone ADD hits :one DELETE s :p",
            "ConditionExpression": "cnt >= :one AND size(lst) = :one",
            "ExpressionAttributeValues": {
                ":one": N("1"),
                ":more": {"L": [S("y")]},
                ":zero": N("0"),
                ":p": {"SS": ["p"]},
            },
            "ReturnValues": "ALL_NEW",
        },
    )
    item = out["Attributes"]
    assert item["cnt"] == N("6") and item["lst"] == {"L": [S("x"), S("y")]}
    assert item["fresh"] == N("0") and item["hits"] == N("1") and item["s"] == {"SS": ["q"]}
    assert "gone" not in item


def test_update_creates_missing_item_and_updated_values(dyn: Harness) -> None:
    out = dyn.ok(
        "UpdateItem",
        {
            "TableName": "counters",
            "Key": {"id": N("7")},
            "UpdateExpression": "ADD n :d",
            "ExpressionAttributeValues": {":d": N("0.1")},
            "ReturnValues": "UPDATED_NEW",
        },
    )
    assert out == {"Attributes": {"n": N("0.1")}}
    out = dyn.ok(
        "UpdateItem",
        {
            "TableName": "counters",
            "Key": {"id": N("7.0")},  # the same key as 7
            "UpdateExpression": "ADD n :d",
            "ExpressionAttributeValues": {":d": N("0.2")},
            "ReturnValues": "UPDATED_OLD",
        },
    )
    assert out == {"Attributes": {"n": N("0.1")}}
    got = dyn.ok("GetItem", {"TableName": "counters", "Key": {"id": N("7")}})
    assert got["Item"] == {"id": N("7"), "n": N("0.3")}  # exact decimal arithmetic


def test_update_refuses_key_attributes_and_bad_types(dyn: Harness) -> None:
    put(dyn, "a", "1", s=S("text"))
    code, out = dyn.error(
        "UpdateItem",
        {
            "TableName": "orders",
            "Key": {"pk": S("a"), "sk": S("1")},
            "UpdateExpression": "SET pk = :v",
            "ExpressionAttributeValues": {":v": S("b")},
        },
    )
    assert code == "ValidationException" and "part of the key" in out["message"]
    code, _ = dyn.error(
        "UpdateItem",
        {
            "TableName": "orders",
            "Key": {"pk": S("a"), "sk": S("1")},
            "UpdateExpression": "SET s = s + :v",
            "ExpressionAttributeValues": {":v": N("1")},
        },
    )
    assert code == "ValidationException"
    assert dyn.ok("GetItem", {"TableName": "orders", "Key": {"pk": S("a"), "sk": S("1")}})["Item"][
        "s"
    ] == S("text")


def test_delete_with_condition(dyn: Harness) -> None:
    put(dyn, "a", "1", v=N("1"))
    key = {"pk": S("a"), "sk": S("1")}
    code, _ = dyn.error(
        "DeleteItem",
        {
            "TableName": "orders",
            "Key": key,
            "ConditionExpression": "v = :two",
            "ExpressionAttributeValues": {":two": N("2")},
        },
    )
    assert code == "ConditionalCheckFailedException"
    out = dyn.ok("DeleteItem", {"TableName": "orders", "Key": key, "ReturnValues": "ALL_OLD"})
    assert out["Attributes"]["v"] == N("1")
    assert dyn.ok("GetItem", {"TableName": "orders", "Key": key}) == {}


def test_query_sort_key_conditions_order_and_pagination(dyn: Harness) -> None:
    for sk in ["b", "a", "c1", "c2", "d"]:
        put(dyn, "p", sk, v=S(sk))
    put(dyn, "p|x", "a")  # another partition whose escaped key shares a prefix
    put(dyn, "q", "a")

    def q(cond: str, values: dict[str, object], **extra: object) -> dict[str, object]:
        return dyn.ok(
            "Query",
            {
                "TableName": "orders",
                "KeyConditionExpression": cond,
                "ExpressionAttributeValues": {":p": S("p"), **values},
                **extra,
            },
        )

    assert [i["sk"]["S"] for i in q("pk = :p", {})["Items"]] == ["a", "b", "c1", "c2", "d"]
    assert [
        i["sk"]["S"] for i in q("pk = :p AND begins_with(sk, :c)", {":c": S("c")})["Items"]
    ] == ["c1", "c2"]
    assert [
        i["sk"]["S"]
        for i in q("pk = :p AND sk BETWEEN :a AND :b", {":a": S("b"), ":b": S("c2")})["Items"]
    ] == ["b", "c1", "c2"]
    assert [
        i["sk"]["S"]
        for i in q("pk = :p AND sk > :a", {":a": S("c1")}, ScanIndexForward=False)["Items"]
    ] == ["d", "c2"]
    assert q("pk = :p", {}, Select="COUNT") == {"Count": 5, "ScannedCount": 5}
    filtered = q("pk = :p", {":v": S("b")}, FilterExpression="v <> :v")
    assert filtered["Count"] == 4 and filtered["ScannedCount"] == 5
    seen, start = [], None
    while True:
        extra = {"Limit": 2} | ({"ExclusiveStartKey": start} if start else {})
        page = q("pk = :p", {}, **extra)
        seen += [i["sk"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert seen == ["a", "b", "c1", "c2", "d"]


def test_query_numeric_sort_is_numeric(tmp_path: Path) -> None:
    manifest = MANIFEST.replace(
        "counters: {partition_key: {name: id, type: N}}",
        "counters: {partition_key: id, sort_key: {name: n, type: N}}",
    )
    app = make_app(tmp_path / "app2", manifest, {"h.py": "def handler(e, c):\n    return 1\n"})
    h = Harness(app, f"sqlite:///{tmp_path / 's2.db'}")
    try:
        for n in ["10", "9", "-1", "1.5"]:
            h.ok("PutItem", {"TableName": "counters", "Item": {"id": S("x"), "n": N(n)}})
        out = h.ok(
            "Query",
            {
                "TableName": "counters",
                "KeyConditionExpression": "id = :x",
                "ExpressionAttributeValues": {":x": S("x")},
            },
        )
        assert [i["n"]["N"] for i in out["Items"]] == ["-1", "1.5", "9", "10"]
    finally:
        h.close()


def test_scan_filter_and_pagination(dyn: Harness) -> None:
    for i in range(7):
        put(dyn, f"p{i}", "s", n=N(str(i)))
    out = dyn.ok(
        "Scan",
        {
            "TableName": "orders",
            "FilterExpression": "n IN (:a, :b)",
            "ExpressionAttributeValues": {":a": N("2"), ":b": N("5")},
        },
    )
    assert sorted(i["n"]["N"] for i in out["Items"]) == ["2", "5"]
    seen, start = [], None
    while True:
        page = dyn.ok(
            "Scan",
            {"TableName": "orders", "Limit": 3} | ({"ExclusiveStartKey": start} if start else {}),
        )
        seen += [i["pk"]["S"] for i in page["Items"]]
        start = page.get("LastEvaluatedKey")
        if not start:
            break
    assert sorted(seen) == [f"p{i}" for i in range(7)]


def test_batch_get_and_write(dyn: Harness) -> None:
    dyn.ok(
        "BatchWriteItem",
        {
            "RequestItems": {
                "orders": [
                    {"PutRequest": {"Item": {"pk": S("a"), "sk": S("1")}}},
                    {"PutRequest": {"Item": {"pk": S("a"), "sk": S("2")}}},
                ]
            }
        },
    )
    out = dyn.ok(
        "BatchGetItem",
        {
            "RequestItems": {
                "orders": {
                    "Keys": [
                        {"pk": S("a"), "sk": S("1")},
                        {"pk": S("a"), "sk": S("2")},
                        {"pk": S("a"), "sk": S("3")},
                    ]
                }
            }
        },
    )
    assert sorted(i["sk"]["S"] for i in out["Responses"]["orders"]) == ["1", "2"]
    dyn.ok(
        "BatchWriteItem",
        {"RequestItems": {"orders": [{"DeleteRequest": {"Key": {"pk": S("a"), "sk": S("1")}}}]}},
    )
    code, _ = dyn.error(
        "BatchWriteItem",
        {
            "RequestItems": {
                "orders": [
                    {"PutRequest": {"Item": {"pk": S("a"), "sk": S("9")}}},
                    {"DeleteRequest": {"Key": {"pk": S("a"), "sk": S("9")}}},
                ]
            }
        },
    )
    assert code == "ValidationException"


def test_transact_write_all_or_nothing(dyn: Harness) -> None:
    put(dyn, "a", "1", v=N("1"))
    put(dyn, "c", "1", v=N("1"))
    items = [
        {"Put": {"TableName": "orders", "Item": {"pk": S("b"), "sk": S("1")}}},
        {
            "Update": {
                "TableName": "orders",
                "Key": {"pk": S("a"), "sk": S("1")},
                "UpdateExpression": "SET v = v + :one",
                "ExpressionAttributeValues": {":one": N("1")},
            }
        },
        {
            "ConditionCheck": {
                "TableName": "orders",
                "Key": {"pk": S("c"), "sk": S("1")},
                "ConditionExpression": "v = :nine",
                "ExpressionAttributeValues": {":nine": N("9")},
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        },
    ]
    code, out = dyn.error("TransactWriteItems", {"TransactItems": items})
    assert code == "TransactionCanceledException"
    reasons = out["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "None", "ConditionalCheckFailed"]
    assert reasons[2]["Item"]["v"] == N("1")
    assert dyn.ok("GetItem", {"TableName": "orders", "Key": {"pk": S("b"), "sk": S("1")}}) == {}
    code, _ = dyn.error("TransactWriteItems", {"TransactItems": [items[1], items[1]]})
    assert code == "ValidationException"  # two operations on one item
    items[2]["ConditionCheck"]["ExpressionAttributeValues"] = {":nine": N("1")}
    dyn.ok("TransactWriteItems", {"TransactItems": items})
    got = dyn.ok("GetItem", {"TableName": "orders", "Key": {"pk": S("a"), "sk": S("1")}})
    assert got["Item"]["v"] == N("2")
    assert "Item" in dyn.ok("GetItem", {"TableName": "orders", "Key": {"pk": S("b"), "sk": S("1")}})


def test_describe_table(dyn: Harness) -> None:
    put(dyn, "a", "1")
    t = dyn.ok("DescribeTable", {"TableName": "orders"})["Table"]
    assert t["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert t["TableStatus"] == "ACTIVE" and t["ItemCount"] == 1
    assert t["TableArn"].endswith(":table/orders") and t["TableArn"].startswith(
        "arn:aws:dynamodb:us-east-1:"
    )
    plain = dyn.ok("DescribeTable", {"TableName": "plain"})["Table"]
    assert plain["AttributeDefinitions"] == [{"AttributeName": "key", "AttributeType": "S"}]


def _deep(levels: int) -> dict[str, object]:
    value: dict[str, object] = {"S": "bottom"}
    for _ in range(levels):
        value = {"M": {"m": value}}
    return value


DEEP = _deep(40)


@pytest.mark.parametrize(
    ("op", "body", "code"),
    [
        ("GetItem", {"TableName": "nope", "Key": {"key": {"S": "x"}}}, "ResourceNotFoundException"),
        ("GetItem", {"TableName": "orders", "Key": {"pk": {"S": "x"}}}, "ValidationException"),
        (
            "GetItem",
            {"TableName": "orders", "Key": {"pk": {"N": "1"}, "sk": {"S": "x"}}},
            "ValidationException",
        ),
        (
            "GetItem",
            {"TableName": "orders", "Key": {"pk": {"S": ""}, "sk": {"S": "x"}}},
            "ValidationException",
        ),
        (
            "PutItem",
            {
                "TableName": "orders",
                "Item": {"pk": {"S": "x"}, "sk": {"S": "y"}, "big": {"S": "x" * 410_000}},
            },
            "ValidationException",
        ),
        (
            "PutItem",
            {
                "TableName": "orders",
                "Item": {"pk": {"S": "x"}, "sk": {"S": "y"}, "n": {"N": "abc"}},
            },
            "ValidationException",
        ),
        (
            "PutItem",
            {
                "TableName": "orders",
                "Item": {"pk": {"S": "x"}, "sk": {"S": "y"}},
                "ConditionExpression": "attribute_exists(pk",
            },
            "ValidationException",
        ),
        (
            "PutItem",
            {
                "TableName": "orders",
                "Item": {"pk": {"S": "x"}, "sk": {"S": "y"}},
                "ConditionExpression": "a = :undefined",
            },
            "ValidationException",
        ),
        (
            "PutItem",
            {
                "TableName": "orders",
                "Item": {"pk": {"S": "x"}, "sk": {"S": "y"}},
                "ExpressionAttributeValues": {":unused": {"S": "x"}},
            },
            "ValidationException",
        ),
        (
            "Query",
            {
                "TableName": "orders",
                "KeyConditionExpression": "sk = :v",
                "ExpressionAttributeValues": {":v": {"S": "x"}},
            },
            "ValidationException",
        ),
        (
            "PutItem",
            {"TableName": "orders", "Item": {"pk": {"S": "x"}, "sk": {"S": "y"}, "deep": DEEP}},
            "ValidationException",
        ),
        (
            "UpdateItem",
            {
                "TableName": "orders",
                "Key": {"pk": {"S": "x"}, "sk": {"S": "y"}},
                "UpdateExpression": "SET a = :d",
                "ExpressionAttributeValues": {":d": DEEP},
            },
            "ValidationException",
        ),
        ("CreateTable", {"TableName": "t"}, "UnsupportedOperation"),
        ("ListGlobalTables", {}, "UnknownOperationException"),
    ],
)
def test_errors_change_nothing(dyn: Harness, op: str, body: dict[str, object], code: str) -> None:
    got, out = dyn.error(op, body)
    assert got == code, out
    assert "Traceback" not in out["message"] and "/" not in out["message"].replace("table/", "")
    assert dyn.store.kv_query("dyn", "orders", "", 10) == []


def test_unsupported_operation_names_the_manifest(dyn: Harness) -> None:
    _, out = dyn.error("CreateTable", {"TableName": "t"})
    assert "CreateTable" in out["message"] and "tables:" in out["message"]


def test_malformed_body(dyn: Harness) -> None:
    import asyncio

    from ramparts.aws.service import AwsRequest, Caller

    req = AwsRequest(
        "dynamodb",
        "POST",
        "/",
        b"/",
        [],
        {"x-amz-target": "DynamoDB_20120810.GetItem"},
        b"{not json",
        Caller(dyn.spec("fn"), "1" * 12, "us-east-1"),
        "rid",
        "http://x",
    )
    resp = asyncio.run(dyn.service.handle(req, dyn.broker))
    assert resp.status == 400 and b"SerializationException" in resp.body


def test_access_denied_per_item_action(dyn: Harness) -> None:
    put(dyn, "a", "1")
    assert "Item" in dyn.ok(
        "GetItem", {"TableName": "orders", "Key": {"pk": S("a"), "sk": S("1")}}, function="reader"
    )
    code, out = dyn.error(
        "PutItem", {"TableName": "orders", "Item": {"pk": S("a"), "sk": S("2")}}, function="reader"
    )
    assert code == "AccessDeniedException" and "kv:PutItem" in out["message"]
    code, _ = dyn.error(
        "DeleteItem",
        {"TableName": "orders", "Key": {"pk": S("a"), "sk": S("1")}},
        function="reader",
    )
    assert code == "AccessDeniedException"
    # a transaction with one denied item writes nothing
    code, _ = dyn.error(
        "TransactWriteItems",
        {
            "TransactItems": [
                {
                    "ConditionCheck": {
                        "TableName": "orders",
                        "Key": {"pk": S("a"), "sk": S("1")},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
                {"Put": {"TableName": "orders", "Item": {"pk": S("z"), "sk": S("1")}}},
            ]
        },
        function="reader",
    )
    assert code == "AccessDeniedException"
    assert dyn.store.kv_get("dyn", "orders", "z|1") is None
