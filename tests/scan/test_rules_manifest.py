"""Manifest lint (``ramparts.scan.manifest_lint``) on ``corpus/manifest``.

Every corpus manifest is valid for the schema (risky is not invalid); each is
linted and compared exactly by rule id and line, so false positives fail.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ramparts.manifest import parse_manifest
from ramparts.scan import manifest_lint
from ramparts.scan.findings import Finding, Severity

CORPUS = Path(__file__).parent / "corpus" / "manifest"

CASES: list[tuple[str, set[tuple[str, int, Severity]]]] = [
    ("public_route_vuln.yaml", {("RP-M001", 11, Severity.LOW)}),
    ("public_route_no_rate_vuln.yaml", {("RP-M001", 11, Severity.LOW),
                                        ("RP-M002", 8, Severity.MEDIUM)}),
    ("public_route_safe.yaml", set()),
    ("wildcard_policy_vuln.yaml", {("RP-M003", 10, Severity.HIGH),
                                   ("RP-M003", 21, Severity.MEDIUM)}),
    ("wildcard_policy_safe.yaml", set()),
    ("webhook_vuln.yaml", {("RP-M001", 12, Severity.LOW), ("RP-M004", 9, Severity.MEDIUM)}),
    ("webhook_safe.yaml", set()),
    ("timeout_vuln.yaml", {("RP-M005", 4, Severity.LOW)}),
    ("timeout_safe.yaml", set()),
    ("dead_letter_vuln.yaml", {("RP-M006", 9, Severity.LOW), ("RP-M006", 10, Severity.LOW)}),
    ("dead_letter_safe.yaml", set()),
    ("runtime_vuln.yaml", {("RP-M007", 7, Severity.MEDIUM), ("RP-M007", 8, Severity.MEDIUM)}),
    ("runtime_safe.yaml", set()),
]


def _lint(name: str) -> list[Finding]:
    text = (CORPUS / name).read_text()
    manifest = parse_manifest(yaml.safe_load(text), name)
    return manifest_lint.lint(manifest, manifest_lint.line_map(text))


def test_every_corpus_file_has_a_case_and_every_twin_exists() -> None:
    files = {p.name for p in CORPUS.glob("*.yaml")}
    assert files == {c[0] for c in CASES}
    for name in files:
        if name.endswith("_vuln.yaml"):
            stem = name.removesuffix("_vuln.yaml").removesuffix("_no_rate")
            assert f"{stem}_safe.yaml" in files, name


@pytest.mark.parametrize(("name", "expected"), CASES, ids=[c[0] for c in CASES])
def test_corpus_case(name: str, expected: set[tuple[str, int, Severity]]) -> None:
    findings = _lint(name)
    assert {(f.rule_id, f.line, f.severity) for f in findings} == expected
    cwes = {r.rule_id: r.cwe for r in manifest_lint.RULES}
    for f in findings:
        assert f.path == "ramparts.yaml" and f.family == "manifest"
        assert f.cwe == cwes[f.rule_id] and f.remediation


def test_an_ordinary_app_does_not_block() -> None:
    """Calibration: a deliberate public route warns (low/medium), it never blocks at high."""
    for name in ("public_route_vuln.yaml", "public_route_no_rate_vuln.yaml", "webhook_vuln.yaml",
                 "timeout_vuln.yaml", "dead_letter_vuln.yaml"):
        assert all(f.severity < Severity.HIGH for f in _lint(name)), name


@pytest.mark.parametrize(("path", "hook"), [
    ("/webhooks/stripe", True), ("/hooks/github", True), ("/stripe-webhook", True),
    ("/payments/callback", True), ("/paypal/ipn", True),
    ("/oauth/callback", False), ("/auth/callback", False), ("/orders/{id}", False),
    ("/hookah-shop", False), ("/notifications/settings", False),
])
def test_webhook_paths(path: str, hook: bool) -> None:
    assert manifest_lint.looks_like_webhook(path) is hook
