"""Detection rules: the YAML format, its validation, and matching one record.

A rule file holds one rule (a mapping) or several (``rules: [...]``).  Every
field is checked when the node starts: an unknown key, a field name we never
emit, a bad duration or regex is a ``RuleError`` naming the file and the field,
and the node refuses to start, so a typo never silently disables a detection.

Three kinds of rule (see docs/detections.md):

* ``threshold``: ``threshold`` matching records with the same group within ``window``;
* ``sequence``: the steps in order for the same group, all within ``window``;
* ``first_seen``: a ``value`` never seen before for its group (after ``learn``).

Records come from two sources: ``audit`` (kind, decision, principal, action,
resource, request_id, node, id, detail.*) and ``invocation`` (function,
version, trigger, status, error_type, cold, duration_ms, request_id).
"""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from ramparts.config import parse_duration
from ramparts.errors import ConfigError
from ramparts.respond.errors import RuleError

SEVERITIES = ("low", "medium", "high", "critical")
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
# The OWASP Serverless Top 10 (the 2017 interpretation of the OWASP Top 10 for serverless).
CATEGORIES = {
    "A1": "Injection",
    "A2": "Broken Authentication",
    "A3": "Sensitive Data Exposure",
    "A4": "XML External Entities",
    "A5": "Broken Access Control",
    "A6": "Security Misconfiguration",
    "A7": "Cross-Site Scripting",
    "A8": "Insecure Deserialization",
    "A9": "Using Components with Known Vulnerabilities",
    "A10": "Insufficient Logging and Monitoring",
}
KINDS = ("threshold", "sequence", "first_seen")
SOURCES = ("audit", "invocation")
FIELDS = {
    "audit": frozenset(
        {"id", "kind", "decision", "principal", "action", "resource", "request_id", "node"}
    ),
    "invocation": frozenset(
        {"request_id", "function", "version", "trigger", "status", "error_type", "cold",
         "duration_ms"}
    ),
}
OPERATORS = ("in", "not", "prefix", "suffix", "contains", "glob", "regex", "exists", "gte", "lte")

MAX_RULE_FILE_BYTES = 1024 * 1024
MAX_GROUPS = 10_000  # per rule, unless the rule says otherwise (up to MAX_GROUPS_LIMIT)
MAX_GROUPS_LIMIT = 100_000
MAX_VALUES = 1_000  # first_seen: values remembered per group
MAX_VALUES_PER_RULE = 100_000  # first_seen: values remembered across a rule's groups
MAX_FANOUT = 16  # group keys one record may produce (a deploy of many functions)
MAX_WINDOW = 7 * 86400.0
MAX_REGEX = 512
MAX_KEY_PART = 256

ID_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
MISSING = object()


def shipped_rules_dir() -> Path:
    """The rule set that ships inside the package (the default of ``--detections``)."""
    return Path(str(files("ramparts.respond") / "rules"))


def resolve(record: dict[str, Any], field: str) -> Any:
    """The value of ``field`` (``detail.a.b`` walks the detail mapping), or ``MISSING``."""
    value: Any = record
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def scalar_equal(actual: Any, expected: Any) -> bool:
    if isinstance(actual, bool) or isinstance(expected, bool):
        return actual is expected if isinstance(actual, bool) else False
    if isinstance(actual, int | float) and isinstance(expected, int | float):
        return actual == expected
    if isinstance(actual, dict | list | tuple) or actual is None:
        return False
    return str(actual) == str(expected)


def each(actual: Any) -> list[Any]:
    """A list value matches when any element does (e.g. ``detail.missing``)."""
    return list(actual) if isinstance(actual, list | tuple) else [actual]


Test = Callable[[Any], bool]


