"""``run_gate``: read the tree once, run every scanner (failing closed), merge, accept, judge."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from ramparts import yamlsafe
from ramparts.errors import ManifestError
from ramparts.manifest import MANIFEST_NAME, Manifest, load_manifest, parse_handler
from ramparts.scan import (
    calibrate,
    depth,
    embedded,
    iac,
    logic,
    manifest_lint,
    runner,
    sast,
    scope,
    taint,
    taint_cache,
)
from ramparts.scan import deps as deps_scan
from ramparts.scan import secrets as secrets_scan
from ramparts.scan.advisories import AdvisorySource
from ramparts.scan.baseline import find_default, load_baseline, today
from ramparts.scan.cache import ScanCache
from ramparts.scan.errors import ScanError, ScannerFailed
from ramparts.scan.findings import Finding, Rule, sort_key
from ramparts.scan.gate.acceptance import apply_acceptances
from ramparts.scan.gate.manifest import (
    POLICY_RULES,
    policy_or_too_deep,
    public_key_files,
    secret_reference_hashes,
)
from ramparts.scan.gate.result import GateOptions, GateResult
from ramparts.scan.gate.unread import gate_findings
from ramparts.scan.reqfile import InstallPolicy
from ramparts.scan.source import SourceTree, load_tree


def run_gate(root: Path, options: GateOptions | None = None) -> GateResult:
    """Scan ``root`` and judge it; ``ManifestError``/``ScanError`` for bad input."""
    options = options or GateOptions()
    started = time.perf_counter()
    if not root.is_dir():
        raise ScanError(f"{root}: not a directory", code="not_a_directory")
    notes: list[str] = []
    manifest: Manifest | None = None
    manifest_text = ""
    if (root / MANIFEST_NAME).is_file():
        manifest = load_manifest(root, display_name=MANIFEST_NAME)
        manifest_text = (root / MANIFEST_NAME).read_text(encoding="utf-8")
    else:
        notes.append(f"no {MANIFEST_NAME}: every .py file was scanned as handler code and the "
                     "manifest and policy checks were skipped")
    baseline = options.baseline
    if baseline is None and options.use_app_baseline:
        default = find_default(root)
        if default is not None:
            baseline = load_baseline(default, default.name)
    cache = None
    if options.cache_dir is not None:
        try:
            cache = ScanCache(options.cache_dir)
        except OSError:  # only costs time: every file is scanned
            notes.append("the scan cache could not be opened: every file was scanned")
        else:
            cache.hold()  # written only once the whole scan has run: nothing of a failed one
    tree = load_tree(root, manifest.scan.exclude if manifest is not None else (), cache)
    findings, rules = _scan(tree, manifest, manifest_text, options.advisories, notes,
                            options.parallel, options.install_policy, cache)
    scope.assign(tree, findings, cache)
    _bind_gate_findings_to_content(tree, findings)
    if cache is not None:
        cache.commit()
    if baseline is not None:
        own = {n for n in (baseline.name,) if tree.get(n) is not None}
        findings = [f for f in findings if f.path not in own]  # ids in a baseline look random
    findings.sort(key=sort_key)
    result = GateResult(findings, rules, notes, options.fail_on,
                        baseline=baseline.name if baseline else None,
                        has_manifest=manifest is not None, files=len(tree.files),
                        lines=tree.lines, excluded=list(tree.excluded))
    apply_acceptances(result, options.accept, baseline, today())
    result.seconds = time.perf_counter() - started
    return result


def _bind_gate_findings_to_content(tree: SourceTree, findings: list[Finding]) -> None:
    """Put the sha256 of the file's bytes into the id of every gate (RP-G) finding.

    A gate finding says "this file was not checked"; accepted once, an id of
    file and reason alone would cover every later version of the file, so
    whatever code it grew would deploy unread.  Bound to the content, an
    acceptance lapses as soon as the file changes.
    """
    digests: dict[str, str] = {}
    for f in findings:
        if f.family != "gate":
            continue
        if f.path not in digests:
            sf = tree.get(f.path)
            try:
                digests[f.path] = hashlib.sha256(sf.path.read_bytes()).hexdigest() if sf else ""
            except OSError:
                digests[f.path] = ""
        if digests[f.path]:
            f.fingerprint_text += "\x1fsha256:" + digests[f.path]


def _guard(family: str, fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except (ScanError, ManifestError):
        raise
    except Exception as exc:  # fail closed: a scanner that breaks refuses, never skips
        raise ScannerFailed(
            f"the {family} scanner failed on this app ({exc.__class__.__name__}); "
            "the gate fails closed"
        ) from exc


def _scan(
    tree: SourceTree,
    manifest: Manifest | None,
    manifest_text: str,
    advisories: AdvisorySource | None,
    notes: list[str],
    parallel: bool = False,
    install_policy: InstallPolicy | None = None,
    cache: ScanCache | None = None,
) -> tuple[list[Finding], dict[str, Rule]]:
    rules: dict[str, Rule] = {}
    findings: list[Finding] = []
    per_file = _guard("per-file", runner.start, tree, cache, parallel)
    try:
        return _scan_all(tree, manifest, manifest_text, advisories, notes, per_file, rules,
                         findings, install_policy or InstallPolicy(), cache)
    finally:
        per_file.close()


def _scan_all(
    tree: SourceTree,
    manifest: Manifest | None,
    manifest_text: str,
    advisories: AdvisorySource | None,
    notes: list[str],
    per_file: runner.Pending,
    rules: dict[str, Rule],
    findings: list[Finding],
    install_policy: InstallPolicy,
    cache: ScanCache | None,
) -> tuple[list[Finding], dict[str, Rule]]:
    for rule in [*taint.RULES.values(), *logic.RULES.values(), *secrets_scan.RULES,
                 *deps_scan.RULES]:
        rules[rule.rule_id] = rule

    handlers: dict[str, set[str]] = {}
    if manifest is not None:
        for fn in manifest.functions.values():
            file, entry = parse_handler(fn.handler)
            handlers.setdefault(file, set()).add(entry)
    findings += _guard("taint", taint_cache.run, tree, handlers, cache)
    findings += _guard("embedded", embedded.run, tree, handlers,
                       lambda t, h: _embedded_code(t, h, rules))
    if any(f.rule_id == embedded.RULE.rule_id for f in findings):
        rules[embedded.RULE.rule_id] = embedded.RULE

    # bandit, detect-secrets and the logic checks, per file: cached, or scanned meanwhile
    # in workers
    file_findings, file_rules = _guard("per-file", per_file.result)
    # each file was judged on its own: a shell command lowered there goes back to high
    # when another module changes that module's names (adv-gate4)
    file_findings = calibrate.changed_from_outside(tree.python, file_findings)
    rules.update({r.rule_id: r for r in file_rules})
    findings += [f for f in file_findings if f.family != "secrets"]
    secret_findings = [f for f in file_findings if f.family == "secrets"]
    if manifest is not None:
        data = yamlsafe.load(manifest_text) or {}
        lines = manifest_lint.line_map(manifest_text)
        references = secret_reference_hashes(manifest)
        public_keys = public_key_files(manifest, tree)
        secret_findings = [
            f for f in secret_findings
            if not (f.path == MANIFEST_NAME
                    and f.fingerprint_text.rsplit("\x1f", 1)[-1] in references)
            and f.path not in public_keys
        ]
        taken = {f.line for f in secret_findings if f.path == MANIFEST_NAME}
        secret_findings += _guard("secrets", secrets_scan.manifest_environment, data, lines, taken)
        findings += secret_findings
        for rule in manifest_lint.RULES:
            rules[rule.rule_id] = rule
        findings += _guard("manifest", manifest_lint.lint, manifest, lines)
        rules.update(POLICY_RULES)
        findings += _guard("policy", policy_or_too_deep, manifest, tree.root, lines)
    else:
        findings += secret_findings

    rules.update({r.rule_id: r for r in iac.RULES})
    iac_findings = _guard("template", iac.run, tree)
    # a literal secret in a template's environment: one finding, the one that names the variable
    env_secrets = {(f.path, f.line) for f in iac_findings if f.rule_id == "RP-I010"}
    findings[:] = [f for f in findings
                   if f.family != "secrets" or (f.path, f.line) not in env_secrets]
    findings += iac_findings

    dep_findings, dep_notes = _guard("dependency", deps_scan.scan, tree, advisories,
                                     install_policy)
    findings += dep_findings
    notes.extend(dep_notes)

    findings += gate_findings(tree, rules, notes)
    if any(f.rule_id == depth.RULE.rule_id for f in findings):
        rules[depth.RULE.rule_id] = depth.RULE
    return findings, rules


def _embedded_code(
    tree: SourceTree, handlers: dict[str, set[str]], rules: dict[str, Rule]
) -> list[Finding]:
    """Taint rules and bandit over code held in a string literal (see ``embedded.py``)."""
    found = taint.run(tree, handlers)
    sast_findings, sast_rules = sast.run(tree)
    rules.update({r.rule_id: r for r in sast_rules if r.rule_id not in rules})
    return found + sast_findings
