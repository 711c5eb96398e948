"""Reading infrastructure templates with the line of every key and list item.

CloudFormation and SAM templates are YAML (with the short-form intrinsic tags
``!Ref``, ``!Sub``, ``!GetAtt`` ...) or JSON; ``serverless.yml`` is YAML whose
``${...}`` variables are plain strings to a YAML parser.  Findings must name a
line, so mappings and sequences come back as ``YMap``/``YSeq``: a ``dict`` or
``list`` that also knows its own line and the line of each key or item.  Tags
become the long JSON form (``{"Ref": "Table"}``), so checks see one shape for
both syntaxes.  JSON is read by the same YAML parser (JSON is YAML) to keep
its lines; JSON that YAML 1.1 refuses (tabs, ``\\/``) falls back to ``json``
with every line reported as 1.

Only PyYAML's safe loader is extended: no Python objects.  YAML aliases are
shared, not copied, so an alias bomb costs no memory here, but every check
walks the expanded tree: ``parse`` refuses a document that expands past a
budget, as the SAM importer does.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from ramparts.scan.errors import ScanError

MAX_EXPANDED_VALUES = 500_000  # a real template holds a few thousand


class IacParseError(ScanError):
    """A template that cannot be read; becomes an RP-I001 finding at ``line``."""

    code = "invalid_template"

    def __init__(self, file: str, line: int, reason: str) -> None:
        self.file, self.line, self.reason = file, line, reason
        super().__init__(f"{file}:{line}: {reason}")


class YMap(dict[Any, Any]):
    """A mapping that remembers where it and each of its keys stand (1-based lines)."""

    line: int = 1

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


class YSeq(list[Any]):
    """A sequence that remembers where it and each of its items stand."""

    line: int = 1

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


# short tag -> long form; every one takes its node's value as the argument
_TAGS = {"Ref": "Ref", "Condition": "Condition", **{
    name: f"Fn::{name}" for name in (
        "Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join", "Select",
        "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or", "Length",
        "ToJsonString", "ForEach",
    )}}


class _Loader(yaml.SafeLoader):
    """SafeLoader whose mappings and sequences carry lines, plus CloudFormation's tags."""


def _map(loader: _Loader, node: yaml.MappingNode) -> YMap:
    loader.flatten_mapping(node)  # YAML merge keys (<<), as serverless users write them
    out = YMap()
    out.line = node.start_mark.line + 1
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain value", key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
        out.lines[str(key)] = key_node.start_mark.line + 1
    return out


def _seq(loader: _Loader, node: yaml.SequenceNode) -> YSeq:
    out = YSeq(loader.construct_object(item, deep=True) for item in node.value)
    out.line = node.start_mark.line + 1
    out.lines = [item.start_mark.line + 1 for item in node.value]
    return out


def _tag(loader: _Loader, suffix: str, node: yaml.Node) -> YMap:
    name = _TAGS.get(suffix)
    if name is None:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown tag !{suffix}", node.start_mark)
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            res, _, attr = value.partition(".")  # !GetAtt Res.Attr (Attr may hold dots)
            value = YSeq([res, attr])
            value.line = node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        value = _seq(loader, node)
    else:
        value = _map(loader, node)
    out = YMap({name: value})
    out.line = node.start_mark.line + 1
    out.lines[name] = out.line
    return out


_Loader.add_constructor("tag:yaml.org,2002:map", _map)
_Loader.add_constructor("tag:yaml.org,2002:seq", _seq)
_Loader.add_multi_constructor("!", _tag)


def parse(text: str, file: str) -> YMap:
    """Template text -> its top-level mapping; ``IacParseError`` with a line when it is not."""
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        if text.lstrip().startswith(("{", "[")):
            data = _parse_json(text, file)
        else:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            line = mark.line + 1 if mark is not None else 1
            raise IacParseError(file, line, f"invalid YAML: {problem}") from None
    except RecursionError:
        raise IacParseError(file, 1, "invalid template: nested too deeply") from None
    if not isinstance(data, dict):
        raise IacParseError(file, 1, "a template is a mapping, and this file is not a mapping")
    _check_size(data, file)
    return data


def _parse_json(text: str, file: str) -> Any:
    try:
        data = json.loads(text, object_pairs_hook=YMap)
    except json.JSONDecodeError as exc:
        raise IacParseError(file, exc.lineno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise IacParseError(file, 1, "invalid template: nested too deeply") from None
    return _with_seqs(data)


def _with_seqs(value: Any) -> Any:
    """JSON arrays as ``YSeq`` (line 1), so checks never meet a bare ``list``."""
    stack = [value]
    while stack:
        item = stack.pop()
        children = item.items() if isinstance(item, dict) else (
            enumerate(item) if isinstance(item, list) else ())
        for key, child in list(children):
            if isinstance(child, list) and not isinstance(child, YSeq):
                child = YSeq(child)
                item[key] = child
            if isinstance(child, dict | list):
                stack.append(child)
    return value


def _check_size(data: YMap, file: str) -> None:
    seen = 0
    stack: list[Any] = [data]
    while stack:
        item = stack.pop()
        seen += 1
        if seen > MAX_EXPANDED_VALUES:
            raise IacParseError(
                file, 1, f"the template is too large once its YAML aliases are expanded "
                f"(more than {MAX_EXPANDED_VALUES:,} values)")
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
