"""Infrastructure template checks: SAM, CloudFormation and serverless.yml (rules RP-I...).

The deploy gate calls ``run(tree)`` on the tree it already read; each
template in it (``model.candidates``: by name, or by its
``AWSTemplateFormatVersion``/SAM transform) is parsed with line numbers
(``loader``) into a ``Template`` (``model``) and handed to every check group:
``routes`` (RP-I002), ``iam`` (RP-I003/4), ``buckets`` (RP-I005/6), ``stores``
(RP-I007), ``functions`` (RP-I008/9/11) and ``environment`` (RP-I010).

Fail closed: a template that cannot be read, or a resource in it that cannot,
is a high RP-I001 finding naming the file, line and reason, never a skip; a
check that raises propagates, and the gate refuses the scan.
"""

from __future__ import annotations

from ramparts.scan.findings import Finding, Severity
from ramparts.scan.iac import buckets, environment, functions, iam, routes, stores
from ramparts.scan.iac.loader import IacParseError
from ramparts.scan.iac.model import Template, candidates, load
from ramparts.scan.iac.rules import RULES, finding
from ramparts.scan.source import SourceTree

__all__ = ["RULES", "run"]

_CHECKS = (routes.check, iam.check, buckets.check, stores.check, functions.check,
           environment.check)
_FIX_UNREADABLE = "fix the template so CloudFormation (or the Serverless Framework) accepts it"


def run(tree: SourceTree) -> list[Finding]:
    """Every RP-I finding in the templates of ``tree``."""
    out: list[Finding] = []
    for sf, _ in candidates(tree):
        try:
            template = load(sf)
        except IacParseError as exc:
            stub = Template(sf.rel, "cloudformation", None)  # type: ignore[arg-type]
            out.append(finding("RP-I001", Severity.HIGH, stub, exc.line, exc.reason,
                               f"{sf.rel} cannot be read as a template ({exc.reason}): no "
                               "template rule checked it", _FIX_UNREADABLE))
            continue
        if template is None:
            continue
        for line, why in template.problems:
            out.append(finding("RP-I001", Severity.HIGH, template, line, why,
                               f"{why}: no template rule checked it", _FIX_UNREADABLE))
        for check in _CHECKS:
            out += check(template)
    return out
