"""Which tables an app has, and their key schemas, read from a version's own manifest.

A version's code directory holds the ``ramparts.yaml`` it was deployed
with (covered by the version's signed digest), so the tables a caller sees
are those of the manifest its own code shipped with; nothing else is
stored.  A table *exists* for an app when that manifest names it: under
``tables:``, as a ``table:`` trigger of any function, or in a ``kv:`` (or
``arn:aws:dynamodb:...:table/NAME``) resource of any role.  Any other
table name is a ``ResourceNotFoundException`` for the DynamoDB API (the
native ``context.kv`` API is unchanged and reaches any name its role allows).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from ramparts.tables.keys import KeySchema

_KV_RESOURCE = re.compile(r"^kv:([A-Za-z0-9_.-]+)(?:/|$)")
_AWS_TABLE = re.compile(r"^arn:aws:dynamodb:[^:]*:[^:]*:table/([A-Za-z0-9_.-]+)(?:/|$)")
_ARN_TABLE = re.compile(r"^arn:ramparts:kv:[^:]*:table/([A-Za-z0-9_.-]+)(?:/|$)")


@dataclass(frozen=True)
class AppTables:
    schemas: dict[str, KeySchema] = field(default_factory=dict)
    known: frozenset[str] = frozenset()

    def exists(self, table: str) -> bool:
        return table in self.known

    def schema(self, table: str) -> KeySchema:
        return self.schemas.get(table) or KeySchema.default()


def _resource_table(resource: str) -> str | None:
    for pattern in (_KV_RESOURCE, _AWS_TABLE, _ARN_TABLE):
        m = pattern.match(resource)
        if m and not any(c in m.group(1) for c in "*?"):
            return m.group(1)
    return None


@lru_cache(maxsize=256)
def app_tables(code_dir: str) -> AppTables:
    """The tables of the manifest in ``code_dir`` (cached: a version's code never changes)."""
    from ramparts.manifest import load_manifest

    try:
        manifest = load_manifest(Path(code_dir))
    except Exception:  # a version without a readable manifest knows no tables: fail closed
        return AppTables()
    schemas = {name: KeySchema.from_manifest(s) for name, s in manifest.tables.items()}
    known = set(schemas)
    roles = list(manifest.roles.values())
    for fn in manifest.functions.values():
        for trig in fn.triggers:
            if trig.table is not None:
                known.add(trig.table.name)
        role = getattr(fn, "role", None)
        if role is not None and not isinstance(role, str):
            roles.append(role)
    resources: list[str] = []
    for role in roles:
        for statement in getattr(role, "statements", []):
            resources.extend(statement.resources)
        for policy in getattr(role, "policies", []):
            found = policy.get("Statement", []) if isinstance(policy, dict) else []
            for st in found if isinstance(found, list) else [found]:
                res = st.get("Resource", []) if isinstance(st, dict) else []
                resources.extend(
                    r for r in ([res] if isinstance(res, str) else res) if isinstance(r, str)
                )
    for resource in resources:
        name = _resource_table(resource)
        if name:
            known.add(name)
    return AppTables(schemas, frozenset(known))
