"""Stream records of declared tables: real Keys and typed images, whichever API wrote the item."""

from __future__ import annotations

from ramparts.manifest import TableSchema
from ramparts.tables.keys import KeySchema
from ramparts.tables.streams import record

SCHEMA = KeySchema.from_manifest(
    TableSchema.model_validate({"partition_key": "pk", "sort_key": {"name": "sk", "type": "N"}})
)


def _record(new: object, old: object, key: str = "alice|7") -> dict:
    name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    return record(
        SCHEMA,
        event_name=name,
        table="orders",
        key=key,
        new=new,
        old=old,  # type: ignore[arg-type]
        sequence_number="1",
        app="shop",
        time=0.0,
        event_id="e1",
    )


def test_item_written_by_context_kv_gets_its_key_attributes() -> None:
    out = _record({"total": 1.5, "tags": ["a"], "n": {"$n": "0.1000000000000000000001"}}, None)
    stream = out["dynamodb"]
    assert out["eventName"] == "INSERT"
    assert stream["Keys"] == {"pk": {"S": "alice"}, "sk": {"N": "7"}}
    assert stream["NewImage"] == {
        "pk": {"S": "alice"},
        "sk": {"N": "7"},
        "total": {"N": "1.5"},
        "tags": {"L": [{"S": "a"}]},
        "n": {"N": "0.1000000000000000000001"},
    }
    assert "OldImage" not in stream and stream["SizeBytes"] > 0


def test_modify_and_remove_carry_the_images_a_stream_would() -> None:
    modify = _record({"v": 2}, {"v": 1})["dynamodb"]
    assert modify["OldImage"]["v"] == {"N": "1"} and modify["NewImage"]["v"] == {"N": "2"}
    remove = _record(None, {"v": 1, "b": {"$b64": "AAE="}})["dynamodb"]
    assert "NewImage" not in remove and remove["OldImage"]["b"] == {"B": "AAE="}


def test_a_key_of_another_shape_keeps_the_partition_name() -> None:
    stream = _record({"v": 1}, None, key="no-separator")["dynamodb"]
    assert stream["Keys"] == {"pk": {"S": "no-separator"}}
