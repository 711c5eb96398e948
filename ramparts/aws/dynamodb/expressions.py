"""DynamoDB's expression languages: a tokenizer and a recursive-descent parser.

Condition, filter and key-condition expressions, update expressions and
projection expressions are parsed here into small immutable trees that
:mod:`ramparts.aws.dynamodb.evaluate` runs against typed items.  Placeholders
(``#name``, ``:value``) are resolved while parsing, against one
:class:`Placeholders` per request, which also reports the ones a request
declared but never used (DynamoDB refuses those too).

Everything malformed raises :class:`ValidationError` with a message that
names the token and its position, never a Python exception.

Precedence, lowest first: ``OR``, ``AND``, ``NOT``, then comparisons,
``BETWEEN``, ``IN`` and functions; parentheses group.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ramparts.aws.dynamodb.errors import ValidationError
from ramparts.tables.values import check_value

MAX_EXPRESSION_CHARS = 4096
MAX_OPERATORS = 300  # DynamoDB's limit on operators and functions in one expression
MAX_DEPTH = 100  # nesting of parentheses, NOT and function arguments

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<name>\#[A-Za-z0-9_]+)
  | (?P<value>:[A-Za-z0-9_]+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<number>[0-9]+)
  | (?P<op><>|<=|>=|[=<>(),.\[\]+-])
    """,
    re.VERBOSE,
)

COMPARATORS = ("=", "<>", "<", "<=", ">", ">=")
CONDITION_FUNCTIONS = {
    "attribute_exists": 1,
    "attribute_not_exists": 1,
    "attribute_type": 2,
    "begins_with": 2,
    "contains": 2,
}
KEYWORDS = {"and", "or", "not", "between", "in"}
ATTRIBUTE_TYPES = {"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"}


@dataclass(frozen=True)
class Token:
    kind: str  # name, value, ident, number, op, end
    text: str
    pos: int


# -- trees ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Path:
    """``a.b[2].c``: attribute names (str) and list indexes (int), placeholders resolved."""

    elements: tuple[str | int, ...]

    def __str__(self) -> str:
        out = ""
        for e in self.elements:
            out += f"[{e}]" if isinstance(e, int) else (f".{e}" if out else e)
        return out


@dataclass(frozen=True)
class Value:
    av: dict[str, Any]  # a typed AttributeValue from ExpressionAttributeValues


@dataclass(frozen=True)
class Size:
    path: Path


@dataclass(frozen=True)
class Compare:
    op: str
    left: Any
    right: Any


@dataclass(frozen=True)
class Between:
    operand: Any
    low: Any
    high: Any


@dataclass(frozen=True)
class In:
    operand: Any
    options: tuple[Any, ...]


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[Any, ...]


@dataclass(frozen=True)
class And:
    left: Any
    right: Any


@dataclass(frozen=True)
class Or:
    left: Any
    right: Any


@dataclass(frozen=True)
class Not:
    operand: Any


@dataclass(frozen=True)
class Arith:
    op: str  # "+" or "-"
    left: Any
    right: Any


@dataclass(frozen=True)
class IfNotExists:
    path: Path
    default: Any


@dataclass(frozen=True)
class ListAppend:
    left: Any
    right: Any


@dataclass(frozen=True)
class Update:
    """The four clauses of an update expression, in the order DynamoDB applies them."""

    set: tuple[tuple[Path, Any], ...] = ()
    remove: tuple[Path, ...] = ()
    add: tuple[tuple[Path, Value], ...] = ()
    delete: tuple[tuple[Path, Value], ...] = ()

    def paths(self) -> list[Path]:
        return (
            [p for p, _ in self.set]
            + list(self.remove)
            + [p for p, _ in self.add]
            + [p for p, _ in self.delete]
        )