class Checker:
    """Validation context: the file and the field path, for error messages."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, field: str, reason: str) -> RuleError:
        return RuleError(self.file, field, reason)

    def mapping(
        self, value: Any, field: str, allowed: set[str], required: set[str]
    ) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, "must be a mapping")
        for key in value:
            if key not in allowed:
                raise self.fail(
                    _join(field, str(key)),
                    f"unknown field (allowed: {', '.join(sorted(allowed))})",
                )
        for key in sorted(required):
            if key not in value:
                raise self.fail(_join(field, key), "is required")
        return value

    def text(self, value: Any, field: str, limit: int = 1000) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, "must be a non-empty string")
        if len(value) > limit:
            raise self.fail(field, f"must be at most {limit} characters")
        return value

    def duration(self, value: Any, field: str) -> float:
        if isinstance(value, bool):
            raise self.fail(field, "must be a duration such as 60s, 10m or 1h")
        try:
            seconds = float(value) if isinstance(value, int | float) else parse_duration(
                str(value), name=field
            )
        except ConfigError:
            raise self.fail(field, f"{value!r} is not a duration (e.g. 60s, 10m, 1h)") from None
        if not 0 < seconds <= MAX_WINDOW:
            raise self.fail(field, "must be more than 0 and at most 7d")
        return seconds

    def count(self, value: Any, field: str, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= high:
            raise self.fail(field, f"must be a whole number from 1 to {high}")
        return value

    def field_name(self, value: Any, field: str, source: str) -> str:
        name = self.text(value, field, 200)
        if name.startswith("detail.") and len(name) > 7 and source == "audit":
            return name
        if name not in FIELDS[source]:
            known = ", ".join(sorted(FIELDS[source]))
            extra = ", detail.*" if source == "audit" else ""
            raise self.fail(field, f"{name!r} is not a field of {source} records ({known}{extra})")
        return name

    def condition(self, value: Any, field: str) -> Test:
        if isinstance(value, list):
            if not value or not all(_is_scalar(v) for v in value):
                raise self.fail(field, "a list must hold one or more plain values")
            options = list(value)
            strings = frozenset(v for v in options if isinstance(v, str))

            def any_of(actual: Any) -> bool:
                if isinstance(actual, str) and strings:  # the common case, without the loops
                    if actual in strings:
                        return True
                return any(scalar_equal(a, o) for a in each(actual) for o in options)

            return any_of
        if _is_scalar(value):
            if isinstance(value, str):
                return lambda actual: actual == value if isinstance(actual, str) else any(
                    scalar_equal(a, value) for a in each(actual)
                )
            return lambda actual: any(scalar_equal(a, value) for a in each(actual))
        if not isinstance(value, dict) or len(value) != 1:
            raise self.fail(
                field, f"must be a value, a list, or one operator ({', '.join(OPERATORS)})"
            )
        op, arg = next(iter(value.items()))
        where = _join(field, str(op))
        if op == "in":
            return self.condition(arg if isinstance(arg, list) else None, where)
        if op == "not":
            inner = self.condition(arg, where)
            return lambda actual: not inner(actual)
        if op == "exists":
            if not isinstance(arg, bool):
                raise self.fail(where, "must be true or false")
            return lambda actual: (actual is not MISSING) is arg
        if op in ("prefix", "suffix", "contains", "glob"):
            text = self.text(arg, where, MAX_REGEX)
            test: Callable[[str], bool] = {
                "prefix": lambda s: s.startswith(text),
                "suffix": lambda s: s.endswith(text),
                "contains": lambda s: text in s,
                "glob": lambda s: fnmatch.fnmatchcase(s, text),
            }[op]
            return lambda actual: any(
                isinstance(a, str | int) and not isinstance(a, bool) and test(str(a))
                for a in each(actual)
            )
        if op == "regex":
            pattern = self.regex(arg, where)
            return lambda actual: any(
                isinstance(a, str) and pattern.search(a) is not None for a in each(actual)
            )
        if op in ("gte", "lte"):
            if isinstance(arg, bool) or not isinstance(arg, int | float):
                raise self.fail(where, "must be a number")
            bound = float(arg)
            return lambda actual: any(
                isinstance(a, int | float) and not isinstance(a, bool)
                and (a >= bound if op == "gte" else a <= bound)
                for a in each(actual)
            )
        raise self.fail(where, f"unknown operator (use one of: {', '.join(OPERATORS)})")

    def regex(self, value: Any, field: str) -> re.Pattern[str]:
        text = self.text(value, field, MAX_REGEX)
        try:
            return re.compile(text)
        except re.error as exc:
            raise self.fail(field, f"not a valid regular expression: {exc}") from None


def _is_scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool)


def _join(field: str, key: str) -> str:
    return f"{field}.{key}" if field else key


@dataclass(frozen=True)
class Matcher:
    """A conjunction of field conditions over one source's records.

    ``predicate`` (a whole-record test) carries an imported Sigma rule's
    boolean condition (``and``/``or``/``not`` over its selections).
    """

    source: str
    conditions: tuple[tuple[str, Test], ...]
    predicate: Callable[[dict[str, Any]], bool] | None = None
    # The audit kinds this matcher can match (None: any): lets the engine skip the rule
    # for every other record without evaluating a condition.
    kinds: frozenset[str] | None = None

    def matches(self, record: dict[str, Any]) -> bool:
        if not all(test(resolve(record, field)) for field, test in self.conditions):
            return False
        return self.predicate is None or self.predicate(record)


@dataclass(frozen=True)
class GroupField:
    """A field whose value (or, with ``pattern``, its first capture) is part of a group key.

    A mapping value contributes each of its keys, a list each element (a
    deploy names several functions), at most ``MAX_FANOUT`` keys per record.
    """

    field: str
    pattern: re.Pattern[str] | None = None

    def values(self, record: dict[str, Any]) -> list[str]:
        raw = resolve(record, self.field)
        if raw is MISSING or raw is None or raw == "":
            return []
        items = list(raw) if isinstance(raw, dict | list | tuple) else [raw]
        out: list[str] = []
        for item in items[:MAX_FANOUT]:
            if isinstance(item, dict | list | tuple):
                continue
            text = str(item)
            if self.pattern is not None:
                m = self.pattern.search(text)
                if m is None:
                    continue
                text = m.group(1) if m.groups() else m.group(0)
            if text:
                out.append(text[:MAX_KEY_PART])
        return out


@dataclass(frozen=True)
class Step:
    matcher: Matcher
    group_by: tuple[GroupField, ...]
    threshold: int = 1

    def group_keys(self, record: dict[str, Any], *, named: bool = True) -> list[str]:
        """The record's group keys: one per combination of its group fields' values.

        ``named`` keys read ``field=value``; a sequence's steps group by different
        fields holding the same thing (``detail.functions`` then ``function``), so
        their keys are the values alone.
        """
        if not self.group_by:
            return ["*"]
        per_field = [[(g.field, v) for v in g.values(record)] for g in self.group_by]
        keys = []
        for combo in itertools.islice(itertools.product(*per_field), MAX_FANOUT):
            keys.append(", ".join(f"{f}={v}" if named else v for f, v in combo))
        return keys


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    description: str
    severity: str
    category: str
    kind: str
    steps: tuple[Step, ...]
    window: float
    suppress: float
    max_groups: int
    value: GroupField | None = None  # first_seen: what must be new
    learn: float = 0.0  # first_seen: a new group's values are learned silently this long
    file: str = ""

    @property
    def category_name(self) -> str:
        return CATEGORIES[self.category]


_RULE_FIELDS = {
    "id", "title", "description", "severity", "category", "kind", "source", "match", "group_by",
    "threshold", "window", "suppress", "steps", "value", "learn", "max_groups",
}
SIGMA_OPTIONS = {"group_by", "threshold", "window", "suppress", "max_groups", "category"}
_STEP_FIELDS = {"source", "match", "group_by", "threshold"}


def _parse_matcher(c: Checker, value: Any, field: str, source: str) -> Matcher:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise c.fail(field, "must be a mapping of field names to conditions")
    conditions = []
    for name, cond in value.items():
        where = _join(field, str(name))
        fname = c.field_name(name, where, source)
        conditions.append((fname, c.condition(cond, where)))
    kind = value.get("kind") if source == "audit" else None
    kinds = None
    if isinstance(kind, str):
        kinds = frozenset([kind])
    elif isinstance(kind, list) and all(isinstance(k, str) for k in kind):
        kinds = frozenset(kind)
    return Matcher(source, tuple(conditions), kinds=kinds)


def parse_group_field(c: Checker, value: Any, field: str, source: str) -> GroupField:
    if isinstance(value, str):
        return GroupField(c.field_name(value, field, source))
    spec = c.mapping(value, field, {"field", "pattern"}, {"field"})
    name = c.field_name(spec["field"], _join(field, "field"), source)
    pattern = c.regex(spec["pattern"], _join(field, "pattern")) if "pattern" in spec else None
    if pattern is not None and pattern.groups > 1:
        raise c.fail(_join(field, "pattern"), "may have at most one capture group")
    return GroupField(name, pattern)


def _parse_step(c: Checker, data: dict[str, Any], field: str) -> Step:
    source = data.get("source", "audit")
    if source not in SOURCES:
        raise c.fail(_join(field, "source"), f"must be one of: {', '.join(SOURCES)}")
    group_by = data.get("group_by", [])
    if isinstance(group_by, str | dict):
        group_by = [group_by]
    if not isinstance(group_by, list) or len(group_by) > 4:
        raise c.fail(_join(field, "group_by"), "must be a list of at most 4 fields")
    return Step(
        matcher=_parse_matcher(c, data.get("match"), _join(field, "match"), source),
        group_by=tuple(
            parse_group_field(c, g, f"{_join(field, 'group_by')}[{i}]", source)
            for i, g in enumerate(group_by)
        ),
        threshold=c.count(data.get("threshold", 1), _join(field, "threshold"), 100_000),
    )


def parse_rule(data: Any, *, file: str, field: str = "") -> Rule:
    """Validate one rule mapping; ``RuleError`` names ``file`` and the bad field."""
    c = Checker(file)
    data = c.mapping(data, field, _RULE_FIELDS, {"id", "title", "severity", "category", "kind"})
    rule_id = c.text(data["id"], _join(field, "id"), 64)
    if not ID_RE.match(rule_id):
        raise c.fail(_join(field, "id"), "use lower-case letters, digits, '.', '_' and '-'")
    severity = data["severity"]
    if severity not in SEVERITIES:
        raise c.fail(_join(field, "severity"), f"must be one of: {', '.join(SEVERITIES)}")
    category = data["category"]
    if category not in CATEGORIES:
        raise c.fail(
            _join(field, "category"),
            f"must be an OWASP Serverless Top 10 category: {', '.join(CATEGORIES)}",
        )
    kind = data["kind"]
    if kind not in KINDS:
        raise c.fail(_join(field, "kind"), f"must be one of: {', '.join(KINDS)}")
    window = c.duration(data.get("window", "60s"), _join(field, "window"))
    suppress = c.duration(data.get("suppress", "10m"), _join(field, "suppress"))
    max_groups = c.count(data.get("max_groups", MAX_GROUPS), _join(field, "max_groups"),
                         MAX_GROUPS_LIMIT)
    value = None
    learn = 0.0
    if kind == "sequence":
        for key in ("source", "match", "group_by", "threshold", "value", "learn"):
            if key in data:
                raise c.fail(_join(field, key), "a sequence rule puts this in each of its steps")
        steps_data = data.get("steps")
        if not isinstance(steps_data, list) or not 2 <= len(steps_data) <= 8:
            raise c.fail(_join(field, "steps"), "a sequence rule needs 2 to 8 steps")
        steps = []
        for i, s in enumerate(steps_data):
            where = f"{_join(field, 'steps')}[{i}]"
            steps.append(_parse_step(c, c.mapping(s, where, _STEP_FIELDS, {"match"}), where))
        if steps[0].threshold != 1:
            raise c.fail(f"{_join(field, 'steps')}[0].threshold",
                         "the first step of a sequence starts it: its threshold is 1")
        widths = {len(s.group_by) for s in steps}
        if len(widths) != 1:
            raise c.fail(
                _join(field, "steps"), "every step must group by the same number of fields"
            )
    else:
        if "steps" in data:
            raise c.fail(_join(field, "steps"), "only a sequence rule has steps")
        if "match" not in data:
            raise c.fail(_join(field, "match"), "is required")
        step = _parse_step(c, data, field)
        steps = [step]
        if kind == "first_seen":
            if "threshold" in data:
                raise c.fail(_join(field, "threshold"), "a first_seen rule has no threshold")
            if "value" not in data:
                raise c.fail(_join(field, "value"), "is required for a first_seen rule")
            value = parse_group_field(c, data["value"], _join(field, "value"),
                                       step.matcher.source)
            learn = 0.0 if data.get("learn") in (None, 0, "0") else c.duration(
                data["learn"], _join(field, "learn")
            )
        elif "value" in data or "learn" in data:
            raise c.fail(_join(field, "value" if "value" in data else "learn"),
                         "only a first_seen rule has this")
    return Rule(
        id=rule_id,
        title=c.text(data["title"], _join(field, "title"), 200),
        description=str(data.get("description") or "").strip()[:2000],
        severity=severity,
        category=category,
        kind=kind,
        steps=tuple(steps),
        window=window,
        suppress=suppress,
        max_groups=max_groups,
        value=value,
        learn=learn,
        file=file,
    )


def _rule_items(data: Any, file: str) -> Iterator[tuple[Any, str]]:
    if isinstance(data, dict) and "rules" in data:
        extra = set(data) - {"rules"}
        if extra:
            raise RuleError(file, sorted(extra)[0], "unknown field beside 'rules'")
        items = data["rules"]
        if not isinstance(items, list) or not items:
            raise RuleError(file, "rules", "must be a non-empty list of rules")
        for i, item in enumerate(items):
            yield item, f"rules[{i}]"
    else:
        yield data, ""


def read_rule_file(path: Path) -> tuple[str, Any]:
    """A rule file's text and its parsed YAML; ``RuleError`` when it cannot be read or parsed."""
    name = str(path)
    try:
        if path.stat().st_size > MAX_RULE_FILE_BYTES:
            raise RuleError(name, "", f"larger than {MAX_RULE_FILE_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise RuleError(name, "", "not UTF-8 text") from None
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise RuleError(name, "", f"cannot be read ({why})") from None
    try:
        return text, yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise RuleError(name, "", f"not valid YAML{where}") from None


def parse_rules(data: Any, *, file: str) -> list[Rule]:
    """The rules of one parsed file in our format (one rule, or ``rules: [...]``)."""
    return [parse_rule(item, file=file, field=field) for item, field in _rule_items(data, file)]
