"""The expression tokenizer, parser and evaluator, as pure functions."""

from __future__ import annotations

from typing import Any

import pytest

from ramparts.aws.dynamodb import evaluate as ev
from ramparts.aws.dynamodb.errors import ValidationError
from ramparts.aws.dynamodb.expressions import (
    And,
    Compare,
    Not,
    Or,
    Path,
    Placeholders,
    parse_condition,
    parse_projection,
    parse_update,
)

ITEM: dict[str, Any] = {
    "pk": {"S": "user#1"},
    "age": {"N": "42"},
    "name": {"S": "Ada"},
    "tags": {"SS": ["a", "b"]},
    "nums": {"NS": ["1", "2.5"]},
    "list": {"L": [{"S": "x"}, {"N": "2"}]},
    "map": {"M": {"inner": {"M": {"deep": {"BOOL": True}}}, "n": {"N": "1"}}},
    "nil": {"NULL": True},
    "bin": {"B": "AAEC"},
}


def cond(
    text: str,
    values: dict[str, Any] | None = None,
    names: dict[str, str] | None = None,
    item: dict[str, Any] | None = ITEM,
) -> bool:
    ph = Placeholders(names or {}, values or {})
    tree = parse_condition(text, ph)
    ph.check_all_used()
    return ev.condition(item, tree)


def test_precedence_not_and_or() -> None:
    ph = Placeholders({}, {":a": {"S": "a"}})
    tree = parse_condition("a = :a OR b = :a AND NOT c = :a", ph)
    assert isinstance(tree, Or) and isinstance(tree.right, And)
    assert isinstance(tree.right.right, Not)
    tree = parse_condition("(a = :a OR b = :a) AND c = :a", ph)
    assert isinstance(tree, And) and isinstance(tree.left, Or)


@pytest.mark.parametrize(
    ("text", "values", "expected"),
    [
        ("age = :v", {":v": {"N": "42.0"}}, True),  # numbers compare by value
        ("age > :v", {":v": {"N": "9"}}, True),  # numerically, not as text
        ("age < :v", {":v": {"S": "zzz"}}, False),  # different types never compare
        ("age BETWEEN :a AND :b", {":a": {"N": "40"}, ":b": {"N": "42"}}, True),
        ("age IN (:a, :b)", {":a": {"N": "1"}, ":b": {"N": "42"}}, True),
        ("name <> :v", {":v": {"S": "Ada"}}, False),
        ("begins_with(pk, :p)", {":p": {"S": "user#"}}, True),
        ("contains(tags, :t)", {":t": {"S": "b"}}, True),
        ("contains(nums, :t)", {":t": {"N": "2.50"}}, True),
        ("contains(name, :t)", {":t": {"S": "d"}}, True),
        ("contains(list, :t)", {":t": {"N": "2"}}, True),
        ("size(tags) = :two", {":two": {"N": "2"}}, True),
        ("size(name) > :two", {":two": {"N": "2"}}, True),
        ("size(bin) = :three", {":three": {"N": "3"}}, True),
        ("attribute_type(nil, :t)", {":t": {"S": "NULL"}}, True),
        ("attribute_type(age, :t)", {":t": {"S": "S"}}, False),
        ("map.inner.deep = :t", {":t": {"BOOL": True}}, True),
        ("list[1] = :t", {":t": {"N": "2"}}, True),
        ("list[5] = :t", {":t": {"N": "2"}}, False),
        ("missing = :t", {":t": {"N": "2"}}, False),
        ("NOT missing = :t", {":t": {"N": "2"}}, True),
    ],
)
def test_conditions(text: str, values: dict[str, Any], expected: bool) -> None:
    assert cond(text, values) is expected


def test_functions_without_values() -> None:
    assert cond("attribute_exists(map.inner.deep)")
    assert cond("attribute_not_exists(map.inner.nope)")
    assert cond("attribute_not_exists(pk)", item=None)
    assert cond("attribute_exists(#n)", names={"#n": "name"})


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "can not be empty"),
        ("a =", "<EOF>"),
        ("a = :v AND", "<EOF>"),
        ("a == :v", 'token: "="'),
        ("attribute_exists(a", "<EOF>"),
        ("attribute_exists(a, b)", "Incorrect number of operands"),
        ("nosuch(a)", "Invalid function name"),
        ("a = :v)", 'token: ")"'),
        ("a = :v $", 'token: "$"'),
        ("#undefined = :v", "attribute name"),
        ("a = :undefined", "attribute value"),
        ("attribute_exists(:v)", "requires a document path"),
        ("a BETWEEN :v", "<EOF>"),
    ],
)
def test_bad_conditions_are_validation_errors(text: str, fragment: str) -> None:
    ph = Placeholders({}, {":v": {"S": "x"}})
    with pytest.raises(ValidationError) as err:
        parse_condition(text, ph)
    assert err.value.code == "ValidationException"
    assert fragment in err.value.message


