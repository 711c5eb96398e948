"""Finding templates in the tree and reading them (``ramparts.scan.iac.loader``).

Templates are found by name (``template.yaml``, ``serverless.yml``,
``*.template``) and by content (``AWSTemplateFormatVersion``, the SAM
transform) anywhere in the tree; anything the loader cannot read is a high
RP-I001 finding naming the file and line, never a crash and never a skip.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.scan import iac
from ramparts.scan.findings import Severity
from ramparts.scan.iac.loader import IacParseError, parse
from ramparts.scan.source import load_tree

PUBLIC_FN = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: h.handler
      Timeout: 5
      ReservedConcurrentExecutions: 2
      FunctionUrlConfig:
        AuthType: NONE
"""


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def _found(root: Path) -> set[tuple[str, str, int]]:
    return {(f.rule_id, f.path, f.line) for f in iac.run(load_tree(root))}


def test_templates_are_found_by_name_and_by_content(tmp_path: Path) -> None:
    _write(tmp_path, {
        "template.yaml": PUBLIC_FN,
        "stacks/api.template": PUBLIC_FN,
        "deploy/anything.yml": PUBLIC_FN,  # the transform says it is SAM
        "deploy/stack.json": '{"AWSTemplateFormatVersion": "2010-09-09", "Resources": {"Fn": {'
                             '"Type": "AWS::Lambda::Url", "Properties": {"AuthType": "NONE",'
                             ' "TargetFunctionArn": "x"}}}}',
        "config/settings.yaml": "Resources: {a: 1}\nlog_level: info\n",  # not a template
        "package.json": '{"name": "x", "Resources": 1}',
    })
    found = _found(tmp_path)
    assert found == {
        ("RP-I002", "template.yaml", 10),
        ("RP-I002", "stacks/api.template", 10),
        ("RP-I002", "deploy/anything.yml", 10),
        ("RP-I002", "deploy/stack.json", 1),
    }


def test_short_form_tags_become_long_form_with_lines() -> None:
    doc = parse("Resources:\n  A:\n    Type: X\n    Properties:\n"
                "      Arn: !GetAtt B.Arn\n      Name: !Sub '${AWS::StackName}-a'\n"
                "      Ref: !Ref B\n      List: !Join ['', [a, b]]\n", "t.yaml")
    props = doc["Resources"]["A"]["Properties"]
    assert props["Arn"] == {"Fn::GetAtt": ["B", "Arn"]}
    assert props["Name"] == {"Fn::Sub": "${AWS::StackName}-a"}
    assert props["Ref"] == {"Ref": "B"}
    assert props["List"] == {"Fn::Join": ["", ["a", "b"]]}
    assert doc["Resources"].line == 2 and props.lines["Ref"] == 7


@pytest.mark.parametrize(("text", "why"), [
    ("Resources:\n  A: [unclosed\n", "invalid YAML"),
    ("Resources:\n  A:\n    Type: X\n    Properties: !Bogus 1\n", "unknown tag !Bogus"),
    ('{"Resources": {"A": ', "invalid JSON"),
    ("- a list\n- not a template\n", "not a mapping"),
    ("a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
     "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
     "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e]\n"
     "g: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\nResources: {}\n", "too large"),
])
def test_unreadable_text_is_a_clear_error(text: str, why: str) -> None:
    with pytest.raises(IacParseError) as info:
        parse(text, "template.yaml")
    assert why in str(info.value)


def test_a_malformed_template_is_a_high_finding_not_a_crash(tmp_path: Path) -> None:
    _write(tmp_path, {
        "template.yaml": "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  Fn: [oops\n",
        "serverless.yml": "service: x\nfunctions: !Oops\n",
        "broken.template": "AWSTemplateFormatVersion: '2010-09-09'\nResources: [1, 2]\n",
        "notes.template": "Hello {{ name }}, your order shipped.\n",  # not a CloudFormation one
    })
    findings = iac.run(load_tree(tmp_path))
    got = {(f.rule_id, f.path, f.line, f.severity) for f in findings}
    assert got == {
        ("RP-I001", "template.yaml", 4, Severity.HIGH),
        ("RP-I001", "serverless.yml", 2, Severity.HIGH),
        ("RP-I001", "broken.template", 2, Severity.HIGH),
    }
    for f in findings:
        assert str(tmp_path) not in f.message and "Traceback" not in f.message


def test_a_resource_without_a_type_is_reported_and_the_rest_still_checked(tmp_path: Path) -> None:
    _write(tmp_path, {"template.yaml": PUBLIC_FN + "  Broken:\n    Properties: {}\n"})
    assert _found(tmp_path) == {("RP-I002", "template.yaml", 10),
                                ("RP-I001", "template.yaml", 11)}
