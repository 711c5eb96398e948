"""Bandit, run through its Python API on the trees the gate already parsed.

No subprocess: one ``BanditManager`` (plugin loading is the slow part) is
built per process and reused; each file's visitor walks the ``ast`` that
``source.py`` parsed, so a deploy parses every file exactly once.

Serverless-aware calibration:

* B108 (hardcoded ``/tmp``) is off: a function's private ``/tmp`` is its
  normal scratch space inside the sandbox, not a shared world-writable dir.
* B404 (``import subprocess``), B603 (subprocess without a shell) and B607
  (program by partial path) are off: an argument list without a shell is the
  form the remediations recommend, the sandbox image fixes ``PATH``, and the
  dangerous cases (a shell, or a program the event picks) are B602/B605 and
  the taint rule RP-T002.  Flagging every safe call taught users to ignore
  the report.
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

from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.source import SourceTree

DISABLED = ("B108", "B404", "B603", "B607")

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


def _visit(mgr: Any, rel: str, text: str, tree: Any) -> list[Any]:
    from bandit.core import node_visitor

    data = text.encode("utf-8")
    mgr.metrics.begin(rel)
    visitor = node_visitor.BanditNodeVisitor(
        rel, io.BytesIO(data), mgr.b_ma, mgr.b_ts, False, {}, mgr.metrics
    )
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
            for issue in _visit(mgr, sf.rel, sf.text, sf.tree):
                severity = _SEVERITY.get(issue.severity, Severity.MEDIUM)
                if issue.confidence == "LOW" and severity > Severity.LOW:
                    severity = Severity(severity - 1)
                cwe_id = getattr(getattr(issue, "cwe", None), "id", 0) or 0
                cwe = f"CWE-{cwe_id}" if cwe_id else None
                line = int(issue.lineno or 1)
                findings.append(
                    Finding(
                        rule_id=issue.test_id,
                        severity=severity,
                        path=sf.rel,
                        line=line,
                        column=int(issue.col_offset or 0) + 1,
                        message=str(issue.text),
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
