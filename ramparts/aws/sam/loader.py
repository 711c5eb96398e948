"""Reading a SAM/CloudFormation template: YAML with the short-form tags, or JSON.

CloudFormation's YAML writes intrinsic functions as tags (``!Ref Table``,
``!GetAtt Queue.Arn``, ``!Sub "arn:...${AWS::Region}"``); PyYAML's safe loader
refuses unknown tags, so this loader turns each into the long JSON form
(``{"Ref": "Table"}``, ``{"Fn::GetAtt": ["Queue", "Arn"]}``) that the rest of
the importer resolves.  Only the safe loader is extended: no Python objects.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from ramparts.aws.sam.errors import TemplateError

# short tag -> long form name; every one takes its node's value as the argument
_FUNCTION_TAGS = {
    "Ref": "Ref",
    "Condition": "Condition",
    **{
        name: f"Fn::{name}"
        for name in (
            "Base64", "Cidr", "FindInMap", "GetAtt", "GetAZs", "ImportValue", "Join",
            "Select", "Split", "Sub", "Transform", "And", "Equals", "If", "Not", "Or",
            "Length", "ToJsonString",
        )
    },
}


class _TemplateLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's ``!Tag`` short forms."""


def _construct(loader: _TemplateLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = _FUNCTION_TAGS.get(tag_suffix)
    if name is None:
        raise yaml.constructor.ConstructorError(
            None, None, f"unknown tag !{tag_suffix}", node.start_mark
        )
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "Fn::GetAtt" and isinstance(value, str):
            # !GetAtt Res.Attr (the attribute may itself hold dots: Res.Endpoint.Address)
            res, _, attr = value.partition(".")
            value = [res, attr]
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_TemplateLoader.add_multi_constructor("!", _construct)


def parse_template(text: str, file: str) -> dict[str, Any]:
    """Template text -> its mapping; ``TemplateError`` naming the file and line when it is not."""
    stripped = text.lstrip()
    try:
        if stripped.startswith("{"):
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    except json.JSONDecodeError as exc:
        raise TemplateError(file, f"line {exc.lineno}", f"invalid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise TemplateError(file, where, f"invalid YAML: {problem}") from None
    except RecursionError:
        raise TemplateError(file, "", "invalid template: nested too deeply") from None
    if not isinstance(data, dict):
        raise TemplateError(file, "", "a template is a mapping with a Resources section")
    _check_expanded_size(data, file)
    for section in ("Parameters", "Conditions", "Mappings", "Globals", "Outputs"):
        if data.get(section) is not None and not isinstance(data[section], dict):
            raise TemplateError(file, section, f"{section} must be a mapping")
    resources = data.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise TemplateError(file, "Resources", "the template declares no resources")
    for logical_id, resource in resources.items():
        if not isinstance(resource, dict) or not isinstance(resource.get("Type"), str):
            raise TemplateError(file, f"Resources.{logical_id}.Type", "a resource needs a Type")
        props = resource.get("Properties", {})
        if props is not None and not isinstance(props, dict):
            raise TemplateError(
                file, f"Resources.{logical_id}.Properties", "Properties must be a mapping"
            )
    return data


# What a template may hold once YAML aliases are expanded: the importer copies and
# joins values, so ``&a [*b, *b, ...]`` ten levels deep (a kilobyte of YAML) would
# otherwise become 10^10 values.  Real templates are far below both.
MAX_EXPANDED_VALUES = 2_000_000
MAX_EXPANDED_CHARS = 64 * 1024 * 1024


def _check_expanded_size(data: Any, file: str) -> None:
    values = chars = 0
    stack = [data]
    while stack:
        item = stack.pop()
        values += 1
        if isinstance(item, dict):
            for key, value in item.items():
                chars += len(key) if isinstance(key, str) else 0
                stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            chars += len(item)
        if values > MAX_EXPANDED_VALUES or chars > MAX_EXPANDED_CHARS:
            raise TemplateError(
                file,
                "",
                "the template is too large once its YAML aliases are expanded "
                f"(more than {MAX_EXPANDED_VALUES:,} values or {MAX_EXPANDED_CHARS:,} characters)",
            )


def load_template(path: Path) -> dict[str, Any]:
    """Read and parse the template at ``path``."""
    file = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TemplateError(file, "", "file not found") from None
    except IsADirectoryError:
        raise TemplateError(file, "", "is a directory, not a template file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TemplateError(file, "", f"cannot read: {exc.__class__.__name__}") from None
    return parse_template(text, file)
