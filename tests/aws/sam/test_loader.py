"""Template loading: CloudFormation's short-form tags, JSON templates, and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ramparts.aws.sam.errors import TemplateError
from ramparts.aws.sam.loader import load_template, parse_template

TAGS = """
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      A: !Ref Table
      B: !GetAtt Queue.Arn
      C: !Sub "${AWS::Region}-x"
      D: !Join [",", [a, !Ref Stage]]
      E: !If [IsProd, 1, 2]
      F: !Select [0, !Split [",", "a,b"]]
      G: !FindInMap [M, k, v]
      H: !ImportValue shared-vpc
      I: !Base64 hello
      J: !Equals [a, b]
      K: !GetAtt [Queue, QueueName]
      L: !Sub
        - "${X}-y"
        - X: !Ref Stage
"""


def test_short_form_tags_become_the_long_json_forms() -> None:
    props = parse_template(TAGS, "t.yaml")["Resources"]["Fn"]["Properties"]
    assert props["A"] == {"Ref": "Table"}
    assert props["B"] == {"Fn::GetAtt": ["Queue", "Arn"]}
    assert props["C"] == {"Fn::Sub": "${AWS::Region}-x"}
    assert props["D"] == {"Fn::Join": [",", ["a", {"Ref": "Stage"}]]}
    assert props["E"] == {"Fn::If": ["IsProd", 1, 2]}
    assert props["F"] == {"Fn::Select": [0, {"Fn::Split": [",", "a,b"]}]}
    assert props["G"] == {"Fn::FindInMap": ["M", "k", "v"]}
    assert props["H"] == {"Fn::ImportValue": "shared-vpc"}
    assert props["I"] == {"Fn::Base64": "hello"}
    assert props["J"] == {"Fn::Equals": ["a", "b"]}
    assert props["K"] == {"Fn::GetAtt": ["Queue", "QueueName"]}
    assert props["L"] == {"Fn::Sub": ["${X}-y", {"X": {"Ref": "Stage"}}]}


def test_json_templates_load(tmp_path: Path) -> None:
    doc = {"Resources": {"Fn": {"Type": "AWS::Serverless::Function",
                                "Properties": {"Handler": "app.handler"}}}}
    path = tmp_path / "template.json"
    path.write_text(json.dumps(doc, indent=2))
    assert load_template(path) == doc


def test_no_python_objects_from_yaml() -> None:
    text = "Resources:\n  X: !!python/object/apply:os.system [echo hi]\n"
    with pytest.raises(TemplateError) as info:
        parse_template(text, "evil.yaml")
    assert info.value.file == "evil.yaml"


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("Resources: [unclosed", "line 1", "invalid YAML"),
        ('{"Resources": ', "line 1", "invalid JSON"),
        ("- a\n- b\n", "", "mapping"),
        ("AWSTemplateFormatVersion: '2010-09-09'\n", "Resources", "no resources"),
        ("Resources:\n  Fn:\n    Properties: {}\n", "Resources.Fn.Type", "needs a Type"),
        ("Resources:\n  Fn:\n    Type: X\n    Properties: [1]\n", "Resources.Fn.Properties",
         "mapping"),
        ("Resources:\n  A: !Bogus x\n", "line 2", "unknown tag"),
    ],
)
def test_bad_templates_name_file_and_field(text: str, field: str, reason: str) -> None:
    with pytest.raises(TemplateError) as info:
        parse_template(text, "template.yaml")
    assert info.value.file == "template.yaml"
    assert info.value.field == field
    assert reason in info.value.reason


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="file not found"):
        load_template(tmp_path / "nope.yaml")
