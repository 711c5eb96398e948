"""The RP-I rules: ids, names, CWEs, and the one way a check reports a finding.

One CWE per rule; where a rule has a manifest or policy twin (public route,
wildcard grants, missing timeout, retries without dead letters, secrets in
the environment) it takes the same CWE, so a report grouped by CWE puts the
template's and the manifest's versions of one weakness together.  RP-I001,
like the gate's own RP-G rules, is about the scan and has no CWE.
"""

from __future__ import annotations

from ramparts.scan.findings import Finding, Rule, Severity
from ramparts.scan.iac.model import Template

RULES = [
    Rule("RP-I001", "iac", "unreadable-template",
         "An infrastructure template cannot be read, so no template rule checked it.", None),
    Rule("RP-I002", "iac", "route-without-authorizer",
         "A public API route or function URL has no authorizer, IAM auth or API key.",
         "CWE-306"),
    Rule("RP-I003", "iac", "iam-wildcard-action",
         "An IAM policy allows every action, every action of a service, or everything but "
         "a list (NotAction).", "CWE-732"),
    Rule("RP-I004", "iac", "iam-wildcard-resource",
         "An IAM policy allows actions on every resource (or every resource of a kind).",
         "CWE-732"),
    Rule("RP-I005", "iac", "public-bucket",
         "An S3 bucket is public: a public canned ACL, or a bucket policy allowing anyone.",
         "CWE-732"),
    Rule("RP-I006", "iac", "bucket-public-access-block",
         "An S3 bucket's public access block is missing or has a setting turned off.",
         "CWE-732"),
    Rule("RP-I007", "iac", "unencrypted-store",
         "A queue, topic, table or bucket declares no encryption at rest.", "CWE-311"),
    Rule("RP-I008", "iac", "missing-dead-letter",
         "An asynchronously invoked function or a queue has no dead-letter target.",
         "CWE-755"),
    Rule("RP-I009", "iac", "missing-reserved-concurrency",
         "A function has no reserved concurrency, so one flood can use the account's.",
         "CWE-770"),
    Rule("RP-I010", "iac", "secret-in-environment",
         "A function's environment variable holds a literal credential.", "CWE-798"),
    Rule("RP-I011", "iac", "function-without-timeout",
         "A function sets no timeout and runs with the platform default.", "CWE-400"),
]
_CWE = {r.rule_id: r.cwe for r in RULES}


def finding(rule_id: str, severity: Severity, template: Template, line: int, where: str,
            message: str, remediation: str) -> Finding:
    """A finding on ``template``; ``where`` (a field path) is what its id is made of.

    The id fingerprints rule, file and field path (``Resources.Fn.Properties.Policies[0]``),
    not the line, so an accepted risk survives edits elsewhere in the template.
    """
    return Finding(rule_id, severity, template.path, max(1, line), message, remediation,
                   "iac", _CWE[rule_id], fingerprint_text=where)


def unreadable(path: str, line: int, why: str) -> Finding:
    """RP-I001: the template (or one resource of it) at ``path`` could not be read."""
    return Finding("RP-I001", Severity.HIGH, path, max(1, line),
                   f"{path} cannot be read as a template ({why}): no template rule checked it",
                   "fix the template so CloudFormation (or the Serverless Framework) accepts it",
                   "iac", None, fingerprint_text=why)
