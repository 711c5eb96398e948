"""Resolving CloudFormation intrinsic functions offline.

``Resolver.resolve`` turns a template value into a plain one: parameters
(their ``Default``), pseudo parameters (``AWS::Region``, ``AWS::AccountId``
as the app's account, ``AWS::StackName`` as the app name), references to the
template's data resources (``resources.Catalog``), ``Fn::Sub``, ``Fn::Join``,
``Fn::Select``, ``Fn::Split``, ``Fn::If`` with the template's ``Conditions``,
``Fn::FindInMap``, ``Fn::Base64``.  What has no offline value
(``Fn::ImportValue``, ``Fn::GetAZs``, an attribute of something Ramparts does
not have) raises ``Unresolvable`` with a reason, so the importer reports the
field instead of writing a guess.

A resolver made ``for_policies`` answers ``AWS::Region`` with ``*``: role
statements then match whatever region the node runs in, and still only the
app's own account.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from ramparts.aws.sam.errors import Unresolvable
from ramparts.aws.sam.resources import Catalog


class _NoValue:
    """``AWS::NoValue``: the enclosing key or list item is dropped."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE = _NoValue()
_SUB_RE = re.compile(r"\$\{([^}]*)\}")
_INTRINSICS = {
    "Ref", "Condition", "Fn::Base64", "Fn::Cidr", "Fn::FindInMap", "Fn::GetAtt", "Fn::GetAZs",
    "Fn::ImportValue", "Fn::Join", "Fn::Select", "Fn::Split", "Fn::Sub", "Fn::Transform",
    "Fn::And", "Fn::Equals", "Fn::If", "Fn::Not", "Fn::Or", "Fn::Length", "Fn::ToJsonString",
}


def is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in _INTRINSICS


