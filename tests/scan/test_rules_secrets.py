"""Hardcoded secrets (``ramparts.scan.secrets``) on ``corpus/secrets``: real detect-secrets.

Code and config files go through every detect-secrets plugin (RP-S001); a
manifest's ``environment:`` entries also get RP-S002.  Each case is compared
exactly by rule id and line: missing findings and false positives both fail.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from ramparts.manifest import parse_manifest
from ramparts.scan import manifest_lint, secrets
from ramparts.scan.findings import Finding, Severity
from ramparts.scan.source import load_tree

CORPUS = Path(__file__).parent / "corpus" / "secrets"

FILE_CASES: list[tuple[str, set[tuple[str, int]]]] = [
    # AWS key id, AWS secret key, private key, GitHub token: one finding per line
    ("aws_key_vuln.py", {("RP-S001", 6), ("RP-S001", 7), ("RP-S001", 8), ("RP-S001", 14)}),
    ("aws_key_safe.py", set()),  # context.secrets, placeholders, a UUID, short strings
    ("config_vuln.json", {("RP-S001", 3), ("RP-S001", 4)}),
    ("config_safe.json", set()),
    ("sri_safe.html", set()),  # subresource-integrity hashes are digests, not keys
    ("placeholders_safe.env", set()),  # GENERATE_SECRET=false, masked and templated values
    ("placeholders_safe.py", set()),
    ("placeholders_vuln.py", {("RP-S001", 4), ("RP-S001", 5)}),  # "changeme" logs in
    ("sbom_safe.cdx.json", set()),  # CycloneDX component hashes
    ("requirements_safe.txt", set()),  # pip --hash digests
    # secrets named by their store path or a dynamic reference, ApiKeyRequired: true
    ("sam_refs_safe.yaml", set()),
    ("sam_refs_vuln.yaml", {("RP-S001", 12), ("RP-S001", 13)}),
]

# manifest cases are installed as the app's ramparts.yaml, as the gate sees them
MANIFEST_CASES: list[tuple[str, set[tuple[str, int]]]] = [
    ("env_vuln.yaml", {("RP-S002", 11), ("RP-S002", 12)}),
    ("env_safe.yaml", set()),  # URLs, hosts, a git sha, a UUID, a slug: settings, not keys
]


def _scan_file(tmp_path: Path, name: str, as_name: str | None = None) -> list[Finding]:
    shutil.copy(CORPUS / name, tmp_path / (as_name or name))
    return secrets.run(load_tree(tmp_path))


@pytest.mark.parametrize(("name", "expected"), FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_file_case(tmp_path: Path, name: str, expected: set[tuple[str, int]]) -> None:
    findings = _scan_file(tmp_path, name)
    assert {(f.rule_id, f.line) for f in findings} == expected
    for f in findings:
        assert f.path == name and f.severity is Severity.HIGH and f.cwe == "CWE-798"


def test_messages_name_the_kind_never_the_value(tmp_path: Path) -> None:
    findings = {f.line: f for f in _scan_file(tmp_path, "aws_key_vuln.py")}
    assert findings[6].message.startswith("AWS Access Key")
    assert findings[8].message.startswith("Private Key")
    assert findings[14].message.startswith("GitHub Token")
    for f in findings.values():
        assert "AKIA" not in f.message and "EXAMPLEKEY" not in f.message
        assert "AKIA" not in f.fingerprint_text


@pytest.mark.parametrize(("name", "expected"), MANIFEST_CASES,
                         ids=[c[0] for c in MANIFEST_CASES])
def test_manifest_environment_case(tmp_path: Path, name: str,
                                   expected: set[tuple[str, int]]) -> None:
    text = (CORPUS / name).read_text()
    data = yaml.safe_load(text)
    parse_manifest(data, name)  # the corpus manifest is one the schema accepts
    file_findings = _scan_file(tmp_path, name, "ramparts.yaml")
    taken = {f.line for f in file_findings}
    env_findings = secrets.manifest_environment(data, manifest_lint.line_map(text), taken)
    got = {(f.rule_id, f.line) for f in [*file_findings, *env_findings]}
    assert got == expected
    for f in env_findings:
        assert f.path == "ramparts.yaml" and f.cwe == "CWE-798"
        assert "q8Zr3" not in f.message


def test_entropy_hits_on_environment_lines_are_left_to_the_manifest_check(tmp_path: Path) -> None:
    """Outside ramparts.yaml, detect-secrets' own entropy plugins still report."""
    findings = _scan_file(tmp_path, "env_vuln.yaml")
    assert {(f.rule_id, f.line) for f in findings} == {("RP-S001", 11)}


@pytest.mark.parametrize(("value", "name", "random"), [
    ("q8Zr3Lm0Xv7Tn2Wb5Yk9Hd4Fs6Jp1Gc", "SEED", True),
    ("Zk9xR2pLc3VtTjRhV2JQeVhkRmhUZ0NxRVoyVm1Ld3M=", "X", True),
    ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "UPSTREAM", True),
    ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", "GIT_SHA", False),
    ("https://uploads.example.com/images", "URL", False),
    ("postgres.internal.example.com", "HOST", False),
    ("3f2b8c1e-9d4a-4e6b-8f0c-1a2b3c4d5e6f", "TENANT_ID", False),
    ("orders-api-production-eu-west-1", "ENV", False),
    ("MyAppConfiguration2024", "NAME", False),
    ("short", "X", False),
])
def test_looks_random(value: str, name: str, random: bool) -> None:
    assert secrets.looks_random(value, name) is random


def test_a_secrets_manager_arn_in_the_environment_is_a_reference(tmp_path: Path) -> None:
    """``SECRET_ARN: arn:aws:secretsmanager:...:secret:NAME`` names a secret (Lambda's idiom)."""
    (tmp_path / "ramparts.yaml").write_text(
        "app: refs\n"
        "functions:\n"
        "  fn:\n"
        "    handler: h.py:handler\n"
        "    environment:\n"
        "      SECRET_ARN: arn:aws:secretsmanager:us-east-1:123456789012:"
        "secret:db.password-AbC123\n"
        "      PARAM: /app/db/password\n"
        "      DB_PASSWORD: hunter2hunter2XyZq\n"
    )
    findings = secrets.run(load_tree(tmp_path))
    assert {(f.rule_id, f.line) for f in findings} == {("RP-S001", 8)}  # the real password only


def test_well_known_digests_commit_ids_and_header_names_are_not_secrets(tmp_path: Path) -> None:
    (tmp_path / "handler.py").write_text(
        'EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"\n'
        'GIT_COMMIT = "9fceb02d0ae598e95dc970b74767f19372d61af8"\n'
        'ETAG = "d41d8cd98f00b204e9800998ecf8427e"\n'
        'API_KEY_HEADER = "X-Api-Key"\n'
        'API_KEY = "9fceb02d0ae598e95dc970b74767f19372d61af8"\n'  # the same hex as a key
    )
    found = secrets.run(load_tree(tmp_path))
    assert [(f.rule_id, f.line, f.severity) for f in found] == [("RP-S001", 5, Severity.HIGH)]