# -- placeholders --------------------------------------------------------------------------------
@dataclass
class Placeholders:
    """A request's ExpressionAttributeNames/Values, and which of them were used."""

    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)
    used_names: set[str] = field(default_factory=set)
    used_values: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, body: dict[str, Any]) -> Placeholders:
        names = body.get("ExpressionAttributeNames") or {}
        values = body.get("ExpressionAttributeValues") or {}
        if not isinstance(names, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in names.items()
        ):
            raise ValidationError("ExpressionAttributeNames must map #names to strings")
        if not isinstance(values, dict) or not all(isinstance(v, dict) for v in values.values()):
            raise ValidationError("ExpressionAttributeValues must map :values to AttributeValues")
        for value in values.values():
            check_value(value)
        return cls(names, values)

    def name(self, token: str) -> str:
        if token not in self.names:
            raise ValidationError(
                "An expression attribute name used in the document path is not defined; "
                f"attribute name: {token}"
            )
        self.used_names.add(token)
        return self.names[token]

    def value(self, token: str) -> dict[str, Any]:
        if token not in self.values:
            raise ValidationError(
                "An expression attribute value used in expression is not defined; "
                f"attribute value: {token}"
            )
        self.used_values.add(token)
        return self.values[token]

    def check_all_used(self) -> None:
        unused_names = sorted(set(self.names) - self.used_names)
        if unused_names:
            raise ValidationError(
                "Value provided in ExpressionAttributeNames unused in expressions: "
                f"keys: {{{', '.join(unused_names)}}}"
            )
        unused_values = sorted(set(self.values) - self.used_values)
        if unused_values:
            raise ValidationError(
                "Value provided in ExpressionAttributeValues unused in expressions: "
                f"keys: {{{', '.join(unused_values)}}}"
            )


# -- tokenizer -----------------------------------------------------------------------------------
def tokenize(text: str, what: str) -> list[Token]:
    if not isinstance(text, str):
        raise ValidationError(f"Invalid {what}: the expression must be a string")
    if not text.strip():
        raise ValidationError(f"Invalid {what}: The expression can not be empty;")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ValidationError(f"Invalid {what}: longer than {MAX_EXPRESSION_CHARS} characters")
    out: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            near = text[pos : pos + 10]
            raise ValidationError(
                f'Invalid {what}: Syntax error; token: "{text[pos]}", near: "{near}"'
            )
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Token(kind, m.group(), pos))
        pos = m.end()
    out.append(Token("end", "", len(text)))
    return out


