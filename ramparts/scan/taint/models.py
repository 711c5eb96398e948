"""Data-model classes (pydantic, dataclasses, attrs): what making one from input stores.

``Order(**json.loads(body))`` or ``Order.model_validate(data)`` copies the
input into the instance's declared fields. The engine keeps attribute taint
per class (``analysis.Program.fields``), so each declared field receives what
the input carried and ``o.customer`` reads it back. A field declared
``int``/``float``/``bool``/``UUID``/a date is validated into that type by
pydantic and FastAPI (and declared so by a dataclass) and carries no text, so
it stays clean. Only classes the app defines are followed; attributes a model
does not declare are not stored.
"""

from __future__ import annotations

import ast
from typing import Any

from ramparts.scan.taint.frameworks.fastapi import SCALAR_TYPES
from ramparts.scan.taint.rules import CLEAN, Taint

# class methods that build an instance from a mapping or a JSON text (pydantic v1/v2, ...)
VALIDATORS = frozenset({"model_validate", "model_validate_json", "parse_obj", "parse_raw",
                        "model_construct", "construct", "from_dict", "from_json",
                        "validate", "load"})


def app_class(i: Any, node: ast.expr) -> str | None:
    """The app class ``node`` names (``Order``, ``schemas.Order``), as "module:Class"."""
    if not isinstance(node, ast.Name | ast.Attribute) or (
            isinstance(node, ast.Name) and node.id in i.env):
        return None
    made = i.p.resolve(i.mod, i.qualname(node), None)
    if made is None or made[2] is None or made[1].name != "__init__":
        return None
    return str(made[2])


def declared_fields(program: Any, cls: str, seen: int = 0) -> dict[str, str]:
    """Field name -> type name of an app class, its app base classes' first."""
    module, _, klass = cls.partition(":")
    mod = program.modules.get(module)
    info = mod.classes.get(klass) if mod is not None else None
    if info is None or seen > 5:
        return {}
    out: dict[str, str] = {}
    for base in info.bases:
        base_module, _, base_name = base.rpartition(".")
        owner = program.modules.get(base_module) if base_module else mod
        if owner is not None and base_name in owner.classes:
            out.update(declared_fields(program, f"{owner.sf.module}:{base_name}", seen + 1))
    out.update(info.fields)
    return out


def construct(program: Any, cls: str, args: list[Taint],
              kwargs: dict[str | None, Taint]) -> None:
    """Store what each declared field of a new ``cls`` instance receives."""
    fields = declared_fields(program, cls)
    names = list(fields)
    received: dict[str, Taint] = {}
    for n, t in enumerate(args):
        if n < len(names):
            received[names[n]] = received.get(names[n], CLEAN) | t
    for k, t in kwargs.items():
        for name in (names if k is None else [k] if k in fields else []):
            received[name] = received.get(name, CLEAN) | t  # ``**data`` fills every field
    for name, t in received.items():
        if t and fields[name] not in SCALAR_TYPES:
            program.store_field(cls, name, t)