def test_unused_placeholders_are_refused() -> None:
    ph = Placeholders({"#a": "a", "#b": "b"}, {":v": {"S": "x"}})
    parse_condition("#a = :v", ph)
    with pytest.raises(ValidationError, match="ExpressionAttributeNames unused"):
        ph.check_all_used()


def test_update_clauses_and_errors() -> None:
    ph = Placeholders({}, {":one": {"N": "1"}, ":s": {"SS": ["z"]}, ":l": {"L": []}})
    update = parse_update(
        "SET a = a + :one, b.c = if_not_exists(b.c, :one) REMOVE d, e[0] ADD f :one DELETE g :s ",
        ph,
    )
    assert [str(p) for p in update.paths()] == ["a", "b.c", "d", "e[0]", "f", "g"]
    for bad, fragment in [
        ("SET a = :one SET b = :one", "only be used once"),
        ("SET a = :one, a = :one", "overlap"),
        ("SET a.b = :one REMOVE a", "overlap"),
        ("ADD a :l", "Incorrect operand type"),
        ("DELETE a :one", "Incorrect operand type"),
        ("SET a = nosuch(b)", "Invalid function name"),
        ("UPSERT a = :one", "Syntax error"),
    ]:
        with pytest.raises(ValidationError, match=fragment):
            parse_update(bad, ph)


def test_apply_update_semantics() -> None:
    item = {
        "pk": {"S": "k"},
        "n": {"N": "0.1"},
        "l": {"L": [{"N": "1"}, {"N": "2"}, {"N": "3"}]},
        "m": {"M": {}},
        "s": {"NS": ["1", "2"]},
    }
    ph = Placeholders(
        {},
        {
            ":x": {"N": "0.2"},
            ":v": {"S": "v"},
            ":ns": {"NS": ["2", "3"]},
            ":l": {"L": [{"N": "9"}]},
        },
    )
    with pytest.raises(ValidationError, match="overlap"):
        parse_update("SET l = list_append(:l, l), l[9] = :v", ph)
    update = parse_update("SET n = n + :x, m.k = :v, l[9] = :v REMOVE nope ADD s :ns", ph)
    out = ev.apply_update(item, update)
    assert out["n"] == {"N": "0.3"}  # exact decimal arithmetic
    assert out["m"] == {"M": {"k": {"S": "v"}}}
    assert out["l"]["L"][-1] == {"S": "v"} and len(out["l"]["L"]) == 4  # past the end appends
    assert sorted(out["s"]["NS"]) == ["1", "2", "3"]
    assert item["n"] == {"N": "0.1"}  # the original is untouched
    with pytest.raises(ValidationError, match="invalid for update"):
        ev.apply_update(item, parse_update("SET nope.deeper = :v", ph))
    with pytest.raises(ValidationError, match="does not exist"):
        ev.apply_update(item, parse_update("SET a = nope", Placeholders()))
    removed = ev.apply_update(item, parse_update("REMOVE l[0], l[2]", Placeholders()))
    assert removed["l"] == {"L": [{"N": "2"}]}
    gone = ev.apply_update(
        {"s": {"SS": ["a"]}}, parse_update("DELETE s :s", Placeholders({}, {":s": {"SS": ["a"]}}))
    )
    assert gone == {}  # an emptied set is removed


def test_projection() -> None:
    ph = Placeholders({"#m": "map"}, {})
    paths = parse_projection("pk, #m.inner.deep, list[1], nope", ph)
    assert paths[1] == Path(("map", "inner", "deep"))
    out = ev.project(ITEM, paths)
    assert out == {
        "pk": {"S": "user#1"},
        "map": {"M": {"inner": {"M": {"deep": {"BOOL": True}}}}},
        "list": {"L": [{"N": "2"}]},
    }


def test_compare_is_false_for_missing_operands() -> None:
    assert ev.compare("=", None, {"S": "a"}) is False
    assert isinstance(parse_condition("a = :v", Placeholders({}, {":v": {"S": "a"}})), Compare)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("(" * 150 + "a = :v" + ")" * 150, "nested too deeply"),
        ("NOT " * 150 + "a = :v", "nested too deeply"),
        (" AND ".join(["a = :v"] * 200), "too many operators"),
    ],
)
def test_expression_size_limits(text: str, fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        parse_condition(text, Placeholders({}, {":v": {"S": "x"}}))


def test_deep_update_functions_are_limited() -> None:
    text = "SET a = " + "if_not_exists(a, " * 150 + ":v" + ")" * 150
    with pytest.raises(ValidationError, match="too deeply|too many"):
        parse_update(text, Placeholders({}, {":v": {"S": "x"}}))
