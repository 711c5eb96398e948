"""The scanner tuning corpus (tests/scan/taint_corpus/) through the real gate.

Each case folder is scanned on its own with ``run_gate`` (bandit, taint,
logic, secrets, manifest ... exactly as ``ramparts scan DIR`` runs them).
A vulnerable case must produce a finding of the annotated rule, with its
CWE, at the annotated file and line; its safe twin must produce no finding
of that rule at the line where the sink would be, and no blocking (high or
critical) finding of the rule's CWE there from any rule, bandit's included
(a safe twin that still blocks the deploy is a false positive whoever raises
it).  Lines match exactly here (bench/scan_corpus.py reports rates with a
one-line tolerance).

Cases the scanner on main cannot pass yet are strict xfails, so this file
passes on main and each marker turns into a failure (XPASS) the day the
rule or the engine change lands; the marker is then removed:

* ``PENDING_RULES``: rules that do not exist on main yet (their vulnerable
  cases; safe twins pass trivially and are asserted from day one);
* ``MAIN_MISSES``: known misses (and one false positive) of rules that
  exist, each to be removed when the rule learns the case;
* ``BANDIT_KEEPS_HIGH``: safe twins whose command is built through names, so
  bandit's shell finding keeps its high (the gate lowers only literals and
  words quoted at the call: docs/scanning.md, "Bandit rules we change").
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from ramparts.scan.findings import Severity
from ramparts.scan.gate import run_gate
from tests.scan.corpus_marks import CORPUS, RULE_CWES, Mark, case_dirs, read_marks

PENDING_RULES: dict[str, str] = {}

MAIN_MISSES: dict[str, set[str]] = {}

BANDIT_KEEPS_HIGH: dict[str, set[str]] = {
    "T002_command": {"03_lambda_evctx_klass_safe", "06_fastapi_body_direct_safe",
                     "08_py312_flask_safe"},
}

_MIN_PER_CATEGORY = 6


def _pending(case: Path) -> str | None:
    category, name = case.parent.name, case.name
    if name in BANDIT_KEEPS_HIGH.get(category, set()):
        return ("safe, but built through names: bandit's shell finding keeps its high "
                "(commands are lowered only when written as literals or quoted at the call)")
    if name in MAIN_MISSES.get(category, set()):
        if name.endswith("_safe"):
            return "false positive: the rule does not understand this guard yet"
        return "the rule does not model this call or flow yet"
    for mark in read_marks(case):
        if mark.vulnerable and mark.rule in PENDING_RULES:
            return PENDING_RULES[mark.rule]
    return None


def _params() -> list[object]:
    out: list[object] = []
    for case in case_dirs():
        reason = _pending(case)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(case, marks=marks, id=case.relative_to(CORPUS).as_posix()))
    return out


def _describe(marks: list[Mark]) -> str:
    return ", ".join(f"{m.rule} at {m.path}:{m.line}" for m in marks)


@pytest.mark.parametrize("case", _params())
def test_case(case: Path) -> None:
    marks = read_marks(case)
    findings = run_gate(case).findings
    found = {(f.rule_id, f.cwe, f.path, f.line) for f in findings}
    missed = [m for m in marks if m.vulnerable and (m.rule, m.cwe, m.path, m.line) not in found]
    flagged = [
        m for m in marks
        if not m.vulnerable and any((f.rule_id, f.path, f.line) == (m.rule, m.path, m.line)
                                    for f in findings)
    ]
    blocking = [
        f"{f.rule_id} ({f.severity}) at {f.path}:{f.line}" for m in marks if not m.vulnerable
        for f in findings
        if (f.path, f.line, f.cwe) == (m.path, m.line, m.cwe) and f.severity >= Severity.HIGH
    ]
    assert not missed, f"not found: {_describe(missed)}"
    assert not flagged, f"false positive on a safe twin: {_describe(flagged)}"
    assert not blocking, f"a safe twin still blocks the deploy: {', '.join(blocking)}"


def test_every_case_is_annotated_with_one_known_rule_and_its_cwe() -> None:
    for case in case_dirs():
        marks = read_marks(case)
        assert marks, f"{case.name}: no '# expect:' or '# safe:' line"
        folder_rule = "RP-" + case.parent.name.split("_", 1)[0]
        for m in marks:
            assert m.rule == folder_rule, f"{m.case}: {m.rule} in the {folder_rule} folder"
            assert m.cwe == RULE_CWES[m.rule], f"{m.case}:{m.line}: {m.cwe} is not {m.rule}'s"
            assert m.vulnerable == case.name.endswith("_vuln"), f"{m.case}: wrong annotation"


def test_every_vulnerable_case_has_its_safe_twin() -> None:
    names = {c.relative_to(CORPUS).as_posix() for c in case_dirs()}
    for name in names:
        twin = name.removesuffix("_vuln") + "_safe" if name.endswith("_vuln") else (
            name.removesuffix("_safe") + "_vuln")
        assert twin in names, f"{name} has no twin {twin}"


def test_every_category_has_enough_cases_of_both_kinds() -> None:
    vulnerable: Counter[str] = Counter()
    safe: Counter[str] = Counter()
    for case in case_dirs():
        for m in read_marks(case):
            (vulnerable if m.vulnerable else safe)[m.rule] += 1
    for rule in RULE_CWES:
        assert vulnerable[rule] >= _MIN_PER_CATEGORY, f"{rule}: {vulnerable[rule]} vulnerable"
        assert safe[rule] >= _MIN_PER_CATEGORY, f"{rule}: {safe[rule]} safe"


def test_the_python_3_12_cases_really_need_a_3_12_parser() -> None:
    """Guards the 3.12 cases against being 'fixed' into 3.11 syntax."""
    import ast

    py312 = [p for c in case_dirs() if "_py312_" in c.name for p in c.rglob("*.py")]
    assert len(py312) >= 6
    for path in py312:
        with pytest.raises(SyntaxError):
            ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 11))


def test_markers_name_existing_cases_only() -> None:
    names = {c.relative_to(CORPUS).as_posix() for c in case_dirs()}
    for category, cases in (*MAIN_MISSES.items(), *BANDIT_KEEPS_HIGH.items()):
        for name in cases:
            assert f"{category}/{name}" in names, f"stale marker {category}/{name}"
