"""The deploy gate: every scanner over one app dir, merged, baselined, judged.

This is the single entry point ``ramparts scan``, ``ramparts deploy`` (on the
client, before uploading) and the node's deploy endpoint (on the server, the
enforcement point) share, so the three can never disagree about what a rule
means.  ``run_gate`` reads the tree once (``source.py``), runs

* bandit (``sast.py``), detect-secrets (``secrets.py``) and the logic and
  configuration checks (``logic/``: JWT verification, CORS, ACLs, TLS ...) file by
  file, through the result cache and, on big trees, in worker processes
  (``runner.py``, ``cache.py``),
* the taint rules (``taint/``) on the whole app, through the cache of whole-app
  results (``taint_cache.py``),
* the manifest-environment secret check (``secrets.py``),
* the manifest lint (``manifest_lint.py``) and the policy lint (``ramparts.policy.lint``),
* the infrastructure template checks (``iac/``: SAM, CloudFormation, serverless.yml),
* the dependency check (``deps.py``) against an advisory source (``advisories.py``),

then applies accepted risks (``--accept-risk`` and the baseline), and decides:
the gate passes when no unaccepted finding is at or above ``fail_on``.

Fail closed: a scanner that raises makes the gate raise ``ScanError`` (a
deploy is refused), never silently skip its family.  The only family that may
be skipped is the advisory lookup when no advisory data can be had, and that
is said in a note on every report.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ramparts import yamlsafe
from ramparts.errors import ManifestError
from ramparts.manifest import MANIFEST_NAME, Manifest, load_manifest, parse_handler
from ramparts.scan import deps as deps_scan
from ramparts.scan import (
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
from ramparts.scan import secrets as secrets_scan
from ramparts.scan.advisories import AdvisorySource
from ramparts.scan.baseline import (
    Baseline,
    BaselineEntry,
    BaselineError,
    find_default,
    load_baseline,
    today,
)
from ramparts.scan.cache import ScanCache
from ramparts.scan.errors import ScanError, ScannerFailed
from ramparts.scan.exclusions import Exclusion, grouped
from ramparts.scan.findings import Finding, Rule, Severity, sort_key
from ramparts.scan.reqfile import InstallPolicy
from ramparts.scan.source import SourceTree, load_tree

POLICY_RULES = {
    "RP-P001": Rule("RP-P001", "policy", "allow-every-action",
                    "A role allows every action (or everything but a list).", "CWE-732"),
    "RP-P002": Rule("RP-P002", "policy", "allow-every-resource",
                    "A role grants every resource, a whole kind, or another app's resources.",
                    "CWE-732"),
    "RP-P003": Rule("RP-P003", "policy", "privilege-escalation",
                    "A role may change policies, keys, secrets or deployments.", "CWE-269"),
    "RP-P004": Rule("RP-P004", "policy", "unused-grant",
                    "A grant no handler code could use.", "CWE-272"),
    "RP-P005": Rule("RP-P005", "policy", "broad-grant-without-deny",
                    "A broad grant in a role with no Deny.", "CWE-272"),
    "RP-P006": Rule("RP-P006", "policy", "call-not-allowed",
                    "Handler code makes a call its role does not allow (denied at run time).",
                    None),
}
GATE_RULES = {
    "RP-G001": Rule("RP-G001", "gate", "unparsable-python",
                    "A Python file does not parse, so no code rule could check it.", None),
    "RP-G002": Rule("RP-G002", "gate", "python-not-text",
                    "A shipped .py file is binary or not text in its encoding, so no code "
                    "rule could check it.", None),
    "RP-G003": Rule("RP-G003", "gate", "file-over-scan-limit",
                    "A shipped file is over the scan's size limit, so it was not scanned.", None),
}
_GATE_TEXT = {  # (message, remediation) per gate rule
    "RP-G001": ("{rel} does not parse ({reason}): no code rule checked it",
                "fix the syntax, or exclude the file with scan.exclude in ramparts.yaml "
                "if the app never imports it"),
    "RP-G002": ("{rel} is shipped as Python but cannot be read as code ({reason}): "
                "no code rule checked it",
                "remove it, rename it if it is data, or exclude it with scan.exclude"),
    "RP-G003": ("{rel} was not scanned: {reason}",
                "split or remove it, or exclude it with scan.exclude if it is data the app "
                "only reads"),
}
_POLICY_SEVERITY = {"high": Severity.HIGH, "medium": Severity.MEDIUM, "low": Severity.LOW}
_STATEMENT_LABEL = re.compile(r"\.Statement\[(\d+)\]$")


@dataclass(frozen=True)
class Acceptance:
    """One ``--accept-risk ID --reason TEXT``: applies to this scan or deploy only."""

    id: str
    reason: str
    actor: str | None = None


@dataclass
class GateOptions:
    fail_on: Severity = Severity.HIGH
    baseline: Baseline | None = None  # explicit (--baseline); else the app's own file
    use_app_baseline: bool = True
    accept: list[Acceptance] = field(default_factory=list)
    advisories: AdvisorySource | None = None
    # What the installing node allows requirements files (its index, source builds); the
    # CLI does not know the node's and judges by the strict default.
    install_policy: InstallPolicy = field(default_factory=InstallPolicy)
    # Run the per-file scanners in worker processes on big trees (``runner.py``; the CLI
    # sets it, the node does not: a deploy is small and the node's cores serve requests).
    parallel: bool = False
    # Where per-file results are cached between scans (``cache.py``); None: no cache.
    cache_dir: Path | None = None


@dataclass
class GateResult:
    findings: list[Finding]  # every finding, sorted, accepted ones marked
    rules: dict[str, Rule]
    notes: list[str]
    fail_on: Severity
    expired: list[BaselineEntry] = field(default_factory=list)
    unused_acceptances: list[str] = field(default_factory=list)
    baseline: str | None = None
    has_manifest: bool = True
    files: int = 0
    lines: int = 0
    seconds: float = 0.0
    excluded: list[Exclusion] = field(default_factory=list)  # shipped files left unread

    @property
    def open(self) -> list[Finding]:
        return [f for f in self.findings if not f.accepted]

    @property
    def accepted(self) -> list[Finding]:
        return [f for f in self.findings if f.accepted]

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.open if f.severity >= self.fail_on]

    @property
    def passed(self) -> bool:
        return not self.blocking

    def counts(self) -> dict[str, int]:
        out = {str(s): 0 for s in sorted(Severity, reverse=True)}
        for f in self.open:
            out[str(f.severity)] += 1
        return out

    def summary(self) -> dict[str, Any]:
        """What a deploy report carries: small, and without the non-blocking detail."""
        return {
            "passed": self.passed,
            "fail_on": str(self.fail_on),
            "counts": self.counts(),
            "accepted": [_short(f) for f in self.accepted],
            "notes": list(self.notes),
            "excluded": grouped(self.excluded),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "fail_on": str(self.fail_on),
            "findings": [f.to_dict() for f in self.open],
            "accepted": [f.to_dict() for f in self.accepted],
            "expired_baseline_entries": [
                {"id": e.id, "expires": e.expires.isoformat(), "reason": e.reason}
                for e in self.expired
            ],
            "notes": list(self.notes),
            "excluded": [e.to_dict() for e in self.excluded],
            "summary": {"counts": self.counts(), "files": self.files, "lines": self.lines,
                        "seconds": round(self.seconds, 3)},
        }


def _short(f: Finding) -> dict[str, Any]:
    out = {"id": f.id, "rule_id": f.rule_id, "severity": str(f.severity), "path": f.path,
           "line": f.line, "message": f.message}
    if f.accepted:
        out["accepted"] = dict(f.accepted)
    return out


def blocking_details(result: GateResult) -> list[dict[str, Any]]:
    """The findings a refused deploy lists: ids to accept, relative paths only."""
    return [{**_short(f), "cwe": f.cwe, "remediation": f.remediation} for f in result.blocking]


# -- the run -----------------------------------------------------------------------------
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
    _apply_acceptances(result, options.accept, baseline, today())
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
    rules.update({r.rule_id: r for r in file_rules})
    findings += [f for f in file_findings if f.family != "secrets"]
    secret_findings = [f for f in file_findings if f.family == "secrets"]
    if manifest is not None:
        data = yamlsafe.load(manifest_text) or {}
        lines = manifest_lint.line_map(manifest_text)
        references = _secret_reference_hashes(manifest)
        public_keys = _public_key_files(manifest, tree)
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
        findings += _guard("policy", _policy_or_too_deep, manifest, tree.root, lines)
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

    findings += _gate_findings(tree, rules, notes)
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


def _gate_findings(tree: SourceTree, rules: dict[str, Rule], notes: list[str]) -> list[Finding]:
    """Fail closed: a shipped file no scanner could read is a high finding saying why."""
    out = []
    for sf in tree.problems:
        assert sf.problem is not None
        rule_id, reason = sf.problem.rule_id, sf.problem.reason
        rules[rule_id] = GATE_RULES[rule_id]
        message, remediation = _GATE_TEXT[rule_id]
        out.append(Finding(rule_id, Severity.HIGH, sf.rel, sf.problem.line,
                           message.format(rel=sf.rel, reason=reason), remediation, "gate",
                           None, fingerprint_text=reason))
    newer = [sf.rel for sf in tree.python if sf.newer_grammar]
    if newer:
        notes.append(f"{len(newer)} file(s) use syntax newer than Python 3.11 and were analysed "
                     "through libcst's grammar: " + ", ".join(newer[:10])
                     + (", ..." if len(newer) > 10 else "")
                     + "; this node's Python 3.11 cannot import them")
    if tree.excluded:
        notes.append(f"{len(tree.excluded)} shipped file(s) not scanned, each listed with its "
                     "reason under 'excluded'")
    return out


def _secret_reference_hashes(manifest: Manifest) -> set[str]:
    """sha1 of every secret *name* the manifest references.

    detect-secrets' keyword plugin reads ``secret: billing-key`` as a
    password; in ramparts.yaml the fields ``secret`` (webhooks, HS256
    issuers), ``client_secret`` (introspection), ``secrets`` and ``rotates``
    are references into the encrypted secret store, validated as resource
    names by the manifest schema, never values.  Matching on detect-secrets'
    own hash of the flagged value (not on the line, which its YAML reader can
    misplace in flow mappings) drops exactly those and nothing else.
    """
    names: set[str] = set()
    if manifest.auth is not None:
        names.update(i.secret for i in manifest.auth.jwt if i.secret)
        if manifest.auth.introspection is not None:
            names.add(manifest.auth.introspection.client_secret)
    for fn in manifest.functions.values():
        names.update(fn.secrets)
        names.update(fn.rotates)
        for trig in fn.triggers:
            if trig.kind == "webhook":
                names.add(trig.config.secret)
    return {hashlib.sha1(n.encode()).hexdigest() for n in names}  # noqa: S324 - their hash


_PRIVATE_JWK_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "k", "oth"}


def _public_key_files(manifest: Manifest, tree: SourceTree) -> set[str]:
    """Key files the manifest names as ``jwks:`` that hold public keys only.

    A JWKS's RSA modulus is as random as a secret, so detect-secrets flags
    it; it is published on purpose.  A file with any private member (``d``,
    ``k`` ...) or a PEM ``PRIVATE KEY`` block stays a finding: that is a leak.
    """
    out: set[str] = set()
    for issuer in manifest.auth.jwt if manifest.auth is not None else []:
        if not issuer.jwks or "://" in issuer.jwks:
            continue
        rel = Path(issuer.jwks).as_posix().removeprefix("./")
        sf = tree.get(rel)
        if sf is None or sf.text is None:
            continue
        if "-----BEGIN" in sf.text:
            if "PRIVATE KEY" not in sf.text:
                out.add(rel)
            continue
        try:
            doc = json.loads(sf.text)
        except ValueError:
            continue
        keys = doc.get("keys") if isinstance(doc, dict) and "keys" in doc else [doc]
        if isinstance(keys, list) and all(
            isinstance(k, dict) and not (_PRIVATE_JWK_MEMBERS & set(k)) for k in keys
        ):
            out.add(rel)
    return out


def _policy_or_too_deep(
    manifest: Manifest, root: Path, lines: dict[tuple[str, ...], int]
) -> list[Finding]:
    """Policy findings; handler code too deep for the policy lint's walk is RP-G004 each."""
    try:
        return _policy_findings(manifest, root, lines)
    except RecursionError:
        handlers = sorted({parse_handler(fn.handler)[0] for fn in manifest.functions.values()})
        return [depth.too_deep(h, "policy") for h in handlers]


