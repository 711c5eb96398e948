"""SAM's ``Globals`` section, merged into each function the way SAM merges it.

SAM's rules: a mapping in ``Globals.Function`` is merged key by key with the
function's own (the function wins; ``Environment.Variables`` is the common
case), a list is the global items followed by the function's, and any other
value is replaced by the function's.  Only ``Function`` globals matter to the
importer; ``Api``/``HttpApi``/``SimpleTable`` globals are read where used.
"""

from __future__ import annotations

import copy
from typing import Any

SERVERLESS_FUNCTION = "AWS::Serverless::Function"


def _merge(glob: Any, local: Any) -> Any:
    if isinstance(glob, dict) and isinstance(local, dict) and not _is_intrinsic(local):
        out = dict(glob)
        for key, value in local.items():
            out[key] = _merge(glob[key], value) if key in glob else value
        return out
    if isinstance(glob, list) and isinstance(local, list):
        return [*glob, *local]
    return local


def _is_intrinsic(value: dict[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)).startswith(("Fn::", "Ref"))


def function_properties(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    """The function's Properties with ``Globals.Function`` merged in (a copy)."""
    resource = template["Resources"][logical_id]
    local = copy.deepcopy(resource.get("Properties") or {})
    sections = template.get("Globals")
    glob = (sections.get("Function") if isinstance(sections, dict) else None) or {}
    if not isinstance(glob, dict):
        return local
    return _merge(copy.deepcopy(glob), local)


def section_globals(template: dict[str, Any], section: str) -> dict[str, Any]:
    """``Globals.Api``, ``Globals.HttpApi``...: an empty mapping when absent."""
    sections = template.get("Globals")
    value = sections.get(section) if isinstance(sections, dict) else None
    return value if isinstance(value, dict) else {}
