"""RP-I007: queues, topics, tables and buckets that declare no encryption at rest.

SQS needs ``SqsManagedSseEnabled: true`` or a ``KmsMasterKeyId``; SNS a
``KmsMasterKeyId``; DynamoDB (``AWS::DynamoDB::Table``/``GlobalTable``, SAM's
``SimpleTable``) ``SSESpecification.SSEEnabled: true``; S3 a
``BucketEncryption``.  Medium for queues, topics and tables; low for S3
buckets, which AWS encrypts with SSE-S3 by default since January 2023 (the
finding asks to say so in the template, and to choose KMS where it matters).

What this does not guarantee: AWS today encrypts new SQS queues (SSE-SQS) and
DynamoDB tables (AWS-owned key) by default too; the finding says the template
does not *declare* it and does not use a key the account controls.  Kinesis,
EFS, RDS and log groups are not checked.
"""

from __future__ import annotations

from ramparts.scan.findings import Finding, Severity
from ramparts.scan.iac.model import Resource, Template, is_false, is_true, mapping
from ramparts.scan.iac.rules import finding


def check(t: Template) -> list[Finding]:
    out: list[Finding] = []
    for res in t.of_type("AWS::SQS::Queue"):
        if is_false(res.props.get("SqsManagedSseEnabled")) and "KmsMasterKeyId" not in res.props:
            out.append(_finding(t, res, res.props.line_of("SqsManagedSseEnabled"), "queue",
                                "turns SqsManagedSseEnabled off", Severity.MEDIUM))
        elif not is_true(res.props.get("SqsManagedSseEnabled")) and (
                "KmsMasterKeyId" not in res.props):
            out.append(_finding(t, res, res.line, "queue", "declares no encryption "
                                "(SqsManagedSseEnabled or KmsMasterKeyId)", Severity.MEDIUM))
    for res in t.of_type("AWS::SNS::Topic"):
        if "KmsMasterKeyId" not in res.props:
            out.append(_finding(t, res, res.line, "topic", "has no KmsMasterKeyId",
                                Severity.MEDIUM))
    for res in t.of_type("AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable",
                         "AWS::Serverless::SimpleTable"):
        sse = mapping(res.props.get("SSESpecification"))
        if is_false(sse.get("SSEEnabled")):
            out.append(_finding(t, res, sse.line_of("SSEEnabled"), "table",
                                "turns SSESpecification.SSEEnabled off", Severity.MEDIUM))
        elif not is_true(sse.get("SSEEnabled")):
            out.append(_finding(t, res, res.line, "table",
                                "declares no SSESpecification (SSEEnabled: true)",
                                Severity.MEDIUM))
    for res in t.of_type("AWS::S3::Bucket"):
        if "BucketEncryption" not in res.props:
            out.append(_finding(t, res, res.line, "bucket", "declares no BucketEncryption",
                                Severity.LOW))
    return out


def _finding(t: Template, res: Resource, line: int, kind: str, what: str,
             severity: Severity) -> Finding:
    return finding("RP-I007", severity, t, line, f"{res.where}.encryption",
                   f"{kind} {res.name} {what}: its data is not encrypted at rest with a key "
                   "the template chooses",
                   "declare encryption at rest, with a customer managed KMS key for "
                   "sensitive data")