def _policy_findings(
    manifest: Manifest, root: Path, lines: dict[tuple[str, ...], int]
) -> list[Finding]:
    """``ramparts policy lint`` findings, placed on the manifest line they are about."""
    from ramparts.policy.lint import lint_manifest

    out: list[Finding] = []
    for pf in lint_manifest(manifest, root):
        path, line = MANIFEST_NAME, lines.get(("functions", pf.function), 1)
        where = pf.where
        code_loc = re.match(r"^(.+\.py):(\d+)$", where)
        if code_loc:
            path, line = code_loc.group(1), int(code_loc.group(2))
        elif where.endswith(".secrets"):
            line = lines.get(("functions", pf.function, "secrets"), line)
        else:
            label = where.split("(", 1)[-1].rstrip(")")
            m = _STATEMENT_LABEL.search(label)
            fn = manifest.functions.get(pf.function)
            index: int | None = int(m.group(1)) if m and ".policies[" not in label else None
            if index is None and fn is not None and fn.role is not None and not isinstance(
                fn.role, str
            ):
                index = next((j for j, st in enumerate(fn.role.statements) if st.sid == label),
                             None)
            key = ("functions", pf.function, "role", "statements", str(index))
            line = lines.get(key) or lines.get(("functions", pf.function, "role"), line)
        rule = POLICY_RULES.get(pf.rule)
        out.append(
            Finding(pf.rule, _POLICY_SEVERITY.get(pf.severity, Severity.MEDIUM), path, line,
                    pf.message, pf.hint, "policy", rule.cwe if rule else None,
                    fingerprint_text=f"{pf.function}\x1f{pf.where}\x1f{pf.message}")
        )
    return out


