"""The event-taint rules (``ramparts.scan.taint``) against the corpus of vulnerable
handlers and their safe twins under ``corpus/taint``.

Each case is scanned on its own (copied into an empty app dir, with the package
it imports), and the exact set of (rule id, file, line) is compared: a missing
finding and an extra one (a false positive) both fail.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ramparts.scan import taint
from ramparts.scan.findings import Severity
from ramparts.scan.source import load_tree

CORPUS = Path(__file__).parent / "corpus" / "taint"

# file -> expected {(rule id, path, line)}; extra files the case needs
CASES: list[tuple[str, set[tuple[str, str, int]], tuple[str, ...]]] = [
    ("eval_body_vuln.py", {("RP-T001", "eval_body_vuln.py", 6)}, ()),
    ("eval_body_safe.py", set(), ()),
    ("exec_json_body_vuln.py", {("RP-T001", "exec_json_body_vuln.py", 9),
                                ("RP-T001", "exec_json_body_vuln.py", 10)}, ()),
    ("exec_json_body_safe.py", set(), ()),
    ("shell_query_vuln.py", {("RP-T002", "shell_query_vuln.py", 8)}, ()),
    ("shell_query_safe.py", set(), ()),
    ("os_system_path_vuln.py", {("RP-T002", "os_system_path_vuln.py", 8),
                                ("RP-T002", "os_system_path_vuln.py", 9)}, ()),
    ("os_system_path_safe.py", set(), ()),
    ("subprocess_string_vuln.py", {("RP-T002", "subprocess_string_vuln.py", 8),
                                   ("RP-T002", "subprocess_string_vuln.py", 10),
                                   ("RP-T002", "subprocess_string_vuln.py", 11)}, ()),
    ("subprocess_string_safe.py", set(), ()),
    ("propagation_vuln.py", {("RP-T002", "propagation_vuln.py", 16),
                             ("RP-T002", "propagation_vuln.py", 20),
                             ("RP-T002", "propagation_vuln.py", 22)}, ()),
    ("propagation_safe.py", set(), ()),
    ("sql_cookie_vuln.py", {("RP-T003", "sql_cookie_vuln.py", 11)}, ()),
    ("sql_cookie_safe.py", set(), ()),
    ("sql_helper_vuln.py", {("RP-T003", "sql_helper_vuln.py", 13),
                            ("RP-T003", "sql_helper_vuln.py", 25)}, ()),
    ("sql_helper_safe.py", set(), ()),
    ("orders_sql_vuln.py", {("RP-T003", "orders/store.py", 5)},
     ("orders/__init__.py", "orders/store.py")),
    ("orders_sql_safe.py", set(), ("orders/__init__.py", "orders/store.py")),
    ("pickle_sqs_vuln.py", {("RP-T004", "pickle_sqs_vuln.py", 9)}, ()),
    ("pickle_sqs_safe.py", set(), ()),
    ("yaml_dynamodb_vuln.py", {("RP-T004", "yaml_dynamodb_vuln.py", 11),
                               ("RP-T004", "yaml_dynamodb_vuln.py", 12)}, ()),
    ("yaml_dynamodb_safe.py", set(), ()),
    ("path_s3_key_vuln.py", {("RP-T005", "path_s3_key_vuln.py", 14),
                             ("RP-T005", "path_s3_key_vuln.py", 16)}, ()),
    ("path_s3_key_safe.py", set(), ()),
    ("pathlib_query_vuln.py", {("RP-T005", "pathlib_query_vuln.py", 11)}, ()),
    ("pathlib_query_safe.py", set(), ()),
    ("ssrf_body_vuln.py", {("RP-T006", "ssrf_body_vuln.py", 11),
                           ("RP-T006", "ssrf_body_vuln.py", 13),
                           ("RP-T006", "ssrf_body_vuln.py", 15)}, ()),
    ("ssrf_body_safe.py", set(), ()),
    ("ssrf_schedule_vuln.py", {("RP-T006", "ssrf_schedule_vuln.py", 12)}, ()),
    ("ssrf_schedule_safe.py", set(), ()),
    ("template_body_vuln.py", {("RP-T007", "template_body_vuln.py", 10),
                               ("RP-T007", "template_body_vuln.py", 11)}, ()),
    ("template_body_safe.py", set(), ()),
    ("context_calls_safe.py", set(), ()),
]


def _app(tmp_path: Path, files: tuple[str, ...]) -> Path:
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / rel, tmp_path / rel)
    return tmp_path


@pytest.mark.parametrize(("name", "expected", "extra"), CASES, ids=[c[0] for c in CASES])
def test_corpus_case(
    tmp_path: Path, name: str, expected: set[tuple[str, str, int]], extra: tuple[str, ...]
) -> None:
    findings = taint.run(load_tree(_app(tmp_path, (name, *extra))))
    assert {(f.rule_id, f.path, f.line) for f in findings} == expected
    for f in findings:
        rule = next(r for r in taint.RULES.values() if r.rule_id == f.rule_id)
        assert f.cwe == rule.cwe and f.family == "taint" and f.severity is Severity.HIGH
        assert f.remediation and f.message


def test_every_corpus_file_has_a_case_and_every_twin_exists() -> None:
    files = {p.name for p in CORPUS.glob("*.py")}
    assert files == {c[0] for c in CASES}
    for name in files:
        if name.endswith("_vuln.py"):
            assert name.replace("_vuln.py", "_safe.py") in files, name


def test_the_table_matches_the_markers_in_the_corpus() -> None:
    """Each expected line carries a ``# finding: RULE`` comment, and no other line does."""
    marked: set[tuple[str, str, int]] = set()
    for path in CORPUS.rglob("*.py"):
        rel = path.relative_to(CORPUS).as_posix()
        for number, line in enumerate(path.read_text().splitlines(), 1):
            m = re.search(r"# finding: (RP-T\d{3})", line)
            if m:
                marked.add((m.group(1), rel, number))
    assert marked == set().union(*(c[1] for c in CASES))


