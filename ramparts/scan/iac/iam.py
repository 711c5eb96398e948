"""RP-I003/RP-I004: wildcard actions and resources in the roles a template grants.

Identity policies are read wherever a template can write them: IAM roles,
users, groups and (managed) policies; a SAM function's ``Policies`` (inline
statements, AWS managed policy names or ARNs, and SAM policy templates such
as ``S3CrudPolicy: {BucketName: "*"}``); and ``serverless.yml``'s
``iamRoleStatements``, ``iam.role.statements``, managed policies and
per-function statements.  Only ``Allow`` statements grant, so only they are
judged; a ``Deny`` of everything is a guard, not a finding.

Not judged: resource policies (bucket, queue and topic policies: see
``buckets.py`` for the public-bucket case), trust policies, conditions that
narrow a wildcard, and the content of customer managed policies referenced
by ARN (only AWS's own ``*FullAccess``/``AdministratorAccess`` names are known).
"""

from __future__ import annotations

import re
from typing import Any

from ramparts.scan.findings import Finding, Severity
from ramparts.scan.iac.loader import YMap, YSeq
from ramparts.scan.iac.model import Template, items, mapping
from ramparts.scan.iac.rules import finding

# actions that have no resource-level permissions in IAM: "*" is the only resource they take
_RESOURCELESS = {
    "xray:puttracesegments", "xray:puttelemetryrecords", "xray:getsamplingrules",
    "xray:getsamplingtargets", "xray:getsamplingstatisticsummaries", "cloudwatch:putmetricdata",
    "ec2:createnetworkinterface", "ec2:describenetworkinterfaces",
    "ec2:deletenetworkinterface", "ec2:assignprivateipaddresses",
    "ec2:unassignprivateipaddresses", "s3:listallmybuckets", "sts:getcalleridentity",
}
_ADMIN_POLICIES = {"AdministratorAccess", "PowerUserAccess", "IAMFullAccess"}
_VARIABLE = re.compile(r"\$\{[^}]*\}")
_EVERY = re.compile(r"^\*(/\*)?$")  # "*", or every object of every bucket
_EVERY_OF_KIND = re.compile(r"^[\w-]+[/:]\*$")  # table/*, function:* (S3 ARNs have no kind)
_ROLE_TYPES = ("AWS::IAM::Role", "AWS::IAM::User", "AWS::IAM::Group")
_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
_FIX_ACTION = "name the actions the function calls (e.g. dynamodb:GetItem), not a wildcard"
_FIX_RESOURCE = "scope Resource to the ARNs used (!GetAtt Table.Arn, the bucket's ARN/prefix)"


def check(t: Template) -> list[Finding]:
    out: list[Finding] = []
    for res in t.of_type(*_ROLE_TYPES):
        for i, (pol, _) in enumerate(items(res.props.get("Policies"), res.line)):
            doc = mapping(mapping(pol).get("PolicyDocument"))
            _document(t, doc, f"{res.where}.Policies[{i}]", out)
        _managed(t, res.props, "ManagedPolicyArns", res.where, out)
    for res in t.of_type(*_POLICY_TYPES):
        _document(t, mapping(res.props.get("PolicyDocument")), res.where, out)
    for fn in t.of_type("AWS::Serverless::Function"):
        _sam_policies(t, fn.props, f"{fn.where}.Policies", out)
    if t.kind == "serverless":
        _serverless(t, out)
    return out


def _sam_policies(t: Template, props: YMap, where: str, out: list[Finding]) -> None:
    for i, (pol, line) in enumerate(items(props.get("Policies"), props.line_of("Policies"))):
        here = f"{where}[{i}]"
        if isinstance(pol, str):
            _managed_name(t, pol, line, here, out)
        elif isinstance(pol, YMap) and "Statement" in pol:
            _document(t, pol, here, out)
        elif isinstance(pol, YMap) and len(pol) == 1 and not _intrinsic(pol):
            name, params = next(iter(pol.items()))
            for key, value in mapping(params).items():
                if value == "*":
                    out.append(finding(
                        "RP-I004", Severity.MEDIUM, t, params.line_of(str(key)),
                        f"{here}.{name}.{key}",
                        f"SAM policy template {name} is given {key}: \"*\", so it grants "
                        "its actions on every such resource", _FIX_RESOURCE))


