"""Edge cases of the RP-I rules that the twin templates do not show, one small template each.

Each case is a template and the exact (rule, line) set it must give: the safe
variants pin down what is deliberately not a finding, so widening a rule into
a false positive fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ramparts.scan import iac
from ramparts.scan.source import load_tree

SAM = "Transform: AWS::Serverless-2016-10-31\n"
FN = """  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: h.handler
      Timeout: 5
      ReservedConcurrentExecutions: 2
"""

CASES: list[tuple[str, str, str, set[tuple[str, int]]]] = [
    ("bucket policy narrowed to a VPC endpoint is not public", "template.yaml", SAM + """\
Resources:
  P:
    Type: AWS::S3::BucketPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: "*"
            Action: s3:GetObject
            Resource: arn:aws:s3:::b/*
            Condition:
              StringEquals: {aws:SourceVpce: vpce-1a2b3c4d}
          - Effect: Allow
            Principal: {AWS: ["*"]}
            Action: s3:GetObject
            Resource: arn:aws:s3:::b/*
            Condition:
              Bool: {aws:SecureTransport: "true"}
""", {("RP-I005", 15)}),
    ("NotResource, objects of one bucket, every table", "template.yaml", SAM + """\
Resources:
  Pol:
    Type: AWS::IAM::ManagedPolicy
    Properties:
      PolicyDocument:
        Statement:
          - Effect: Allow
            Action: s3:GetObject
            Resource: arn:aws:s3:::reports/*
          - Effect: Allow
            Action: s3:PutObject
            NotResource: arn:aws:s3:::reports/*
          - Effect: Allow
            Action: [dynamodb:GetItem]
            Resource: [!Sub "arn:aws:dynamodb:${AWS::Region}:${AWS::AccountId}:table/*"]
""", {("RP-I004", 13), ("RP-I004", 16)}),
    ("Globals DefaultAuthorizer covers implicit API routes; NONE opts out", "template.yaml",
     SAM + """\
Globals:
  Api:
    Auth:
      DefaultAuthorizer: AWS_IAM
Resources:
""" + FN + """      Events:
        Private:
          Type: Api
          Properties: {Path: /a, Method: get}
        Public:
          Type: Api
          Properties:
            Path: /b
            Method: get
            Auth: {Authorizer: NONE}
""", {("RP-I002", 17)}),
    ("routes of an OpenAPI-defined API are not judged", "template.yaml", SAM + """\
Resources:
  Api:
    Type: AWS::Serverless::Api
    Properties:
      StageName: prod
      DefinitionUri: openapi.yaml
""" + FN + """      Events:
        Get:
          Type: Api
          Properties: {RestApiId: !Ref Api, Path: /a, Method: get}
""", set()),
    ("an EventInvokeConfig OnFailure is a failure target", "template.yaml", SAM + """\
Resources:
""" + FN + """      Events:
        Nightly:
          Type: Schedule
          Properties: {Schedule: rate(1 day)}
  Failures:
    Type: AWS::SQS::Queue
    Properties: {SqsManagedSseEnabled: true}
  Cfg:
    Type: AWS::Lambda::EventInvokeConfig
    Properties:
      FunctionName: !Ref Fn
      Qualifier: $LATEST
      DestinationConfig:
        OnFailure: {Destination: !GetAtt Failures.Arn}
""", set()),
    ("a secret glued to a reference is still a secret", "template.yaml", SAM + """\
Resources:
""" + FN + """      Environment:
        Variables:
          DB_PASSWORD: "{{resolve:secretsmanager:db:SecretString:pw}}"
          AWS_KEY: "{{resolve:ssm:/x}}AKIAIOSFODNN7EXAMPLE"
          DB_URL: postgresql://app:Zq8vN3xR7pL2@db:5432/app
          GIT_SHA: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b
""", {("RP-I010", 12), ("RP-I010", 13)}),
    ("serverless function URL and provider-wide statements", "serverless.yml", """\
service: s
provider:
  name: aws
  timeout: 5
  iamRoleStatements:
    - Effect: Allow
      Action: "*"
      Resource: "*"
functions:
  open:
    handler: h.handler
    reservedConcurrency: 1
    url: true
  signed:
    handler: h.handler
    reservedConcurrency: 1
    url:
      authorizer: aws_iam
""", {("RP-I003", 7), ("RP-I002", 13)}),
    ("tab-indented JSON falls back to the JSON reader, line 1", "stack.json",
     '{\n\t"AWSTemplateFormatVersion": "2010-09-09",\n\t"Resources": {\n\t\t"U": {\n'
     '\t\t\t"Type": "AWS::Lambda::Url",\n\t\t\t"Properties": {"AuthType": "NONE", '
     '"TargetFunctionArn": "x"}\n\t\t}\n\t}\n}\n', {("RP-I002", 1)}),
]


@pytest.mark.parametrize(("why", "name", "text", "expected"), CASES, ids=[c[0] for c in CASES])
def test_rule_edge_case(tmp_path: Path, why: str, name: str, text: str,
                        expected: set[tuple[str, int]]) -> None:
    (tmp_path / name).write_text(text)
    assert {(f.rule_id, f.line) for f in iac.run(load_tree(tmp_path))} == expected
