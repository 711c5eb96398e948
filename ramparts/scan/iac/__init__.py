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

from ramparts.scan.findings import Finding
from ramparts.scan.iac import buckets, environment, functions, iam, routes, stores
from ramparts.scan.iac.loader import IacParseError
from ramparts.scan.iac.model import candidates, load
from ramparts.scan.iac.rules import RULES, unreadable
from ramparts.scan.source import SourceTree

__all__ = ["RULES", "run"]

_CHECKS = (routes.check, iam.check, buckets.check, stores.check, functions.check,
           environment.check)


def run(tree: SourceTree) -> list[Finding]:
    """Every RP-I finding in the templates of ``tree``."""
    out: list[Finding] = []
    for sf in candidates(tree):
        try:
            template = load(sf)
        except IacParseError as exc:
            out.append(unreadable(sf.rel, exc.line, exc.reason))
            continue
        if template is None:
            continue
        out += [unreadable(template.path, line, why) for line, why in template.problems]
        for check in _CHECKS:
            out += check(template)
    return out
