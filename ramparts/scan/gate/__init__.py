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
* the dependency check (``deps/``) against an advisory source (``advisories/``),

then applies accepted risks (``--accept-risk`` and the baseline), and decides:
the gate passes when no unaccepted finding is at or above ``fail_on``.

The package: ``run.py`` runs the scanners and merges their findings,
``unread.py`` has the RP-G findings for shipped files no scanner could read,
``manifest.py`` the findings about ramparts.yaml (policy lint, secret
references, published keys), ``acceptance.py`` applies ``--accept-risk`` and
the baseline, and ``result.py`` holds the options and the judged result.

Fail closed: a scanner that raises makes the gate raise ``ScanError`` (a
deploy is refused), never silently skip its family.  The only family that may
be skipped is the advisory lookup when no advisory data can be had, and that
is said in a note on every report.
"""

from __future__ import annotations

from ramparts.scan.gate.manifest import POLICY_RULES
from ramparts.scan.gate.result import Acceptance, GateOptions, GateResult, blocking_details
from ramparts.scan.gate.run import run_gate
from ramparts.scan.gate.unread import GATE_RULES

__all__ = ["GATE_RULES", "POLICY_RULES", "Acceptance", "GateOptions", "GateResult",
           "blocking_details", "run_gate"]