def _serverless(t: Template, out: list[Finding]) -> None:
    provider = t.section("provider")
    role = mapping(mapping(provider.get("iam")).get("role"))
    sources = [(provider, "iamRoleStatements", "provider"),
               (role, "statements", "provider.iam.role")]
    for fname, fn in t.section("functions").items():
        sources.append((fn, "iamRoleStatements", f"functions.{fname}"))
    for parent, key, where in sources:
        statements = parent.get(key)
        for i, (st, _) in enumerate(items(statements, parent.line_of(key))):
            _statement(t, mapping(st), f"{where}.{key}[{i}]", out)
    _managed(t, provider, "iamManagedPolicies", "provider", out)
    _managed(t, role, "managedPolicies", "provider.iam.role", out)


def _managed(t: Template, parent: YMap, key: str, where: str, out: list[Finding]) -> None:
    for i, (arn, line) in enumerate(items(parent.get(key), parent.line_of(key))):
        if isinstance(arn, str):
            _managed_name(t, arn, line, f"{where}.{key}[{i}]", out)


def _managed_name(t: Template, name: str, line: int, where: str, out: list[Finding]) -> None:
    base = name.rsplit("/", 1)[-1]
    if base in _ADMIN_POLICIES:
        sev = Severity.HIGH
    elif base.endswith("FullAccess"):
        sev = Severity.MEDIUM
    else:
        return
    out.append(finding("RP-I003", sev, t, line, f"{where}={base}",
                       f"managed policy {base} grants every action of its service(s)",
                       "replace it with a policy (or SAM policy template) naming the actions "
                       "and resources the function uses"))


def _document(t: Template, doc: YMap, where: str, out: list[Finding]) -> None:
    statements = doc.get("Statement")
    if isinstance(statements, YMap):
        statements = YSeq([statements])
    for i, (st, _) in enumerate(items(statements, doc.line_of("Statement"))):
        _statement(t, mapping(st), f"{where}.Statement[{i}]", out)


def _statement(t: Template, st: YMap, where: str, out: list[Finding]) -> None:
    if st.get("Effect") != "Allow":
        return
    everything = "NotAction" in st
    if everything:
        out.append(finding("RP-I003", Severity.HIGH, t, st.line_of("NotAction"),
                           f"{where}.NotAction",
                           "NotAction with Allow grants every action except those listed, "
                           "including ones AWS adds later", _FIX_ACTION))
    actions = items(st.get("Action"), st.line_of("Action"))
    for action, line in actions:
        if not isinstance(action, str):
            continue
        if action.strip() in ("*", "*:*"):
            everything = True
            out.append(finding("RP-I003", Severity.HIGH, t, line, f"{where}.Action=*",
                               "the policy allows every action (\"*\")", _FIX_ACTION))
        elif action.split(":", 1)[-1] == "*":
            out.append(finding("RP-I003", Severity.MEDIUM, t, line, f"{where}.Action={action}",
                               f"the policy allows every action of a service ({action})",
                               _FIX_ACTION))
    if everything:
        return  # the resource wildcard is part of the same grant of everything
    names = {a.strip().lower() for a, _ in actions if isinstance(a, str)}
    if names and names <= _RESOURCELESS:
        return
    if "NotResource" in st:
        out.append(finding("RP-I004", Severity.MEDIUM, t, st.line_of("NotResource"),
                           f"{where}.NotResource",
                           "NotResource with Allow grants the actions on every other resource",
                           _FIX_RESOURCE))
    for resource, line in items(st.get("Resource"), st.line_of("Resource")):
        text = _resource_text(resource)
        if text is not None and _wildcard_resource(text):
            out.append(finding("RP-I004", Severity.MEDIUM, t, line,
                               f"{where}.Resource={text}",
                               f"the policy allows its actions on every resource ({text})",
                               _FIX_RESOURCE))


def _intrinsic(value: YMap) -> bool:
    return len(value) == 1 and next(iter(value)) in ("Ref", "Fn::Sub", "Fn::GetAtt",
                                                       "Fn::Join", "Fn::If", "Fn::ImportValue")


def _resource_text(resource: Any) -> str | None:
    if isinstance(resource, str):
        return resource
    if isinstance(resource, YMap) and "Fn::Sub" in resource:
        sub = resource["Fn::Sub"]
        sub = sub[0] if isinstance(sub, list) and sub else sub
        return sub if isinstance(sub, str) else None
    return None


def _wildcard_resource(text: str) -> bool:
    plain = _VARIABLE.sub("x", text.strip())
    if plain == "*":
        return True
    parts = plain.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return False
    rest = parts[5]
    return bool(_EVERY.match(rest) or (parts[2] != "s3" and _EVERY_OF_KIND.match(rest)))
