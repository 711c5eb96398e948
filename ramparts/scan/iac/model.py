"""What the checks see of a template: its resources, functions and where each stands.

Two formats reach the checks: CloudFormation/SAM (``Resources`` plus SAM's
``Globals``) and the Serverless Framework's ``serverless.yml`` (``provider``,
``functions``, and plain CloudFormation under ``resources.Resources``).  A
``Template`` exposes the CloudFormation resources of either, and the checks
read the serverless-only sections themselves.  Structural problems that make
a resource unreadable (no ``Type``, ``Properties`` not a mapping) are kept as
``problems`` and reported as RP-I001, while the rest of the template is still
checked: one broken resource must not hide a public bucket beside it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ramparts.scan.iac.loader import IacParseError, YMap, YSeq, parse
from ramparts.scan.source import SourceFile, SourceTree

SERVERLESS_NAMES = ("serverless.yml", "serverless.yaml")
_TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")
_DATA_SUFFIXES = (".yaml", ".yml", ".json", ".template")
_MARKERS = re.compile(r"AWSTemplateFormatVersion|Transform[\"']?\s*:\s*[\[\"']?\s*"
                      r"AWS::Serverless")
_SERVERLESS_TYPES = ("AWS::Serverless::Function",)
_LAMBDA_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")


@dataclass
class Resource:
    name: str  # the logical id
    type: str
    props: YMap
    line: int  # of the logical id

    @property
    def where(self) -> str:
        return f"Resources.{self.name}"


@dataclass
class Template:
    path: str  # relative to the scanned tree
    kind: str  # "cloudformation" | "serverless"
    doc: YMap
    resources: list[Resource] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, why): RP-I001

    def of_type(self, *types: str) -> Iterator[Resource]:
        return (r for r in self.resources if r.type in types)

    def functions(self) -> Iterator[Resource]:
        return self.of_type(*_LAMBDA_TYPES)

    def function_globals(self, res: Resource) -> YMap:
        """SAM ``Globals.Function`` for a serverless function; empty for anything else."""
        if res.type not in _SERVERLESS_TYPES:
            return YMap()
        return mapping(mapping(self.doc.get("Globals")).get("Function"))

    def setting(self, res: Resource, key: str) -> Any:
        """A function property, falling back to SAM's ``Globals.Function``."""
        if key in res.props:
            return res.props[key]
        return self.function_globals(res).get(key)

    def section(self, key: str) -> YMap:
        return mapping(self.doc.get(key))


def mapping(value: Any) -> YMap:
    return value if isinstance(value, YMap) else YMap()


def items(value: Any, line: int) -> list[tuple[Any, int]]:
    """A scalar-or-list field (IAM's ``Action: x`` or ``Action: [x, y]``) with item lines.

    ``line`` is the field's own line, used for a scalar (which cannot carry one).
    """
    if value is None:
        return []
    if isinstance(value, YSeq):
        return [(v, value.line_of(i)) for i, v in enumerate(value)]
    if isinstance(value, list):
        return [(v, line) for v in value]
    return [(value, line)]


def is_true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


def is_false(value: Any) -> bool:
    return value is False or (isinstance(value, str) and value.strip().lower() == "false")


def mentions(value: Any, name: str) -> bool:
    """True when ``name`` (a logical id) is referenced anywhere inside ``value``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str) and (item == name or item.startswith(f"{name}.")
                                        or f"${{{name}" in item):
            return True
    return False


# -- finding and reading templates ----------------------------------------------------------
def candidates(tree: SourceTree) -> Iterator[SourceFile]:
    """The text files that are templates by name, or by what their first lines hold."""
    for sf in tree.files:
        if sf.text is None:
            continue
        name = sf.rel.rsplit("/", 1)[-1]
        if name in SERVERLESS_NAMES or name in _TEMPLATE_NAMES:
            yield sf
        elif name.endswith(_DATA_SUFFIXES) and name != "ramparts.yaml":
            head = sf.text[:20_000]
            if _MARKERS.search(head) or (name.endswith(".template") and re.search(
                    r"^\s*[\"']?Resources[\"']?\s*:", head, re.M)):
                yield sf


def load(sf: SourceFile) -> Template | None:
    """The template in ``sf``; None when a file found by name is no template at all."""
    assert sf.text is not None
    doc = parse(sf.text, sf.rel)
    name = sf.rel.rsplit("/", 1)[-1]
    if name in SERVERLESS_NAMES:
        return _serverless(sf.rel, doc)
    if "Resources" not in doc and not _MARKERS.search(sf.text[:20_000]):
        return None  # a template.yaml of some other tool
    template = Template(sf.rel, "cloudformation", doc)
    _read_resources(template, doc, "Resources", required=True)
    return template


def _serverless(rel: str, doc: YMap) -> Template:
    template = Template(rel, "serverless", doc)
    for key in ("provider", "functions", "resources"):
        if doc.get(key) is not None and not isinstance(doc[key], YMap):
            raise IacParseError(rel, doc.line_of(key), f"{key} must be a mapping")
    for fname, fn in mapping(doc.get("functions")).items():
        if not isinstance(fn, YMap):
            raise IacParseError(rel, doc["functions"].line_of(str(fname)),
                                f"functions.{fname} must be a mapping")
    resources = mapping(doc.get("resources"))
    if "Resources" in resources:
        _read_resources(template, resources, "Resources", required=False)
    return template


def _read_resources(template: Template, parent: YMap, key: str, *, required: bool) -> None:
    section = parent.get(key)
    if not isinstance(section, YMap) or (required and not section):
        raise IacParseError(template.path, parent.line_of(key),
                            "Resources must be a mapping of logical ids to resources")
    for name, res in section.items():
        line = section.line_of(str(name))
        if not isinstance(res, YMap) or not isinstance(res.get("Type"), str):
            template.problems.append((line, f"resource {name} has no Type"))
            continue
        props = res.get("Properties")
        if props is None:
            props = YMap()
            props.line = line
        if not isinstance(props, YMap):
            template.problems.append((res.line_of("Properties"),
                                      f"Properties of {name} must be a mapping"))
            continue
        template.resources.append(Resource(str(name), res["Type"], props, line))