@dataclass
class Resolver:
    catalog: Catalog
    parameters: dict[str, Any] = field(default_factory=dict)
    conditions: dict[str, Any] = field(default_factory=dict)
    mappings: dict[str, Any] = field(default_factory=dict)
    region: str | None = None  # None: the catalog's region

    @classmethod
    def from_template(cls, template: dict[str, Any], catalog: Catalog) -> Resolver:
        params: dict[str, Any] = {}
        for name, spec in (template.get("Parameters") or {}).items():
            if isinstance(spec, dict) and "Default" in spec:
                default = spec["Default"]
                if str(spec.get("Type", "")).startswith("CommaDelimitedList") or str(
                    spec.get("Type", "")
                ).startswith("List<"):
                    default = [s.strip() for s in str(default).split(",")]
                params[name] = default
            else:
                params[name] = None  # declared without a default: unresolvable when used
        return cls(
            catalog,
            params,
            dict(template.get("Conditions") or {}),
            dict(template.get("Mappings") or {}),
        )

    def for_policies(self) -> Resolver:
        return replace(self, region="*")

    @property
    def _region(self) -> str:
        return self.region or self.catalog.region

    # -- values -------------------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self.resolve(v) for v in value]
            return [v for v in items if v is not NO_VALUE]
        if isinstance(value, dict):
            if is_intrinsic(value):
                (name, arg), = value.items()
                return self._call(name, arg)
            out = {}
            for k, v in value.items():
                r = self.resolve(v)
                if r is not NO_VALUE:
                    out[k] = r
            return out
        return value

    def resolve_str(self, value: Any, what: str) -> str:
        out = self.resolve(value)
        if isinstance(out, bool) or not isinstance(out, str | int | float):
            raise Unresolvable(f"{what} must be a string")
        return str(out)

    def _call(self, name: str, arg: Any) -> Any:
        match name:
            case "Ref":
                return self.ref(self.resolve_str(arg, "!Ref"))
            case "Fn::GetAtt":
                return self._get_att(arg)
            case "Fn::Sub":
                return self._sub(arg)
            case "Fn::Join":
                if not (isinstance(arg, list) and len(arg) == 2):
                    raise Unresolvable("!Join takes [delimiter, [values]]")
                sep = self.resolve_str(arg[0], "!Join delimiter")
                items = self.resolve(arg[1])
                if not isinstance(items, list):
                    raise Unresolvable("!Join takes a list of values")
                return sep.join(self._scalar(i, "!Join") for i in items)
            case "Fn::Select":
                if not (isinstance(arg, list) and len(arg) == 2):
                    raise Unresolvable("!Select takes [index, [values]]")
                index, items = self.resolve(arg[0]), self.resolve(arg[1])
                try:
                    return items[int(index)]
                except (TypeError, ValueError, IndexError, KeyError):
                    raise Unresolvable(f"!Select index {index!r} is out of range") from None
            case "Fn::Split":
                if not (isinstance(arg, list) and len(arg) == 2):
                    raise Unresolvable("!Split takes [delimiter, string]")
                sep = self.resolve_str(arg[0], "!Split delimiter")
                return self.resolve_str(arg[1], "!Split source").split(sep)
            case "Fn::If":
                if not (isinstance(arg, list) and len(arg) == 3):
                    raise Unresolvable("!If takes [condition, then, else]")
                return self.resolve(arg[1] if self.condition(str(arg[0])) else arg[2])
            case "Fn::FindInMap":
                if not (isinstance(arg, list) and len(arg) in (3, 4)):
                    raise Unresolvable("!FindInMap takes [map, key, key]")
                keys = [self.resolve_str(a, "!FindInMap key") for a in arg[:3]]
                try:
                    return self.resolve(self.mappings[keys[0]][keys[1]][keys[2]])
                except (KeyError, TypeError):
                    if len(arg) == 4 and isinstance(arg[3], dict) and "DefaultValue" in arg[3]:
                        return self.resolve(arg[3]["DefaultValue"])
                    raise Unresolvable(f"!FindInMap {'/'.join(keys)} is not in Mappings") from None
            case "Fn::Base64":
                return base64.b64encode(self.resolve_str(arg, "!Base64").encode()).decode()
            case "Fn::ToJsonString":
                return json.dumps(self.resolve(arg), separators=(",", ":"))
            case "Fn::Length":
                items = self.resolve(arg)
                if not isinstance(items, list):
                    raise Unresolvable("!Length takes a list")
                return len(items)
            case "Fn::Equals" | "Fn::And" | "Fn::Or" | "Fn::Not" | "Condition":
                return self._truth({name: arg})
            case "Fn::ImportValue":
                raise Unresolvable("!ImportValue reads another stack's outputs, which Ramparts "
                                   "does not have")
            case _:
                raise Unresolvable(f"{name} has no offline value")

    def _scalar(self, value: Any, what: str) -> str:
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise Unresolvable(f"{what} joins only strings")
        return str(value)

    # -- references ---------------------------------------------------------------------------
    def ref(self, name: str) -> Any:
        pseudo = {
            "AWS::Region": self._region,
            "AWS::AccountId": self.catalog.account,
            "AWS::StackName": self.catalog.app,
            "AWS::StackId": f"arn:aws:cloudformation:{self._region}:{self.catalog.account}:"
                            f"stack/{self.catalog.app}/ramparts",
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name == "AWS::NotificationARNs":
            return []
        if name in self.parameters:
            value = self.parameters[name]
            if value is None:
                raise Unresolvable(f"parameter {name} has no Default value")
            return value
        return self.catalog.ref(name, self._region)

    def _get_att(self, arg: Any) -> Any:
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not (isinstance(arg, list) and len(arg) == 2):
            raise Unresolvable("!GetAtt takes Resource.Attribute")
        logical_id = self.resolve_str(arg[0], "!GetAtt resource")
        attribute = self.resolve_str(arg[1], "!GetAtt attribute")
        return self.catalog.get_att(logical_id, attribute, self._region)

    def _sub(self, arg: Any) -> str:
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], dict):
                raise Unresolvable("!Sub takes a string, or [string, {name: value}]")
            text, local = arg[0], {k: self.resolve(v) for k, v in arg[1].items()}
        else:
            text, local = arg, {}
        if not isinstance(text, str):
            raise Unresolvable("!Sub takes a string")

        def one(match: re.Match[str]) -> str:
            inner = match.group(1)
            if inner.startswith("!"):
                return "${" + inner[1:] + "}"  # ${!Literal} is written as ${Literal}
            if inner in local:
                return self._scalar(local[inner], "!Sub")
            if "." in inner and not inner.startswith("AWS::"):
                res, _, attr = inner.partition(".")
                return self._scalar(self.catalog.get_att(res, attr, self._region), "!Sub")
            return self._scalar(self.ref(inner), "!Sub")

        return _SUB_RE.sub(one, text)

    # -- conditions ---------------------------------------------------------------------------
    def condition(self, name: str) -> bool:
        if name not in self.conditions:
            raise Unresolvable(f"condition {name!r} is not declared under Conditions")
        return self._truth(self.conditions[name])

    def _truth(self, value: Any) -> bool:
        if isinstance(value, bool):
            return value
        if not is_intrinsic(value):
            raise Unresolvable("a condition must be Fn::Equals, Fn::And, Fn::Or, Fn::Not")
        (name, arg), = value.items()
        match name:
            case "Fn::Equals":
                if not (isinstance(arg, list) and len(arg) == 2):
                    raise Unresolvable("!Equals takes two values")
                a, b = self.resolve(arg[0]), self.resolve(arg[1])
                return str(a) == str(b)
            case "Fn::And":
                return all(self._truth(v) for v in arg)
            case "Fn::Or":
                return any(self._truth(v) for v in arg)
            case "Fn::Not":
                return not self._truth(arg[0] if isinstance(arg, list) else arg)
            case "Condition":
                return self.condition(str(arg))
        raise Unresolvable(f"{name} is not a condition function")
