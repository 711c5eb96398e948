"""RP-I005/RP-I006: S3 buckets open to the public.

RP-I005 (high) is a bucket that *is* public as written: a public canned ACL
(``PublicRead``, ``PublicReadWrite``, ``AuthenticatedRead``, which means any
AWS account) or a bucket policy that allows ``Principal: "*"`` without a
condition that narrows who (source VPC/endpoint/IP/account/organisation/ARN).
RP-I006 (medium) is a bucket whose public access block is missing or has any
of its four settings off: nothing stops a later ACL or policy from opening it.

Not judged: ``aws:SecureTransport``-style conditions (they do not narrow who),
policies attached through other means (an account-level public access block,
a ``Fn::If`` around the statement), and ACL grants in ``AccessControlPolicy``.
"""

from __future__ import annotations

from typing import Any

from ramparts.scan.findings import Finding, Severity
from ramparts.scan.iac.loader import YMap
from ramparts.scan.iac.model import Template, is_true, items, mapping
from ramparts.scan.iac.rules import finding

_PUBLIC_ACLS = {"PublicRead", "PublicReadWrite", "AuthenticatedRead"}
_PAB_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
_NARROWING_KEYS = {"aws:sourcevpce", "aws:sourcevpc", "aws:sourceip", "aws:sourcearn",
                   "aws:sourceaccount", "aws:principalorgid", "aws:principalaccount",
                   "aws:principalarn", "aws:userid", "aws:principalorgpaths"}
_FIX_PAB = "set all four PublicAccessBlockConfiguration settings to true"


def check(t: Template) -> list[Finding]:
    out: list[Finding] = []
    for res in t.of_type("AWS::S3::Bucket"):
        acl = res.props.get("AccessControl")
        if isinstance(acl, str) and acl in _PUBLIC_ACLS:
            out.append(finding("RP-I005", Severity.HIGH, t, res.props.line_of("AccessControl"),
                               f"{res.where}.AccessControl={acl}",
                               f"bucket {res.name} has the canned ACL {acl}: its objects are "
                               "readable by anyone" + (" and writable" if "Write" in acl else ""),
                               "remove AccessControl (Private is the default) and serve public "
                               "content through CloudFront with origin access control"))
        pab = res.props.get("PublicAccessBlockConfiguration")
        if not isinstance(pab, YMap):
            out.append(finding("RP-I006", Severity.MEDIUM, t, res.line,
                               f"{res.where}.PublicAccessBlockConfiguration",
                               f"bucket {res.name} has no public access block, so a later ACL "
                               "or policy can make it public", _FIX_PAB))
            continue
        for flag in _PAB_FLAGS:
            if flag in pab and not is_true(pab[flag]):
                out.append(finding("RP-I006", Severity.MEDIUM, t, pab.line_of(flag),
                                   f"{res.where}.PublicAccessBlockConfiguration.{flag}",
                                   f"bucket {res.name} turns {flag} off", _FIX_PAB))
        missing = [flag for flag in _PAB_FLAGS if flag not in pab]
        if missing:
            out.append(finding("RP-I006", Severity.MEDIUM, t,
                               res.props.line_of("PublicAccessBlockConfiguration"),
                               f"{res.where}.PublicAccessBlockConfiguration",
                               f"bucket {res.name}'s public access block leaves "
                               f"{', '.join(missing)} unset (off)", _FIX_PAB))
    for res in t.of_type("AWS::S3::BucketPolicy"):
        doc = mapping(res.props.get("PolicyDocument"))
        statements = doc.get("Statement")
        statements = [statements] if isinstance(statements, YMap) else statements
        for i, (st, _) in enumerate(items(statements, doc.line_of("Statement"))):
            st = mapping(st)
            if st.get("Effect") == "Allow" and _anyone(st.get("Principal")) and not _narrowed(
                    st.get("Condition")):
                out.append(finding("RP-I005", Severity.HIGH, t, st.line_of("Principal"),
                                   f"{res.where}.PolicyDocument.Statement[{i}]",
                                   f"bucket policy {res.name} allows anyone (Principal \"*\")",
                                   "name the principals (accounts, roles, the CloudFront "
                                   "distribution) or narrow it with aws:SourceVpce, "
                                   "aws:PrincipalOrgID or similar"))
    return out


def _anyone(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(v == "*" or (isinstance(v, list) and "*" in v)
                   for v in (principal.get("AWS"), principal.get("CanonicalUser")))
    return False


def _narrowed(condition: Any) -> bool:
    for tests in mapping(condition).values():
        if any(str(key).lower() in _NARROWING_KEYS for key in mapping(tests)):
            return True
    return False