def test_findings_name_the_call_chain_into_a_helper(tmp_path: Path) -> None:
    app = _app(tmp_path, ("orders_sql_vuln.py", "orders/__init__.py", "orders/store.py"))
    (finding,) = taint.run(load_tree(app))
    assert "orders_sql_vuln.py:14 -> orders/store.py:find_order_unsafe" in finding.message


def test_declared_handler_with_any_parameter_name_is_a_source(tmp_path: Path) -> None:
    (tmp_path / "job.py").write_text("import os\n\n\ndef run(payload):\n    os.system(payload)\n")
    assert taint.run(load_tree(tmp_path)) == []
    found = taint.run(load_tree(tmp_path), {"job.py": {"run"}})
    assert [(f.rule_id, f.line) for f in found] == [("RP-T002", 5)]


def test_rules_have_stable_ids_cwes_and_remediations() -> None:
    """T001-T007 keep their ids; T008-T015 follow the shared table (notes/cwe.md)."""
    ids = {kind: rule.rule_id for kind, rule in taint.RULES.items()}
    assert ids == {"code": "RP-T001", "command": "RP-T002", "sql": "RP-T003",
                   "deserialize": "RP-T004", "path": "RP-T005", "ssrf": "RP-T006",
                   "template": "RP-T007", "nosql": "RP-T008", "xpath": "RP-T009",
                   "ldap": "RP-T010", "redirect": "RP-T011", "xss": "RP-T012",
                   "xxe": "RP-T013", "log": "RP-T014", "trust-boundary": "RP-T015"}
    assert {r.rule_id: r.cwe for r in taint.RULES.values()} == {
        "RP-T001": "CWE-94", "RP-T002": "CWE-78", "RP-T003": "CWE-89", "RP-T004": "CWE-502",
        "RP-T005": "CWE-22", "RP-T006": "CWE-918", "RP-T007": "CWE-1336",
        "RP-T008": "CWE-943", "RP-T009": "CWE-643", "RP-T010": "CWE-90",
        "RP-T011": "CWE-601", "RP-T012": "CWE-79", "RP-T013": "CWE-611",
        "RP-T014": "CWE-117", "RP-T015": "CWE-501"}
