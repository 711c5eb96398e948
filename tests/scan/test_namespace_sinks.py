"""Sinks reached through namespace lookups with literal keys (review 3, F1), through the gate."""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.scan.gate import GateOptions, run_gate
from tests.conftest import make_app
from tests.scan.apps import manifest

# Review 3, F1: a builtin or module function reached through a namespace lookup with a literal
# key is the same callee as its attribute spelling.
NAMESPACE_LOOKUPS = {
    "sys_modules_builtins": ("import sys", 'sys.modules["builtins"].eval(x)', "RP-T001"),
    "builtins_dict": ("import builtins", 'builtins.__dict__["eval"](x)', "RP-T001"),
    "vars_builtins": ("import builtins", 'vars(builtins)["exec"](x)', "RP-T001"),
    "dunder_builtins": ("import os", '__builtins__["eval"](x)', "RP-T001"),
    "globals_builtins": ("import os", 'globals()["__builtins__"]["eval"](x)', "RP-T001"),
    "sys_modules_os": ("import sys", 'sys.modules["os"].popen(x).read()', "RP-T002"),
    "os_dict": ("import os", 'os.__dict__["popen"](x).read()', "RP-T002"),
    "vars_os": ("import os", 'vars(os)["popen"](x).read()', "RP-T002"),
    "getattribute": ("import os", 'os.__getattribute__("popen")(x).read()', "RP-T002"),
    "getattr_sys_modules": ("import sys", 'getattr(sys.modules["os"], "popen")(x).read()',
                            "RP-T002"),
}


@pytest.mark.parametrize("name", sorted(NAMESPACE_LOOKUPS))
def test_a_sink_reached_through_a_namespace_lookup_is_found(tmp_path: Path, name: str) -> None:
    imports, expr, rule = NAMESPACE_LOOKUPS[name]
    code = (f"{imports}\n\n\ndef handler(event, context):\n"
            f"    x = event['body']\n    return str({expr})\n")
    result = run_gate(make_app(tmp_path, manifest("ns", "/ns"), {"h.py": code}),
                      GateOptions(use_app_baseline=False))
    assert (rule, "h.py", 6) in {(f.rule_id, f.path, f.line) for f in result.blocking}
