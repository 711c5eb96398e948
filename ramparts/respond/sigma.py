"""Sigma rules (parsed by pySigma) over the records Ramparts emits.

A rule file with ``logsource:`` and ``detection:`` is a Sigma rule.  pySigma
parses it (modifiers, wildcards, ``1 of``/``all of``, the condition grammar);
this module turns the parsed condition into a predicate over our records and
the rule into a ``threshold`` rule that fires once per matching record (or as
the optional ``ramparts:`` block says: ``group_by``, ``threshold``, ``window``,
``suppress``, ``max_groups``, ``category``).

The subset: ``logsource.product: ramparts`` with ``service: audit`` (default) or
``invocation``; fields are ours (``kind``, ``decision``, ``detail.source_ip``...,
checked like native rules); values are strings (with wildcards, case-insensitive
as Sigma says, ``|cased`` for case-sensitive), numbers, booleans, ``null``,
``|re``, ``|cidr``, ``|exists``, ``|lt``/``|lte``/``|gt``/``|gte``.  Keyword
searches (values without a field), field references, placeholders and
correlation rules are refused with the file named.  The OWASP category comes
from a tag ``owasp.a1``..``owasp.a10`` or ``ramparts: {category: A2}``; the
severity from ``level`` (``informational`` is ``low``).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from ramparts.respond.errors import RuleError
from ramparts.respond.rules import (
    CATEGORIES,
    FIELDS,
    ID_RE,
    MAX_GROUPS,
    MAX_GROUPS_LIMIT,
    MISSING,
    SIGMA_OPTIONS,
    Checker,
    Matcher,
    Rule,
    Step,
    each,
    parse_group_field,
    resolve,
    scalar_equal,
)

Predicate = Callable[[dict[str, Any]], bool]
_LEVELS = {"informational": "low", "low": "low", "medium": "medium", "high": "high",
           "critical": "critical"}


def is_sigma(data: Any) -> bool:
    """A parsed rule file that is a Sigma rule rather than one of ours."""
    return isinstance(data, dict) and "detection" in data and "logsource" in data


def parse_sigma(text: str, *, file: str) -> Rule:
    """One Sigma rule as a Ramparts rule; ``RuleError`` names the file and the field."""
    try:
        from sigma.exceptions import SigmaError
        from sigma.rule import SigmaRule
    except ImportError:
        raise RuleError(
            file, "", "a Sigma rule needs pySigma: pip install 'ramparts[sigma]'"
        ) from None
    try:
        rule = SigmaRule.from_yaml(text)
        conditions = rule.detection.parsed_condition
        trees = [c.parsed for c in conditions]
    except SigmaError as exc:
        raise RuleError(file, "", f"invalid Sigma rule: {exc}") from None  # pySigma names the field
    c = Checker(file)
    source = _source(c, rule.logsource)
    if len(trees) != 1:
        raise c.fail("detection.condition", "exactly one condition is supported")
    rule_id = str(rule.id) if rule.id else str(rule.name or "")
    if not ID_RE.match(rule_id):
        raise c.fail("id", "a Sigma rule needs an id (a UUID) or a lower-case name")
    severity = _LEVELS.get(str(rule.level.name).lower() if rule.level else "")
    if severity is None:
        raise c.fail("level", "must be informational, low, medium, high or critical")
    options = c.mapping(
        (rule.custom_attributes or {}).get("ramparts") or {}, "ramparts", SIGMA_OPTIONS, set()
    )
    category = _category(c, rule.tags, options.get("category"))
    group_by = options.get("group_by", [])
    if isinstance(group_by, str | dict):
        group_by = [group_by]
    if not isinstance(group_by, list) or len(group_by) > 4:
        raise c.fail("ramparts.group_by", "must be a list of at most 4 fields")
    step = Step(
        matcher=Matcher(source, (), _predicate(c, trees[0], source)),
        group_by=tuple(
            parse_group_field(c, g, f"ramparts.group_by[{i}]", source)
            for i, g in enumerate(group_by)
        ),
        threshold=c.count(options.get("threshold", 1), "ramparts.threshold", 100_000),
    )
    return Rule(
        id=rule_id,
        title=c.text(rule.title, "title", 200),
        description=str(rule.description or "").strip()[:2000],
        severity=severity,
        category=category,
        kind="threshold",
        steps=(step,),
        window=c.duration(options.get("window", "60s"), "ramparts.window"),
        suppress=c.duration(options.get("suppress", "10m"), "ramparts.suppress"),
        max_groups=c.count(options.get("max_groups", MAX_GROUPS), "ramparts.max_groups",
                           MAX_GROUPS_LIMIT),
        file=file,
    )


def _source(c: Checker, logsource: Any) -> str:
    if (logsource.product or "") != "ramparts":
        raise c.fail("logsource.product", "must be 'ramparts' (the records Ramparts emits)")
    service = logsource.service or "audit"
    if service not in FIELDS:
        raise c.fail("logsource.service", "must be 'audit' or 'invocation'")
    return str(service)


def _category(c: Checker, tags: list[Any], explicit: Any) -> str:
    if explicit is not None:
        if explicit not in CATEGORIES:
            raise c.fail("ramparts.category", f"must be one of: {', '.join(CATEGORIES)}")
        return str(explicit)
    for tag in tags or []:
        if str(tag.namespace).lower() == "owasp" and str(tag.name).upper() in CATEGORIES:
            return str(tag.name).upper()
    raise c.fail("tags", "add an OWASP Serverless Top 10 tag (owasp.a1 .. owasp.a10)")


def _predicate(c: Checker, node: Any, source: str) -> Predicate:
    from sigma.conditions import (
        ConditionAND,
        ConditionFieldEqualsValueExpression,
        ConditionNOT,
        ConditionOR,
    )

    if isinstance(node, ConditionAND | ConditionOR):
        parts = [_predicate(c, a, source) for a in node.args]
        if isinstance(node, ConditionAND):
            return lambda record: all(p(record) for p in parts)
        return lambda record: any(p(record) for p in parts)
    if isinstance(node, ConditionNOT):
        inner = _predicate(c, node.args[0], source)
        return lambda record: not inner(record)
    if isinstance(node, ConditionFieldEqualsValueExpression):
        where = f"detection.{node.field}"
        field = c.field_name(node.field, where, source)
        test = _value_test(c, node.value, where)
        return lambda record: test(resolve(record, field))
    raise c.fail("detection", f"{type(node).__name__} is not supported (keyword searches "
                              "and values without a field cannot match our records)")


def _value_test(c: Checker, value: Any, where: str) -> Callable[[Any], bool]:
    from sigma.types import (
        CompareOperators,
        SigmaBool,
        SigmaCasedString,
        SigmaCIDRExpression,
        SigmaCompareExpression,
        SigmaExists,
        SigmaNull,
        SigmaNumber,
        SigmaRegularExpression,
        SigmaRegularExpressionFlag,
        SigmaString,
        SpecialChars,
    )

    if isinstance(value, SigmaString):
        if value.contains_placeholder():
            raise c.fail(where, "placeholders are not supported")
        parts = []
        for part in value.s:
            if part == SpecialChars.WILDCARD_MULTI:
                parts.append(".*")
            elif part == SpecialChars.WILDCARD_SINGLE:
                parts.append(".")
            elif isinstance(part, str):
                parts.append(re.escape(part))
            else:
                raise c.fail(where, f"{part!r} is not supported")
        flags = re.DOTALL | (0 if isinstance(value, SigmaCasedString) else re.IGNORECASE)
        pattern = re.compile("".join(parts), flags)
        return lambda actual: any(
            isinstance(a, str | int | float) and not isinstance(a, bool)
            and pattern.fullmatch(str(a)) is not None
            for a in each(actual)
        )
    if isinstance(value, SigmaNumber):
        number = value.number
        return lambda actual: any(scalar_equal(a, number) for a in each(actual))
    if isinstance(value, SigmaBool):
        flag = value.boolean
        return lambda actual: any(isinstance(a, bool) and a is flag for a in each(actual))
    if isinstance(value, SigmaNull):
        return lambda actual: actual is MISSING or actual is None
    if isinstance(value, SigmaExists):
        exists = value.exists
        return lambda actual: (actual is not MISSING) is exists
    if isinstance(value, SigmaRegularExpression):
        re_flags = 0
        for sigma_flag in value.flags:
            re_flags |= {
                SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
                SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
                SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
            }.get(sigma_flag, 0)
        try:
            regex = re.compile(str(value.regexp), re_flags)
        except re.error as exc:
            raise c.fail(where, f"not a valid regular expression: {exc}") from None
        return lambda actual: any(
            isinstance(a, str) and regex.search(a) is not None for a in each(actual)
        )
    if isinstance(value, SigmaCIDRExpression):
        network = value.network
        return lambda actual: any(_in_network(a, network) for a in each(actual))
    if isinstance(value, SigmaCompareExpression):
        bound, op = value.number.number, value.op
        compare = {
            CompareOperators.LT: lambda a: a < bound,
            CompareOperators.LTE: lambda a: a <= bound,
            CompareOperators.GT: lambda a: a > bound,
            CompareOperators.GTE: lambda a: a >= bound,
        }[op]
        return lambda actual: any(
            isinstance(a, int | float) and not isinstance(a, bool) and compare(a)
            for a in each(actual)
        )
    raise c.fail(where, f"{type(value).__name__} values are not supported")


def _in_network(value: Any, network: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return ipaddress.ip_address(value) in network
    except ValueError:
        return False
