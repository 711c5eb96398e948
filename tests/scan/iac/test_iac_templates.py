"""The template checks (``ramparts.scan.iac``) on realistic twins in ``templates/``.

Each vulnerable template marks the lines that must be flagged with a trailing
``# expect: RULE, RULE`` comment (JSON cannot hold comments: its expectations
are listed here, found by the text of the flagged line); findings are compared
exactly, so a false positive fails as surely as a miss.  Each fixed twin must
come out clean.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from ramparts.scan import iac
from ramparts.scan.findings import Finding, Severity
from ramparts.scan.source import load_tree

TEMPLATES = Path(__file__).parent / "templates"
_EXPECT = re.compile(r"#\s*expect:\s*(RP-I.+)$")

# (corpus file, name it is scanned under)
TWINS = [
    ("sam_vuln.yaml", "template.yaml"),
    ("sam_fixed.yaml", "template.yaml"),
    ("serverless_vuln.yml", "serverless.yml"),
    ("serverless_fixed.yml", "serverless.yml"),
    ("cfn_vuln.json", "infra/inventory.json"),
    ("cfn_fixed.json", "infra/inventory.json"),
]

CFN_VULN_EXPECTED = [  # (rule, text that starts the flagged line, after indentation)
    ("RP-I003", '"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]'),
    ("RP-I003", '"NotAction": "iam:*"'),
    ("RP-I008", '"InventoryFunction": {'),
    ("RP-I009", '"InventoryFunction": {'),
    ("RP-I011", '"InventoryFunction": {'),
    ("RP-I010", '"Environment": {"Variables": {"AWS_SECRET_ACCESS_KEY"'),
    ("RP-I002", '"AuthorizationType": "NONE"'),
    ("RP-I002", '"InventoryRoute": {'),
    ("RP-I007", '"SSESpecification": {"SSEEnabled": false}'),
    ("RP-I005", '"AccessControl": "PublicReadWrite"'),
    ("RP-I006", '"PublicAccessBlockConfiguration": {"BlockPublicAcls": false'),
    ("RP-I007", '"ExportsBucket": {'),
]


def _expected(name: str) -> set[tuple[str, int]]:
    text = (TEMPLATES / name).read_text()
    lines = text.splitlines()
    if name == "cfn_vuln.json":
        out = set()
        for rule, start in CFN_VULN_EXPECTED:
            hits = [i for i, line in enumerate(lines, 1) if line.strip().startswith(start)]
            assert len(hits) == 1, start
            out.add((rule, hits[0]))
        return out
    out = set()
    for number, line in enumerate(lines, 1):
        m = _EXPECT.search(line)
        if m:
            out.update((rule.strip(), number) for rule in m.group(1).split(","))
    return out


def _scan(tmp_path: Path, name: str, as_name: str) -> list[Finding]:
    target = tmp_path / as_name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(TEMPLATES / name, target)
    return iac.run(load_tree(tmp_path))


def test_every_template_has_a_case_and_a_twin() -> None:
    files = {p.name for p in TEMPLATES.iterdir()}
    assert files == {t[0] for t in TWINS}
    for name in files:
        if "_vuln" in name:
            assert name.replace("_vuln", "_fixed") in files


@pytest.mark.parametrize(("name", "as_name"), TWINS, ids=[t[0] for t in TWINS])
def test_template_findings_are_exactly_the_expected(tmp_path: Path, name: str,
                                                    as_name: str) -> None:
    findings = _scan(tmp_path, name, as_name)
    got = {(f.rule_id, f.line) for f in findings}
    expected = _expected(name)
    if "_fixed" in name:
        assert expected == set()
    else:
        assert expected, "a vulnerable twin must expect findings"
    assert got == expected
    rules = {r.rule_id: r for r in iac.RULES}
    for f in findings:
        assert f.path == as_name and f.family == "iac"
        assert f.cwe == rules[f.rule_id].cwe
        assert len(f.id) == 12


def test_severities_follow_what_is_exploitable(tmp_path: Path) -> None:
    findings = _scan(tmp_path, "sam_vuln.yaml", "template.yaml")
    text = (TEMPLATES / "sam_vuln.yaml").read_text().splitlines()

    def sev(rule: str, fragment: str) -> Severity:
        line = next(i for i, s in enumerate(text, 1) if fragment in s and rule in s)
        return next(f.severity for f in findings if f.rule_id == rule and f.line == line)

    assert sev("RP-I003", "AdministratorAccess") == Severity.HIGH
    assert sev("RP-I003", 'Action: "*"') == Severity.HIGH
    assert sev("RP-I003", "dynamodb:*") == Severity.MEDIUM
    assert sev("RP-I004", 'Resource: "*"') == Severity.MEDIUM
    assert sev("RP-I005", "PublicRead") == Severity.HIGH
    assert sev("RP-I005", "Principal") == Severity.HIGH
    assert sev("RP-I010", "DB_PASSWORD") == Severity.HIGH
    assert sev("RP-I002", "CreateOrder") == Severity.MEDIUM
    assert sev("RP-I007", "OrdersQueue") == Severity.MEDIUM
    assert sev("RP-I007", "UploadsBucket") == Severity.LOW  # S3 encrypts by default since 2023
    assert sev("RP-I011", "CreateOrderFunction") == Severity.LOW


def test_messages_never_carry_the_secret(tmp_path: Path) -> None:
    findings = _scan(tmp_path, "sam_vuln.yaml", "template.yaml")
    leaked = [f for f in findings if "sk_live_" in f.message + f.remediation
              or "Tr0ub4dor" in f.message + f.fingerprint_text]
    assert leaked == []
    assert {f.rule_id for f in findings if "DB_PASSWORD" in f.message} == {"RP-I010"}


def test_every_rule_has_one_cwe_and_the_family_is_known() -> None:
    from ramparts.scan.findings import FAMILIES

    assert "iac" in FAMILIES
    ids = [r.rule_id for r in iac.RULES]
    assert ids == sorted(set(ids)) and ids[0] == "RP-I001"
    for rule in iac.RULES:
        assert rule.family == "iac"
        assert rule.rule_id == "RP-I001" or re.fullmatch(r"CWE-\d+", rule.cwe or "")
