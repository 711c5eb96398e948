"""The storage mapping: typed items <-> plain JSON, primary keys <-> KV keys."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ramparts.manifest import TableSchema
from ramparts.tables.errors import InvalidItem
from ramparts.tables.keys import KeySchema
from ramparts.tables.values import check_item, from_stored, item_from_stored, item_to_stored

COMPOSITE = KeySchema.from_manifest(
    TableSchema.model_validate({"partition_key": "pk", "sort_key": {"name": "sk", "type": "N"}})
)
HASH_ONLY = KeySchema.from_manifest(TableSchema.model_validate({"partition_key": "id"}))


@pytest.mark.parametrize(
    "av",
    [
        {"S": "text"},
        {"N": "42"},
        {"N": "-1.5"},
        {"N": "12345678901234567890123456789012345678"},  # 38 digits: more than a double
        {"N": "0.1"},
        {"N": "1E-130"},
        {"B": "AAEC"},
        {"BOOL": False},
        {"NULL": True},
        {"SS": ["a", "b"]},
        {"NS": ["1", "2.5"]},
        {"BS": ["AA==", "AQ=="]},
        {"L": [{"S": "x"}, {"M": {"$n": {"S": "looks like a marker"}}}]},
        {"M": {"$b64": {"S": "not binary"}}},
        {"M": {"a": {"M": {"b": {"N": "1"}}}}},
    ],
)
def test_every_type_roundtrips_through_json(av: dict[str, Any]) -> None:
    stored = orjson.loads(orjson.dumps(item_to_stored({"a": av})))
    back = item_from_stored(stored)["a"]
    if "N" in av:  # kept exactly, in canonical form
        from decimal import Decimal

        assert Decimal(back["N"]) == Decimal(av["N"])
    else:
        assert back == av


def test_plain_json_is_readable_both_ways() -> None:
    stored = item_to_stored(
        {"s": {"S": "x"}, "n": {"N": "3"}, "f": {"N": "1.5"}, "l": {"L": [{"BOOL": True}]}}
    )
    assert stored == {"s": "x", "n": 3, "f": 1.5, "l": [True]}
    assert from_stored({"a": 1, "b": [None]}) == {
        "M": {"a": {"N": "1"}, "b": {"L": [{"NULL": True}]}}
    }
    assert item_from_stored("scalar") == {"value": {"S": "scalar"}}


@pytest.mark.parametrize(
    "item",
    [
        {"a": {"S": "x", "N": "1"}},
        {"a": {"N": "1e999"}},
        # exponents past decimal's own range (found by the adversarial review: a 500)
        {"a": {"N": "1e999999999"}},
        {"a": {"N": "-1e999999999"}},
        {"a": {"N": "1E+2147483648"}},
        {"a": {"N": "1e-999999999"}},
        {"a": {"NS": ["1", "1e999999999"]}},
        {"a": {"N": "1234567890123456789012345678901234567890"}},  # 40 significant digits
        {"a": {"N": "1e-131"}},
        {"a": {"N": "nan"}},
        {"a": {"SS": []}},
        {"a": {"SS": ["x", "x"]}},
        {"a": {"NS": ["1", "1.0"]}},
        {"a": {"B": "***"}},
        {"a": {"NULL": False}},
        {"a": {"X": "1"}},
        {"": {"S": "x"}},
    ],
)
def test_invalid_values_are_refused(item: dict[str, Any]) -> None:
    with pytest.raises(InvalidItem):
        check_item(item)


def test_composite_keys_escape_and_never_collide() -> None:
    keys = {}
    for pk in ["a", "a|1", "a\\", "a\\|", "|", "\\"]:
        for sk in ["1", "10", "-2.5"]:
            k = COMPOSITE.storage_key({"pk": {"S": pk}, "sk": {"N": sk}})
            assert k not in keys, (pk, sk, keys.get(k))
            keys[k] = (pk, sk)
            assert COMPOSITE.key_of(k) == {"pk": {"S": pk}, "sk": {"N": sk}}
            assert k.startswith(COMPOSITE.partition_prefix({"S": pk}))
            for other in ["a", "a|1", "a\\", "|"]:
                if other != pk:
                    assert not k.startswith(COMPOSITE.partition_prefix({"S": other}))


def test_number_keys_are_canonical() -> None:
    one = COMPOSITE.storage_key({"pk": {"S": "p"}, "sk": {"N": "1"}})
    assert one == COMPOSITE.storage_key({"pk": {"S": "p"}, "sk": {"N": "1.00"}})
    assert one == COMPOSITE.storage_key({"pk": {"S": "p"}, "sk": {"N": "1E0"}})


@pytest.mark.parametrize(
    "key",
    [
        {"id": {"N": "1"}},  # wrong type
        {"id": {"S": ""}},  # empty
        {"id": {"S": "a\x00b"}},  # a control character: not a KV key
        {"id": {"S": "x" * 1025}},
        {"other": {"S": "x"}},
        {"id": {"S": "x"}, "extra": {"S": "y"}},
    ],
)
def test_bad_keys_are_validation_errors(key: dict[str, Any]) -> None:
    with pytest.raises(InvalidItem):
        HASH_ONLY.storage_key(key)


def test_default_schema_is_the_single_key_attribute() -> None:
    schema = KeySchema.default()
    assert schema.storage_key({"key": {"S": "a|b\\c"}}) == "a|b\\c"  # context.kv keys unchanged
    assert schema.describe()[0] == [{"AttributeName": "key", "KeyType": "HASH"}]


def test_kv_keys_that_are_not_valid_typed_keys_stand_for_no_item() -> None:
    numeric = KeySchema.from_manifest(
        TableSchema.model_validate({"partition_key": {"name": "id", "type": "N"}})
    )
    assert numeric.key_of("12") == {"id": {"N": "12"}}
    assert numeric.key_of("abc") is None
    assert COMPOSITE.key_of("no-separator") is None
    assert COMPOSITE.key_of("p|not-a-number") is None
    assert COMPOSITE.key_of("|1") is None  # an empty partition value