# -- parser --------------------------------------------------------------------------------------
class _Parser:
    def __init__(self, text: str, what: str, ph: Placeholders) -> None:
        self.what = what
        self.text = text
        self.tokens = tokenize(text, what)
        self.i = 0
        self.ph = ph
        self.operators = 0
        self.depth = 0

    def count(self) -> None:
        self.operators += 1
        if self.operators > MAX_OPERATORS:
            raise ValidationError(
                f"Invalid {self.what}: The expression contains too many operators; "
                f"the maximum is {MAX_OPERATORS}"
            )

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ValidationError(
                f"Invalid {self.what}: The expression is nested too deeply; "
                f"the maximum is {MAX_DEPTH} levels"
            )

    # helpers
    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def peek(self, n: int = 1) -> Token:
        return self.tokens[min(self.i + n, len(self.tokens) - 1)]

    def fail(self, token: Token | None = None, reason: str = "Syntax error") -> ValidationError:
        token = token or self.tok
        if token.kind == "end":
            return ValidationError(
                f'Invalid {self.what}: {reason}; token: "<EOF>", near: "{self.text[-10:]}"'
            )
        near = self.text[token.pos : token.pos + 10]
        return ValidationError(
            f'Invalid {self.what}: {reason}; token: "{token.text}", near: "{near}"'
        )

    def is_kw(self, word: str) -> bool:
        return self.tok.kind == "ident" and self.tok.text.lower() == word

    def is_op(self, op: str) -> bool:
        return self.tok.kind == "op" and self.tok.text == op

    def expect_op(self, op: str) -> None:
        if not self.is_op(op):
            raise self.fail()
        self.i += 1

    def expect_end(self) -> None:
        if self.tok.kind != "end":
            raise self.fail()

    # paths and operands
    def path(self) -> Path:
        elements: list[str | int] = [self.attribute_name()]
        while True:
            if self.is_op("."):
                self.i += 1
                elements.append(self.attribute_name())
            elif self.is_op("["):
                self.i += 1
                if self.tok.kind != "number":
                    raise self.fail(reason="List index must be a number")
                elements.append(int(self.tok.text))
                self.i += 1
                self.expect_op("]")
            else:
                return Path(tuple(elements))

    def attribute_name(self) -> str:
        t = self.tok
        if t.kind == "name":
            self.i += 1
            return self.ph.name(t.text)
        if t.kind == "ident" and t.text.lower() not in KEYWORDS:
            self.i += 1
            return t.text
        raise self.fail()

    def operand(self) -> Any:
        t = self.tok
        if t.kind == "value":
            self.i += 1
            return Value(self.ph.value(t.text))
        if t.kind == "ident" and t.text == "size" and self.peek().text == "(":
            self.i += 2
            p = self.path()
            self.expect_op(")")
            return Size(p)
        if t.kind == "ident" and self.peek().text == "(" and self.peek().kind == "op":
            raise self.fail(reason=f"Invalid function name; function: {t.text}")
        return self.path()

    # conditions
    def condition(self) -> Any:
        left = self.conjunction()
        while self.is_kw("or"):
            self.i += 1
            self.count()
            left = Or(left, self.conjunction())
        return left

    def conjunction(self) -> Any:
        left = self.negation()
        while self.is_kw("and"):
            self.i += 1
            self.count()
            left = And(left, self.negation())
        return left

    def negation(self) -> Any:
        if self.is_kw("not"):
            self.i += 1
            self.count()
            self.enter()
            inner = self.negation()
            self.depth -= 1
            return Not(inner)
        return self.predicate()

    def predicate(self) -> Any:
        t = self.tok
        if self.is_op("("):
            self.i += 1
            self.enter()
            inner = self.condition()
            self.expect_op(")")
            self.depth -= 1
            return inner
        if t.kind == "ident" and t.text in CONDITION_FUNCTIONS and self.peek().text == "(":
            return self.function()
        left = self.operand()
        self.count()
        if self.tok.kind == "op" and self.tok.text in COMPARATORS:
            op = self.tok.text
            self.i += 1
            return Compare(op, left, self.operand())
        if self.is_kw("between"):
            self.i += 1
            low = self.operand()
            if not self.is_kw("and"):
                raise self.fail()
            self.i += 1
            return Between(left, low, self.operand())
        if self.is_kw("in"):
            self.i += 1
            self.expect_op("(")
            options = [self.operand()]
            while self.is_op(","):
                self.i += 1
                options.append(self.operand())
            self.expect_op(")")
            if len(options) > 100:
                raise self.fail(reason="IN takes at most 100 values")
            return In(left, tuple(options))
        raise self.fail()

    def function(self) -> Function:
        name = self.tok.text
        self.i += 2  # name and "("
        self.count()
        args = [self.operand()]
        while self.is_op(","):
            self.i += 1
            args.append(self.operand())
        self.expect_op(")")
        if len(args) != CONDITION_FUNCTIONS[name]:
            raise ValidationError(
                f"Invalid {self.what}: Incorrect number of operands for operator or function; "
                f"operator or function: {name}, number of operands: {len(args)}"
            )
        needs_path = ("attribute_exists", "attribute_not_exists", "attribute_type")
        if name in needs_path and not isinstance(args[0], Path):
            raise ValidationError(
                f"Invalid {self.what}: Operator or function requires a document path; "
                f"operator or function: {name}"
            )
        if name == "attribute_type":
            if not isinstance(args[1], Value) or args[1].av.get("S") not in ATTRIBUTE_TYPES:
                raise ValidationError(
                    f"Invalid {self.what}: attribute_type takes one of "
                    f"{', '.join(sorted(ATTRIBUTE_TYPES))} as a string value"
                )
        return Function(name, tuple(args))

    # updates
    def update(self) -> Update:
        clauses: dict[str, list[Any]] = {}
        while self.tok.kind != "end":
            word = self.tok.text.lower() if self.tok.kind == "ident" else ""
            if word not in ("set", "remove", "add", "delete"):
                raise self.fail()
            if word in clauses:
                raise ValidationError(
                    f'Invalid {self.what}: The "{word.upper()}" section can only be used once '
                    "in an update expression;"
                )
            self.i += 1
            items: list[Any] = []
            while True:
                items.append(self.update_action(word))
                if not self.is_op(","):
                    break
                self.i += 1
            clauses[word] = items
        update = Update(
            tuple(clauses.get("set", ())),
            tuple(clauses.get("remove", ())),
            tuple(clauses.get("add", ())),
            tuple(clauses.get("delete", ())),
        )
        _check_overlaps(update, self.what)
        return update

    def update_action(self, word: str) -> Any:
        target = self.path()
        if word == "remove":
            return target
        if word == "set":
            self.expect_op("=")
            return (target, self.set_value())
        if self.tok.kind != "value":
            raise self.fail()
        value = Value(self.ph.value(self.tok.text))
        self.i += 1
        kinds = {"add": ("N", "SS", "NS", "BS"), "delete": ("SS", "NS", "BS")}[word]
        if next(iter(value.av), None) not in kinds:
            raise ValidationError(
                f"Invalid {self.what}: Incorrect operand type for operator or function; "
                f"operator: {word.upper()}, operand type: {next(iter(value.av), '?')}"
            )
        return (target, value)

    def set_value(self) -> Any:
        left = self.set_operand()
        if self.is_op("+") or self.is_op("-"):
            op = self.tok.text
            self.i += 1
            return Arith(op, left, self.set_operand())
        return left

    def set_operand(self) -> Any:
        t = self.tok
        if t.kind == "ident" and self.peek().text == "(":
            self.count()
            self.enter()
            try:
                return self.set_function(t)
            finally:
                self.depth -= 1
        if t.kind == "value":
            self.i += 1
            return Value(self.ph.value(t.text))
        return self.path()

    def set_function(self, t: Token) -> Any:
        if t.text == "if_not_exists":
            self.i += 2
            p = self.path()
            self.expect_op(",")
            default = self.set_value()
            self.expect_op(")")
            return IfNotExists(p, default)
        if t.text == "list_append":
            self.i += 2
            a = self.set_value()
            self.expect_op(",")
            b = self.set_value()
            self.expect_op(")")
            return ListAppend(a, b)
        raise self.fail(reason=f"Invalid function name; function: {t.text}")

    def projection(self) -> list[Path]:
        paths = [self.path()]
        while self.is_op(","):
            self.i += 1
            paths.append(self.path())
        return paths


def _check_overlaps(update: Update, what: str) -> None:
    seen: list[tuple[str | int, ...]] = []
    for p in update.paths():
        for other in seen:
            shorter = min(len(p.elements), len(other))
            if p.elements[:shorter] == other[:shorter]:
                raise ValidationError(
                    f"Invalid {what}: Two document paths overlap with each other; must remove "
                    f"or rewrite one of these paths; path one: [{p}], path two: "
                    f"[{Path(other)}]"
                )
        seen.append(p.elements)


# -- entry points --------------------------------------------------------------------------------
def parse_condition(text: str, ph: Placeholders, what: str = "ConditionExpression") -> Any:
    p = _Parser(text, what, ph)
    tree = p.condition()
    p.expect_end()
    return tree


def parse_update(text: str, ph: Placeholders) -> Update:
    p = _Parser(text, "UpdateExpression", ph)
    return p.update()


def parse_projection(text: str, ph: Placeholders) -> list[Path]:
    p = _Parser(text, "ProjectionExpression", ph)
    paths = p.projection()
    p.expect_end()
    return paths