def _check_labels(entry: BaselineEntry, f: Finding, name: str) -> None:
    """A baseline entry's ``rule``/``path`` must describe the finding its id accepts.

    They are what a reviewer of the baseline reads; an entry labelled "a
    missing timeout in other.py" must not silently accept a path traversal
    in h.py.  The line after ``path:`` is not compared: it moves with edits.
    """
    if entry.rule is not None and entry.rule != f.rule_id:
        raise BaselineError(f"{name}: entry {entry.id}.rule: says {entry.rule} but the finding "
                            f"with this id is {f.rule_id} at {f.location}")
    if entry.path is not None:
        file = re.sub(r":\d+$", "", entry.path.strip()).removeprefix("./")
        if file != f.path:
            raise BaselineError(f"{name}: entry {entry.id}.path: says {entry.path} but the "
                                f"finding with this id is in {f.path} ({f.rule_id})")


def _apply_acceptances(
    result: GateResult, accept: list[Acceptance], baseline: Baseline | None, day: date
) -> None:
    by_id = {a.id: a for a in accept}
    matched: set[str] = set()
    used_baseline: set[str] = set()
    expired: dict[str, BaselineEntry] = {}
    # an id written before scopes were part of it matches only a finding no other shares
    legacy = Counter(f.legacy_id for f in result.findings)
    for f in result.findings:
        fid = f.id
        if fid in by_id:
            matched.add(fid)
            a = by_id[fid]
            f.accepted = {"source": "accept-risk", "reason": a.reason}
            if a.actor:
                f.accepted["actor"] = a.actor
            continue
        entry = None
        if baseline is not None:
            entry = baseline.get(fid)
            if entry is None and legacy[f.legacy_id] == 1:  # unambiguous: one finding has it
                entry = baseline.get(f.legacy_id)
        if entry is None:
            continue
        _check_labels(entry, f, baseline.name if baseline else "baseline")
        used_baseline.add(entry.id)
        if entry.expired(day):
            expired[entry.id] = entry
            continue
        f.accepted = {"source": f"baseline:{baseline.name}" if baseline else "baseline",
                      "reason": entry.reason, "expires": entry.expires.isoformat()}
    result.expired = list(expired.values())
    for e in result.expired:
        result.notes.append(f"baseline entry {e.id} expired on {e.expires.isoformat()}: "
                            "the finding counts again (renew it with a new reason, or fix it)")
    result.unused_acceptances = [a.id for a in accept if a.id not in matched]
    for fid in result.unused_acceptances:
        result.notes.append(f"--accept-risk {fid} matches no finding of this scan")
    if baseline is not None:
        stale = [i for i in baseline.entries if i not in used_baseline]
        if stale:
            result.notes.append(f"{len(stale)} baseline entr{'y' if len(stale) == 1 else 'ies'} "
                                f"in {baseline.name} match no finding any more: "
                                + ", ".join(stale[:5]) + ("..." if len(stale) > 5 else ""))
