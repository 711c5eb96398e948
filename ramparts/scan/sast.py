"""Bandit, run through its Python API on the trees the gate already parsed.

No subprocess: one ``BanditManager`` (plugin loading is the slow part) is
built per process and reused; each file's visitor walks the ``ast`` that
``source.py`` parsed, so a deploy parses every file exactly once.

Serverless-aware calibration (``calibrate.py`` has the severities, docs/scanning.md
the table of every rule we change and why):

* B108 (hardcoded ``/tmp``) is off: a function's private ``/tmp`` is its
  normal scratch space inside the sandbox, not a shared world-writable dir.
* B404, B603 and B607 are on again, at calibrated severities: an argument
  list without a shell is LOW when constant and MEDIUM when a part is chosen
  at run time; a constant shell command (B602/B605) is LOW, not HIGH; a
  parameterised query is not B608.
* Bandit's CWE is replaced by ours where it numbers a weakness differently
  from our rule for it (eval/exec are CWE-94, md5 of a password CWE-328):
  ``cwe.py`` has the table.
* ``# nosec`` comments are ignored: the gate runs on the server and must not
  let the code under review switch it off.  Accepting a finding goes through
  a baseline or ``--accept-risk``, both of which are recorded.
* A finding bandit itself rates as low confidence is lowered one severity
  step, so guesses warn and do not block a deploy.
"""

from __future__ import annotations

import io
import logging
import threading
import warnings
from typing import Any

from ramparts.scan import calibrate, depth
from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.source import SourceTree

DISABLED = ("B108",)

_lock = threading.Lock()
_manager: Any = None

_SEVERITY = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH}


def _get_manager() -> Any:
    global _manager
    if _manager is None:
        for name in ("bandit", "stevedore"):
            logging.getLogger(name).setLevel(logging.ERROR)
        with warnings.catch_warnings():
            # bandit passes stevedore an argument it deprecated (at import and
            # when loading plugins); not ours to fix, and not the user's concern
            warnings.simplefilter("ignore", DeprecationWarning)
            from bandit.core import config as b_config
            from bandit.core import manager as b_manager

            _manager = b_manager.BanditManager(
                b_config.BanditConfig(),
                "file",
                ignore_nosec=True,
                profile={"exclude": list(DISABLED)},
            )
    return _manager


def _no_nosec(context: Any, test_result: Any = None) -> None:
    """What bandit's ``_get_nosecs_from_contexts`` returns when no line has a nosec."""
    return None


def _visit(mgr: Any, rel: str, text: str, tree: Any) -> list[Any]:
    from bandit.core import node_visitor

    data = text.encode("utf-8")
    mgr.metrics.begin(rel)
    visitor = node_visitor.BanditNodeVisitor(
        rel, io.BytesIO(data), mgr.b_ma, mgr.b_ts, False, {}, mgr.metrics
    )
    # `# nosec` is ignored (the code under review cannot switch the gate off), so the
    # tester's nosec lines are empty and its per-test nosec lookup always answers None;
    # that lookup walks every line of every node's range and was about a third of bandit's
    # time in a profile.  Answer None directly, on this tester only.
    if not visitor.tester.nosec_lines:
        visitor.tester._get_nosecs_from_contexts = _no_nosec
    visitor.generic_visit(tree)
    visitor.context = {
        "file_data": io.BytesIO(data),
        "filename": rel,
        "lineno": 0,
        "linerange": [0, 1],
        "col_offset": 0,
    }
    visitor.update_scores(visitor.tester.run_tests(visitor.context, "File"))
    return list(visitor.tester.results)


def run(tree: SourceTree, files: list[str] | None = None) -> tuple[list[Finding], list[Rule]]:
    """Bandit findings for the given python files (default: all of them)."""
    wanted = set(files) if files is not None else None
    findings: list[Finding] = []
    rules: dict[str, Rule] = {}
    with _lock:
        mgr = _get_manager()
        for sf in tree.python:
            if wanted is not None and sf.rel not in wanted:
                continue
            assert sf.text is not None and sf.tree is not None
            per_file: dict[str, Any] = {}
            try:
                issues = _visit(mgr, sf.rel, sf.text, sf.tree)
            except RecursionError:  # valid but too deep for bandit's visitor: RP-G004, high
                findings.append(depth.too_deep(sf.rel, "bandit"))
                rules[depth.RULE.rule_id] = depth.RULE
                continue
            for issue in issues:
                severity = _SEVERITY.get(issue.severity, Severity.MEDIUM)
                if issue.confidence == "LOW" and severity > Severity.LOW:
                    severity = Severity(severity - 1)
                cwe_id = getattr(getattr(issue, "cwe", None), "id", 0) or 0
                line = int(issue.lineno or 1)
                judged = calibrate.adjust(issue.test_id, severity,
                                          f"CWE-{cwe_id}" if cwe_id else None, sf.tree, line,
                                          int(issue.col_offset or 0), per_file)
                if judged is None:
                    continue
                severity, cwe, why = judged
                findings.append(
                    Finding(
                        rule_id=issue.test_id,
                        severity=severity,
                        path=sf.rel,
                        line=line,
                        column=int(issue.col_offset or 0) + 1,
                        message=f"{issue.text} ({why}: rated {severity})" if why
                        else str(issue.text),
                        remediation=(
                            f"see https://bandit.readthedocs.io/ for {issue.test_id} "
                            f"({issue.test}); rewrite the call or accept the risk explicitly"
                        ),
                        family="sast",
                        cwe=cwe,
                        fingerprint_text=sf.line(line),
                    )
                )
                rules.setdefault(
                    issue.test_id,
                    Rule(issue.test_id, "sast", issue.test, f"bandit {issue.test}", cwe),
                )
    return findings, list(rules.values())
