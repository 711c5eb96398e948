"""Never a crash: templates whose fields have unexpected shapes still give findings.

Hypothesis replaces random parts of the vulnerable twins with values of the
wrong shape (``Events: 5``, ``Statement: "x"``, ``Principal: [..]``, a null
resource ...), writes the result as a JSON template and runs the checks: each
run must return findings of known rules, never raise.  A check that raised
would make the gate refuse the deploy (fail closed), so this guards against
refusing valid-but-unusual templates for the wrong reason.
"""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ramparts.scan import iac
from ramparts.scan.iac.loader import parse
from ramparts.scan.source import load_tree

TEMPLATES = Path(__file__).parent / "templates"
DOCS = {name: parse((TEMPLATES / name).read_text(), name)
        for name in ("sam_vuln.yaml", "serverless_vuln.yml", "cfn_vuln.json")}
RULE_IDS = {r.rule_id for r in iac.RULES}

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["*", "NONE", "Allow", "", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
        st.sampled_from(["Type", "Properties", "Action", "Resource", "Effect", "Ref", "x"]),
        inner, max_size=3),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            out += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            out += _paths(child, (*prefix, i))
    return out


def _replace(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(DOCS)), picks=st.lists(
    st.tuples(st.integers(min_value=0), _values), min_size=1, max_size=3))
def test_odd_shapes_never_crash_the_checks(name: str, picks: list[tuple[int, Any]]) -> None:
    doc = json.loads(json.dumps(DOCS[name], default=str))
    for index, value in picks:
        paths = _paths(doc)
        _replace(doc, paths[index % len(paths)], copy.deepcopy(value))
    target = "serverless.yml" if name.startswith("serverless") else "template.json"
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, target).write_text(json.dumps(doc) if target.endswith(".json")
                                     else json.dumps(doc, indent=1))
        findings = iac.run(load_tree(Path(tmp)))
    assert {f.rule_id for f in findings} <= RULE_IDS
